"""Helpers shared by the core tests (a uniquely named module: pool workers import it by name)."""
import argparse


def batch_args(paths, db, **kw):
    base = dict(paths=[str(p) for p in paths], ion="Li", db=str(db), json=True, jobs=1, executor="serial",
                address=None, max_atoms=2000, force=False, quiet=True)
    base.update(kw)
    return argparse.Namespace(**base)
