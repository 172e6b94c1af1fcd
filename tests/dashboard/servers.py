"""Start and stop a dashboard server process for the browser tests (a module of its own: `from conftest
import ...` picks up whichever conftest pytest imported first when several test folders run together)."""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db, *extra):
    port = free_port()
    log = tempfile.NamedTemporaryFile("w", prefix=f"dashboard-{port}-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "perovscreen.cli.dashboard", "--db", str(db), "--port",
                             str(port), *extra], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(Path(log.name).read_text())
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("dashboard did not start")


def stop_server(proc) -> None:
    try:
        os.kill(proc.pid, 15)
    except ProcessLookupError:
        return
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, 9)
