"""Resume: SIGKILL a real batch process, re-run it, lose nothing finished and recompute nothing finished."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from pymatgen.io.cif import CifWriter

from perovscreen.structures.examples import get_example

HERE = Path(__file__).parent


def _ok_ids(db):
    if not Path(db).exists():
        return set()
    con = sqlite3.connect(db, timeout=30)
    try:
        rows = con.execute("SELECT s.id FROM runs r JOIN structures s ON s.key = r.structure_key "
                           "WHERE r.status='ok'").fetchall()
    except sqlite3.OperationalError:
        rows = []
    con.close()
    return {r[0] for r in rows}


def test_sigkill_and_resume(tmp_path):
    base = get_example("Li3OCl")
    for k in range(8):  # eight distinct crystals (strained copies)
        s = base.copy()
        s.scale_lattice(base.volume * (1 + 0.02 * k))
        CifWriter(s).write_file(tmp_path / f"s{k}.cif")
    db, log = str(tmp_path / "r.db"), str(tmp_path / "calls.log")
    cmd = [sys.executable, str(HERE / "slow_stage.py"), str(tmp_path), db, log, "0.4"]
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(_ok_ids(db)) < 3 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = _ok_ids(db)
    assert 3 <= len(finished_before) < 8
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    assert _ok_ids(db) == {f"s{k}" for k in range(8)}
    calls = Path(log).read_text().split()
    for sid in finished_before:
        assert calls.count(sid) == 1, f"{sid} was recomputed"
    # a third run recomputes nothing at all
    n = len(calls)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    assert len(Path(log).read_text().split()) == n
