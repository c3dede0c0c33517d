#!/usr/bin/env bash
# Where a request's CPU goes: runs `sca serve` (SQLite, group commit) on a fresh store, loads
# it with wrk for a warm-up of 3 s and then DURATION seconds, and prints the server's CPU
# per request by thread name (from /proc/PID/task/*/stat; 1 tick = 10 ms), bounded by wrk's -d.
#   Benchmarks/http/cpu.sh [PATH SCRIPT]        # default: /v1/decisions decisions.lua
#   SCA_TEST_BIN=/tmp/sca-old Benchmarks/http/cpu.sh # another build, for an A/B
# Thread names: NIO-ELT-1-#1 is the SQLite writer, NIO-SGLTN-* the HTTP event loops (which
# also answer /v1/decisions), and *default-qos the Swift concurrency threads the router's
# handlers run on.
set -euo pipefail
cd "$(dirname "$0")/../.."
path=${1:-/v1/decisions}
script=${2:-decisions.lua}
duration=${DURATION:-8}
source Benchmarks/http/one-server.sh
port=18485
serve_fresh cpu $port

ticks_by_thread() {
  for task in /proc/$server/task/*; do
    echo "$(cat "$task/comm" | tr ' ' '_') $(awk '{print $14 + $15}' "$task/stat" 2>/dev/null || echo 0)"
  done | awk '{sum[$1] += $2} END {for (name in sum) print name, sum[name]}' | sort
}
wrk -t2 -c64 -d3s --timeout 10s -s "Benchmarks/http/$script" "http://127.0.0.1:$port$path" >/dev/null
ticks_by_thread >"$work/before"
summary=$(wrk -t2 -c64 -d"${duration}s" --timeout 10s -s "Benchmarks/http/$script" "http://127.0.0.1:$port$path" | grep '^SUMMARY')
ticks_by_thread >"$work/after"
requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$summary")
echo "$path ${summary#SUMMARY }"
join "$work/before" "$work/after" | awk -v n="$requests" '
  { ticks = $3 - $2; total += ticks; if (ticks > 0) printf "  %-20s %6.1f us/request\n", $1, ticks * 10000 / n }
  END { printf "  %-20s %6.1f us/request\n", "all threads", total * 10000 / n }'
