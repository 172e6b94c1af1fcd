import argparse

import pytest

from perovscreen.structures.examples import get_example


def batch_args(paths, db, **kw):
    base = dict(paths=[str(p) for p in paths], ion="Li", db=str(db), json=True, jobs=1, executor="serial",
                address=None, max_atoms=2000, force=False, quiet=True)
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.fixture
def li3ocl():
    return get_example("Li3OCl")
