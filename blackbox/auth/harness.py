"""What the auth test scripts share: the runner's check/note, a `sca serve --demo` process on a
free port, and the dependency check (re-running under the interop venv when it has what
the system python lacks). Standard library only."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCA = os.environ.get("SCA_TEST_BIN", os.path.join(ROOT, ".build", "debug", "sca"))
CI = os.environ.get("CI") == "true"
VENV_PYTHON = os.path.join(ROOT, ".venv-interop", "bin", "python")

failures = []
passed = []
notes = []
servers = []


def check(name, condition, detail=""):
    if condition:
        passed.append(name)
        print(f"  ok    {name}", flush=True)
    else:
        failures.append(f"{name}: {detail}")
        print(f"  FAIL  {name}: {detail}", flush=True)


def note(text):
    """Something the server did that the tests report without judging it."""
    notes.append(text)
    print(f"  note  {text}", flush=True)


def missing_module(names):
    for name in names:
        try:
            __import__(name)
        except ImportError:
            return name
    return None


def ensure_dependencies(modules, script):
    """None when everything is there; else the reason. Re-executes `script` under the
    interop venv's python once when a module is missing and that venv exists."""
    missing = missing_module(modules)
    if missing and os.access(VENV_PYTHON, os.X_OK) and not os.environ.get("SCA_TEST_REEXEC") \
            and os.path.realpath(sys.prefix) != os.path.realpath(os.path.dirname(os.path.dirname(VENV_PYTHON))):
        os.environ["SCA_TEST_REEXEC"] = "1"
        os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(script), *sys.argv[1:]])
    if missing:
        return f"the Python module {missing} is not installed (the interop venv: scripts/test.sh)"
    if not os.access(SCA, os.X_OK):
        return f"{SCA} is not built (swift build)"
    return None


def skip_or_fail(suite, reason):
    """Under CI a missing dependency is a failure; elsewhere the suite is skipped."""
    if CI:
        print(f"  FAIL  {reason}")
        print(f"{suite} tests: 0 passed, 1 failed")
        return 1
    print(f"{suite} tests: skipped ({reason})")
    return 0


def start_watchdog(suite, budget, also_kill=lambda: None):
    """Ends the whole run, as a failure, if it takes longer than `budget` seconds."""
    def out_of_time():
        print(f"  FAIL  the {suite} tests ran over {budget:.0f} s", flush=True)
        kill_all()
        also_kill()
        print(f"{suite} tests: {len(passed)} passed, {len(failures) + 1} failed", flush=True)
        os._exit(1)

    watchdog = threading.Timer(budget, out_of_time)
    watchdog.daemon = True
    watchdog.start()
    return watchdog


def finish(suite, workdir, watchdog):
    """Stops the servers and the watchdog, removes the work directory (unless
    SCA_TEST_KEEP is set), prints the summary line; returns the exit status."""
    for server in servers:
        server.stop()
    watchdog.cancel()
    if os.environ.get("SCA_TEST_KEEP"):
        print(f"  kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{suite} tests: {len(passed)} passed, {len(failures)} failed")
    return 1 if failures else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_all():
    for server in servers:
        if server.process and server.process.poll() is None:
            server.process.kill()


class Server:
    """One `sca serve --demo` process on a free port of 127.0.0.1, with its own directory
    (its working directory), SQLite file and log of stdout and stderr."""

    def __init__(self, workdir, name, env=None):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.db = os.path.join(self.dir, "sca.sqlite")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "serve.log")
        self.env = env or {}
        self.process = None
        self.base = f"http://localhost:{self.port}"

    def start(self):
        import client

        env = dict(os.environ)
        env["SCA_AUTH_SCRYPT_LOG_N"] = "12"
        env.update(self.env)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [SCA, "serve", "--demo", "--db", f"sqlite:{self.db}", "--port", str(self.port)],
                stdout=log, stderr=log, cwd=self.dir, env=env, stdin=subprocess.DEVNULL)
        servers.append(self)
        api = client.Client(self.base, timeout=2)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()[-2000:]}")
            try:
                if api.call("GET", "/ready").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def client(self):
        import client

        api = client.Client(self.base)
        api.operator_key = self.api_keys().get("operator")
        return api

    def api_keys(self):
        """The demo's API keys by kind, as its first start printed them (docs/CLIENTS.md)."""
        return dict(re.findall(r"^  (operator|decider|merchant|partner) +(sk_test_[A-Za-z0-9_-]+)$", self.log(), re.M))

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait(10)
        return self.process.returncode if self.process else None
