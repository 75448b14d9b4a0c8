#!/usr/bin/env bash
# Two builds of zaitaku against each other on the national benchmark data, alternating, so
# that both meet the same machine load; then their outputs compared byte for byte.
#
#   scripts/bench_pair.sh OLD_BINARY NEW_BINARY COMMAND [PAIRS]
#
# COMMAND is coverage, access, catchments, capacity or report (catchments and report take
# the synthetic regions, unless REGIONS=0). Each run prints its wall time, peak memory and
# the stage times it prints itself (and timings.json where the command writes one). The
# data is that of scripts/bench_national.sh (bench-data/, made there on first use). Outputs
# go to a temporary folder (OUT_ROOT, /dev/shm where it exists, so that the disk does not
# time the runs); every file of the last pair but timings.json must be the same, or the
# script fails.
# ARGS adds options to both runs. CHECK=0 leaves the outputs uncompared: for a build from
# before a change of outputs, such as the commit a speed target was set against.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: scripts/bench_pair.sh OLD NEW COMMAND [PAIRS]}
new=${2:?usage: scripts/bench_pair.sh OLD NEW COMMAND [PAIRS]}
command=${3:?usage: scripts/bench_pair.sh OLD NEW COMMAND [PAIRS]}
pairs=${4:-2}
bench=bench-data
[ -f $bench/municipalities.geojson ] || { echo "no $bench: run scripts/bench_national.sh first" >&2; exit 1; }
root=${OUT_ROOT:-$([ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
out=$(mktemp -d "$root/zaitaku-pair.XXXXXX")
trap 'rm -rf "$out"' EXIT
extra=()
if { [ "$command" = catchments ] || [ "$command" = report ]; } && [ "${REGIONS:-1}" != 0 ]; then
  extra=(--regions $bench/regions.csv)
fi
# More options for both runs, e.g. ARGS="--order capacity" for capacity.
read -r -a more <<< "${ARGS:-}"
extra+=("${more[@]}")
run() {
  local bin=$1 dir=$2
  rm -rf "$dir"
  /usr/bin/time -f '%e %M' -o "$out/time" "$bin" "$command" --quiet --threads 2 \
    --municipalities $bench/municipalities.geojson --population $bench/population.csv \
    --institutions $bench/institutions.csv "${extra[@]}" --out "$dir" > "$out/stdout"
  read -r wall rss < "$out/time"
  printf '%-4s %7.2f s %6.0f MB | %s' "$3" "$wall" "$((rss / 1024))" "$(grep 'time:' "$out/stdout" | tr '\n' ' ')"
  if [ -f "$dir/timings.json" ]; then tr -d '\n ' < "$dir/timings.json"; fi
  echo
}
for pair in $(seq 1 "$pairs"); do
  run "$old" "$out/old" old
  run "$new" "$out/new" new
done
if [ "${CHECK:-1}" = 0 ]; then
  echo "outputs not compared (CHECK=0)"
  exit 0
fi
status=0
if ! diff <(cd "$out/old" && find . -type f | sort) <(cd "$out/new" && find . -type f | sort); then
  echo "the two builds wrote different files"
  status=1
fi
while IFS= read -r f; do
  [ "$(basename "$f")" = timings.json ] && continue
  [ -f "$out/new/$f" ] || continue
  cmp -s "$out/old/$f" "$out/new/$f" || { echo "differs: $f"; status=1; }
done < <(cd "$out/old" && find . -type f | sort)
[ $status -eq 0 ] && echo "outputs identical"
exit $status
