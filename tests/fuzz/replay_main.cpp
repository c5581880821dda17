// tests/fuzz/replay_main.cpp — runs the fuzz targets' LLVMFuzzerTestOneInput
// on files, without libFuzzer: the ordinary test suite (CTest fuzz_replay_*)
// replays every committed seed and every regression input (a crash found and
// fixed) on every run, built by the ordinary compiler.
//
//   fuzz_replay TARGET FILE_OR_DIR...
//
// Every target is compiled into this one program (one translation unit, so
// the suite pays for one compile, not eight), its entry point renamed.
// A directory stands for the files in it (not recursive), in name order.
// The target aborts on a bug; otherwise this prints how many inputs ran.
#define LLVMFuzzerTestOneInput fuzz_safetensors
#include "safetensors.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_safetensors_model
#include "safetensors_model.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_pixel_color
#include "pixel_color.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_colormap
#include "colormap.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_vocabulary
#include "vocabulary.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_corpus
#include "corpus.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_image
#include "image.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_csv_log
#include "csv_log.cpp"
#undef LLVMFuzzerTestOneInput

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using Target = int (*)(const uint8_t*, size_t);
  const std::vector<std::pair<std::string, Target>> targets = {
      {"safetensors", fuzz_safetensors}, {"safetensors_model", fuzz_safetensors_model},
      {"pixel_color", fuzz_pixel_color}, {"colormap", fuzz_colormap},
      {"vocabulary", fuzz_vocabulary},   {"corpus", fuzz_corpus},
      {"image", fuzz_image},             {"csv_log", fuzz_csv_log}};
  Target target = nullptr;
  for (const auto& [name, f] : targets)
    if (argc > 1 && name == argv[1]) target = f;
  if (!target) {
    std::fprintf(stderr, "usage: fuzz_replay TARGET FILE_OR_DIR...; TARGET is one of");
    for (const auto& [name, f] : targets) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  // What an input may make a parser allocate: libFuzzer reports a single
  // allocation above 512 MB (scripts/fuzz.sh); here ASan does the same
  // (ASAN_OPTIONS=max_allocation_size_mb=512, set by CTest), and a build
  // without ASan caps the address space at 2 GiB, so an allocation a
  // hostile file claims fails here as it would on a small machine.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEEPGEN_REPLAY_ASAN 1
#endif
#endif
#if !defined(__SANITIZE_ADDRESS__) && !defined(DEEPGEN_REPLAY_ASAN)
  const rlimit cap{rlim_t(2) << 30, rlim_t(2) << 30};
  setrlimit(RLIMIT_AS, &cap);
#endif
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    const fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      std::vector<fs::path> in;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file()) in.push_back(e.path());
      std::sort(in.begin(), in.end());
      files.insert(files.end(), in.begin(), in.end());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "replay: '%s' is neither a file nor a directory\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files\n");
    return 2;
  }
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read '%s'\n", f.c_str());
      return 2;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), bytes.size());
    target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replay: %zu inputs, no bug\n", files.size());
  return 0;
}
