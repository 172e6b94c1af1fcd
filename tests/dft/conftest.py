"""The DFT engines for these tests: Debian's gpaw, gpaw-data and quantum-espresso, installed by the session fixture
when missing (the tests run as root on a fresh machine; otherwise they are skipped with the apt-get line)."""
from pathlib import Path

import pytest
from ase.build import bulk

from perovscreen.core.errors import InputError

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SSSP = SHARED / "pseudos" / "qe" / "sssp_efficiency_pbe_v1.3.0"
DOJO = SHARED / "pseudos" / "qe" / "pseudodojo_nc_sr_pbe_v0.4.1_standard"
A_LIF = 4.03  # A, experimental rocksalt LiF lattice constant (room temperature)


@pytest.fixture(scope="session")
def engines():
    from perovscreen.dft.install import ensure_engines

    try:
        ensure_engines()
    except InputError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def sssp():
    return SSSP


@pytest.fixture(scope="session")
def dojo():
    return DOJO


@pytest.fixture(scope="session")
def lif():
    """The 2-atom primitive rocksalt cell of LiF at lattice constant a (default: experiment, 4.03 A)."""
    return lambda a=A_LIF: bulk("LiF", "rocksalt", a=a)
