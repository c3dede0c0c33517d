#!/usr/bin/env bash
# Issue 26's payments goal: POST /v1/payments (frictionless, durable) and POST /v1/decisions
# on one `sca serve`, in turns, ROUNDS times DUR seconds each after 2 s of warm-up each, so
# that both see the same phases of a noisy machine. Prints each round's payments and
# decisions rate and p99, and the payments' share of the decisions rate.
#   Benchmarks/http/payments-vs-decisions.sh .build-release/release/sca [ROUNDS] [DUR]
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] && [ -x "$1" ] || { echo "usage: $0 BINARY [ROUNDS] [DUR]" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
rounds=${2:-6}
duration=${3:-5}
port=18611
work=$(mktemp -d /tmp/sca-pay-XXXXXX)
source Benchmarks/http/keys.sh
merchant=$(api_key "$1" "$work/p.sqlite" merchant)
decider=$(api_key "$1" "$work/p.sqlite" decider)
SCA_LOG_LEVEL=warning "$1" serve --db "$work/p.sqlite" --port $port >"$work/log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
BENCH_API_KEY=$merchant wrk -t2 -c64 -d2s -s Benchmarks/http/payments.lua "http://127.0.0.1:$port/" >/dev/null
BENCH_API_KEY=$decider wrk -t2 -c64 -d2s -s Benchmarks/http/decisions.lua "http://127.0.0.1:$port/v1/decisions" >/dev/null
for _ in $(seq 1 "$rounds"); do
  p=$(BENCH_API_KEY=$merchant wrk -t2 -c64 -d"${duration}s" --latency -s Benchmarks/http/payments.lua "http://127.0.0.1:$port/")
  d=$(BENCH_API_KEY=$decider wrk -t2 -c64 -d"${duration}s" --latency -s Benchmarks/http/decisions.lua "http://127.0.0.1:$port/v1/decisions")
  pay=$(awk '/Requests\/sec/ {print $2}' <<<"$p")
  dec=$(awk '/Requests\/sec/ {print $2}' <<<"$d")
  echo "payments $pay/s p99 $(awk '$1 == "99%" {print $2}' <<<"$p") $(grep -o 'non-201 answers: [0-9]*' <<<"$p" || true)" \
    "| decisions $dec/s p99 $(awk '$1 == "99%" {print $2}' <<<"$d")" \
    "| share $(awk -v p="$pay" -v d="$dec" 'BEGIN { printf "%.1f %%", 100 * p / d }')"
done
