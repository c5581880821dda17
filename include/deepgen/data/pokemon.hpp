// data/pokemon.hpp — the lecture's data format: a palette (colormap.txt) and
// palette-indexed square images (pixel_color.txt), plus the fixed TRAIN/VALIDATION/TEST split.
//
// Both files are whitespace-separated integers, one record per line. Each file is
// read whole and scanned once with std::from_chars: no locale, no iostream
// extraction, linear in the file size. Every parse error names file:line:column
// (1-based; the column is that of the offending token, or the end of the line
// when a value is missing) and says what was expected, because a wrong file in
// the wrong place is the most likely mistake and the message must tell which one.
// The palette size K always comes from the colormap, never from a constant: the
// pixel file is checked against it, so a pixel file from another colormap fails
// loudly instead of training on garbage.
//
// Tolerated: a missing newline after the last line, trailing blank lines, CRLF
// line ends, tabs. Not tolerated: blank lines between records (they would shift
// the colour numbering or drop an image).
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../io/atomic_file.hpp"
#include "../io/read_file.hpp"
#include "../palette.hpp"

namespace deepgen {
namespace data {

// Palette and ImageSet live in palette.hpp, below io/ (io/figures.hpp draws
// them); these keep their names from before the move working.
using deepgen::ImageSet;
using deepgen::Palette;

/// The lecture's data: the palette and all images, in file order.
struct PokemonData {
  Palette palette;  ///< the colormap's colours
  ImageSet all;     ///< every image, in file order
};

namespace detail {

// The whole file as bytes, at most io::MAX_TEXT_FILE_BYTES; a file that
// cannot be opened or read, or is longer (an endless /dev/zero), throws, naming it.
inline std::string read_text_file(const std::string& path, const char* what_it_should_be) {
  return io::read_file_limited(path, io::MAX_TEXT_FILE_BYTES, what_it_should_be);
}

// A token for an error message: quoted, shortened, non-printable bytes escaped.
inline std::string quote_token(const char* b, const char* e) {
  std::string out = "'";
  const size_t max_shown = 24;
  for (const char* p = b; p < e && static_cast<size_t>(p - b) < max_shown; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (static_cast<size_t>(e - b) > max_shown) out += "...";
  return out + "'";
}

inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Scans a text file of whitespace-separated integers line by line, keeping
// the 1-based line and column of every token for error messages.
class IntScanner {
 public:
  IntScanner(const std::string& path, const std::string& text)
      : m_path(path), m_p(text.data()), m_end(text.data() + text.size()) {}

  /// Moves to the next line that holds a token. False at the end of the file.
  /// A blank line followed by a non-blank one throws: records must be contiguous.
  bool next_record(const char* record_description) {
    if (m_started) skip_to_next_line();
    int64_t first_blank = 0;
    while (m_p < m_end) {
      m_started = true;
      m_line_start = m_p;
      const char* q = m_p;
      while (q < m_end && is_blank(*q)) ++q;
      if (q < m_end && *q != '\n') {
        if (first_blank != 0)
          throw Error(deepgen::detail::str(m_path, ":", first_blank, ":1: line ", first_blank,
                                           " is blank but more data follows; expected ",
                                           record_description,
                                           " on every line (only trailing blank lines are "
                                           "allowed): remove the blank line"));
        m_p = q;
        return true;
      }
      if (first_blank == 0) first_blank = m_line;
      m_p = q;
      skip_to_next_line();
    }
    return false;
  }

  /// The next token on the current line: false at the end of the line.
  bool next_token() {
    while (m_p < m_end && is_blank(*m_p)) ++m_p;
    if (m_p >= m_end || *m_p == '\n') return false;
    m_tok = m_p;
    while (m_p < m_end && *m_p != '\n' && !is_blank(*m_p)) ++m_p;
    m_tok_end = m_p;
    return true;
  }

  /// The current token as an integer. Sets `overflow` (and returns 0) for an
  /// integer too large for int64; throws, naming `expected`, when it is not an
  /// integer at all.
  int64_t token_value(const char* expected, bool& overflow) const {
    int64_t v = 0;
    const auto r = std::from_chars(m_tok, m_tok_end, v);
    overflow = false;
    if (r.ec == std::errc::result_out_of_range && r.ptr == m_tok_end) {
      overflow = true;
      return 0;
    }
    if (r.ec != std::errc() || r.ptr != m_tok_end)
      fail_here(deepgen::detail::str("expected ", expected, " but found ",
                                     quote_token(m_tok, m_tok_end)));
    return v;
  }

  std::string token_text() const { return quote_token(m_tok, m_tok_end); }
  int64_t line() const { return m_line; }
  int64_t token_column() const { return (m_tok - m_line_start) + 1; }
  /// Column just past the last token of the current line (where a missing value would go).
  int64_t end_column() const {
    const char* e = m_p;
    while (e < m_end && *e != '\n') ++e;
    while (e > m_line_start && is_blank(e[-1])) --e;
    return (e - m_line_start) + 1;
  }
  std::string where(int64_t column) const {
    return deepgen::detail::str(m_path, ":", m_line, ":", column, ": ");
  }
  [[noreturn]] void fail_here(const std::string& msg) const { throw Error(where(token_column()) + msg); }
  [[noreturn]] void fail_at_end(const std::string& msg) const { throw Error(where(end_column()) + msg); }
  /// Lines in the file (newlines + 1): an upper bound on the record count, for reserve().
  static int64_t count_lines(const std::string& text) {
    int64_t n = 1;
    for (char c : text) n += (c == '\n');
    return n;
  }

 private:
  void skip_to_next_line() {
    const void* nl = std::memchr(m_p, '\n', static_cast<size_t>(m_end - m_p));
    if (nl) {
      m_p = static_cast<const char*>(nl) + 1;
      ++m_line;
    } else {
      m_p = m_end;
    }
  }

  const std::string& m_path;
  const char* m_p;
  const char* m_end;
  const char* m_line_start = nullptr;
  const char* m_tok = nullptr;
  const char* m_tok_end = nullptr;
  int64_t m_line = 1;
  bool m_started = false;
};

}  // namespace detail

/// Reads a palette: line n holds `R G B` of colour n, integers in 0..255.
/// Throws deepgen::Error naming file:line:column on anything else.
inline Palette load_colormap(const std::string& path) {
  const char* record = "three integers 'R G B' in 0..255";
  const std::string text = detail::read_text_file(path, "a colormap: one line 'R G B' (0..255) per colour");
  detail::IntScanner sc(path, text);
  Palette palette;
  palette.rgb.reserve(static_cast<size_t>(detail::IntScanner::count_lines(text)));
  static const char* const names[3] = {"R", "G", "B"};
  const std::string expected[3] = {"an integer R value in 0..255", "an integer G value in 0..255",
                                   "an integer B value in 0..255"};
  while (sc.next_record(record)) {
    std::array<uint8_t, 3> c{};
    int n = 0;
    while (sc.next_token()) {
      if (n == 3)
        sc.fail_here(deepgen::detail::str("unexpected 4th value ", sc.token_text(), " on line ",
                                          sc.line(), "; expected exactly ", record,
                                          " per line (one colour per line)"));
      bool overflow = false;
      const int64_t v = sc.token_value(expected[n].c_str(), overflow);
      if (overflow || v < 0 || v > 255)
        sc.fail_here(deepgen::detail::str(names[n], " value ", sc.token_text(),
                                          " is out of range; expected an integer in 0..255"));
      c[static_cast<size_t>(n)] = static_cast<uint8_t>(v);
      ++n;
    }
    if (n < 3)
      sc.fail_at_end(deepgen::detail::str("line ", sc.line(), " has ", n, n == 1 ? " value" : " values",
                                          "; expected ", record, " (missing ", names[n], ")"));
    palette.rgb.push_back(c);
  }
  if (palette.rgb.empty())
    throw Error(path + ":1:1: the colormap holds no colours; expected one line of " + record +
                " per colour (is this the right file?)");
  return palette;
}

/// Reads palette-indexed square images, one per line. Every line must hold the
/// same number of integers, a perfect square side*side, each in [0, palette_size).
/// Throws deepgen::Error naming file:line:column on anything else.
inline ImageSet load_pixel_colors(const std::string& path, int palette_size) {
  DEEPGEN_CHECK(palette_size > 0, "load_pixel_colors('", path, "'): palette_size is ", palette_size,
                "; pass the size of the colormap the file was made with (Palette::size())");
  const std::string range = deepgen::detail::str("0..", palette_size - 1);
  const std::string text = detail::read_text_file(
      path, "pixel colours: one image per line, side*side colour indices each");
  detail::IntScanner sc(path, text);
  ImageSet set;
  int64_t per_line = -1;  // values on line 1, the width every line must have
  int64_t first_line = 0;
  const std::string record = "side*side colour indices (one square image) in " + range;
  const std::string expected = "an integer colour index in " + range;
  while (sc.next_record(record.c_str())) {
    if (per_line < 0) first_line = sc.line();
    int64_t n = 0;
    int64_t extra_column = 0;  // column of the first value past the width of line 1
    while (sc.next_token()) {
      if (per_line >= 0 && n == per_line && extra_column == 0) extra_column = sc.token_column();
      if (extra_column == 0) {
        bool overflow = false;
        const int64_t v = sc.token_value(expected.c_str(), overflow);
        if (overflow || v < 0 || v >= palette_size)
          sc.fail_here(deepgen::detail::str("index ", overflow ? sc.token_text() : std::to_string(v),
                                            " is out of range for a palette of ", palette_size,
                                            " colours (", range,
                                            "); the file may belong to another colormap"));
        set.pixels.push_back(static_cast<int32_t>(v));
      }
      ++n;
    }
    if (per_line < 0) {
      const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
      if (side * side != n)
        sc.fail_at_end(deepgen::detail::str("line ", sc.line(), " has ", n,
                                            " values, which is not a perfect square; each line "
                                            "must hold the side*side colour indices of one square "
                                            "image (e.g. 400 for 20x20)"));
      per_line = n;
      set.side = side;
      // Every value takes at least two bytes (a digit and a separator), which
      // bounds the reservation by the file's size even when a long first
      // line is followed by many short ones.
      set.pixels.reserve(static_cast<size_t>(
          std::min<int64_t>(n * detail::IntScanner::count_lines(text), int64_t(text.size() / 2 + 1))));
    } else if (n != per_line) {
      const std::string msg = deepgen::detail::str(
          "line ", sc.line(), " has ", n, n == 1 ? " value" : " values", " but line ", first_line,
          " has ", per_line, "; every image must have the same size (", set.side, "x", set.side,
          " = ", per_line, " indices per line)");
      if (n > per_line) throw Error(sc.where(extra_column) + msg);
      sc.fail_at_end(msg);
    }
    ++set.count;
  }
  if (set.count == 0)
    throw Error(path + ":1:1: the file holds no images; expected one line of " + record +
                " per image (is this the right file?)");
  return set;
}

/// Reads `dir/colormap.txt` and `dir/pixel_color.txt`; K comes from the colormap.
inline PokemonData load_pokemon(const std::string& dir) {
  DEEPGEN_CHECK(!dir.empty(), "load_pokemon: empty directory name; pass the directory that "
                              "holds colormap.txt and pixel_color.txt");
  const std::string base = dir.back() == '/' ? dir : dir + "/";
  PokemonData d;
  d.palette = load_colormap(base + "colormap.txt");
  d.all = load_pixel_colors(base + "pixel_color.txt", d.palette.size());
  return d;
}

/// Writes `palette` as a colormap file (`R G B` per line, colour 0 first),
/// atomically: load_colormap reads it back unchanged.
inline void save_colormap(const std::string& path, const Palette& palette) {
  DEEPGEN_CHECK(palette.size() > 0, "save_colormap('", path, "'): the palette is empty");
  std::string text;
  for (const auto& c : palette.rgb)
    text += deepgen::detail::str(int(c[0]), ' ', int(c[1]), ' ', int(c[2]), '\n');
  io::write_text_atomically(path, text, deepgen::detail::str("save_colormap: cannot write '", path, "': "));
}

/// Writes `set` as a pixel file (one image per line, side*side indices),
/// atomically: load_pixel_colors reads it back unchanged.
inline void save_pixel_colors(const std::string& path, const ImageSet& set) {
  DEEPGEN_CHECK(set.count > 0, "save_pixel_colors('", path, "'): the set holds no images");
  std::string text;
  text.reserve(size_t(set.count * set.pixels_per_image()) * 4);
  char buf[16];
  for (int64_t i = 0; i < set.count; ++i) {
    const int32_t* px = set.image(i);
    for (int64_t p = 0; p < set.pixels_per_image(); ++p) {
      DEEPGEN_CHECK(px[p] >= 0, "save_pixel_colors('", path, "'): image ", i, " pixel ", p,
                    " has index ", px[p], "; every pixel must be a palette colour");
      const auto r = std::to_chars(buf, buf + sizeof buf, px[p]);
      text.append(buf, r.ptr);
      text += p + 1 < set.pixels_per_image() ? ' ' : '\n';
    }
  }
  io::write_text_atomically(path, text,
                            deepgen::detail::str("save_pixel_colors: cannot write '", path, "': "));
}

/// The fixed split: row i is a TEST image iff i % 20 == 7 (40 of the 792
/// rows), a VALIDATION image iff i % 20 == 13 (39 rows), and a TRAIN image
/// otherwise (713 rows). Every choice (epochs, settings, the model) is made on
/// VALIDATION; TEST is reported, never tuned on.
inline bool is_test_row(int64_t i) { return i % 20 == 7; }

/// Whether row i is a VALIDATION image (i % 20 == 13); see is_test_row.
inline bool is_valid_row(int64_t i) { return i % 20 == 13; }

namespace detail {
template <typename Keep>
std::vector<int64_t> rows_where(int64_t count, Keep keep) {
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < count; ++i)
    if (keep(i)) rows.push_back(i);
  return rows;
}
}  // namespace detail

/// Rows 0..count-1 that belong to TEST, ascending.
inline std::vector<int64_t> test_rows(int64_t count) { return detail::rows_where(count, is_test_row); }

/// Rows 0..count-1 that belong to VALIDATION, ascending.
inline std::vector<int64_t> valid_rows(int64_t count) { return detail::rows_where(count, is_valid_row); }

/// Rows 0..count-1 that belong to TRAIN (neither TEST nor VALIDATION), ascending.
inline std::vector<int64_t> train_rows(int64_t count) {
  return detail::rows_where(count, [](int64_t i) { return !is_test_row(i) && !is_valid_row(i); });
}

/// The images at `rows` (in that order; repeats allowed), copied.
inline ImageSet subset(const ImageSet& set, const std::vector<int64_t>& rows) {
  ImageSet out;
  out.side = set.side;
  out.count = static_cast<int64_t>(rows.size());
  const int64_t n = set.pixels_per_image();
  out.pixels.resize(static_cast<size_t>(out.count * n));
  int32_t* dst = out.pixels.data();
  for (int64_t r : rows) {
    DEEPGEN_CHECK(r >= 0 && r < set.count, "subset: row ", r, " does not exist (the set holds ",
                  set.count, " images, 0..", set.count - 1, ")");
    std::copy(set.pixels.begin() + r * n, set.pixels.begin() + (r + 1) * n, dst);
    dst += n;
  }
  return out;
}

/// TRAIN, VALIDATION and TEST images of one set, each in file order.
struct SplitSets {
  ///@{
  /// The rows of that part, in file order.
  ImageSet train, valid, test;
  ///@}
};

/// The fixed split of `all`: `auto [train, valid, test] = split_sets(data.all);`.
inline SplitSets split_sets(const ImageSet& all) {
  return {subset(all, train_rows(all.count)), subset(all, valid_rows(all.count)), subset(all, test_rows(all.count))};
}

/// The lecture's data with the fixed split applied: `data` as loaded, and
/// its TRAIN, VALIDATION and TEST rows.
struct PokemonSplit {
  PokemonData data;  ///< the palette and every image, as loaded
  ///@{
  /// The rows of that part, in file order.
  ImageSet train, valid, test;
  ///@}
};

/// Images a dataset needs for every part of the fixed split to hold one:
/// row 7 is the first TEST image and row 13 the first VALIDATION image.
constexpr int64_t MIN_SPLIT_IMAGES = 14;

/// load_pokemon(dir) and the fixed split of its images. Throws, naming
/// pixel_color.txt, when the file has too few images for TRAIN, VALIDATION
/// and TEST each to hold one: training would otherwise run an epoch and only
/// then find nothing to score.
inline PokemonSplit load_pokemon_split(const std::string& dir) {
  PokemonSplit s;
  s.data = load_pokemon(dir);
  DEEPGEN_CHECK(s.data.all.count >= MIN_SPLIT_IMAGES, dir, (dir.back() == '/' ? "" : "/"), "pixel_color.txt holds ",
                s.data.all.count, " images, but the fixed split needs at least ", MIN_SPLIT_IMAGES,
                " (row 7 is the first TEST image, row 13 the first VALIDATION image, the rest TRAIN)");
  SplitSets sets = split_sets(s.data.all);
  s.train = std::move(sets.train);
  s.valid = std::move(sets.valid);
  s.test = std::move(sets.test);
  return s;
}

/// Mirror a side × side image left to right, in place: a sprite facing the
/// other way, the one augmentation that keeps a Pokémon a Pokémon.
inline void flip_horizontal(int32_t* image, int64_t side) {
  for (int64_t y = 0; y < side; ++y) std::reverse(image + y * side, image + (y + 1) * side);
}

}  // namespace data
}  // namespace deepgen
