#!/usr/bin/env bash
# The floor for `dib-pypi mirror index` (the issue's definition): the least work any indexer of
# this mirror does, done by plain tools in the same run.
#   (a) hash every distribution file with sha256sum, two processes in parallel;
#   (b) in a fresh empty directory on the same file system, recreate every file the index run
#       produced (pages, .metadata files, the manifest) with the same relative paths and sizes,
#       using plain `mkdir -p` and shell writes.
#
# usage: bench/index-floor.sh [--writer builtin|fork] [--keep] MIRROR_DIR PRODUCED_LIST
#   PRODUCED_LIST: one `relative/path SIZE` per line (what the index run added to MIRROR_DIR).
#   --writer builtin (default): one bash process writes each file with its builtin printf and a
#       redirection, so (b) costs what the file system costs (create, write, close);
#   --writer fork: `head -c SIZE /dev/zero > file`, a process per file, for comparison: it adds
#       the cost of a fork+exec per file, which no indexer pays;
#   --keep: leave the recreated tree (printed as scratch_dir=PATH) instead of removing it.
# Prints its parts as name=value lines; the last line is floor_seconds=N.NNN.
# Page cache: this script neither drops nor warms it; the caller does (bench/mirror-index.ts).
set -euo pipefail
export LC_ALL=C # byte-wise string lengths and substrings, and no locale lookups in the loop

writer=builtin
keep=no
while [ "$#" -gt 0 ]; do
  case "$1" in
    --writer) writer="${2:-}"; shift; [ "$#" -eq 0 ] || shift ;;
    --keep) keep=yes; shift ;;
    *) break ;;
  esac
done
case "$writer" in builtin | fork) ;; *) echo "index-floor: --writer: expected builtin or fork, got '$writer'" >&2; exit 2 ;; esac
if [ "$#" -ne 2 ]; then
  echo "usage: bench/index-floor.sh [--writer builtin|fork] [--keep] MIRROR_DIR PRODUCED_LIST" >&2
  exit 2
fi
mirror="${1%/}"
list="$2"
[ -d "$mirror" ] || { echo "index-floor: not a directory: $mirror" >&2; exit 2; }
[ -r "$list" ] || { echo "index-floor: cannot read the produced-files list: $list" >&2; exit 2; }

now_us() { local t="$EPOCHREALTIME"; echo "${t/./}"; }
seconds() { printf '%d.%03d' "$(($1 / 1000000))" "$((($1 % 1000000) / 1000))"; }

# --- preparation (not timed): parse the list, collect directories, make a padding string ---
mapfile -t lines <"$list"
paths=()
sizes=()
declare -A dir_set=()
total_bytes=0
for line in "${lines[@]}"; do
  [ -n "$line" ] || continue
  path="${line% *}"
  size="${line##* }"
  case "$size" in '' | *[!0-9]*) echo "index-floor: $list: bad line: $line" >&2; exit 2 ;; esac
  case "/$path/" in */../* | //*) echo "index-floor: $list: path outside the mirror: $path" >&2; exit 2 ;; esac
  paths+=("$path")
  sizes+=("$size")
  [ "$path" = "${path%/*}" ] || dir_set["${path%/*}"]=1
  total_bytes=$((total_bytes + size))
done
# bash copies a variable's whole value on every expansion (about 3 ns a byte), so files are cut
# from small pads: up to 256 bytes from a 256-byte pad, the rest in 4 KiB pieces.
pad4k=x
while ((${#pad4k} < 4096)); do pad4k="$pad4k$pad4k"; done
pad4k="${pad4k:0:4096}"
pad256="${pad4k:0:256}"

scratch="$(mktemp -d "$(dirname "$(realpath "$mirror")")/index-floor.XXXXXX")"
[ "$keep" = yes ] || trap 'rm -rf "$scratch"' EXIT

# Earlier writes (the index run, a previous floor's scratch tree being deleted) go to disk now, not
# while we measure.
sync

# --- (a) hash the distribution files: find + sha256sum, two processes ---
t0=$(now_us)
find "$mirror" -path "$mirror/.dib-pypi" -prune -o -type f \( -name '*.whl' -o -name '*.tar.gz' -o -name '*.zip' \) -print0 |
  xargs -0 -r -P2 -n 500 sha256sum >/dev/null
t1=$(now_us)

# --- (b) recreate the produced files: mkdir -p the layout, then write every file ---
if [ "${#dir_set[@]}" -gt 0 ]; then
  (cd "$scratch" && printf '%s\0' "${!dir_set[@]}" | xargs -0 mkdir -p)
fi
t2=$(now_us)
n=${#paths[@]}
if [ "$writer" = builtin ]; then
  for ((i = 0; i < n; i++)); do
    size=${sizes[i]}
    if ((size <= 256)); then
      printf '%s' "${pad256:0:size}" >"$scratch/${paths[i]}"
    elif ((size <= 4096)); then
      printf '%s' "${pad4k:0:size}" >"$scratch/${paths[i]}"
    else
      {
        for ((k = size / 4096; k > 0; k--)); do printf '%s' "$pad4k"; done
        printf '%s' "${pad4k:0:size % 4096}"
      } >"$scratch/${paths[i]}"
    fi
  done
else
  for ((i = 0; i < n; i++)); do head -c "${sizes[i]}" /dev/zero >"$scratch/${paths[i]}"; done
fi
t3=$(now_us)

echo "files_hashed=$(find "$mirror" -path "$mirror/.dib-pypi" -prune -o -type f \( -name '*.whl' -o -name '*.tar.gz' -o -name '*.zip' \) -print | wc -l)"
echo "files_written=$n dirs_made=${#dir_set[@]} bytes_written=$total_bytes writer=$writer"
echo "hash_seconds=$(seconds $((t1 - t0)))"
echo "mkdir_seconds=$(seconds $((t2 - t1)))"
echo "write_seconds=$(seconds $((t3 - t2)))"
[ "$keep" = no ] || echo "scratch_dir=$scratch"
echo "floor_seconds=$(seconds $((t3 - t0)))"
