#!/usr/bin/env bash
# What a commit writes, by B-tree: runs `sca serve` (SQLite, group commit) on a fresh store,
# loads it with wrk for DURATION seconds (8 by default, bounded by wrk's -d), copies the WAL
# two seconds before the end, and maps the WAL's frames of the current generation to the
# B-trees their pages belong to (SQLite's `dbstat`, read with Python's sqlite3 from the
# store after the load). Prints the pages of the log a commit, by B-tree and page type, and
# the store's bytes a decision, by B-tree.
#   Benchmarks/http/pages.sh [DURATION]
#   SCA_TEST_BIN=/tmp/sca-old Benchmarks/http/pages.sh   # another build
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-8}
source Benchmarks/http/one-server.sh
python3 -c "import sqlite3; sqlite3.connect(':memory:').execute('SELECT * FROM dbstat')" 2>/dev/null \
  || { echo "python3's sqlite3 lacks dbstat (SQLITE_ENABLE_DBSTAT_VTAB)" >&2; exit 2; }
[ "$duration" -ge 4 ] || { echo "DURATION must be at least 4 seconds" >&2; exit 2; }
port=18486
serve_fresh pages $port

wrk -t2 -c64 -d"${duration}s" --timeout 10s -s Benchmarks/http/decisions.lua "http://127.0.0.1:$port/v1/decisions" \
  | grep '^SUMMARY' &
load=$!
sleep $(( duration - 2 ))
cp "$work/sca.sqlite-wal" "$work/wal.copy"
wait $load
kill -TERM $server; wait $server || true  # the store as it stands, for dbstat

python3 - "$work" <<'PY'
import collections, sqlite3, struct, sys
work = sys.argv[1]
wal = open(f"{work}/wal.copy", "rb").read()
# WAL header: magic, version, page size, checkpoint sequence, salt-1, salt-2, checksums.
_, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">8I", wal[:32])
frame = 24 + page_size
commits, current = [], []
for offset in range(32, len(wal) - frame + 1, frame):
    # Frame header: page number, database size after a commit (0 otherwise), salt-1, salt-2.
    page, size_after_commit, s1, s2 = struct.unpack(">4I", wal[offset:offset + 16])
    if (s1, s2) != (salt1, salt2):
        break  # the frames of an earlier generation of the log
    current.append(page)
    if size_after_commit:
        commits.append(current)
        current = []
if not commits:
    sys.exit("no whole commit in the copied WAL")
store = sqlite3.connect(f"file:{work}/sca.sqlite?mode=ro", uri=True)
tree = {page: (name, kind) for name, page, kind in store.execute("SELECT name, pageno, pagetype FROM dbstat")}
count = collections.Counter(tree.get(page, ("(freed since)", "")) for pages in commits for page in pages)
print(f"{len(commits)} commits in the copied WAL, {sum(map(len, commits)) / len(commits):.1f} pages a commit:")
for (name, kind), pages in count.most_common():
    print(f"  {pages / len(commits):6.2f}  {name} ({kind})")
decisions = store.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
print(f"bytes of the store a decision ({decisions} decisions):")
for name, size in store.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 6"):
    print(f"  {size / decisions:6.0f}  {name}")
PY
