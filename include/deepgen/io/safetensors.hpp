// io/safetensors.hpp — checkpoints: read and write the safetensors format.
//
// deepgen's checkpoints are safetensors files so that weights move both ways
// between deepgen and PyTorch (safetensors.torch.load_file reads ours, we read
// theirs). The format is an 8-byte little-endian uint64 N, N bytes of JSON
// header, then the raw little-endian data buffer:
//
//   {"fc.weight": {"dtype": "F32", "shape": [167, 64], "data_offsets": [0, 42752]},
//    ..., "__metadata__": {"format": "pt"}}        (offsets relative to the buffer)
//
// Decisions:
// - Reading validates every header field before touching the data and throws
//   deepgen::Error naming the file, the tensor and the remedy: a truncated or
//   foreign checkpoint must never become a model with garbage weights.
// - Only F32 and F64 are loaded (converted to the requested float type); other
//   dtypes (BF16, F16, integers) are named in a clear error.
// - The header is validated as the reference implementation (Hugging Face's
//   safetensors crate) does, because a checkpoint may come from anyone: a
//   length of at most 100 MB, a JSON object starting with '{', no name given
//   twice (JSON parsers keep the last one silently), tensors laid end to end
//   in the data buffer with no hole, no overlap and no byte after the last
//   one, and each shape's element count, computed with overflow checks
//   (a shape such as [2^32, 2^32] wraps an unchecked product), times the
//   dtype's size equal to its byte range. So a tensor is never larger than
//   the file, and a header claiming 10^12 elements is refused before any
//   allocation.
// - Writes are atomic: the file is written under a unique temporary name in the
//   same directory, flushed, fsync'ed and renamed over the real name. A crash or
//   a full disk never leaves a half-written checkpoint under the real name, and
//   the previous checkpoint stays intact until the new one is complete.
// - The writer lays tensors out in name order, contiguously (the format forbids
//   holes), and pads the header with spaces so the data buffer starts 8-byte
//   aligned, as PyTorch's writer does.
#pragma once

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../tensor.hpp"
#include "atomic_file.hpp"

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "deepgen/io/safetensors.hpp copies tensor bytes as they are and needs a little-endian host"
#endif

namespace deepgen {
namespace io {

/// One tensor's entry in a safetensors header.
struct SafetensorsEntry {
  std::string dtype;   ///< the format's dtype name: "F32", "F64", "BF16", …
  Shape shape;         ///< rank 0..4 (a header with a larger rank is rejected)
  uint64_t begin = 0;  ///< byte range [begin, end) within the data buffer
  uint64_t end = 0;  ///< one past the last byte
};

/// A validated safetensors header: tensors by name, the free-form metadata,
/// and where the data buffer lies in the file.
struct SafetensorsHeader {
  std::map<std::string, SafetensorsEntry> tensors;  ///< every tensor's entry, by name
  std::map<std::string, std::string> metadata;  ///< "__metadata__", empty if absent
  uint64_t data_start = 0;                      ///< file offset of the data buffer (8 + N)
  uint64_t data_size = 0;                       ///< bytes from data_start to the end of the file
};

/// Headers longer than this are rejected as corrupt (the reference reader's limit).
constexpr uint64_t SAFETENSORS_MAX_HEADER = 100'000'000;

}  // namespace io

namespace detail {
namespace st {

static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4 &&
                  std::numeric_limits<double>::is_iec559 && sizeof(double) == 8,
              "safetensors F32/F64 data is IEEE-754 binary32/binary64; this host's float/double differ");

inline std::string where(const std::string& path) { return str("safetensors file '", path, "': "); }

inline const char* corrupt_hint() {
  return "; the file is truncated, corrupt or not a safetensors file: re-save it "
         "(deepgen::io::save_safetensors or safetensors.torch.save_file)";
}

// A JSON value for a message, shortened so a huge header cannot flood it.
inline std::string show(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// Bits per element of every dtype the format defines (sub-byte floats included),
// 0 for a name it does not define.
inline int dtype_bits(const std::string& dtype) {
  static const std::map<std::string, int> bits = {
      {"BOOL", 8},    {"U8", 8},       {"I8", 8},       {"F8_E5M2", 8}, {"F8_E4M3", 8},
      {"F8_E8M0", 8}, {"I16", 16},     {"U16", 16},     {"F16", 16},    {"BF16", 16},
      {"I32", 32},    {"U32", 32},     {"F32", 32},     {"I64", 64},    {"U64", 64},
      {"F64", 64},    {"C64", 64},     {"F4", 4},       {"F6_E2M3", 6}, {"F6_E3M2", 6}};
  auto it = bits.find(dtype);
  return it == bits.end() ? 0 : it->second;
}

template <typename T>
constexpr const char* dtype_of() {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "safetensors load/save support Tensor<float> (F32) and Tensor<double> (F64) only");
  return std::is_same<T, float>::value ? "F32" : "F64";
}

using ::deepgen::io::detail::Fd;

// Read exactly n bytes at `offset`; false on end of file (errno = 0) or error.
inline bool pread_all(int fd, void* buf, uint64_t n, uint64_t offset) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, uint64_t(1) << 30));
    const ssize_t got = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got == 0) errno = 0;
      return false;
    }
    p += got;
    n -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

inline std::string errno_text(int err) { return err == 0 ? "unexpected end of file" : std::strerror(err); }

// A non-negative JSON integer, or false.
inline bool as_u64(const nlohmann::json& j, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

// The product of `dims` left to right (as Shape::numel() computes it), or
// false when a partial product leaves int64; a zero stops the growth.
inline bool checked_numel(const std::vector<int64_t>& dims, int64_t& out) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n)) return false;
  out = n;
  return true;
}

// The JSON header parsed with the reference's extra rules: no key twice in
// one object (nlohmann would keep the last one silently) and no nesting
// deeper than a header needs (a deeply nested value would otherwise exhaust
// the stack when shown in a message).
inline nlohmann::json parse_header_json(const std::string& text, const std::string& path) {
  std::vector<std::set<std::string>> keys;  // the keys seen in each open object
  auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if ((event == E::object_start || event == E::array_start) && depth >= 3)
      throw_error(__FILE__, __LINE__,
                  str(where(path), "the header nests objects or arrays ", depth + 1,
                      " deep; a safetensors header holds name -> {dtype, shape, data_offsets} "
                      "and \"__metadata__\" -> strings only", corrupt_hint()));
    if (event == E::object_start) keys.emplace_back();
    if (event == E::object_end && !keys.empty()) keys.pop_back();
    if (event == E::key && !keys.empty()) {
      const std::string key = parsed.get<std::string>();
      if (!keys.back().insert(key).second)
        throw_error(__FILE__, __LINE__,
                    str(where(path), depth == 1 ? "tensor name '" : "key '", key.substr(0, 80),
                        depth == 1 ? "' appears twice in the header; names in a checkpoint must be unique"
                                   : "' appears twice in one header entry",
                        corrupt_hint()));
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, on_event);
  } catch (const nlohmann::json::exception& e) {
    throw_error(__FILE__, __LINE__,
                str(where(path), "header is not valid JSON (", e.what(), ")", corrupt_hint()));
  }
}

inline io::SafetensorsEntry parse_entry(const std::string& path, const std::string& name,
                                        const nlohmann::json& e, uint64_t data_size) {
  const std::string at = str(where(path), "tensor '", name, "': ");
  DEEPGEN_CHECK(e.is_object(), at, "header entry must be a JSON object with dtype, shape and "
                "data_offsets, got ", show(e), corrupt_hint());
  for (const char* key : {"dtype", "shape", "data_offsets"})
    DEEPGEN_CHECK(e.contains(key), at, "header entry has no \"", key, "\" (entry: ", show(e), ")",
                  corrupt_hint());

  io::SafetensorsEntry out;
  const auto& dt = e.at("dtype");
  DEEPGEN_CHECK(dt.is_string(), at, "\"dtype\" must be a string such as \"F32\", got ", show(dt),
                corrupt_hint());
  out.dtype = dt.get<std::string>();
  const int bits = dtype_bits(out.dtype);
  DEEPGEN_CHECK(bits > 0, at, "unknown dtype \"", out.dtype, "\"; deepgen reads F32 and F64 "
                "(in PyTorch, convert with tensor.float() before saving)");

  const auto& sh = e.at("shape");
  DEEPGEN_CHECK(sh.is_array(), at, "\"shape\" must be an array of non-negative integers, got ",
                show(sh), corrupt_hint());
  DEEPGEN_CHECK(sh.size() <= static_cast<size_t>(Shape::MAX_RANK), at, "rank ", sh.size(),
                " (shape ", show(sh), ") is not supported: deepgen tensors have rank 0..",
                Shape::MAX_RANK, "; reshape it to at most ", Shape::MAX_RANK,
                " dimensions before saving");
  std::vector<int64_t> dims;
  for (const auto& d : sh) {
    uint64_t v = 0;
    DEEPGEN_CHECK(as_u64(d, v) && v <= uint64_t(std::numeric_limits<int64_t>::max()), at,
                  "\"shape\" must hold non-negative integers, got ", show(sh), corrupt_hint());
    dims.push_back(static_cast<int64_t>(v));
  }
  // Checked before a Shape exists: Shape::numel() multiplies without checks.
  int64_t count = 0;
  uint64_t bits_total = 0;
  const bool overflow = !checked_numel(dims, count) ||
                        __builtin_mul_overflow(static_cast<uint64_t>(count), static_cast<uint64_t>(bits), &bits_total);
  DEEPGEN_CHECK(!overflow, at, "shape ", show(sh), " has more elements than a 64-bit count holds",
                corrupt_hint());
  out.shape = Shape(dims);

  const auto& off = e.at("data_offsets");
  DEEPGEN_CHECK(off.is_array() && off.size() == 2 && as_u64(off[0], out.begin) &&
                    as_u64(off[1], out.end),
                at, "\"data_offsets\" must be [begin, end] with non-negative integers, got ",
                show(off), corrupt_hint());
  DEEPGEN_CHECK(out.end >= out.begin, at, "data_offsets ", show(off), " end before begin",
                corrupt_hint());
  DEEPGEN_CHECK(out.end <= data_size, at, "data_offsets ", show(off),
                " reach past the end of the data buffer (", data_size, " bytes)", corrupt_hint());
  const uint64_t bytes = out.end - out.begin;
  DEEPGEN_CHECK(bits_total % 8 == 0 && bits_total / 8 == bytes, at, "shape ", out.shape, " of ", out.dtype,
                " needs ", bits_total / 8, bits_total % 8 ? " and a fraction of a" : "", " bytes but data_offsets ",
                show(off), " hold ", bytes, " bytes", corrupt_hint());
  return out;
}

// The format lays the tensors end to end from byte 0 of the data buffer to
// its last byte: sorted by range, each must begin where the previous one
// ended (no hole, no overlap), and the last must end at the end of the file.
inline void check_layout(const io::SafetensorsHeader& h, const std::string& path) {
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, const std::string*>> ranges;
  for (const auto& [name, e] : h.tensors) ranges.push_back({{e.begin, e.end}, &name});
  // Equal ranges in name order, not pointer order, so the message is the same on every run.
  std::sort(ranges.begin(), ranges.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : *x.second < *y.second;
  });
  uint64_t expected = 0;
  const std::string* previous = nullptr;
  for (const auto& [range, name] : ranges) {
    if (range.first != expected) {
      const std::string prev = previous ? str("tensor '", *previous, "', which ends at byte ", expected)
                                        : std::string();
      throw_error(__FILE__, __LINE__,
                  str(where(path), "tensor '", *name, "' begins at byte ", range.first, " of the data buffer, ",
                      range.first < expected ? "overlapping " + prev
                      : previous             ? "leaving a hole after " + prev
                                             : std::string("leaving a hole at the start of the data buffer"),
                      "; tensors must be laid end to end", corrupt_hint()));
    }
    expected = range.second;
    previous = name;
  }
  DEEPGEN_CHECK(expected == h.data_size, where(path), "the data buffer holds ", h.data_size, " bytes but its "
                "tensors end at byte ", expected, " (", h.data_size - expected, " trailing bytes)",
                corrupt_hint());
}

inline int open_for_reading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  DEEPGEN_CHECK(fd >= 0, where(path), "cannot open: ", std::strerror(errno),
                "; check the path and its permissions");
  return fd;
}

// The header of the open file `fd`; header and data are read through one
// descriptor so a concurrent atomic save cannot pair one file's header with
// another's data.
inline io::SafetensorsHeader read_header(int fd, const std::string& path) {
  struct stat info {};
  DEEPGEN_CHECK(::fstat(fd, &info) == 0, where(path), "cannot stat: ", std::strerror(errno));
  DEEPGEN_CHECK(S_ISREG(info.st_mode), where(path), "not a regular file (a directory?); pass the "
                "path of a .safetensors file");
  const uint64_t file_size = static_cast<uint64_t>(info.st_size);
  DEEPGEN_CHECK(file_size >= 8, where(path), "the file is ", file_size, " bytes, shorter than the "
                "8-byte header length", corrupt_hint());

  unsigned char len_bytes[8];
  DEEPGEN_CHECK(pread_all(fd, len_bytes, 8, 0), where(path), "cannot read the header length: ",
                errno_text(errno));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  DEEPGEN_CHECK(n <= io::SAFETENSORS_MAX_HEADER, where(path), "header length ", n, " bytes is absurd "
                "(limit ", io::SAFETENSORS_MAX_HEADER, ")", corrupt_hint());
  DEEPGEN_CHECK(n <= file_size - 8, where(path), "header length ", n, " bytes is larger than the "
                "file: only ", file_size - 8, " bytes follow the 8-byte length field",
                corrupt_hint());

  std::string text(static_cast<size_t>(n), '\0');
  DEEPGEN_CHECK(n == 0 || pread_all(fd, &text[0], n, 8), where(path), "cannot read the header: ",
                errno_text(errno));
  // The reference reader's first check: a header is a JSON object, '{' first.
  DEEPGEN_CHECK(!text.empty() && text[0] == '{', where(path), "the header does not start with '{' (",
                text.empty() ? std::string("it is empty") : str("its first byte is ",
                    int(static_cast<unsigned char>(text[0]))), ")", corrupt_hint());
  const nlohmann::json j = parse_header_json(text, path);
  DEEPGEN_CHECK(j.is_object(), where(path), "header is not a JSON object (it starts ",
                show(j), ")", corrupt_hint());

  io::SafetensorsHeader h;
  h.data_start = 8 + n;
  h.data_size = file_size - h.data_start;
  for (const auto& item : j.items()) {
    if (item.key() == "__metadata__") {
      DEEPGEN_CHECK(item.value().is_object(), where(path), "\"__metadata__\" must be an object of "
                    "strings, got ", show(item.value()), corrupt_hint());
      for (const auto& m : item.value().items()) {
        DEEPGEN_CHECK(m.value().is_string(), where(path), "\"__metadata__\" value of key '",
                      m.key(), "' must be a string, got ", show(m.value()),
                      "; the format allows string values only");
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    h.tensors[item.key()] = parse_entry(path, item.key(), item.value(), h.data_size);
  }
  check_layout(h, path);
  return h;
}

}  // namespace st
}  // namespace detail

namespace io {

/// Read and validate the header of a safetensors file (no tensor data is read).
/// Throws deepgen::Error naming the file, the tensor and the problem.
inline SafetensorsHeader read_safetensors_header(const std::string& path) {
  deepgen::detail::st::Fd fd(deepgen::detail::st::open_for_reading(path));
  return deepgen::detail::st::read_header(fd.get(), path);
}

/// Load every tensor of a safetensors file as Tensor<T> (T = float or double).
/// F32 and F64 data are converted to T; any other dtype throws an error that
/// names the tensor. `metadata`, if given, receives "__metadata__".
template <typename T>
std::map<std::string, Tensor<T>> load_safetensors(const std::string& path,
                                                  std::map<std::string, std::string>* metadata = nullptr) {
  using namespace deepgen::detail::st;
  (void)dtype_of<T>();  // float or double only
  deepgen::detail::st::Fd fd(open_for_reading(path));
  SafetensorsHeader h = read_header(fd.get(), path);
  for (const auto& [name, e] : h.tensors)
    DEEPGEN_CHECK(e.dtype == "F32" || e.dtype == "F64", where(path), "tensor '", name, "' has dtype ",
                  e.dtype, " but deepgen loads only F32 and F64; convert it in PyTorch with "
                  "tensor.float() (or .double()) before saving");

  std::map<std::string, Tensor<T>> out;
  std::vector<char> scratch;
  for (const auto& [name, e] : h.tensors) {
    Tensor<T> t(e.shape);
    const uint64_t bytes = e.end - e.begin;
    const uint64_t at = h.data_start + e.begin;
    bool ok = true;
    if (bytes > 0 && e.dtype == dtype_of<T>()) {
      ok = pread_all(fd.get(), t.data(), bytes, at);
    } else if (bytes > 0) {
      scratch.resize(static_cast<size_t>(bytes));
      ok = pread_all(fd.get(), scratch.data(), bytes, at);
      if (ok && e.dtype == "F32") {
        const auto* src = reinterpret_cast<const float*>(scratch.data());
        for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<T>(src[i]);
      } else if (ok) {  // F64 into float: rounds to nearest, overflow gives ±inf
        const auto* src = reinterpret_cast<const double*>(scratch.data());
        for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<T>(src[i]);
      }
    }
    DEEPGEN_CHECK(ok, where(path), "tensor '", name, "': cannot read its ", bytes, " bytes: ",
                  errno_text(errno), " (was the file changed while it was read?)");
    out.emplace(name, std::move(t));
  }
  if (metadata) *metadata = std::move(h.metadata);
  return out;
}

/// Write tensors to a safetensors file atomically: a unique temporary file in
/// the same directory is written, fsync'ed and renamed over `path`. On any
/// failure the temporary file is removed and the previous file at `path` is
/// untouched. Tensor<float> is stored as F32, Tensor<double> as F64; the data
/// buffer holds the tensors in name order.
template <typename T>
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, const Tensor<T>*>>& tensors,
                      const std::map<std::string, std::string>& metadata = {}) {
  using namespace deepgen::detail::st;
  const char* dtype = dtype_of<T>();

  // 1. Validate and build the header before any file is touched.
  std::map<std::string, const Tensor<T>*> sorted;
  for (const auto& [name, t] : tensors) {
    DEEPGEN_CHECK(!name.empty() && name != "__metadata__", where(path), "tensor name '", name,
                  "' is reserved or empty; rename the tensor");
    DEEPGEN_CHECK(t != nullptr, where(path), "tensor '", name, "' is a null pointer");
    DEEPGEN_CHECK(t->device() == Device::cpu, where(path), "tensor '", name, "' lives on ",
                  to_string(t->device()), "; copy it to the CPU before saving");
    DEEPGEN_CHECK(sorted.emplace(name, t).second, where(path), "tensor name '", name,
                  "' appears twice; names in a checkpoint must be unique");
  }
  nlohmann::json j = nlohmann::json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : sorted) {
    const uint64_t bytes = static_cast<uint64_t>(t->numel()) * sizeof(T);
    nlohmann::json shape = nlohmann::json::array();
    for (int64_t d : t->shape().dims()) shape.push_back(d);
    j[name] = {{"dtype", dtype},
               {"shape", shape},
               {"data_offsets", nlohmann::json::array({offset, offset + bytes})}};
    offset += bytes;
  }
  if (!metadata.empty()) j["__metadata__"] = metadata;
  std::string header;
  try {
    header = j.dump();
  } catch (const nlohmann::json::exception& e) {
    deepgen::detail::throw_error(__FILE__, __LINE__,
                        deepgen::detail::str(where(path), "cannot write the header (", e.what(),
                                    "); tensor names and metadata must be valid UTF-8"));
  }
  while ((8 + header.size()) % 8 != 0) header.push_back(' ');  // data buffer 8-byte aligned
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(uint64_t(header.size()) >> (8 * i));

  // 2. Header and data, written atomically.
  std::vector<io::ByteSpan> parts{{len_bytes, 8}, {header.data(), header.size()}};
  for (const auto& [name, t] : sorted)
    parts.push_back({t->data(), static_cast<uint64_t>(t->numel()) * sizeof(T)});
  io::write_file_atomically(path, parts, where(path));
}

/// Save a name → tensor map (e.g. what load_safetensors returned).
template <typename T>
void save_safetensors(const std::string& path, const std::map<std::string, Tensor<T>>& tensors,
                      const std::map<std::string, std::string>& metadata = {}) {
  std::vector<std::pair<std::string, const Tensor<T>*>> list;
  for (const auto& [name, t] : tensors) list.emplace_back(name, &t);
  save_safetensors<T>(path, list, metadata);
}

/// The tensor `name` of a loaded checkpoint, which must have shape `expected`.
/// `path` names the file in the error, which lists the available tensors when
/// `name` is missing.
template <typename T>
const Tensor<T>& require(const std::map<std::string, Tensor<T>>& tensors, const std::string& name,
                         const Shape& expected, const std::string& path) {
  using deepgen::detail::st::where;
  auto it = tensors.find(name);
  if (it == tensors.end()) {
    std::string names;
    int listed = 0;
    for (const auto& kv : tensors) {
      if (listed == 20) {
        names += deepgen::detail::str(", ... (", tensors.size() - 20, " more)");
        break;
      }
      names += (listed++ ? ", " : "") + kv.first;
    }
    deepgen::detail::throw_error(
        __FILE__, __LINE__,
        deepgen::detail::str(where(path), "no tensor named '", name, "' (expected shape ", expected,
                    "); the file holds ", tensors.size(), " tensor(s): ", names.empty() ? "none" : names,
                    "; check the parameter names (PyTorch names such as 'lstm.weight_ih_l0')"));
  }
  DEEPGEN_CHECK(it->second.shape() == expected, where(path), "tensor '", name, "' has shape ",
                it->second.shape(), " but shape ", expected, " was expected; the checkpoint was "
                "saved from a model of different size: construct the model with matching sizes");
  return it->second;
}

}  // namespace io
}  // namespace deepgen
