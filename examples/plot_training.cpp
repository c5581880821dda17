// plot_training — learning curves from train_log.csv files as a PNG.
//
//   plot_training --out curve.png [--x minutes|epoch] [--y test_nll_nats_per_pixel]
//                 [--title TEXT] [--hline VALUE:LABEL ...] LOG.csv[=LABEL] ...
//
// Each CSV has a header line; --x and --y name its columns. --hline draws a
// horizontal reference (e.g. a baseline's NLL) as a flat series.
#include <deepgen/io/figures.hpp>
#include <deepgen/io/png.hpp>

#include <deepgen/train/csv_log.hpp>

#include "cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace deepgen;

namespace {
/// The whole of `text` as a finite number, or deepgen::Error naming `where`.
double number(const std::string& text, const std::string& where) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  DEEPGEN_CHECK(!text.empty() && end == text.c_str() + text.size() && std::isfinite(v), where, ": '", text,
                "' is not a finite number");
  return v;
}

io::Series read_series(const std::string& spec, const std::string& x, const std::string& y) {
  const auto eq = spec.find('=');
  const std::string path = spec.substr(0, eq);
  io::Series s{eq == std::string::npos ? path : spec.substr(eq + 1), {}};
  const train::CsvTable log = train::read_csv(path);
  const long cx = log.column(x), cy = log.column(y);
  std::string columns;
  for (const std::string& h : log.header) columns += (columns.empty() ? "" : ", ") + h;
  for (const std::string& name : {x, y})
    DEEPGEN_CHECK(log.column(name) >= 0, path, ": no column '", name, "'; its columns are ", columns);
  for (size_t r = 0; r < log.rows.size(); ++r) {
    const std::string where = path + ": data row " + std::to_string(r + 1);
    s.points.emplace_back(number(log.rows[r][size_t(cx)], where + ", column '" + x + "'"),
                          number(log.rows[r][size_t(cy)], where + ", column '" + y + "'"));
  }
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Plot train_log.csv learning curves to a PNG"};
  std::string out, x = "minutes", y = "test_nll_nats_per_pixel", title = "TEST NLL (nats/pixel)";
  std::vector<std::string> logs, hlines;
  app.add_option("--out", out, "PNG to write")->required()->check(cli_checks::output_file());
  app.add_option("--x", x, "x column")->capture_default_str();
  app.add_option("--y", y, "y column")->capture_default_str();
  app.add_option("--title", title, "plot title")->capture_default_str();
  app.add_option("--hline", hlines, "VALUE:LABEL reference line (one per --hline)")->allow_extra_args(false)
      ->check(CLI::Validator(
          [](std::string& h) -> std::string {
            try {
              number(h.substr(0, h.find(':')), "VALUE");
            } catch (const std::exception& e) {
              return e.what();
            }
            return {};
          },
          "VALUE:LABEL"));
  app.add_option("logs", logs, "train_log.csv files, each optionally =LABEL")->required();
  DEEPGEN_CLI_PARSE(app, argc, argv);
  try {
    std::vector<io::Series> series;
    double x_max = 0;
    for (const auto& spec : logs) {
      series.push_back(read_series(spec, x, y));
      for (const auto& [px, py] : series.back().points) x_max = std::max(x_max, px);
    }
    for (const auto& h : hlines) {
      const auto colon = h.find(':');
      const double v = number(h.substr(0, colon), "--hline " + h);
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
