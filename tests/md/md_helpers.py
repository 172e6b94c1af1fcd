"""Helpers shared by the MD engine tests (a uniquely named module: subprocesses import it by name)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def kill_after_checkpoint(code: str, ckpt: Path, min_step: int, timeout: float = 120) -> int:
    """Run python -c code, SIGKILL it once ckpt records step >= min_step; return the checkpointed step."""
    here = os.path.dirname(__file__)
    proc = subprocess.Popen([sys.executable, "-c", f"import sys; sys.path.insert(0, {here!r}); " + code])
    deadline, step = time.time() + timeout, 0
    while time.time() < deadline and step < min_step and proc.poll() is None:
        time.sleep(0.1)
        if ckpt.exists():
            try:
                step = int(np.load(ckpt)["step"])
            except Exception:  # being replaced right now
                pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return int(np.load(ckpt)["step"])
