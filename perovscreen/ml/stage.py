"""ML stages: predictions with conformal intervals for structure records and for compositions."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perovscreen.core.hashing import file_sha256
from perovscreen.jobs.stage import Resources, Stage, param


@dataclass(frozen=True)
class MLParams:
    model_path: str = param("", "trained model (.skops with its .card.json); default: the model of "
                            "`descriptors` under the models folder", science=False, kind="path")
    descriptors: str = param("composition", "descriptor set of the default model", choices=("composition", "structure"))
    cache: str = param("", "descriptor cache: a directory or a results store (.db); default: the run's store",
                       science=False, kind="path")


def model_file(params: MLParams) -> Path:
    from perovscreen.ml.train import resolve_model_path

    return Path(params.model_path) if params.model_path else resolve_model_path(params.descriptors)


_MODELS: dict = {}


def cached_model(path: Path):
    """Load once per process; a file rewritten in place (retrained) is loaded again."""
    from perovscreen.ml.train import load_property_model

    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _MODELS:
        _MODELS[key] = load_property_model(path)
    return _MODELS[key]


def _identities(params: MLParams) -> dict:
    path = model_file(params)
    if not path.is_file():
        from perovscreen.core.errors import ModelError

        raise ModelError(f"model file not found: {path} (train one with `perovscreen ml train --out {path}`)")
    from perovscreen.ml.ea import SHIPPED_EA

    ea = {"ea_model_sha256": file_sha256(SHIPPED_EA)} if SHIPPED_EA.is_file() else {}
    return {"model_sha256": file_sha256(path), **ea}


def run_ml(record, params: MLParams):
    from perovscreen.ml.predict import predict_structure

    model, card = cached_model(model_file(params))
    return predict_structure(model, card, record, params.cache or None)


def run_ml_compositions(entries: list[dict], params: MLParams):
    """A chunk of {id, formula} entries -> CompositionRows (serialised in bulk; bad formulas are error rows)."""
    from perovscreen.ml.predict import composition_rows

    model, card = cached_model(model_file(params))
    return composition_rows(model, card, entries)


# v2: Ea and n_li_sites predictions and intervals truncated at their physical bound 0
# (models with Ea fitted in log space need no new version: the model's SHA-256 is part of the identity)
ML = Stage("ml", 2, MLParams, run_ml, help="conductivity / Ea predictions with 90% conformal intervals",
           resources=Resources(cores=1, memory_gb=2.0, walltime_min=5.0), identities=_identities)
ML_COMPOSITIONS = Stage("ml", 2, MLParams, run_ml_compositions, subject="composition",
                        help="predictions for compositions (formula strings)", identities=_identities,
                        resources=Resources(cores=1, memory_gb=4.0, walltime_min=10.0))
