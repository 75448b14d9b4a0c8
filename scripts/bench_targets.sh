#!/usr/bin/env bash
# The speed targets of the national benchmark, checked against the build they were set on.
#
#   scripts/bench_targets.sh OLD_BINARY NEW_BINARY [PAIRS] [COMMANDS]
#
# The targets (BENCHMARKS.md, "Toward 3 s") were set as wall times on one day's machine,
# with the build of that day (commit 7a329d5) taking the "now" figures below. This
# machine's speed moves by up to two times between hours, so a wall time alone says little
# about a target: the two builds run back to back instead (scripts/bench_pair.sh, outputs
# not compared), and each pair's ratio new / old, times the "now" figure, is the new build's
# time at the speed the targets were set at. Build OLD_BINARY from that commit (for example
# `git worktree add ../zaitaku-7a329d5 7a329d5`, then `cargo build --release` there).
#
# COMMANDS (default "coverage access catchments report") are run in that order, PAIRS
# pairs each (default 3). catchments runs with the 334 synthetic regions; the report runs
# without them, as its "now" figure was measured (REPORT_REGIONS=1 adds them). Prints, per
# command, every pair's walls and ratio, then the mean ratio, the time at the targets'
# speed against the target, and the new build's largest peak memory against its target.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: scripts/bench_targets.sh OLD NEW [PAIRS] [COMMANDS]}
new=${2:?usage: scripts/bench_targets.sh OLD NEW [PAIRS] [COMMANDS]}
pairs=${3:-3}
commands=${4:-coverage access catchments report}

# Per command: "now" (seconds, the middle of the range that build took when the targets were
# set), the target (seconds) and the memory target (MB; 0: none).
declare -A now=([coverage]=5.45 [access]=19.5 [catchments]=15.5 [report]=28)
declare -A target=([coverage]=3 [access]=6 [catchments]=5 [report]=15)
declare -A memory=([coverage]=1024 [access]=0 [catchments]=0 [report]=2048)

for command in $commands; do
  [ -n "${now[$command]:-}" ] || { echo "no target for $command" >&2; exit 1; }
  regions=1
  if [ "$command" = report ] && [ "${REPORT_REGIONS:-0}" != 1 ]; then
    regions=0
  fi
  log=$(REGIONS=$regions CHECK=0 scripts/bench_pair.sh "$old" "$new" "$command" "$pairs")
  echo "== $command"
  # bench_pair.sh prints "old <wall> s <peak> MB | ..." and "new ..." alternately.
  awk -v now="${now[$command]}" -v target="${target[$command]}" -v memory="${memory[$command]}" '
    $1 == "old" { o = $2 }
    $1 == "new" {
      r = $2 / o; n++; sum += r; if ($4 > peak) peak = $4
      printf "pair %d: old %.2f s, new %.2f s, %.0f MB: new / old %.3f\n", n, o, $2, $4, r
    }
    END {
      if (n == 0) { print "no runs"; exit 1 }
      mean = sum / n
      printf "mean new / old %.3f: %.2f s at the targets'\'' speed (%.2f x %s s) against %s s: %s\n", \
        mean, mean * now, mean, now, target, (mean * now <= target ? "met" : "not met")
      if (memory > 0)
        printf "peak memory %.0f MB against %d MB: %s\n", peak, memory, (peak <= memory ? "met" : "not met")
    }' <<< "$log"
done
