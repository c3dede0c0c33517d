#!/usr/bin/env python3
"""Does a burst of PIN checks slow the decisions served at the same time?

Against the release build on 127.0.0.1, with the production scrypt cost (N=2^17):
  1. POST /v1/decisions under wrk for DURATION seconds: the p99 on its own;
  2. the same, while CONCURRENCY clients send PIN verifications back to back (correct
     PINs on fresh one-time tokens, so every one runs the memory-hard hash).
Prints both p99s and their ratio (the goal: at most 2x). Bounded in time; standard
library only. Needs wrk (apt-get install -y wrk).

    Benchmarks/http/pin_burst.py [DURATION] [CONNECTIONS] [CONCURRENCY]   # SCA_TEST_BIN to choose the binary
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
duration = int(sys.argv[1]) if len(sys.argv) > 1 else 10
connections = int(sys.argv[2]) if len(sys.argv) > 2 else 16
concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 8
binary = os.environ.get("SCA_TEST_BIN", os.path.join(ROOT, ".build-release", "release", "sca"))
port = 18490


def call(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), (json.loads(data) if data else None)


def wrk_p99(key):
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s",
         os.path.join(ROOT, "Benchmarks", "http", "decisions.lua"), f"http://127.0.0.1:{port}/v1/decisions"],
        capture_output=True, text=True, timeout=duration + 60, env=dict(os.environ, BENCH_API_KEY=key)).stdout
    summary = next(line for line in output.splitlines() if line.startswith("SUMMARY"))
    return summary


def main():
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="sca-pinburst-")
    environment = dict(os.environ, SCA_LOG_LEVEL="warning")
    # A decider's key for wrk's decisions (docs/CLIENTS.md), on the store the server opens.
    made = subprocess.run([binary, "clients", "create", "--kind", "decider", "--name", "benchmark",
                           "--db", os.path.join(work, "sca.sqlite")], capture_output=True, text=True, cwd=work,
                          env=environment, timeout=120, check=True)
    key = json.loads(made.stdout)["key"]
    server = subprocess.Popen([binary, "serve", "--demo", "--db", os.path.join(work, "sca.sqlite"), "--port", str(port)],
                              cwd=work, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if call("GET", "/ready")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        status, _, user = call("POST", "/v1/users", json.dumps({"username": "burst", "name": "Burst", "pin": "739148"}))
        assert status == 201, user
        call("POST", f"/v1/users/{user['user_id']}/factors", json.dumps({"kind": "totp"}),
             {"Authorization": "Bearer " + user["session"]})
        tokens = [call("POST", "/v1/sessions", json.dumps({"username": "burst"}))[2]["one_time_token"]
                  for _ in range(concurrency * duration * 4)]

        alone = wrk_p99(key)
        stop = threading.Event()
        checks = []

        def burst():
            while not stop.is_set() and tokens:
                token = tokens.pop()
                started = time.monotonic()
                status = call("POST", "/v1/one-time-token/pin/verify", json.dumps({"pin": "739148"}),
                              {"One-Time-Token": token})[0]
                checks.append((status, time.monotonic() - started))

        threads = [threading.Thread(target=burst) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        time.sleep(1)  # the pool is busy before the measurement starts
        during = wrk_p99(key)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        def p99(summary):
            return float(re.search(r"p99_ms=([0-9.]+)", summary).group(1))
        passed = sum(1 for status, _ in checks if status == 200)
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} wrk -t2 -c{connections} -d{duration}s, "
              f"{concurrency} PIN clients, scrypt N=2^17 r=8 p=1, release build, {os.cpu_count()} cores")
        print(f"decisions alone        {alone[len('SUMMARY '):]}")
        print(f"decisions + PIN burst  {during[len('SUMMARY '):]}")
        print(f"PIN checks during the burst: {len(checks)} ({passed} passed, "
              f"{sum(1 for status, _ in checks if status == 503)} refused busy), "
              f"median {sorted(d for _, d in checks)[len(checks) // 2] * 1000:.0f} ms" if checks else "no PIN checks ran")
        print(f"p99 ratio (burst / alone): {p99(during) / p99(alone):.2f}  (goal <= 2)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
