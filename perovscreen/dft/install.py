"""Install the DFT engines from Debian when missing: `python -m perovscreen.dft.install` (as root) runs
`apt-get install -y --no-install-recommends gpaw gpaw-data quantum-espresso` when pw.x is not on PATH or
Debian's /usr/bin/python3 cannot import gpaw."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from perovscreen.core.errors import InputError
from perovscreen.dft.calculator import GPAW_PYTHON

APT_PACKAGES = ("gpaw", "gpaw-data", "quantum-espresso")


def missing() -> list[str]:
    """What is absent: 'pw.x' and/or 'gpaw' (as importable by Debian's python)."""
    out = [] if shutil.which("pw.x") else ["pw.x"]
    ok = os.path.exists(GPAW_PYTHON) and subprocess.run([GPAW_PYTHON, "-c", "import gpaw"],
                                                        capture_output=True).returncode == 0
    return out if ok else out + ["gpaw"]


def ensure_engines(timeout: float = 1800) -> list[str]:
    """Install the Debian packages if an engine is missing; returns what was missing. Raises InputError (one
    line, naming the packages) when not root or when apt-get fails."""
    lacking = missing()
    if not lacking:
        return []
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    if os.geteuid() != 0:
        raise InputError(f"{' and '.join(lacking)} missing: run as root `{' '.join(cmd)}`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if r.returncode != 0:  # a stale package list: update once and retry
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=timeout)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    still = missing()
    if r.returncode != 0 or still:
        last = (r.stderr or r.stdout).strip().splitlines()[-1:] or [""]
        raise InputError(f"installing {' '.join(APT_PACKAGES)} failed ({', '.join(still)} still missing): {last[0]}")
    return lacking


def main() -> int:
    try:
        done = ensure_engines()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"installed {' '.join(APT_PACKAGES)}" if done else "pw.x and gpaw are already installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
