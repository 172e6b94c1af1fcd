"""Prediction front-ends: compositions files and structure records (the batch-runner stage function)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from perovscreen.errors import InputError, ModelError
from perovscreen.features.composition import NAMES as COMPOSITION_NAMES, featurize_compositions, featurize_encoded
from perovscreen.features.descriptors import compute_descriptors, formula_of, open_cache
from perovscreen.features.formula import parse_formula
from perovscreen.ml.model import Prediction, PropertyModel
from perovscreen.ml.train import load_property_model

_MODELS: dict[str, tuple] = {}


def read_compositions(path) -> list[dict]:
    """Entries {id, formula} from a JSON list of formula strings or of {"id", "formula"} objects."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of formulas or of {{\"id\", \"formula\"}} objects")
    out = []
    for i, item in enumerate(data):
        if isinstance(item, str):
            out.append({"id": f"{Path(path).stem}-{i}", "formula": item})
        elif isinstance(item, dict) and isinstance(item.get("formula"), str):
            out.append({"id": str(item.get("id", f"{Path(path).stem}-{i}")), "formula": item["formula"]})
        else:
            raise InputError(f"{path}: entry {i} is neither a formula string nor an object with a 'formula' string")
    return out


def _columns(model: PropertyModel) -> list[int]:
    """Columns of the composition descriptor matrix that the model uses, in its order."""
    missing = [f for f in model.features if f not in COMPOSITION_NAMES]
    if missing:
        raise ModelError(f"a composition-only model is needed for formulas; this one also uses {missing[:3]}")
    return [COMPOSITION_NAMES.index(f) for f in model.features]


def predict_formulas(model: PropertyModel, entries: list[dict], units=None, file=None) -> list[Prediction]:
    """Predictions for {id, formula} entries; unparsable formulas give status=error rows."""
    good, res = [], [None] * len(entries)
    for i, e in enumerate(entries):
        try:
            parse_formula(e["formula"])
            good.append(i)
        except InputError as exc:
            res[i] = Prediction(e["id"], e["formula"], file, status="error", error=str(exc))
    if good:
        X = featurize_compositions([entries[i]["formula"] for i in good])
        preds = model.predict(X[:, _columns(model)], ids=[entries[i]["id"] for i in good],
                              formulas=[entries[i]["formula"] for i in good], units=units)
        for i, p in zip(good, preds):
            p.file = file
            res[i] = p
    return res


def predict_bulk(model: PropertyModel, formulas=None, z=None, amounts=None, chunk: int = 100_000) -> dict:
    """{target: (value, lower, upper)} float32 arrays for many compositions, given as formula strings or
    as padded arrays (z, amounts) as for `featurize_encoded`; featurised and predicted chunk by chunk so
    memory stays bounded (about chunk x n_descriptors x 4 bytes). Composition models only."""
    cols = _columns(model)
    if (formulas is None) == (z is None):
        raise InputError("predict_bulk: give either formulas or (z, amounts)")
    n = len(formulas) if formulas is not None else len(z)
    out = {t: tuple(np.empty(n, np.float32) for _ in range(3)) for t in model.targets}
    for s in range(0, n, chunk):
        if formulas is not None:
            X = featurize_compositions(formulas[s:s + chunk])
        else:
            X = featurize_encoded(z[s:s + chunk], amounts[s:s + chunk])
        for t, arrs in model.predict_arrays(X[:, cols]).items():
            for dst, src in zip(out[t], arrs):
                dst[s:s + chunk] = src
    return out


def _cached_model(path: str):
    if path not in _MODELS:
        _MODELS[path] = load_property_model(path)
    return _MODELS[path]


def ml_stage(record, params: dict) -> dict:
    """Batch-runner stage: predictions with intervals for one structure record."""
    model, card = _cached_model(params["model_path"])
    s = record.structure
    if card.get("descriptor_set") == "structure":
        uses_bvse = any(f.startswith("s_bvse") for f in model.features)
        cache = open_cache(params.get("cache"))
        d = compute_descriptors(s, cache=cache, bvse=uses_bvse)
    else:
        d = compute_descriptors(formula_of(s))
    X = np.array([[d.get(f, np.nan) for f in model.features]], dtype=np.float32)
    p = model.predict(X, ids=[record.id], units=card.get("units"))[0]
    return {"predictions": {k: v.to_dict() for k, v in p.predictions.items()}, "model_sha256": card["sha256"]}
