#!/usr/bin/env bash
# National-scale benchmark of `zaitaku coverage` (straight-line reach, built-in rules).
#
#   scripts/bench_national.sh DATA_DIR [REPEATS] [COMMAND]
#
# COMMAND is coverage (default), access (2SFCA and E2SFCA for every role; wall time, peak
# memory and the printed stage times: read, reach, access, writing), capacity (need served under capacities for every role, with
# AccessMod's fill too when ORDER=capacity or ORDER=id; wall time, peak memory and the
# printed stage times), catchments (with the synthetic regions of
# scripts/make_national_regions.py; wall time, peak memory and the printed stage times) or
# report (coverage, catchments with the regions, GeoPackage, maps and page; wall time, peak
# memory, the presentation's stage times and the sizes of what it wrote).
#
# DATA_DIR holds japan/municipality_points.csv and japan/prefectures.geojson (the project's
# shared real data). The synthetic national study (about 1,900 municipalities with boundary
# detail, 200,000+ populated 1 km cells, 300,000+ institutions) is generated into
# bench-data/ on first use. With BOUNDARIES=real the municipalities are the real national
# boundaries of 2021 (DATA_DIR/japan/n03_2021/N03-21_210101_national_s0001.json, 1,909
# units, simplified) with synthetic population and institutions generated on them, in
# bench-real/. With POPULATION=estat the population is read from e-Stat census files
# (2020, 1 km, 150 files with secrecy groups; scripts/make_national_estat.py) made from the
# same cells. With NETWORK=F.graph every run measures reach by road on that graph (for
# example bench-data/roads.graph from scripts/bench_network.sh). Each repeat runs --threads 1 and --threads 2 back to back, so
# the ratio between them is measured under the same machine load; the script prints wall
# time, peak memory and the per-stage split from timings.json for every run.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: scripts/bench_national.sh DATA_DIR [REPEATS]}
repeats=${2:-3}
command=${3:-coverage}

cargo build --release --quiet --bin zaitaku --example synth
bench=bench-data
n03=()
if [ "${BOUNDARIES:-synthetic}" = real ]; then
  bench=bench-real
  n03=(--n03 "$data/japan/n03_2021/N03-21_210101_national_s0001.json")
fi
if [ ! -f $bench/municipalities.geojson ]; then
  ./target/release/examples/synth national --data "$data" "${n03[@]}" --out $bench
fi
if [ "$command" != coverage ] && [ "$command" != access ] && [ ! -f $bench/regions.csv ]; then
  python3 scripts/make_national_regions.py $bench/municipalities.geojson $bench/regions.csv
fi
population=("--population" "$bench/population.csv")
if [ "${POPULATION:-simple}" = estat ]; then
  if [ ! -d $bench/estat ]; then
    python3 scripts/make_national_estat.py $bench/population.csv $bench/estat
  fi
  population=()
  for f in $bench/estat/*.txt; do population+=(--population "$f"); done
fi
extra=()
if [ "$command" = catchments ] || [ "$command" = report ]; then
  extra=(--regions $bench/regions.csv)
fi
if [ "$command" = capacity ] && [ -n "${ORDER:-}" ]; then
  extra=(--order "$ORDER")
fi
if [ -n "${NETWORK:-}" ]; then
  extra+=(--network "$NETWORK")
fi
ls -l $bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

printf '%-4s %-7s %8s %9s %7s %7s %7s %7s\n' rep threads wall_s peak_MB read_s reach_s cover_s write_s
for rep in $(seq 1 "$repeats"); do
  for threads in 1 2; do
    /usr/bin/time -f '%e %M' -o "$out/time" ./target/release/zaitaku "$command" --quiet --threads "$threads" \
      --municipalities $bench/municipalities.geojson \
      "${population[@]}" \
      --institutions $bench/institutions.csv \
      "${extra[@]}" --out "$out/run" > "$out/stdout"
    read -r wall rss < "$out/time"
    if [ "$command" = report ]; then
      printf '%-4s %-7s %8.2f %9.0f  %s | %s\n' "$rep" "$threads" "$wall" "$((rss / 1024))" \
        "$(grep '^time:' "$out/stdout")" "$(grep '^report time:' "$out/stdout")"
      du -b "$out/run/zaitaku.gpkg" "$out/run/report.html" "$out/run/maps" "$out/run/coverage.geojson" | sed 's|'"$out"'/run/||'
      continue
    fi
    if [ "$command" = capacity ] || [ "$command" = access ]; then
      printf '%-4s %-7s %8.2f %9.0f  %s\n' "$rep" "$threads" "$wall" "$((rss / 1024))" "$(grep '^time:' "$out/stdout")"
      continue
    fi
    if [ "$command" = catchments ]; then
      printf '%-4s %-7s %8.2f %9.0f  %s | %s\n' "$rep" "$threads" "$wall" "$((rss / 1024))" \
        "$(grep -o '[0-9]* catchments proposed' "$out/stdout")" "$(grep '^time:' "$out/stdout")"
      continue
    fi
    if [ "$command" != coverage ]; then
      printf '%-4s %-7s %8.2f %9.0f\n' "$rep" "$threads" "$wall" "$((rss / 1024))"
      continue
    fi
    python3 - "$out/run/timings.json" "$rep" "$threads" "$wall" "$rss" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
rep, threads, wall, rss = sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
print(f"{rep:<4} {threads:<7} {wall:8.2f} {rss/1024:9.0f} {t['read_s']:7.2f} {t['reach_s']:7.2f} {t['coverage_s']:7.2f} {t['write_s']:7.2f}")
PY
  done
done
