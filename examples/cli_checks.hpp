// examples/cli_checks.hpp — the checks every example program puts on its
// command-line values, and the upper bounds they enforce, written once.
//
// Why our own validators and not CLI11's Range: CLI::Range compares with
// `<` and `>`, so NaN passes every range; its integer conversion takes
// "-1" for an unsigned seed (wrapping to 2⁶⁴−1); and its message does not
// say which values are allowed. The validators here parse the text
// themselves, refuse NaN, infinities, junk after the number and numbers
// that do not fit, and say the allowed range. CLI11 names the option in
// front of the message: "--count: -3 is out of range: give a whole number
// from 1 to 1024".
//
// Why upper bounds: a count, a grid size or a number of steps decides how
// much a program allocates; without a bound, a typo such as --count 1e9
// ends in std::bad_alloc after minutes of work. The bounds are generous for
// the lecture's 20×20 sprites (docs/reliability.md lists them) and named
// here, so a program and its --help agree.
//
// Why exit 1: CLI11 exits with its own codes (105 for a bad value, 106 for a
// missing option, …); the programs promise 1 for every refused input, so a
// script tests one status. --help still exits 0.
//
// Usage:
//   cmd->add_option("--count", n, "images to draw")->check(cli_checks::whole(1, cli_checks::MAX_IMAGES));
//   cmd->add_option("--temperature", t, "…")->check(cli_checks::real(0, cli_checks::MAX_TEMPERATURE));
//   cmd->add_option("--out", png, "PNG to write")->required()->check(cli_checks::output_file());
//   DEEPGEN_CLI_PARSE(app, argc, argv);  // instead of CLI11_PARSE
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>

namespace cli_checks {

// ---- the bounds ------------------------------------------------------------------------------
// Training budget.
constexpr int64_t MAX_EPOCHS = 1000000;    ///< --epochs, --patience, --warmup
constexpr double MAX_MINUTES = 100000;     ///< --minutes: about ten weeks
constexpr int64_t MAX_BATCH = 4096;        ///< --batch: items per step
// Optimizer and loss weights. --lr is bounded by what a float weight can
// hold: a larger step overflows every weight at once; 1e38 is allowed so a
// test can make training diverge on purpose.
constexpr double MAX_LR = 1e38;            ///< --lr
constexpr double MAX_CLIP = 1e6;           ///< --clip (0: none)
constexpr double MAX_WEIGHT_DECAY = 10;    ///< --weight-decay
constexpr double MAX_BETA = 1e6;           ///< --beta (the KL weight)
// Model sizes.
constexpr int64_t MAX_HIDDEN = 8192;       ///< --hidden: LSTM cells
constexpr int64_t MAX_LATENT = 4096;       ///< --latent: code dimensions
constexpr int64_t MAX_WIDTH = 4096;        ///< --colour-dim, --embedding, one --encoder/--decoder width
// What a picture or a draw command makes, all decoded in one batch: 1024
// codes of a 20×20 sprite in 167 colours are 270 MB of logits, and 1024
// cells of 80×80 pixels a 20 MB image.
constexpr int64_t MAX_IMAGES = 1024;       ///< --count of drawn images
constexpr int64_t MAX_SAMPLES = 64;        ///< --samples: completions per image
constexpr int64_t MAX_EVAL_SAMPLES = 1000; ///< --samples: draws of the code per image when scoring
constexpr int64_t MAX_GRID = 32;           ///< --grid: points per dimension of a walk (32² = MAX_CELLS)
constexpr int64_t MAX_CELLS = 1024;        ///< pictures in one grid (a 32×32 walk; --all: dimensions × --grid)
constexpr int64_t MAX_STEPS = 1000;        ///< --steps of an interpolation
constexpr double MAX_RANGE = 100;          ///< --range of a walk, in standard deviations
constexpr double MAX_TEMPERATURE = 100;    ///< --temperature (0: the likeliest value)
// Building a dataset.
constexpr int64_t MAX_SPRITE_SIZE = 256;   ///< --size of a sprite, S×S pixels
constexpr int64_t MAX_COLORS = 65536;      ///< --colors of a palette
constexpr int64_t MAX_MIN_COUNT = 1000000000;  ///< --min-count of pixels a colour needs
constexpr int64_t MAX_WORDS = 1000;        ///< --min-words, --max-words of a corpus sentence

// ---- number validators -------------------------------------------------------------------

namespace detail {
/// `x` as text without trailing zeros: 1e+06, 0.95, 4096.
inline std::string show(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}
}  // namespace detail

/// A whole number from `lo` to `hi` (both allowed), written in digits with
/// an optional sign. Refuses "nan", "inf", "1.5", "3x", "1e3" and numbers
/// past 64 bits, with a message giving the range.
inline CLI::Validator whole(int64_t lo, uint64_t hi) {
  const std::string range = "give a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        size_t i = 0;
        const bool negative = !text.empty() && text[0] == '-';
        if (!text.empty() && (text[0] == '-' || text[0] == '+')) i = 1;
        if (i == text.size() || text.find_first_not_of("0123456789", i) != std::string::npos)
          return "'" + text + "' is not a whole number; " + range;
        errno = 0;
        const unsigned long long magnitude = std::strtoull(text.c_str() + i, nullptr, 10);
        bool ok;
        if (errno == ERANGE)
          ok = false;
        else if (negative && magnitude > 0)  // -magnitude >= lo, with -lo written so that it cannot overflow
          ok = lo < 0 && magnitude <= uint64_t(-(lo + 1)) + 1;
        else
          ok = magnitude <= hi && (lo <= 0 || magnitude >= uint64_t(lo));
        if (!ok) return text + " is out of range; " + range;
        return {};
      },
      "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

/// Whether a real-number range includes its lower end.
enum class Low { closed, open };

/// A finite real number from `lo` to `hi` (`lo` itself allowed unless
/// `low` is Low::open). Refuses NaN, infinities and junk after the number.
inline CLI::Validator real(double lo, double hi, Low low = Low::closed) {
  const std::string range = std::string("give a finite number ") + (low == Low::open ? "above " : "from ") +
                            detail::show(lo) + (low == Low::open ? " and up to " : " to ") + detail::show(hi);
  return CLI::Validator(
      [lo, hi, low, range](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || std::isspace(static_cast<unsigned char>(text[0])))
          return "'" + text + "' is not a number; " + range;
        if (!std::isfinite(v) || errno == ERANGE || v > hi || v < lo || (low == Low::open && v == lo))
          return text + " is out of range; " + range;
        return {};
      },
      std::string("NUMBER in ") + (low == Low::open ? "(" : "[") + detail::show(lo) + ", " + detail::show(hi) + "]");
}

/// A fraction strictly between 0 and 1.
inline CLI::Validator open_fraction() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !(v > 0 && v < 1))
          return "'" + text + "' is not a fraction strictly between 0 and 1, e.g. 0.5";
        return {};
      },
      "FRACTION in (0, 1)");
}

/// Any 64-bit seed, written in digits: refuses "-1" (which CLI11 would wrap to 2⁶⁴−1), "nan" and "1.5".
inline CLI::Validator seed() { return whole(0, std::numeric_limits<uint64_t>::max()); }

// ---- path validators --------------------------------------------------------------------------

/// A file to write: not empty, not an existing folder, and in a folder that
/// exists, so that a run does not do its work and then fail to save it.
/// Nothing is created or touched here.
inline CLI::Validator output_file() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        namespace fs = std::filesystem;
        if (text.empty()) return "the path is empty; give a file to write";
        std::error_code ec;
        if (fs::is_directory(text, ec)) return text + " is a folder; give a file name inside it";
        const fs::path parent = fs::path(text).parent_path();
        if (!parent.empty() && !fs::is_directory(parent, ec))
          return "the folder " + parent.string() + " does not exist; create it first";
        return {};
      },
      "FILE");
}

/// A folder to write into (created if missing): not empty and not an existing file.
inline CLI::Validator output_folder() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        namespace fs = std::filesystem;
        if (text.empty()) return "the path is empty; give a folder to write into";
        std::error_code ec;
        if (fs::exists(text, ec) && !fs::is_directory(text, ec))
          return text + " is a file, not a folder; give a folder (it is created if missing)";
        return {};
      },
      "DIR");
}

/// For a program that reads argv itself: "" if `text` passes `check`, else
/// "NAME: why", the form CLI11 gives for an option.
inline std::string check_argument(const std::string& name, const std::string& text, const CLI::Validator& check) {
  const std::string why = check(text);
  return why.empty() ? why : name + ": " + why;
}

// ---- parsing ----------------------------------------------------------------------------------

/// CLI11's message for a usage error (bad value, missing option, unknown
/// argument), and the exit status the programs promise: 0 for --help, 1 for
/// any error (CLI11's own codes, 105 and so on, are not passed on).
inline int usage_exit(const CLI::App& app, const CLI::ParseError& e) {
  const int rc = app.exit(e);
  return rc == 0 ? 0 : 1;
}

}  // namespace cli_checks

/// Parse the command line; on a usage error print CLI11's message and
/// return 1 from main (0 for --help). Use instead of CLI11_PARSE.
#define DEEPGEN_CLI_PARSE(app, argc, argv)               \
  try {                                                  \
    (app).parse((argc), (argv));                         \
  } catch (const CLI::ParseError& e) {                   \
    return cli_checks::usage_exit((app), e);             \
  }
