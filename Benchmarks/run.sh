#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md on this machine. Bounded: each ordo-one benchmark
# stops after 10 s; the end-to-end runs read a fixed file. Needs hyperfine (apt).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
work="${SCA_BENCH_DIR:-/tmp/sca-bench}"
mkdir -p "$work"

echo "== generating the request mix"
[ -s "$work/requests-1m.jsonl" ] || python3 "$here/generate_requests.py" 1000000 > "$work/requests-1m.jsonl"
[ -s "$work/requests-100k.jsonl" ] || head -n 100000 "$work/requests-1m.jsonl" > "$work/requests-100k.jsonl"
head -n 200000 "$work/requests-1m.jsonl" > "$work/requests-200k.jsonl"

echo "== building sca (release)"
(cd "$root" && swift build -c release --product sca)
sca="$(cd "$root" && swift build -c release --show-bin-path)/sca"

echo "== sca decide, end to end, 1,000,000 lines (one core)"
hyperfine --warmup 1 --runs 5 --export-markdown "$work/decide-1m.md" \
  "taskset -c 1 $sca decide $work/requests-1m.jsonl > /dev/null"
cat "$work/decide-1m.md"

echo "== peak memory: 100k to 2M lines over the same 10,000 payers"
head -n 500000 "$work/requests-1m.jsonl" > "$work/requests-500k.jsonl"
cat "$work/requests-1m.jsonl" "$work/requests-1m.jsonl" > "$work/requests-2m.jsonl"
for file in requests-100k requests-500k requests-1m requests-2m; do
  /usr/bin/time -f "$file: max RSS %M KiB, %e s" "$sca" decide "$work/$file.jsonl" > /dev/null || true
done

echo "== rules core and in-process stream (ordo-one/benchmark), one core"
(cd "$here" && SCA_BENCH_INPUT="$work/requests-200k.jsonl" taskset -c 1 swift package --disable-sandbox benchmark --target RulesCore --no-progress)

echo "== rules core, plain loop (for profiling; 3,000,000 decisions)"
(cd "$here" && swift build -c release --product CoreLoop && taskset -c 1 .build/release/CoreLoop "$work/requests-200k.jsonl" 3000000)
