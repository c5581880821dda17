#!/usr/bin/env bash
# gpu_check.sh — everything that needs a GPU, in one command: configure and
# build the CUDA tests, run them, run them again under compute-sanitizer, run
# the CUDA benchmarks, train the PixelRNN on both devices and compare their
# TEST NLL, then print a summary table. Exits non-zero if any step failed (or
# if no GPU is visible: a skip is not a pass here). Steps write their output
# to logs (the last lines are shown when one fails); the benchmark tables and
# the NLL comparison are printed.
#
#   scripts/gpu_check.sh [HEADERS_DIR]
#
# HEADERS_DIR (default: third_party_headers/ in the repository root) holds the
# Eigen, Catch2, nlohmann_json and stb headers and CMake files that a bare GPU
# machine lacks; make it on a machine that has them with
# scripts/pack_gpu_headers.sh and carry it along (it is git-ignored, so name it
# explicitly when copying the tree). Without it, the system's packages are used.
#
# Environment:
#   BUILD_DIR                    build folder (default: build-gpu/, git-ignored)
#   DEEPGEN_CUDA_ARCHITECTURES   default: native when CMake >= 3.24 and a GPU is
#                                visible, else 90 (H100/H200)
#   JOBS                         parallel build jobs (default: ninja's choice)
#   SANITIZER_TOOLS              compute-sanitizer tools to run (default: "memcheck
#                                racecheck"; also initcheck, synccheck)
#   STEPS                        what to run after the build (default: all of
#                                "tests sanitizer bench cli nll"). A machine
#                                that limits one command's time can take them
#                                in turns: the build folder is reused.
#   CMAKE_BUILD_TYPE             default: Release
#   BENCH_ARGS                   extra arguments for every benchmark binary
#                                (e.g. "--benchmark_repetitions=5")
#   POKEMON_DATA                 the lecture's data (pixel_color.txt, colormap.txt)
#                                for the NLL comparison (default: data/pokemon/,
#                                git-ignored; pack_gpu_headers.sh copies it there)
#   NLL_EPOCHS                   epochs of that comparison (default: 5)
set -uo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
headers=${1:-"$repo_root/third_party_headers"}
build_dir=${BUILD_DIR:-"$repo_root/build-gpu"}
build_type=${CMAKE_BUILD_TYPE:-Release}
sanitizer_tools=${SANITIZER_TOOLS:-memcheck racecheck}
steps_wanted=" ${STEPS:-tests sanitizer bench cli nll} "
want() { [[ $steps_wanted == *" $1 "* ]]; }
log_dir="$build_dir/gpu_check_logs"
mkdir -p "$log_dir"
export DEEPGEN_REQUIRE_GPU=1  # the CUDA tests fail instead of skipping without a device
[[ -d /usr/local/cuda/bin ]] && export PATH="$PATH:/usr/local/cuda/bin"

steps=() results=() seconds=()
failed=0

# record NAME RESULT SECONDS
record() {
  steps+=("$1") results+=("$2") seconds+=("$3")
  [[ $2 == FAIL* ]] && failed=1
  return 0
}

# step NAME CMD...: run CMD with its output in a log; record pass/fail and,
# on failure, show the log's last lines. show_step: the same, echoing the
# output live (for the steps whose output is the result).
step() { run_step 0 "$@"; }
show_step() { run_step 1 "$@"; }
run_step() {
  local show=$1 name=$2; shift 2
  local log="$log_dir/${name//[^A-Za-z0-9_.-]/_}.log"
  echo "==== $name"
  local start=$SECONDS rc
  if (( show )); then
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
  else
    "$@" >"$log" 2>&1
    rc=$?
  fi
  if (( rc == 0 )); then
    record "$name" "ok" $((SECONDS - start))
  else
    record "$name" "FAIL (exit $rc, log: $log)" $((SECONDS - start))
    (( show )) || tail -n 20 "$log"
  fi
  return "$rc"
}

skip() { record "$1" "skipped: $2" 0; }

summary() {
  echo
  echo "==== gpu_check summary"
  printf '%-34s %-8s %s\n' "step" "seconds" "result"
  printf '%-34s %-8s %s\n' "----" "-------" "------"
  local i
  for i in "${!steps[@]}"; do
    printf '%-34s %-8s %s\n' "${steps[$i]}" "${seconds[$i]}" "${results[$i]}"
  done
  if (( failed )); then echo "gpu_check: FAILED"; else echo "gpu_check: all steps passed"; fi
}

# ---- 1. the device ----------------------------------------------------------------
have_gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  have_gpu=1
  # compute_cap needs a recent driver; fall back to the plain list.
  show_step "gpu" bash -c 'nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total \
    --format=csv 2>/dev/null || nvidia-smi -L'
else
  echo "gpu_check: no GPU visible (nvidia-smi missing or lists none); build steps still run"
  record "gpu" "FAIL (no GPU visible to nvidia-smi)" 0
fi

# ---- 2. configure -------------------------------------------------------------------
prefix_args=()
if [[ -d "$headers" ]]; then
  headers=$(cd "$headers" && pwd)
  prefix_args=("-DCMAKE_PREFIX_PATH=$headers")
  echo "gpu_check: third-party headers and CMake packages from $headers"
else
  echo "gpu_check: $headers not found, relying on system packages (make it with" \
       "scripts/pack_gpu_headers.sh on a machine that has Eigen, Catch2 and nlohmann_json)"
fi

cmake_version=$(cmake --version | sed -n 's/^cmake version \([0-9]*\.[0-9]*\).*/\1/p')
arch=${DEEPGEN_CUDA_ARCHITECTURES:-}
if [[ -z "$arch" ]]; then
  if (( have_gpu )) && printf '%s\n3.24\n' "$cmake_version" | sort -V -C -r; then
    arch=native
  else
    arch=90
  fi
fi
generator_args=()
command -v ninja >/dev/null 2>&1 && generator_args=(-G Ninja)
# An existing cache with another generator cannot be reused.
if [[ -f "$build_dir/CMakeCache.txt" ]] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator_args[1]:-}" "$build_dir/CMakeCache.txt"; then
  rm -rf "$build_dir/CMakeCache.txt" "$build_dir/CMakeFiles"
fi

# The example programs (for the NLL comparison) need CLI11's header.
examples=OFF
if [[ -f "$headers/include/CLI/CLI.hpp" || -f /usr/include/CLI/CLI.hpp ]]; then examples=ON; fi

build_ok=0
if step "configure (arch $arch)" cmake -S "$repo_root" -B "$build_dir" "${generator_args[@]}" \
     "${prefix_args[@]}" -DCMAKE_BUILD_TYPE="$build_type" \
     -DDEEPGEN_CUDA=ON -DDEEPGEN_CUDA_ARCHITECTURES="$arch" \
     -DDEEPGEN_BUILD_TESTS=ON -DDEEPGEN_BUILD_BENCHMARKS=ON -DDEEPGEN_BUILD_EXAMPLES=$examples; then
  # Report where the packages came from, so a wrong (system) copy is visible.
  grep -E '^(Eigen3|Catch2|nlohmann_json|benchmark|CLI11)_DIR:' "$build_dir/CMakeCache.txt" || true

  # ---- 3. build: the CUDA tests first, the CUDA benchmarks separately ---------------
  jobs_args=()
  [[ -n "${JOBS:-}" ]] && jobs_args=(--parallel "$JOBS")
  if step "build deepgen_cuda_tests" cmake --build "$build_dir" --target deepgen_cuda_tests \
       "${jobs_args[@]}"; then
    build_ok=1
  fi
  mapfile -t bench_targets < <(cmake --build "$build_dir" --target help 2>/dev/null |
    sed -n 's/^\(\.\.\. \)\{0,1\}\(bench_[A-Za-z0-9_]*cuda[A-Za-z0-9_]*\)[: ].*$/\2/p; s/^\(\.\.\. \)\{0,1\}\(bench_[A-Za-z0-9_]*cuda[A-Za-z0-9_]*\)$/\2/p' |
    sort -u)
  if [[ $examples == ON ]]; then
    step "build the example programs" cmake --build "$build_dir" --target pixelrnn_pokemon vae_pokemon \
      "${jobs_args[@]}"
  fi
  if (( ${#bench_targets[@]} )); then
    step "build benchmarks" cmake --build "$build_dir" --target "${bench_targets[@]}" "${jobs_args[@]}"
  else
    skip "build benchmarks" "no bench_*cuda* target (Google Benchmark missing or none written)"
  fi
fi

# ---- 4. tests, sanitizer, benchmarks ------------------------------------------------
test_bin="$build_dir/tests/deepgen_cuda_tests"
if (( build_ok )) && [[ -x "$test_bin" ]]; then
  want tests && step "cuda tests" "$test_bin" --order rand --rng-seed time

  sanitizer=$(command -v compute-sanitizer || true)
  [[ -z "$sanitizer" && -x /usr/local/cuda/compute-sanitizer/compute-sanitizer ]] &&
    sanitizer=/usr/local/cuda/compute-sanitizer/compute-sanitizer
  want sanitizer || sanitizer_tools=""
  for tool in $sanitizer_tools; do
    if [[ -z "$sanitizer" ]]; then
      record "compute-sanitizer $tool" "FAIL (compute-sanitizer not found in PATH or /usr/local/cuda)" 0
      continue
    fi
    extra=()
    [[ $tool == memcheck ]] && extra=(--leak-check full)
    step "compute-sanitizer $tool" "$sanitizer" --tool "$tool" --error-exitcode 99 "${extra[@]}" \
      "$test_bin"
  done
else
  skip "cuda tests" "build failed"
  skip "compute-sanitizer" "build failed"
fi

ran_bench=0
want bench || ran_bench=1
want bench && while IFS= read -r -d '' bench; do
  ran_bench=1
  # shellcheck disable=SC2086  # BENCH_ARGS is a list of words
  show_step "$(basename "$bench")" "$bench" ${BENCH_ARGS:-}
done < <(find "$build_dir" -type f -perm -u+x -name 'bench_*cuda*' -not -path '*/CMakeFiles/*' -print0 2>/dev/null | sort -z)
(( ran_bench )) || skip "benchmarks" "no bench_*cuda* binary"

# ---- 5. the PixelRNN and VAE programs end to end, --device cuda included -------------------
for prog in pixelrnn vae; do
  want cli || break
  if [[ -x "$build_dir/examples/${prog}_pokemon" ]]; then
    step "${prog}_cli (--device cuda)" bash "$repo_root/tests/examples/${prog}_cli.sh" \
      "$build_dir/examples/${prog}_pokemon" "$build_dir/${prog}_cli"
  else
    skip "${prog}_cli (--device cuda)" "${prog}_pokemon not built (CLI11 missing)"
  fi
done

# ---- 6. the same training on both devices: TEST NLL within 0.01 -------------------------
# Statistical, not exact: the two devices round differently and training
# amplifies it (a one-ulp change to one weight moves the 5-epoch TEST NLL by
# about 0.002 on the CPU alone), so 0.01 leaves a margin of about 4x.
data_dir=${POKEMON_DATA:-"$repo_root/data/pokemon"}
nll_epochs=${NLL_EPOCHS:-5}
prnn="$build_dir/examples/pixelrnn_pokemon"
# nll_match: train the default recipe for nll_epochs epochs with one seed on
# each device; print both TEST NLLs and the seconds per epoch; fail if the
# NLLs differ by more than 0.01.
nll_match() {
  local dev out
  for dev in cpu cuda; do
    out="$build_dir/nll_match_$dev"
    rm -rf "$out"
    "$prnn" train --data "$data_dir" --out "$out" --epochs "$nll_epochs" --minutes 1000 --seed 1 --device "$dev" \
      >"$out.txt" 2>"$out.err" || { echo "train --device $dev failed:"; tail -n 5 "$out.err"; return 1; }
  done
  awk -v epochs="$nll_epochs" '
    FNR == 1 { dev = (NR == 1) ? "cpu" : "cuda" }
    /^epoch=/ { for (i = 1; i <= NF; ++i) { split($i, kv, "="); v[dev, kv[1]] = kv[2] } }
    END {
      c = v["cpu", "test_nll_nats_per_pixel"]; g = v["cuda", "test_nll_nats_per_pixel"]; d = c - g; if (d < 0) d = -d
      printf "TEST NLL after %d epochs: cpu %.4f, cuda %.4f, |difference| %.4f (limit 0.01)\n", epochs, c, g, d
      printf "seconds per epoch (with evaluation): cpu %.1f, cuda %.1f\n", 60 * v["cpu", "minutes"] / epochs,
             60 * v["cuda", "minutes"] / epochs
      exit !(c > 0 && g > 0 && d <= 0.01)
    }' "$build_dir/nll_match_cpu.txt" "$build_dir/nll_match_cuda.txt"
}
if ! want nll; then
  :
elif (( ! have_gpu )); then
  skip "nll match" "no GPU"
elif [[ ! -x "$prnn" ]]; then
  skip "nll match" "pixelrnn_pokemon not built (CLI11 missing: pack it with pack_gpu_headers.sh)"
elif [[ ! -f "$data_dir/pixel_color.txt" ]]; then
  skip "nll match" "no data at $data_dir (set POKEMON_DATA, or pack it with pack_gpu_headers.sh)"
else
  show_step "nll match ($nll_epochs epochs)" nll_match
fi

summary
exit "$failed"
