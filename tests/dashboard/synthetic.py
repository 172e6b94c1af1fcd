"""A synthetic store of n candidates written through the store API (ML predictions with intervals)."""
import numpy as np

from perovscreen.core.results import Estimate
from perovscreen.ml.model import Prediction
from perovscreen.store.base import RunRecord
from perovscreen.store.sqlite import SQLiteStore


def synthetic_store(path, n: int = 10_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    store = SQLiteStore(path)
    recs, runs = [], []
    for i in range(n):
        key = f"{i:064x}:0"
        x = round(float(rng.uniform(0.05, 0.95)), 3)
        formula = f"Li{x}La{round(1 - x, 3)}TiO3" if i % 2 else f"Li{x}Sr{round(1 - x, 3)}NbO3"
        recs.append({"key": key, "id": f"cand{i:05d}", "file": f"/nowhere/cand{i:05d}.cif", "file_hash": f"{i:064x}",
                     "formula": formula})
        s, ea = rng.normal(-4, 1), rng.normal(0.4, 0.1)
        pred = Prediction(f"cand{i:05d}", formula, predictions={
            "log10_sigma": Estimate(s, s - 0.8, s + 0.8, 0.9, "log10 S/cm", "split-conformal"),
            "Ea": Estimate(ea, ea - 0.1, ea + 0.1, 0.9, "eV", "split-conformal")})
        runs.append(RunRecord(key, "ml", "h", "ok", pred.to_dict(), None, None, 0.0, {"model_path": ""},
                              {"code": "synthetic"}))
    store.put_batch(recs, runs)
    store.close()
    return path
