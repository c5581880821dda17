#!/usr/bin/env bash
# pack_gpu_headers.sh — copy the third-party headers and CMake package files
# that deepgen's build needs into one folder, for a GPU machine that has nvcc,
# CMake and ninja but not these packages (and no network to get them).
#
#   scripts/pack_gpu_headers.sh [DEST]       DEST defaults to third_party_headers/
#                                            in the repository root (git-ignored)
#   then on the GPU machine:  scripts/gpu_check.sh [DEST]
#
# Files keep their path relative to the source prefix (/usr by default, or
# $PACK_SRC_PREFIX): DEST/include/eigen3, DEST/lib/cmake/Catch2,
# DEST/share/eigen3/cmake, … The packages' CMake files locate their headers
# relative to their own location, so with CMAKE_PREFIX_PATH=DEST they resolve
# to the copies. Symlinks are dereferenced so the folder survives any copy.
#
# Copied: Eigen 3 (headers + CMake config), Catch2 v2 (header + CMake config
# and Catch.cmake), nlohmann_json (headers + CMake config), stb (headers), and,
# when installed, Google Benchmark (headers, shared library, CMake config) so
# the benchmarks build too, and CLI11 (header + CMake config) so the example
# programs build. The folder is replaced atomically: a failed pack leaves any
# previous one untouched.
#
# With POKEMON_DATA set (e.g. data/pokemon), its pixel_color.txt and
# colormap.txt are also copied to data/pokemon/ (git-ignored), where
# gpu_check.sh's NLL comparison looks; carry that folder too.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-"$repo_root/third_party_headers"}
src=${PACK_SRC_PREFIX:-/usr}
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

die() { echo "pack_gpu_headers: $*" >&2; exit 1; }

# Stage next to the destination and swap at the end.
mkdir -p "$(dirname "$dest")"
dest=$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")
stage=$(mktemp -d "${dest}.tmp.XXXXXX")
chmod 755 "$stage"  # mktemp makes it private; the copy should be readable like /usr
trap 'rm -rf "$stage"' EXIT

# copy_rel REL: $src/REL -> $stage/REL (file or folder, symlinks dereferenced).
copy_rel() {
  local rel=$1
  [[ -e "$src/$rel" ]] || return 1
  mkdir -p "$stage/$(dirname "$rel")"
  cp -RL "$src/$rel" "$stage/$rel"
  echo "  $rel"
}

# first_rel REL...: the first relative path that exists under $src.
first_rel() {
  local rel
  for rel in "$@"; do
    if [[ -e "$src/$rel" ]]; then echo "$rel"; return 0; fi
  done
  return 1
}

# copy_imported CMAKE_REL: the files (libraries) that a package's exported
# targets name as ${_IMPORT_PREFIX}/…, e.g. Catch2's libCatch2WithMain.a, which
# find_package checks for even when no target uses it. Folders (the include
# directories) are skipped: the headers are copied on their own.
copy_imported() {
  local rel
  # shellcheck disable=SC2016  # ${_IMPORT_PREFIX} is literal text in the .cmake files
  while IFS= read -r rel; do
    if [[ -f "$src/$rel" && ! -e "$stage/$rel" ]]; then copy_rel "$rel"; fi
  done < <(grep -ho '${_IMPORT_PREFIX}/[^";]*' "$src/$1"/*.cmake | sed 's|^${_IMPORT_PREFIX}/||' | sort -u)
}

echo "pack_gpu_headers: copying from $src into $dest"

# Required packages: header folder + CMake package folder (searched where Debian,
# Ubuntu and upstream installs put them).
need() {  # need NAME HEADER_REL CMAKE_REL_CANDIDATES...
  local name=$1 header=$2; shift 2
  copy_rel "$header" || die "$name headers not found at $src/$header (install them, e.g. Debian: apt-get install ${name})"
  local cm
  cm=$(first_rel "$@") || die "$name CMake package files not found under $src (looked in: $*)"
  copy_rel "$cm"
  copy_imported "$cm"
}
need libeigen3-dev include/eigen3 share/eigen3/cmake "lib/$multiarch/cmake/eigen3" lib/cmake/eigen3 share/cmake/eigen3
need catch2 include/catch2 lib/cmake/Catch2 "lib/$multiarch/cmake/Catch2" share/Catch2/cmake share/cmake/Catch2
need nlohmann-json3-dev include/nlohmann share/cmake/nlohmann_json "lib/$multiarch/cmake/nlohmann_json" lib/cmake/nlohmann_json
copy_rel include/stb || die "stb headers not found at $src/include/stb (Debian: apt-get install libstb-dev)"

# Optional: Google Benchmark, so benchmarks/ builds on the GPU machine.
bench_cmake=$(first_rel "lib/$multiarch/cmake/benchmark" lib/cmake/benchmark) || bench_cmake=
if [[ -n "$bench_cmake" && -e "$src/include/benchmark/benchmark.h" ]]; then
  copy_rel include/benchmark
  copy_rel "$bench_cmake"
  copy_imported "$bench_cmake"
  # Plus the soname files the dynamic loader looks for at run time.
  libdir=$(dirname "$(dirname "$bench_cmake")")
  shopt -s nullglob
  for lib in "$src/$libdir"/libbenchmark*.so*; do
    [[ -e "$stage/$libdir/$(basename "$lib")" ]] || copy_rel "$libdir/$(basename "$lib")"
  done
  shopt -u nullglob
else
  echo "  (Google Benchmark not installed: benchmarks will be skipped on the GPU machine)"
fi

# Optional: CLI11, for the example programs (gpu_check.sh's NLL comparison).
cli_cmake=$(first_rel share/cmake/CLI11 lib/cmake/CLI11 "lib/$multiarch/cmake/CLI11") || cli_cmake=
if [[ -n "$cli_cmake" && -e "$src/include/CLI/CLI.hpp" ]]; then
  copy_rel include/CLI
  copy_rel "$cli_cmake"
else
  echo "  (CLI11 not installed: the example programs will not build on the GPU machine)"
fi

if [[ -n "${POKEMON_DATA:-}" ]]; then
  mkdir -p "$repo_root/data/pokemon"
  cp "$POKEMON_DATA/pixel_color.txt" "$POKEMON_DATA/colormap.txt" "$repo_root/data/pokemon/" ||
    die "POKEMON_DATA=$POKEMON_DATA lacks pixel_color.txt or colormap.txt"
  echo "  data/pokemon/ from $POKEMON_DATA"
fi

{
  echo "Packed by scripts/pack_gpu_headers.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) from $src"
  echo "Use: cmake -DCMAKE_PREFIX_PATH=<this folder> … (scripts/gpu_check.sh does)"
  echo
  grep -h -E '^#define EIGEN_(WORLD|MAJOR|MINOR)_VERSION' "$stage/include/eigen3/Eigen/src/Core/util/Macros.h" 2>/dev/null || true
  grep -h -m1 -E 'Catch v[0-9.]+' "$stage/include/catch2/catch.hpp" 2>/dev/null || true
  grep -h -m1 -E 'version [0-9.]+' "$stage/include/nlohmann/json.hpp" 2>/dev/null || true
} > "$stage/PACKED.txt"

rm -rf "$dest"
mv "$stage" "$dest"
trap - EXIT
echo "pack_gpu_headers: done, $(du -sh "$dest" | cut -f1) in $dest"
