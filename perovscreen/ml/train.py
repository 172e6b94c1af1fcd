"""Train / save / load property models with model cards.

The default composition model ships inside the package (perovscreen/ml/data/ml_composition.skops + card),
made by the command in its card (`training_command`); a model trained by the user into the models folder
(`default_model_path`) takes precedence over it (`resolve_model_path`).
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np

from perovscreen.core.paths import models_root
from perovscreen.core.errors import ModelError
from perovscreen.core.provenance import provenance
from perovscreen.features.descriptors import ALL_NAMES, COMPOSITION_NAMES, DESCRIPTOR_VERSION
from perovscreen.ml.cards import load_model, save_model
from perovscreen.ml.dataset import UNITS, TrainingTable
from perovscreen.features.formula import encode_formulas
from perovscreen.ml.cv import NEAR_DUPLICATE_L1
from perovscreen.ml.model import FORMAT, SHRINK, SHRUNK, PropertyModel

DEFAULT_TARGETS = ("log10_sigma", "Ea", "n_li_sites")


SHIPPED_DIR = Path(__file__).parent / "data"


def default_model_path(descriptor_set: str = "composition") -> Path:
    """Where `perovscreen ml train` writes a user model (the models folder)."""
    return models_root() / f"ml_{descriptor_set}.skops"


def shipped_model_path(descriptor_set: str = "composition") -> Path:
    return SHIPPED_DIR / f"ml_{descriptor_set}.skops"


def resolve_model_path(descriptor_set: str = "composition") -> Path:
    """The model to use: the user's trained model if present, else the shipped one (composition), else the
    user path (which then does not exist; callers train or refuse)."""
    user, shipped = default_model_path(descriptor_set), shipped_model_path(descriptor_set)
    return user if user.is_file() or not shipped.is_file() else shipped


def usable_features(table: TrainingTable, structures: bool) -> list[str]:
    """Descriptor columns with at least one finite value (e.g. BVSE columns drop out if BVSE is absent)."""
    names = ALL_NAMES if structures else COMPOSITION_NAMES
    return [n for n in names if n in table.X and np.isfinite(table.X[n].to_numpy(float)).any()]


def train_model(table: TrainingTable, targets=DEFAULT_TARGETS, kind: str = "gbm", structures: bool = False,
                multi_output: bool = False, n_estimators: int | None = None, seed: int = 0,
                cv_summary: dict | None = None, grid: dict | None = None,
                split: str = "cluster", shrink: float | None = SHRINK) -> tuple[PropertyModel, dict]:
    """Fit a PropertyModel on all rows of `table` and build its model card. Hyper-parameters and the
    conformal calibration come from inner CV grouped by `split` ('cluster' = leave-cluster-out, the hard
    split on which LightGBM beat plain magpie + RF; see docs/ml.md)."""
    features = usable_features(table, structures)
    model = PropertyModel(features, kind=kind, seed=seed, n_estimators=n_estimators, grid=grid, shrink=shrink)
    model.fit(table.X, table.Y, table.split_groups(split), list(targets), multi_output=multi_output,
              compositions=encode_formulas(table.formulas))
    card = {
        "name": f"perovscreen-ml-{'structure' if structures else 'composition'}-{kind}",
        "model_format": FORMAT, "kind": kind, "targets": model.targets, "units": {t: UNITS[t] for t in model.targets},
        "descriptor_set": "structure" if structures else "composition", "descriptor_version": DESCRIPTOR_VERSION,
        "features": features, "multi_output": multi_output, "training_data": {**table.source,
                                                                             "sha256": table.data_hash(),
                                                                             "rows": len(table.X)},
        "heads": [{k: h[k] for k in ("targets", "params", "calibration", "n_train", "inner_cv_mae", "log_targets",
                                                    "shrink")}
                  for h in model.heads],
        "censoring": "upper-bound conductivities excluded from regression targets",
        "inner_cv_split": split,
        "shrink": None if shrink is None else {"weight": shrink, "toward": "training median",
                                               "targets": sorted(SHRUNK & set(model.targets)),
                                               "skipped_within_l1": NEAR_DUPLICATE_L1},
        "cv": cv_summary,
    }
    return model, card


def save_property_model(model: PropertyModel, card: dict, path) -> Path:
    card = {"training_command": shlex.join([Path(sys.argv[0]).name] + sys.argv[1:]), **card,
            "provenance": provenance({k: card.get(k) for k in ("kind", "targets", "descriptor_set")})}
    return save_model(model.to_state(), path, card)


def load_property_model(path=None) -> tuple[PropertyModel, dict]:
    """Load and verify (card, SHA-256, allowed types, features) a saved PropertyModel."""
    path = Path(path) if path else resolve_model_path()
    if not path.is_file():
        raise ModelError(f"model file not found: {path} (train one with `perovscreen ml train --out {path}`)")
    state, card = load_model(path, expect={"model_format": FORMAT})
    model = PropertyModel.from_state(state)
    if card.get("features") != model.features or card.get("targets") != model.targets:
        raise ModelError(f"{path}: card features/targets do not match the model file")
    return model, card
