#!/usr/bin/env bash
# HTTP benchmarks against the release build on 127.0.0.1, each bounded by wrk's -d.
#   Benchmarks/http/run.sh [DURATION_SECONDS] [CONNECTIONS]
# Each measurement follows a warm-up of $WARMUP seconds (3 by default) under the same load,
# so that the figures are of the steady state (payer rows created, caches filled).
# Measures, in one run: GET /health; POST /v1/decisions on SQLite with group commit;
# the same with one transaction per request (storage.batch_max = 1, the baseline); and
# POST /v1/decisions on a throwaway PostgreSQL cluster (when initdb is available).
# Needs wrk (apt-get install -y wrk) and `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
connections=${2:-64}
warmup=${WARMUP:-3}
bin=${SCA_BIN:-$(swift build -c release --show-bin-path)/sca}
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
work=$(mktemp -d /tmp/sca-bench-XXXXXX)
server=""
cluster=""
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$cluster" ] && scripts/postgres.sh stop "$cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT

port=18480
start() {  # start DB BATCH_MAX
  SCA_STORAGE_BATCH_MAX=$2 SCA_LOG_LEVEL=warning "$bin" serve --db "$1" --port $port >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && return; sleep 0.1; done
  cat "$work/serve.log" >&2; exit 1
}
stop() { kill -TERM "$server"; wait "$server" || true; server=""; }
measure() {  # measure LABEL SCRIPT PATH: a warm-up of WARMUP seconds, not counted, then the run
  local line
  if [ "$warmup" -gt 0 ]; then  # wrk refuses -d0s
    wrk -t2 -c"$connections" -d"${warmup}s" --timeout 10s -s "Benchmarks/http/$2" "http://127.0.0.1:$port$3" >/dev/null
  fi
  line=$(wrk -t2 -c"$connections" -d"${duration}s" --timeout 10s -s "Benchmarks/http/$2" "http://127.0.0.1:$port$3" | grep '^SUMMARY')
  echo "$1 ${line#SUMMARY }"
  rate[$1]=$(sed 's/.* rps=\([0-9]*\).*/\1/' <<<"$line")
  p99[$1]=$(sed 's/.* p99_ms=\([0-9.]*\).*/\1/' <<<"$line")
}
declare -A rate p99

echo "# $(date -u +%FT%TZ) wrk -t2 -c$connections -d${duration}s after ${warmup}s of warm-up, release build, 127.0.0.1, $(nproc) cores"
start "$work/sqlite-group/sca.sqlite" 256
measure "health" health.lua /health
measure "sqlite_group_commit" decisions.lua /v1/decisions
echo "  audit: $("$bin" audit verify --db "$work/sqlite-group/sca.sqlite" 2>/dev/null || true)" | cut -c1-160
stop
start "$work/sqlite-single/sca.sqlite" 1
measure "sqlite_one_tx_per_request" decisions.lua /v1/decisions
stop
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  cluster=$(mktemp -d /tmp/sca-bench-pg-XXXXXX)
  url=$(scripts/postgres.sh start "$cluster" 55490)
  start "$url" 256
  measure "postgres_group_commit" decisions.lua /v1/decisions
  stop
else
  echo "postgres: skipped (no initdb)"
fi
# Issue 3's goals, each ratio taken within this run (the machine's speed drifts between runs).
goal_rate=15000 goal_p99_ms=25 goal_times_baseline=5 goal_percent_of_health=50
awk -v g="${rate[sqlite_group_commit]}" -v b="${rate[sqlite_one_tx_per_request]}" -v h="${rate[health]}" \
    -v p="${p99[sqlite_group_commit]}" -v gr=$goal_rate -v gp=$goal_p99_ms -v gb=$goal_times_baseline \
    -v gh=$goal_percent_of_health 'BEGIN {
  verdict = "met"; if (g < gr || p > gp || g / b < gb || 100 * g / h < gh) verdict = "missed"
  printf "goals: %d decisions/s (goal %d); p99 %.2f ms (goal <= %d); %.2fx the baseline (goal >= %d); %.1f %% of /health (goal >= %d): %s\n",
    g, gr, p, gp, g / b, gb, 100 * g / h, gh, verdict
}'
