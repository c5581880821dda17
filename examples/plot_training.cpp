// plot_training — learning curves from train_log.csv files as a PNG.
//
//   plot_training --out curve.png [--x minutes|epoch] [--y test_nll_nats_per_pixel]
//                 [--title TEXT] [--hline VALUE:LABEL ...] LOG.csv[=LABEL] ...
//
// Each CSV has a header line; --x and --y name its columns. --hline draws a
// horizontal reference (e.g. a baseline's NLL) as a flat series.
#include <deepgen/io/png.hpp>

#include "progress.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>

using namespace deepgen;

namespace {
io::Series read_series(const std::string& spec, const std::string& x, const std::string& y) {
  const auto eq = spec.find('=');
  const std::string path = spec.substr(0, eq);
  io::Series s{eq == std::string::npos ? path : spec.substr(eq + 1), {}};
  std::ifstream f(path);
  DEEPGEN_CHECK(f, "cannot open ", path);
  std::string line;
  DEEPGEN_CHECK(std::getline(f, line), path, ": empty file; expected a CSV header line");
  const auto header = split(line, ',');
  auto column = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    DEEPGEN_CHECK(false, path, ": no column '", name, "' in header '", line, "'");
    return size_t(0);
  };
  const size_t cx = column(x), cy = column(y);
  for (int n = 2; std::getline(f, line); ++n) {
    const auto cells = split(line, ',');
    DEEPGEN_CHECK(cells.size() == header.size(), path, ":", n, ": ", cells.size(), " cells but the header has ",
                  header.size());
    s.points.emplace_back(std::stod(cells[cx]), std::stod(cells[cy]));
  }
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Plot train_log.csv learning curves to a PNG"};
  std::string out, x = "minutes", y = "test_nll_nats_per_pixel", title = "TEST NLL (nats/pixel)";
  std::vector<std::string> logs, hlines;
  app.add_option("--out", out, "PNG to write")->required();
  app.add_option("--x", x, "x column")->capture_default_str();
  app.add_option("--y", y, "y column")->capture_default_str();
  app.add_option("--title", title, "plot title")->capture_default_str();
  app.add_option("--hline", hlines, "VALUE:LABEL reference line");
  app.add_option("logs", logs, "train_log.csv files, each optionally =LABEL")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<io::Series> series;
    double x_max = 0;
    for (const auto& spec : logs) {
      series.push_back(read_series(spec, x, y));
      for (const auto& [px, py] : series.back().points) x_max = std::max(x_max, px);
    }
    for (const auto& h : hlines) {
      const auto colon = h.find(':');
      const double v = std::stod(h.substr(0, colon));
      series.push_back({colon == std::string::npos ? h : h.substr(colon + 1), {{0.0, v}, {x_max, v}}});
    }
    io::write_png(out, io::plot_curves(series, 640, 400, title, x, y));
    std::printf("wrote %s\n", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
