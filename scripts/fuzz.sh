#!/usr/bin/env bash
# Fuzz every parser of outside data with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer (docs/reliability.md).
#
#   scripts/fuzz.sh [TARGET...]          all targets when none is named
#
# Environment:
#   FUZZ_SECONDS  time per target (default 60)
#   FUZZ_RUNS     executions per target; with FUZZ_SECONDS also set, a target
#                 stops at whichever comes first (FUZZ_RUNS=1000000
#                 FUZZ_SECONDS=1800: 10^6 executions or 30 minutes)
#   FUZZ_JOBS     targets run side by side (default 1); each libFuzzer run
#                 is one process on one core
#   FUZZ_WORK     work folder (default build-fuzz-libfuzzer): binaries, the
#                 growing corpus (seeded from tests/fuzz/corpus/<target>),
#                 logs, and crashes/<target>/ with every input that failed
#   CLANGXX       clang++ with libFuzzer (default clang++-16; Debian:
#                 apt-get install clang-16 libclang-rt-16-dev)
#
# Each target is built with -fsanitize=fuzzer,address,undefined
# -fno-sanitize-recover=all, run on its committed seeds and dictionary, then a
# table gives per target: executions, coverage (libFuzzer's final cov and ft),
# and crashes (crash, leak, timeout and out-of-memory files). Any crash makes
# the script exit 1. A fixed crash belongs in tests/fuzz/regressions/<target>/,
# which the ordinary test suite replays (CTest fuzz_replay_<target>).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGETS=(safetensors safetensors_model pixel_color colormap vocabulary corpus image csv_log)
if [ $# -gt 0 ]; then TARGETS=("$@"); fi
CLANGXX=${CLANGXX:-clang++-16}
WORK=${FUZZ_WORK:-$ROOT/build-fuzz-libfuzzer}
RUNS=${FUZZ_RUNS:-}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-}
if [ -z "$RUNS" ] && [ -z "$SECONDS_PER_TARGET" ]; then SECONDS_PER_TARGET=60; fi
command -v "$CLANGXX" >/dev/null || {
  echo "fuzz.sh: $CLANGXX not found; on Debian: apt-get install clang-16 libclang-rt-16-dev" >&2
  exit 2
}
mkdir -p "$WORK/bin"

dict_of() {
  case $1 in
    safetensors|safetensors_model) echo "$ROOT/tests/fuzz/dict/safetensors.dict" ;;
    image) echo "$ROOT/tests/fuzz/dict/image.dict" ;;
    *) echo "$ROOT/tests/fuzz/dict/text.dict" ;;
  esac
}
# Inputs up to 64 KiB (images: 256 KiB, so that real sprites fit); a single
# allocation above 512 MiB is reported as a bug (an image's decoded buffers
# may approach that; no text or checkpoint input of this size should).
max_len_of() { case $1 in image) echo 262144 ;; *) echo 65536 ;; esac; }

for t in "${TARGETS[@]}"; do
  [ -f "tests/fuzz/$t.cpp" ] || { echo "fuzz.sh: no target tests/fuzz/$t.cpp" >&2; exit 2; }
  if [ ! -x "$WORK/bin/fuzz_$t" ] || [ -n "$(find include tests/fuzz -newer "$WORK/bin/fuzz_$t" -name '*.[ch]pp' | head -1)" ]; then
    echo "fuzz.sh: building fuzz_$t"
    "$CLANGXX" -std=c++17 -O1 -g -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      -Iinclude -isystem /usr/include/eigen3 "tests/fuzz/$t.cpp" -o "$WORK/bin/fuzz_$t"
  fi
done

# One target: fuzz it, then write its table row to $WORK/rows/<target>.
fuzz_target() {
  local t=$1
  local corpus="$WORK/corpus/$t" crashes="$WORK/crashes/$t" log="$WORK/$t.log"
  mkdir -p "$corpus" "$crashes"
  cp -n "tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
  local budget=()
  if [ -n "$SECONDS_PER_TARGET" ]; then budget+=(-max_total_time="$SECONDS_PER_TARGET"); fi
  if [ -n "$RUNS" ]; then budget+=(-runs="$RUNS"); fi
  echo "fuzz.sh: running fuzz_$t (${budget[*]}), log $log"
  local start rc
  start=$(date +%s)
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$WORK/bin/fuzz_$t" "${budget[@]}" -dict="$(dict_of "$t")" -max_len="$(max_len_of "$t")" \
    -timeout=10 -rss_limit_mb=2560 -malloc_limit_mb=512 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$corpus" > "$log" 2>&1
  rc=$?
  set -e
  local seconds execs last cov ft found
  seconds=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  found=$(find "$crashes" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  if [ "$rc" -ne 0 ] && [ "$found" -eq 0 ]; then found="rc=$rc"; fi
  printf '%-18s %12s %8s %8s %8s %8s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$found" "$seconds" > "$WORK/rows/$t"
}

rm -rf "$WORK/rows" && mkdir -p "$WORK/rows"
JOBS=${FUZZ_JOBS:-1}
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  fuzz_target "$t" &
done
wait
table="$WORK/table.txt"
status=0
{
  printf '%-18s %12s %8s %8s %8s %8s\n' target executions cov ft crashes seconds
  for t in "${TARGETS[@]}"; do
    if [ -f "$WORK/rows/$t" ]; then cat "$WORK/rows/$t"; else printf '%-18s did not finish\n' "$t"; fi
  done
} > "$table"
for t in "${TARGETS[@]}"; do
  [ "$(awk '{print $5}' "$WORK/rows/$t" 2>/dev/null)" = 0 ] || status=1
done
echo
cat "$table"
if [ $status -ne 0 ]; then
  echo "fuzz.sh: crashes found; inputs under $WORK/crashes/<target>/, logs $WORK/<target>.log" >&2
fi
exit $status
