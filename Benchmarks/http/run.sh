#!/usr/bin/env bash
# HTTP benchmarks against the release build on 127.0.0.1, each bounded by wrk's -d.
#   Benchmarks/http/run.sh [DURATION_SECONDS] [CONNECTIONS]
# Measures, in one run: GET /health; POST /v1/decisions on SQLite with group commit; the
# same with one transaction per request (storage.batch_max = 1, the baseline); and
# POST /v1/decisions on a throwaway PostgreSQL cluster (when initdb is available).
# The first three are what issue 3's ratios compare, and this machine's speed drifts by
# tens of percent from one minute to the next, so they are measured in turns: two servers
# run at once (group commit, which also answers /health, and the baseline, each on a store
# of its own), and the three loads take turns in rounds of ROUND seconds (2 by default,
# the order rotating each round) until each has had DURATION seconds, with a second's
# pause between turns so that one load's background work (the checkpoint) does not spill
# into the next. Each rate is its requests over its own seconds; its p99 is the worst
# round's. Every load first has WARMUP seconds (3 by default) not counted, so that the
# figures are of the steady state (payer rows created, caches filled).
# Needs wrk (apt-get install -y wrk) and `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
connections=${2:-64}
warmup=${WARMUP:-3}
round=${ROUND:-2}
bin=${SCA_TEST_BIN:-$(swift build -c release --show-bin-path)/sca}
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 2; }
source Benchmarks/http/keys.sh
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
work=$(mktemp -d /tmp/sca-bench-XXXXXX)
servers=()
cluster=""
stop_all() {  # stops the servers started so far (any already gone are passed over)
  for server in "${servers[@]}"; do kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; done
  servers=()
}
cleanup() {
  stop_all
  [ -n "$cluster" ] && scripts/postgres.sh stop "$cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT

# The servers' ports (and the PostgreSQL cluster's), and what each load is: its server, wrk
# script and path. All lie below the kernel's ephemeral range (32768-60999 by default),
# from which wrk's many client sockets take theirs: a server started there after a load can
# find its port still held by one of them.
declare -A port=([group]=18480 [single]=18481 [postgres]=18482 [cluster]=18483)
declare -A server_of=([health]=group [sqlite_group_commit]=group [sqlite_one_tx_per_request]=single
  [postgres_group_commit]=postgres)
declare -A script=([health]=health.lua [sqlite_group_commit]=decisions.lua [sqlite_one_tx_per_request]=decisions.lua
  [postgres_group_commit]=decisions.lua)
declare -A path=([health]=/health [sqlite_group_commit]=/v1/decisions [sqlite_one_tx_per_request]=/v1/decisions
  [postgres_group_commit]=/v1/decisions)

declare -A key
start() {  # start NAME DB [BATCH_MAX]: the server NAME on its port; without BATCH_MAX, the default
  key[$1]=$(api_key "$bin" "$2" decider)
  env SCA_LOG_LEVEL=warning ${3:+SCA_STORAGE_BATCH_MAX=$3} "$bin" serve --db "$2" --port "${port[$1]}" >"$work/$1.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:${port[$1]}/ready" >/dev/null 2>&1 && return; sleep 0.1; done
  cat "$work/$1.log" >&2; exit 1
}
drive() {  # drive LABEL SECONDS: wrk with LABEL's load; prints wrk's output
  BENCH_API_KEY=${key[${server_of[$1]}]} wrk -t2 -c"$connections" -d"${2}s" --timeout 10s -s "Benchmarks/http/${script[$1]}" \
    "http://127.0.0.1:${port[${server_of[$1]}]}${path[$1]}"
}
declare -A requests seconds rounds_rps p99 errors socket_errors rate
load() {  # load LABEL SECONDS: one turn, added to the label's totals
  local line
  line=$(drive "$1" "$2" | grep '^SUMMARY')
  local -A field=()
  for pair in ${line#SUMMARY }; do field[${pair%%=*}]=${pair#*=}; done
  requests[$1]=$(( ${requests[$1]:-0} + field[requests] ))
  seconds[$1]=$(awk -v a="${seconds[$1]:-0}" -v b="${field[duration_s]}" 'BEGIN { print a + b }')
  rounds_rps[$1]="${rounds_rps[$1]:-} ${field[rps]}"
  p99[$1]=$(awk -v a="${p99[$1]:-0}" -v b="${field[p99_ms]}" 'BEGIN { print (b > a ? b : a) }')
  errors[$1]=$(( ${errors[$1]:-0} + field[errors_4xx_5xx] ))
  socket_errors[$1]=$(( ${socket_errors[$1]:-0} + field[socket_errors] ))
}
report() {  # report LABEL
  rate[$1]=$(awk -v n="${requests[$1]}" -v s="${seconds[$1]}" 'BEGIN { printf "%.0f", n / s }')
  echo "$1 requests=${requests[$1]} duration_s=${seconds[$1]} rps=${rate[$1]} p99_ms=${p99[$1]}" \
    "errors_4xx_5xx=${errors[$1]} socket_errors=${socket_errors[$1]} rounds_rps=[${rounds_rps[$1]# }]"
}
warm() {  # warm LABEL: WARMUP seconds of its load, not counted
  if [ "$warmup" -gt 0 ]; then drive "$1" "$warmup" >/dev/null; fi  # wrk refuses -d0s
}

rounds=$(( (duration + round - 1) / round ))
echo "# $(date -u +%FT%TZ) wrk -t2 -c$connections, $rounds rounds of ${round}s per load in turns after ${warmup}s of warm-up each, release build, 127.0.0.1, $(nproc) cores"
start group "$work/sqlite-group/sca.sqlite"  # storage.batch_max at its default: group commit
start single "$work/sqlite-single/sca.sqlite" 1  # one transaction a request: the baseline
turns=(health sqlite_group_commit sqlite_one_tx_per_request)
for label in "${turns[@]}"; do warm "$label"; done
for r in $(seq 0 $(( rounds - 1 ))); do
  for i in 0 1 2; do
    label=${turns[$(( (r + i) % 3 ))]}
    sleep 1
    load "$label" "$round"
  done
done
for label in "${turns[@]}"; do report "$label"; done
echo "  audit: $("$bin" audit verify --db "$work/sqlite-group/sca.sqlite" 2>/dev/null || true)" | cut -c1-160
stop_all
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  cluster=$(mktemp -d /tmp/sca-bench-pg-XXXXXX)
  start postgres "$(scripts/postgres.sh start "$cluster" "${port[cluster]}")"
  warm postgres_group_commit
  load postgres_group_commit "$duration"
  report postgres_group_commit
  stop_all
else
  echo "postgres: skipped (no initdb)"
fi
# Issue 3's goals, each ratio taken within this run.
goal_rate=15000 goal_p99_ms=25 goal_times_baseline=5 goal_percent_of_health=50
awk -v g="${rate[sqlite_group_commit]}" -v b="${rate[sqlite_one_tx_per_request]}" -v h="${rate[health]}" \
    -v p="${p99[sqlite_group_commit]}" -v gr=$goal_rate -v gp=$goal_p99_ms -v gb=$goal_times_baseline \
    -v gh=$goal_percent_of_health 'BEGIN {
  verdict = "met"; if (g < gr || p > gp || g / b < gb || 100 * g / h < gh) verdict = "missed"
  printf "goals: %d decisions/s (goal %d); p99 %.2f ms (goal <= %d); %.2fx the baseline (goal >= %d); %.1f %% of /health (goal >= %d): %s\n",
    g, gr, p, gp, g / b, gb, 100 * g / h, gh, verdict
}'
