// train/csv_log.hpp — the per-epoch training log, a CSV file with a header
// line, and the small reader that plots and resume share.
//
// The log is appended to and flushed after every row, so a killed run keeps
// every row it reported. On resume, rows past the checkpoint (reported after
// it, by a run that then died) are dropped first: the resumed run reports
// them again, and the log reads as if the run had never been interrupted.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../io/atomic_file.hpp"

namespace deepgen::train {

/// The cells of one `sep`-separated line (no quoting: the log holds names and numbers only).
inline std::vector<std::string> split_cells(const std::string& line, char sep = ',') {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, sep);) out.push_back(cell);
  if (!line.empty() && line.back() == sep) out.emplace_back();
  return out;
}

/// A CSV file read whole: its header and its rows, each as many cells as the header.
struct CsvTable {
  std::vector<std::string> header;             ///< the column names
  std::vector<std::vector<std::string>> rows;  ///< the cells of each row after the header

  /// The index of column `name`, or -1.
  long column(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return long(i);
    return -1;
  }
};

/// Read a CSV log. Throws deepgen::Error naming the file and line of a row
/// whose cell count differs from the header's.
inline CsvTable read_csv(const std::string& path) {
  std::ifstream f(path);
  DEEPGEN_CHECK(f, "cannot open ", path);
  CsvTable t;
  std::string line;
  DEEPGEN_CHECK(std::getline(f, line), path, ": empty file; expected a CSV header line");
  t.header = split_cells(line);
  for (int n = 2; std::getline(f, line); ++n) {
    auto cells = split_cells(line);
    DEEPGEN_CHECK(cells.size() == t.header.size(), path, ":", n, ": ", cells.size(), " cells but the header has ",
                  t.header.size());
    t.rows.push_back(std::move(cells));
  }
  return t;
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
  static bool drop_rows_after(const std::string& path, const std::string& column, long long last) {
    std::ifstream f(path);
    std::string header;
    if (!f.good() || !std::getline(f, header)) return false;
    const auto names = split_cells(header);
    size_t col = 0;
    while (col < names.size() && names[col] != column) ++col;
    if (col == names.size()) return false;
    std::string kept = header + "\n";
    bool has_last = false;
    for (std::string line; std::getline(f, line);) {
      const auto cells = split_cells(line);
      if (cells.size() != names.size()) continue;
      const long long v = std::atoll(cells[col].c_str());
      if (v <= last) kept += line + "\n";
      has_last = has_last || v == last;
    }
    f.close();
    io::write_text_atomically(path, kept, "train --resume");
    return has_last;
  }

 private:
  std::string m_path;
  std::ofstream m_file;
  bool m_has_header = false;
};

}  // namespace deepgen::train
