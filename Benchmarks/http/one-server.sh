# Sourced by cpu.sh and pages.sh (from the repository's root): checks for the release build
# and wrk, then `serve_fresh NAME PORT` starts `sca serve` on a fresh SQLite store in a
# temporary directory ($work, the server's pid in $server, a decider's key exported as
# BENCH_API_KEY), stopped and removed on exit, and returns once it answers /ready.
bin=${SCA_TEST_BIN:-$(swift build -c release --show-bin-path)/sca}
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
source Benchmarks/http/keys.sh

serve_fresh() {  # serve_fresh NAME PORT
  work=$(mktemp -d "/tmp/sca-$1-XXXXXX")
  BENCH_API_KEY=$(api_key "$bin" "$work/sca.sqlite" decider)
  export BENCH_API_KEY
  SCA_LOG_LEVEL=warning "$bin" serve --db "$work/sca.sqlite" --port "$2" >"$work/serve.log" 2>&1 &
  server=$!
  # (Under errexit a failing command ends an EXIT trap too: the server may be gone already.)
  trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$2/ready" >/dev/null 2>&1 && return; sleep 0.1; done
  cat "$work/serve.log" >&2; exit 1
}
