// models/option_text.hpp — the text forms a model's settings take on a
// command line: whole integers, and comma-separated layer widths such as
// "512,256", read strictly (a stray character is an error that names the
// option and shows a valid form) and written back the same way.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "../error.hpp"

namespace deepgen::models {

/// The items of comma-separated `text`: "" → {}, "a,,b" → {a, "", b}, "a," → {a, ""}.
inline std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  for (size_t begin = 0;;) {
    const size_t end = text.find(',', begin);
    out.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) return out;
    begin = end + 1;
  }
}

/// `text` as a whole decimal integer in `value`, or false (empty, other characters, or out of range).
inline bool parse_integer(const std::string& text, long long& value) {
  size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used > 0 && used == text.size();
}

/// "512,256" → {512, 256}; "" → {} (no hidden layer). Throws, naming `option`, on anything else.
inline std::vector<int64_t> parse_widths(const std::string& text, const char* option) {
  std::vector<int64_t> out;
  for (const std::string& item : split_commas(text)) {
    long long w = 0;
    DEEPGEN_CHECK(parse_integer(item, w) && w > 0, option, " '", text, "': '", item,
                  "' is not a positive width; give comma-separated widths such as 512,256");
    out.push_back(w);
  }
  return out;
}

/// {512, 256} → "512,256": what parse_widths reads back.
inline std::string join_widths(const std::vector<int64_t>& widths) {
  std::string out;
  for (int64_t w : widths) out += (out.empty() ? "" : ",") + std::to_string(w);
  return out;
}

}  // namespace deepgen::models
