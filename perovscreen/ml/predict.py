"""Prediction front-ends: compositions files and structure records (the batch-runner stage function)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from perovscreen.core.errors import InputError, ModelError
from perovscreen.core.results import json_str
from perovscreen.features.composition import NAMES as COMPOSITION_NAMES, featurize_compositions, featurize_encoded
from perovscreen.features.descriptors import compute_descriptors, formula_of, open_cache
from perovscreen.features.formula import composition_keys, encode_formulas, encode_formulas_checked, parse_formula
from perovscreen.ml.ea import SHIPPED_EA, predict_ea_structure
from perovscreen.ml.model import Prediction, PropertyModel

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
            out.append({"id": f"{Path(path).stem}-{i}", "formula": item, "file": str(path)})
        elif isinstance(item, dict) and isinstance(item.get("formula"), str):
            out.append({"id": str(item.get("id", f"{Path(path).stem}-{i}")), "formula": item["formula"],
                        "file": str(path)})
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


def composition_rows(model: PropertyModel, card: dict, entries: list[dict]):
    """Predictions for {id, formula} entries, serialised in bulk (the 10^6-row path of `ml predict`): each
    line is `Prediction.to_dict()` as JSON (values to 6 significant digits); bad formulas give error rows."""
    from perovscreen.jobs.runner import CompositionRows

    n = len(entries)
    formulas = [e["formula"] if isinstance(e.get("formula"), str) else "" for e in entries]
    z, a, errors = encode_formulas_checked(formulas)
    for i in np.flatnonzero(~((z == 3) & (a > 0)).any(1)):  # the models predict Li-ion transport
        errors.setdefault(int(i), f"formula {formulas[i]!r}: no Li, so no Li-ion conductivity to predict")
    keys = ["composition:" + k for k in composition_keys(z, a)]
    good = np.array([i not in errors for i in range(n)], bool)
    arrs = model.predict_arrays(featurize_encoded(z[good], a[good])[:, _columns(model)],
                                (z[good], a[good])) if good.any() else {}
    level, units = round(1 - model.alpha, 6), card.get("units") or {}
    cols = []
    for t, (v, lo, hi) in arrs.items():
        head = f'"{t}":{{"@type":"Estimate","value":'
        tail = f',"level":{level},"unit":{json_str(units.get(t, ""))},"method":{json_str(model.method(t))}}}'
        if np.isfinite(v).all() and np.isfinite(lo).all() and np.isfinite(hi).all():
            cols.append([f'{head}{x:.6g},"lower":{y:.6g},"upper":{w:.6g}{tail}'
                         for x, y, w in zip(v.tolist(), lo.tolist(), hi.tolist())])
        else:
            cols.append([f'{head}{_num(x)},"lower":{_num(y)},"upper":{_num(w)}{tail}'
                         for x, y, w in zip(v.tolist(), lo.tolist(), hi.tolist())])
    preds = [",".join(parts) for parts in zip(*cols)] if cols else [""] * int(good.sum())
    fjson = json_str(entries[0].get("file") if entries else None)
    lines, results, errs = [], [], []
    it = iter(preds)
    for i, e in enumerate(entries):
        ident, form = json_str(str(e["id"])), json_str(formulas[i])
        if i in errors:
            keys[i] = f"composition-error:{e['id']}"
            err = f"{e['id']}: {errors[i]}"
            lines.append(f'{{"@type":"MLPrediction","@version":1,"id":{ident},"formula":{form},"file":{fjson},'
                         f'"status":"error","error":{json_str(err)},"predictions":{{}}}}')
            results.append(None)
            errs.append(err)
            continue
        line = (f'{{"@type":"MLPrediction","@version":1,"id":{ident},"formula":{form},"file":{fjson},'
                f'"status":"ok","error":null,"predictions":{{{next(it)}}}}}')
        lines.append(line)
        results.append(line)
        errs.append(None)
    return CompositionRows(keys, lines, results, errs, formulas)


def _num(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else f'"{x}"'


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
        zc, ac = encode_formulas(formulas[s:s + chunk]) if formulas is not None else (z[s:s + chunk],
                                                                                       amounts[s:s + chunk])
        X = featurize_encoded(zc, ac)
        for t, arrs in model.predict_arrays(X[:, cols], (zc, ac)).items():
            for dst, src in zip(out[t], arrs):
                dst[s:s + chunk] = src
    return out


def predict_structure(model: PropertyModel, card: dict, record, cache=None) -> Prediction:
    """Predictions with intervals for one structure record (descriptors cached in `cache`)."""
    s = record.structure
    if card.get("descriptor_set") == "structure":
        uses_bvse = any(f.startswith("s_bvse") for f in model.features)
        d = compute_descriptors(s, cache=open_cache(cache), bvse=uses_bvse)
    else:
        d = compute_descriptors(formula_of(s))
    X = np.array([[d.get(f, np.nan) for f in model.features]], dtype=np.float32)
    p = model.predict(X, ids=[record.id], formulas=[s.composition.reduced_formula], units=card.get("units"))[0]
    p.file = getattr(record, "file", None)
    if "Ea" in p.predictions and SHIPPED_EA.is_file():
        # the combined BVSE + descriptor model beat the composition-only Ea in grouped CV (docs/ml.md)
        ea = predict_ea_structure(s, open_cache(cache))
        if ea is not None:
            p.predictions["Ea"] = ea
    return p
