// train/csv_log.hpp — the per-epoch training log, a CSV file with a header
// line, and the small reader that plots and resume share.
//
// The log is appended to and flushed after every row, so a killed run keeps
// every row it reported. On resume, rows past the checkpoint (reported after
// it, by a run that then died) are dropped first: the resumed run reports
// them again, and the log reads as if the run had never been interrupted.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../io/atomic_file.hpp"
#include "../io/read_file.hpp"

namespace deepgen::train {

/// The cells of one `sep`-separated line (no quoting: the log holds names and numbers only).
inline std::vector<std::string> split_cells(const std::string& line, char sep = ',') {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, sep);) out.push_back(cell);
  if (!line.empty() && line.back() == sep) out.emplace_back();
  return out;
}

namespace detail {
// The lines of `text` as getline gives them (a final line without its
// newline counts), each with whether its newline was there; a '\r' before
// the newline is dropped.
inline std::vector<std::pair<std::string, bool>> csv_lines(const std::string& text) {
  std::vector<std::pair<std::string, bool>> out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    const bool ended = nl != std::string::npos;
    std::string line = text.substr(at, ended ? nl - at : std::string::npos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.emplace_back(std::move(line), ended);
    at = ended ? nl + 1 : text.size();
  }
  return out;
}

// 1-based character column where cell `col` of `cells` starts on its line.
inline size_t cell_column(const std::vector<std::string>& cells, size_t col) {
  size_t c = 1;
  for (size_t i = 0; i < col && i < cells.size(); ++i) c += cells[i].size() + 1;
  return c;
}

// A cell for a message: shortened, control bytes shown as '?'.
inline std::string show_cell(const std::string& cell) {
  std::string s = cell.substr(0, 40);
  for (char& ch : s)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return "'" + s + (cell.size() > 40 ? "...'" : "'");
}
}  // namespace detail

/// The whole of `cell` as a finite number, or false (junk after the number
/// such as "1.5abc", spaces, an empty cell, NaN or infinity).
inline bool parse_number(const std::string& cell, double& out) {
  double v = 0;
  const auto r = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (r.ec != std::errc() || r.ptr != cell.data() + cell.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

/// A CSV file read whole: its header and its rows, each as many cells as the header.
struct CsvTable {
  std::vector<std::string> header;             ///< the column names
  std::vector<std::vector<std::string>> rows;  ///< the cells of each row after the header
  std::string path;                            ///< the file it was read from, for messages
  std::vector<int64_t> lines;                  ///< the file's line number of each row

  /// The index of column `name`, or -1.
  long column(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return long(i);
    return -1;
  }

  /// Cell (`row`, `col`) as a finite number. Throws deepgen::Error naming
  /// path:line:column and the column's name when the cell is anything else
  /// ("1.5abc", "", "nan").
  double number(size_t row, size_t col) const {
    DEEPGEN_CHECK(row < rows.size() && col < header.size(), "CsvTable::number: cell (", row, ", ", col,
                  ") is outside the table's ", rows.size(), " rows and ", header.size(), " columns");
    double v = 0;
    DEEPGEN_CHECK(parse_number(rows[row][col], v), path, ":", row < lines.size() ? lines[row] : int64_t(row) + 2,
                  ":", detail::cell_column(rows[row], col), ": the '", header[col], "' cell ",
                  detail::show_cell(rows[row][col]), " is not a finite number; the log is damaged or "
                  "hand-edited: fix or delete that line");
    return v;
  }
};

/// The CSV log in `text`; `path` names it in errors. Throws deepgen::Error
/// naming the file and line of a row whose cell count differs from the header's.
inline CsvTable parse_csv(const std::string& text, const std::string& path) {
  const auto lines = detail::csv_lines(text);
  DEEPGEN_CHECK(!lines.empty(), path, ": empty file; expected a CSV header line");
  CsvTable t;
  t.path = path;
  t.header = split_cells(lines[0].first);
  for (size_t i = 1; i < lines.size(); ++i) {
    auto cells = split_cells(lines[i].first);
    DEEPGEN_CHECK(cells.size() == t.header.size(), path, ":", i + 1, ": ", cells.size(),
                  " cells but the header has ", t.header.size());
    t.rows.push_back(std::move(cells));
    t.lines.push_back(int64_t(i) + 1);
  }
  return t;
}

/// Read a CSV log (at most io::MAX_TEXT_FILE_BYTES; see parse_csv).
inline CsvTable read_csv(const std::string& path) {
  return parse_csv(io::read_file_limited(path, io::MAX_TEXT_FILE_BYTES, "a CSV training log (train_log.csv)"),
                   path);
}

/// An append-only CSV log: the header is written with the first row of a new file.
class CsvLog {
 public:
  /// Open `path`: truncated for a fresh run, appended to when `resume`.
  CsvLog(std::string path, bool resume) : m_path(std::move(path)) {
    m_has_header = resume && std::ifstream(m_path).peek() != std::ifstream::traits_type::eof();
    m_file.open(m_path, resume ? std::ios::app : std::ios::trunc);
    DEEPGEN_CHECK(m_file, "cannot write ", m_path, "; check that its folder exists and is writable");
  }

  /// Append one row; the header first if the file has none yet.
  void write(const std::vector<std::string>& header, const std::string& row) {
    if (!m_has_header) {
      for (size_t i = 0; i < header.size(); ++i) m_file << (i ? "," : "") << header[i];
      m_file << '\n';
      m_has_header = true;
    }
    m_file << row << '\n';
    m_file.flush();
  }

  /// Rewrite the log at `path` (if there is one) without the rows whose
  /// `column` is above `last`, and without a torn last line. Returns
  /// whether a row with `column` equal to `last` remains.
  /// A row whose `column` cell is not a whole number ("12abc") throws,
  /// naming path:line:column, before the file is touched; only a last line
  /// without its newline (a write the kill cut short) is dropped as torn.
  static bool drop_rows_after(const std::string& path, const std::string& column, long long last) {
    if (!std::ifstream(path).good()) return false;
    const auto lines =
        detail::csv_lines(io::read_file_limited(path, io::MAX_TEXT_FILE_BYTES, "a CSV training log (train_log.csv)"));
    if (lines.empty()) return false;
    const std::string& header = lines[0].first;
    const auto names = split_cells(header);
    size_t col = 0;
    while (col < names.size() && names[col] != column) ++col;
    if (col == names.size()) return false;
    std::string kept = header + "\n";
    bool has_last = false;
    for (size_t i = 1; i < lines.size(); ++i) {
      const auto& [line, ended] = lines[i];
      const auto cells = split_cells(line);
      if (cells.size() != names.size()) continue;
      const std::string& cell = cells[col];
      long long v = 0;
      const auto r = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (r.ec != std::errc() || r.ptr != cell.data() + cell.size()) {
        if (!ended && i + 1 == lines.size()) continue;  // torn by a kill mid-write
        throw Error(deepgen::detail::str(path, ":", i + 1, ":", detail::cell_column(cells, col), ": the '", column,
                                         "' cell ", detail::show_cell(cell), " is not a whole number; the log is "
                                         "damaged or hand-edited: fix or delete that line, then resume again"));
      }
      if (v <= last) kept += line + "\n";
      has_last = has_last || v == last;
    }
    io::write_text_atomically(path, kept, "train --resume");
    return has_last;
  }

 private:
  std::string m_path;
  std::ofstream m_file;
  bool m_has_header = false;
};

}  // namespace deepgen::train
