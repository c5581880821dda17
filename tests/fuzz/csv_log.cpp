// Fuzz target: train/csv_log.hpp: parse_csv and CsvTable::number (what
// plot_training reads), and CsvLog::drop_rows_after (what --resume does to
// train_log.csv). Accepted rows have the header's cell count; a number is
// finite and is the whole cell; drop_rows_after keeps only rows whose step
// is at most the checkpoint's, and leaves a file it refuses untouched.
#include <deepgen/train/csv_log.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace train = deepgen::train;
  const std::string text(reinterpret_cast<const char*>(data), size);
  train::CsvTable t;
  if (fuzz::accepted([&] { t = train::parse_csv(text, "train_log.csv"); })) {
    FUZZ_REQUIRE(t.rows.size() == t.lines.size(), "lines");
    for (size_t r = 0; r < t.rows.size(); ++r) {
      FUZZ_REQUIRE(t.rows[r].size() == t.header.size(), "row ", r, " has ", t.rows[r].size(), " cells");
      for (size_t c = 0; c < t.header.size(); ++c) {
        double v = 0;
        if (!fuzz::accepted([&] { v = t.number(r, c); })) continue;
        const std::string& cell = t.rows[r][c];
        double again = 0;
        const auto res = std::from_chars(cell.data(), cell.data() + cell.size(), again);
        FUZZ_REQUIRE(std::isfinite(v) && res.ptr == cell.data() + cell.size() && again == v, "cell '", cell,
                     "' read as ", v);
      }
    }
  }

  // drop_rows_after rewrites a real file (atomically: fsync, rename), so
  // the file lives in memory (/dev/shm) where there is one.
  static const std::string path =
      ((std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                  : std::filesystem::temp_directory_path()) /
       ("deepgen_fuzz_log_" + std::to_string(::getpid()) + ".csv"))
          .string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), std::streamsize(text.size()));
  }
  bool has_last = false;
  const bool kept = fuzz::accepted([&] { has_last = train::CsvLog::drop_rows_after(path, "step", 10); });
  std::ifstream in(path, std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!kept) {
    FUZZ_REQUIRE(after == text, "a refused log was changed");
    return 0;
  }
  if (after == text) return 0;  // no 'step' column: left alone
  train::CsvTable back;
  FUZZ_REQUIRE(fuzz::accepted([&] { back = train::parse_csv(after, "after"); }), "rewritten log unreadable");
  const long col = back.column("step");
  FUZZ_REQUIRE(col >= 0, "step column lost");
  bool saw_last = false;
  for (const auto& row : back.rows) {
    long long v = 0;
    const std::string& cell = row[size_t(col)];
    const auto res = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    FUZZ_REQUIRE(res.ec == std::errc() && res.ptr == cell.data() + cell.size() && v <= 10, "kept step '", cell, "'");
    saw_last = saw_last || v == 10;
  }
  FUZZ_REQUIRE(saw_last == has_last, "has_last ", has_last);
  return 0;
}
