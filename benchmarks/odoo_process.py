"""Run Odoo as separate processes: `odoo-bin shell` scripts and a real HTTP server.

Settings come from the environment tools/run_benchmarks.sh prepares: ODOO_SRC,
ADDONS_PATH, BENCH_DB, BENCH_DATA_DIR and PostgreSQL's PGHOST, PGPORT, PGUSER.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def _setting(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set: run the benchmarks with `make bench`")
    return value


def database():
    return _setting("BENCH_DB")


def odoo_command(*args):
    """`odoo-bin` on the benchmark database, followed by `args`."""
    db = database()
    command = [sys.executable, str(Path(_setting("ODOO_SRC")) / "odoo-bin"), *args]
    command += [
        f"--addons-path={_setting('ADDONS_PATH')}",
        f"--database={db}",
        f"--db-filter=^{db}$",
        f"--data-dir={_setting('BENCH_DATA_DIR')}",
    ]
    for option, variable in (("db_host", "PGHOST"), ("db_port", "PGPORT"), ("db_user", "PGUSER")):
        if os.environ.get(variable):
            command.append(f"--{option}={os.environ[variable]}")
    return command


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_shell_script(script, log_path, extra_env):
    """Run `script` inside `odoo-bin shell` (it gets `env`); raise if it fails."""
    env = {**os.environ, **extra_env}
    with open(script, "rb") as stdin, open(log_path, "ab") as log:
        done = subprocess.run(
            odoo_command("shell", "--no-http", "--log-level=warn"),
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    if done.returncode:
        tail = Path(log_path).read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise RuntimeError(
            f"odoo-bin shell {Path(script).name} failed; {log_path} ends with:\n" + "\n".join(tail)
        )


class OdooServer:
    """A real Odoo HTTP server on loopback, logging each request's SQL count to a file.

    Odoo appends `query_count query_time other_time` to the werkzeug line of every
    request; `--log-level=warn` keeps the file to those lines and warnings.
    """

    def __init__(self, log_path, workers=0):
        self.log_path = Path(log_path)
        self.workers = workers
        self.port = None
        self._process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=120):
        self.port = free_port()
        command = odoo_command(
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={free_port()}",
            f"--workers={self.workers}",
            "--max-cron-threads=0",  # no cron runs during the measurement
            f"--logfile={self.log_path}",
            "--log-level=warn",
            "--log-handler=werkzeug:INFO",
        )
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Odoo exited at start; see {self.log_path}")
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Odoo did not answer within {timeout}s; see {self.log_path}")

    def stop(self):
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
