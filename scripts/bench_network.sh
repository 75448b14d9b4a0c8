#!/usr/bin/env bash
# Road-network benchmarks: graph building on the Helsinki extract, the synthetic national
# network (scripts/roads.rs: about 3.6 million nodes and 14 million directed edges over the
# benchmark's populated 1 km cells, with its contraction hierarchy), loading, Dijkstra and
# the hierarchy's sweeps on one core, and a national
# coverage run with the network against the straight-line run, back to back.
#
#   scripts/bench_network.sh DATA_DIR
#
# DATA_DIR as for scripts/bench_national.sh (the national study is generated on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: scripts/bench_network.sh DATA_DIR}
cargo build --release --quiet --bin zaitaku --example synth --example roads
if [ ! -f bench-data/municipalities.geojson ]; then
  ./target/release/examples/synth national --data "$data" --out bench-data
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== Helsinki extract (fixtures/osm/helsinki.osm.pbf)"
/usr/bin/time -f 'build %e s, %M KB' ./target/release/zaitaku --quiet network build \
  --pbf fixtures/osm/helsinki.osm.pbf --out "$out/helsinki.graph" > "$out/build.txt"
sed -n 1,2p "$out/build.txt"
ls -l "$out/helsinki.graph" | awk '{print "file", $5, "bytes"}'
./target/release/examples/roads bench --graph "$out/helsinki.graph" --sources 100 > "$out/bench.txt"
sed -n 1,2p "$out/bench.txt"

echo "== synthetic national network"
/usr/bin/time -f 'synth %e s, %M KB' ./target/release/examples/roads synth \
  --population bench-data/population.csv --out bench-data/roads.graph
ls -l bench-data/roads.graph | awk '{print "file", $5, "bytes"}'
./target/release/examples/roads bench --graph bench-data/roads.graph --sources 20000

echo "== national coverage, straight-line then travel time (2 threads)"
for mode in straight road; do
  net=()
  if [ "$mode" = road ]; then net=(--network bench-data/roads.graph); fi
  /usr/bin/time -f "$mode: %e s wall, %M KB" -o "$out/$mode.time" ./target/release/zaitaku coverage --quiet \
    --municipalities bench-data/municipalities.geojson --population bench-data/population.csv \
    --institutions bench-data/institutions.csv "${net[@]}" --out "$out/$mode" > /dev/null
  python3 -c "import json,sys; t=json.load(open(sys.argv[1])); print('  reach', round(t['reach_s'], 2), 's')" \
    "$out/$mode/timings.json"
  cat "$out/$mode.time"
done
awk '{print $2}' "$out/straight.time" "$out/road.time" | paste -sd' ' | awk '{printf "road / straight: %.2f\n", $2 / $1}'

