#!/usr/bin/env bash
# A paired A/B of two builds of `sca serve`: both run at once (each on a fresh SQLite store),
# and wrk loads them in turn, ROUNDS times DUR seconds each, after 2 s of warm-up each, so
# that both see the same phases of a noisy machine. Prints each short run's rate, then for
# each build its rate and the server's CPU a request (from /proc/PID/stat, 1 tick = 10 ms,
# over its own runs only; the idle one uses next to nothing).
#   Benchmarks/http/ab.sh OLD_BINARY NEW_BINARY           # POST /v1/decisions
#   ROUNDS=8 SCRIPT=health.lua URLP=/health Benchmarks/http/ab.sh A B
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] && [ -x "$1" ] && [ -x "$2" ] || { echo "usage: $0 BINARY_A BINARY_B" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
rounds=${ROUNDS:-6}
duration=${DUR:-3}
script=${SCRIPT:-decisions.lua}
path=${URLP:-/v1/decisions}
work=$(mktemp -d /tmp/sca-ab-XXXXXX)
source Benchmarks/http/keys.sh
# Each side's decider key, sent to both: a build that takes no key ignores it.
declare -A key=([a]=$(api_key "$1" "$work/a.sqlite" decider) [b]=$(api_key "$2" "$work/b.sqlite" decider))
SCA_LOG_LEVEL=warning "$1" serve --db "$work/a.sqlite" --port 18501 >"$work/a.log" 2>&1 &
server_a=$!
SCA_LOG_LEVEL=warning "$2" serve --db "$work/b.sqlite" --port 18502 >"$work/b.log" 2>&1 &
server_b=$!
trap 'kill -TERM $server_a $server_b 2>/dev/null; wait $server_a $server_b 2>/dev/null; rm -rf "$work"' EXIT
for side in a b; do
  port=$([ $side = a ] && echo 18501 || echo 18502)
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  BENCH_API_KEY=${key[$side]} wrk -t2 -c64 -d2s --timeout 10s -s "Benchmarks/http/$script" "http://127.0.0.1:$port$path" >/dev/null
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A requests=([a]=0 [b]=0) cpu=([a]=0 [b]=0)
for _ in $(seq 1 "$rounds"); do
  for side in a b; do
    if [ $side = a ]; then pid=$server_a port=18501; else pid=$server_b port=18502; fi
    before=$(ticks $pid)
    line=$(BENCH_API_KEY=${key[$side]} wrk -t2 -c64 -d"${duration}s" --timeout 10s -s "Benchmarks/http/$script" "http://127.0.0.1:$port$path" | grep '^SUMMARY')
    after=$(ticks $pid)
    requests[$side]=$((requests[$side] + $(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")))
    cpu[$side]=$((cpu[$side] + after - before))
    echo -n "$side:$(sed 's/.* rps=\([0-9]*\).*/\1/' <<<"$line") "
  done
done
echo
for side in a b; do
  awk -v n="${requests[$side]}" -v t="${cpu[$side]}" -v s="$side" -v d="$duration" -v r="$rounds" \
    'BEGIN { printf "%s: %.0f requests/s, %.1f us of server CPU a request\n", s, n / (d * r), t * 10000 / n }'
done
