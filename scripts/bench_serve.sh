#!/usr/bin/env bash
# The workbench at national scale: starts `zaitaku serve` on the national benchmark study
# (scripts/bench_national.sh generates it), makes the edits a meeting makes (close a
# hospital, close a clinic, add a 24-hour clinic, close a flooded district, widen a role's
# reach, undo, redo) and prints each edit's wall time as curl saw it and the server's own
# measure, then the criticality and layer requests.
#
#   scripts/bench_serve.sh [DATA_DIR]    (default bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-bench-data}
cargo build --release --quiet --bin zaitaku
log=$(mktemp)
./target/release/zaitaku serve --quiet --municipalities "$data/municipalities.geojson" \
  --population "$data/population.csv" --institutions "$data/institutions.csv" --port 0 > "$log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT
start=$(date +%s.%N)
until grep -q http "$log"; do sleep 0.2; done
echo "ready in $(echo "$(date +%s.%N) - $start" | bc) s"
url=$(grep -o 'http://[^ ]*' "$log")
first=$(sed -n 1000p "$data/institutions.csv" | cut -d, -f1)
second=$(sed -n 50000p "$data/institutions.csv" | cut -d, -f1)
edit() {
  local what=$1 path=$2 body=$3
  local wall
  wall=$(curl -s -o /tmp/zaitaku-bench-serve.json -w '%{time_total}' -X POST "$url$path" -d "$body")
  printf '%-40s wall %6.3f s  server %s\n' "$what" "$wall" \
    "$(python3 -c "import json; d=json.load(open('/tmp/zaitaku-bench-serve.json')); print(round(d['seconds'], 3) if 'seconds' in d else d)")"
}
edit "close hospital $first" api/edit "{\"type\":\"close\",\"id\":\"$first\"}"
edit "close clinic $second" api/edit "{\"type\":\"close\",\"id\":\"$second\"}"
edit "add a 24-hour clinic" api/edit '{"type":"add","kind":"clinic","lat":35.68,"lon":139.70,"flags":["home_visits","on_call_24h"]}'
edit "close a flooded district" api/edit '{"type":"close_area","ring":[[139.60,35.60],[139.80,35.60],[139.80,35.75],[139.60,35.75],[139.60,35.60]]}'
edit "reach_km 20 for on_call_physician" api/edit '{"type":"rule","function":"acute","role":"on_call_physician","reach_km":20}'
edit "undo" api/undo '{}'
edit "undo" api/undo '{}'
edit "redo" api/redo '{}'
for path in api/criticality api/state api/institutions api/municipalities "api/gaps?function=daily"; do
  printf '%-40s wall %6.3f s, %s bytes\n' "GET $path" \
    "$(curl -s -o /tmp/zaitaku-bench-serve.json -w '%{time_total}' "$url$path")" "$(stat -c %s /tmp/zaitaku-bench-serve.json)"
done
ps -o rss= -p $pid | awk '{printf "server memory: %.0f MB\n", $1 / 1024}'
