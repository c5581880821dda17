#!/usr/bin/env bash
# End-to-end checks of examples/make_pokemon_dataset on the tiny image
# fixtures: a clean run writes the lecture's two files and the pictures, and
# bad input (empty folder, stray non-image, truncated PNG, K above the
# distinct colours, size 0) gives a clear error or a warning naming the file,
# never a crash (an invalid option value exits 1, naming the option). If the lecture's 40x40 sprites are present, the K=167 centre
# crop must reach mean_rgb_error <= 8.0, as printed by the program itself.
# Usage: make_dataset_cli.sh PATH/TO/make_pokemon_dataset FIXTURE_IMAGES_DIR LECTURE_DATA_DIR WORKDIR
set -uo pipefail
BIN=$1
FIXTURES=$2
LECTURE=$3
WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK"
source "$(dirname "$0")/lib.sh"

IMG=$WORK/images
mkdir -p "$IMG"
cp "$FIXTURES/rgba.png" "$IMG/1.png"
cp "$FIXTURES/two_frames.gif" "$IMG/2.gif"

run_case "clean run" 0 "loaded 2 images" "$BIN" --images "$IMG" --out "$WORK/out" --size 4 --colors 4 --min-count 0
if grep -qE '^images=2 skipped=0 size=4 crop=center K=4 mean_rgb_error=[0-9.]+$' "$WORK/stdout"; then
  pass "summary line"; else fail "summary line: $(cat "$WORK/stdout")"; fi
for f in pixel_color.txt colormap.txt contact_sheet.png palette.png; do
  [ -s "$WORK/out/$f" ] && pass "wrote $f" || fail "missing $WORK/out/$f"
done
if [ "$(wc -l <"$WORK/out/pixel_color.txt")" -eq 2 ] && [ "$(awk '{print NF}' "$WORK/out/pixel_color.txt" | sort -u)" = 16 ] &&
   [ "$(head -1 "$WORK/out/colormap.txt")" = "255 255 255" ]; then
  pass "lecture format: 2 lines of 16 indices, white first"; else fail "lecture format"; fi

mkdir -p "$WORK/empty"
run_case "empty folder" 1 "holds no PNG or GIF image (0 files)" "$BIN" --images "$WORK/empty" --out "$WORK/o"
run_case "missing folder" 1 "--images: Directory does not exist" "$BIN" --images "$WORK/nope" --out "$WORK/o"

echo "my sprites" >"$IMG/README.txt"
head -c 40 "$FIXTURES/rgba.png" >"$IMG/3.png"
run_case "stray non-image file: warning naming it" 0 "warning: skipped load_image: '$IMG/README.txt' is not a PNG or GIF image" \
  "$BIN" --images "$IMG" --out "$WORK/out2" --size 4
run_case "truncated PNG: warning naming it" 0 "cannot decode '$IMG/3.png' as png" \
  "$BIN" --images "$IMG" --out "$WORK/out2" --size 4
grep -q '^images=2 skipped=2 ' "$WORK/stdout" && pass "two files skipped" || fail "skipped count: $(cat "$WORK/stdout")"

run_case "K above the distinct colours" 0 "warning: --colors 167 is more than the" \
  "$BIN" --images "$IMG" --out "$WORK/out3" --size 4
run_case "unknown crop mode" 1 "--crop" "$BIN" --images "$IMG" --out "$WORK/o" --crop middle
# Every numeric option: negative, zero (where 0 means nothing), NaN, infinite and absurd values are refused with
# exit 1 and the option named, before any image is read: the earlier dataset stays byte-identical.
refuse_table "$WORK/out/pixel_color.txt" "$BIN" --images "$IMG" --out "$WORK/out" <<'EOF'
--size -1 0 nan inf 257 99999999999
--colors -1 0 nan inf 65537 99999999999
--min-count -1 nan inf 1.5 99999999999
--seed -1 nan inf 99999999999999999999999
EOF
refuse_values "$WORK/out/pixel_color.txt" --out "'' $WORK/out/pixel_color.txt" "$BIN" --images "$IMG"
refuse_values "$WORK/out/pixel_color.txt" --images "'' $WORK/nope" "$BIN" --out "$WORK/out"

# The previous dataset survives a failed run: out/ is written only after every image loaded.
before=$(md5sum <"$WORK/out/pixel_color.txt")
run_case "failed run leaves the earlier dataset" 1 "holds no PNG or GIF" "$BIN" --images "$WORK/empty" --out "$WORK/out"
[ "$(md5sum <"$WORK/out/pixel_color.txt")" = "$before" ] && pass "earlier pixel_color.txt unchanged" || fail "earlier dataset changed"

if [ -f "$LECTURE/images40/000.png" ]; then
  "$BIN" --images "$LECTURE/images40" --out "$WORK/lecture" --colors 167 --crop center --size 20 >"$WORK/stdout" 2>/dev/null
  err=$(sed -n 's/.*mean_rgb_error=\([0-9.]*\).*/\1/p' "$WORK/stdout")
  if [ -n "$err" ] && awk -v e="$err" 'BEGIN { exit !(e <= 8.0) }'; then
    pass "lecture sprites, K=167, center: mean_rgb_error=$err <= 8.0"; else fail "lecture sprites: mean_rgb_error='$err'"; fi
else
  echo "skip lecture sprites: not found at $LECTURE/images40"
fi

finish
