# lib.sh — helpers the end-to-end CLI checks share; sourced, not run.
#   pass NAME / fail NAME     one result line; fail counts
#   expect_error NAME SUBSTRING CMD...   exit status 1 and SUBSTRING on stderr
#   expect_error_keeps FILE NAME SUBSTRING CMD...
#                             expect_error, and FILE (a checkpoint) byte-identical after it
#   run_case NAME RC SUBSTRING CMD...    exit status RC and SUBSTRING on stderr;
#                             its stdout is left in $WORK/stdout
#   refuse_values FILE OPTION "V1 V2 …" CMD...
#                             for each V: CMD OPTION V exits 1 within 60 s, names
#                             OPTION on stderr, and leaves FILE (an earlier checkpoint
#                             or PNG at the output path; "" for none) byte-identical
#   refuse_table FILE CMD... <<< "OPTION V1 V2 …" lines
#                             refuse_values for every line of a table on stdin
#   make_data DIR ROWS SIDE   a K=6 palette dataset of ROWS noisy striped images
#   png_size FILE             "WIDTHxHEIGHT" from a PNG's IHDR chunk
#   epochs_in FILE            the 'epoch=' lines in FILE so far (0 before it exists)
#   kill_after_first_epoch LOG CMD...
#                             run CMD (a training run) in the background, stdout to
#                             LOG, kill -9 it as soon as LOG shows an epoch, and print
#                             how many epochs it had reported by then
#   resumed_epochs ERR        the whole epochs a resumed run's checkpoint held, from
#                             its "resuming … at epoch N, batch 1" line in ERR (its
#                             stderr): one more than the killed run printed when
#                             the kill fell between a save and its epoch line
#   epochs_after_match STRAIGHT RESUMED N
#                             RESUMED's 'epoch=' lines equal STRAIGHT's after its
#                             first N (the minutes aside): a resumed run repeats an
#                             uninterrupted one
#   cuda_mode CMD...          run CMD (a command given --device cuda) and print
#                             "works", "refused" (no GPU, or a build without
#                             CUDA: the '--device cuda:' error), or "broken: …"
#                             (a GPU is visible and CUDA built, yet it failed)
#   finish                    print the count; the script's exit status
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

run_case() {
  local name=$1 want_rc=$2 want=$3
  shift 3
  local err rc
  err=$("$@" 2>&1 >"$WORK/stdout")
  rc=$?
  if [ $rc -eq "$want_rc" ] && grep -qF -- "$want" <<<"$err"; then pass "$name"; else
    fail "$name: exit $rc (wanted $want_rc), wanted '$want' in: $err"; fi
}

expect_error() {
  local name=$1 want=$2
  shift 2
  run_case "$name" 1 "$want" "$@"
}

expect_error_keeps() {
  local file=$1 name=$2
  shift 2
  cp "$file" "$WORK/kept.before"
  expect_error "$name" "$@"
  if cmp -s "$file" "$WORK/kept.before"; then pass "$name: $(basename "$file") untouched"; else
    fail "$name: $(basename "$file") changed"; fi
}

refuse_values() {
  local file=$1 opt=$2 values=$3 v
  shift 3
  for v in $values; do
    [ "$v" = "''" ] && v=""  # '' in a table: the empty string
    if [ -n "$file" ]; then
      expect_error_keeps "$file" "$opt '$v' refused" "$opt" timeout 60 "$@" "$opt" "$v"
    else
      expect_error "$opt '$v' refused" "$opt" timeout 60 "$@" "$opt" "$v"
    fi
  done
}

refuse_table() {
  local file=$1 opt values
  shift
  local rows
  rows=$(cat)
  while read -r opt values; do
    [ -z "$opt" ] && continue
    refuse_values "$file" "$opt" "$values" "$@" </dev/null
  done <<<"$rows"
}

make_data() {
  mkdir -p "$1"
  printf '255 255 255\n0 0 0\n200 30 30\n30 200 30\n30 30 200\n120 120 120' >"$1/colormap.txt"
  awk -v rows="$2" -v side="$3" 'BEGIN { srand(7); for (r = 0; r < rows; r++) { line = "";
      for (p = 0; p < side * side; p++) { v = (int(p % side / 2) + r) % 6; if (rand() < 0.1) v = int(rand() * 6);
        line = line (p ? " " : "") v } print line } }' >"$1/pixel_color.txt"
}

cuda_mode() {
  local err
  if err=$("$@" 2>&1 >/dev/null); then echo works; return; fi
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU' &&
     ! grep -qF "this build has no CUDA" <<<"$err"; then
    echo "broken: $err"
  else
    echo refused
  fi
}

finish() {
  echo "$failures failure(s)"
  [ "$failures" -eq 0 ]
}

png_size() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }

epochs_in() { cat "$1" 2>/dev/null | grep -c '^epoch='; }

kill_after_first_epoch() {
  local log=$1 pid
  shift
  "$@" >"$log" 2>/dev/null &
  pid=$!
  while [ "$(epochs_in "$log")" -lt 1 ] && kill -0 $pid 2>/dev/null; do sleep 0.01; done
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  epochs_in "$log"
}

resumed_epochs() { sed -n 's/^resuming .* at epoch \([0-9]*\), batch 1$/\1/p' "$1" | awk '{print $1 - 1}'; }

epochs_after_match() {
  diff <(grep '^epoch=' "$1" | tail -n +$(($3 + 1)) | sed -E 's/ minutes=[0-9.]+//') \
       <(grep '^epoch=' "$2" | sed -E 's/ minutes=[0-9.]+//') >/dev/null
}
