// Fuzz target: io/safetensors.hpp's reader on raw bytes.
// Accepted files must satisfy what the reader promises (io/safetensors.hpp):
// header within the limit, tensors end to end covering the data buffer
// exactly, each tensor's bytes = elements × dtype size, loaded tensors of
// that many elements, metadata strings only.
#include <deepgen/io/safetensors.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::MemFile file("safetensors");
  const std::string& path = file.write(data, size);
  namespace io = deepgen::io;

  io::SafetensorsHeader h;
  if (!fuzz::accepted([&] { h = io::read_safetensors_header(path); })) return 0;
  FUZZ_REQUIRE(h.data_start >= 9 && h.data_start - 8 <= io::SAFETENSORS_MAX_HEADER, "data_start ", h.data_start);
  FUZZ_REQUIRE(h.data_start + h.data_size == size, "data_start + data_size != file size");
  FUZZ_REQUIRE(data[8] == '{', "header accepted without a leading '{'");
  uint64_t covered = 0;
  for (const auto& [name, e] : h.tensors) {
    FUZZ_REQUIRE(name != "__metadata__", "a tensor named __metadata__");
    FUZZ_REQUIRE(e.begin <= e.end && e.end <= h.data_size, "tensor '", name, "' range outside the buffer");
    FUZZ_REQUIRE(e.shape.rank() <= deepgen::Shape::MAX_RANK, "rank");
    covered += e.end - e.begin;
    const int bits = deepgen::detail::st::dtype_bits(e.dtype);
    FUZZ_REQUIRE(bits > 0, "unknown dtype '", e.dtype, "' accepted");
    // numel() is safe to call: the reader checked the product.
    FUZZ_REQUIRE(uint64_t(e.shape.numel()) * uint64_t(bits) == 8 * (e.end - e.begin), "tensor '", name, "' holds ",
                 e.end - e.begin, " bytes for ", e.shape.numel(), " elements of ", bits, " bits");
  }
  // End to end with no overlap and no trailing bytes: the byte counts sum to the buffer.
  FUZZ_REQUIRE(covered == h.data_size, "tensors cover ", covered, " of ", h.data_size, " bytes");

  std::map<std::string, deepgen::Tensor<float>> f;
  std::map<std::string, std::string> meta;
  if (fuzz::accepted([&] { f = io::load_safetensors<float>(path, &meta); })) {
    FUZZ_REQUIRE(f.size() == h.tensors.size(), "loaded ", f.size(), " of ", h.tensors.size(), " tensors");
    FUZZ_REQUIRE(meta == h.metadata, "metadata differs between header and load");
    for (const auto& [name, t] : f) {
      const auto& e = h.tensors.at(name);
      FUZZ_REQUIRE(e.dtype == "F32" || e.dtype == "F64", "dtype ", e.dtype, " loaded");
      FUZZ_REQUIRE(t.shape() == e.shape, "shape of '", name, "'");
    }
    // The same bytes as double: the same tensors, the same values.
    const auto d = io::load_safetensors<double>(path);
    for (const auto& [name, t] : f) {
      const auto& u = d.at(name);
      for (int64_t i = 0; i < t.numel(); ++i) {
        const bool same = (t[i] != t[i] && float(u[i]) != float(u[i])) || float(u[i]) == t[i];
        FUZZ_REQUIRE(same, "'", name, "'[", i, "] loads as ", t[i], " and ", u[i]);
      }
    }
  }
  return 0;
}
