# Sourced by the benchmark scripts: `api_key BINARY DB KIND` makes a client of KIND on the
# store DB (creating the store if need be) and prints its key, for wrk's scripts to send
# as `Authorization: Bearer` (they read it from BENCH_API_KEY, not an SCA_ name: `sca serve`
# refuses SCA_ variables it does not know; docs/CLIENTS.md).
api_key() {
  "$1" clients create --kind "$3" --name "benchmark $3" --db "$2" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p'
}
