"""Save/load property networks: state_dict (torch.load weights_only=True) + the project's model card."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from perovscreen.core.errors import ModelError
from perovscreen.ml.cards import CARD_FORMAT, card_path, library_versions, read_card, sha256_file


def _versions(pkgs) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in pkgs:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


def save_net(net, path, card: dict) -> Path:
    """Write ``net``'s config + state_dict to ``path`` and its card (sha256, libraries) beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": net.config, "state_dict": net.state_dict()}, path)
    full = {**card, "card_format": CARD_FORMAT, "model_file": path.name, "sha256": sha256_file(path),
            "config": net.config,
            "libraries": {**library_versions(), **_versions(("torch", "torch_geometric", "matgl", "alignn"))}}
    card_path(path).write_text(json.dumps(full, indent=2, sort_keys=True, default=str))
    return path


def load_net(path):
    """(PropertyNet, card) after checking card and SHA-256; weights read by ``safe_torch_load`` (tensors and
    plain data only: a pickle naming any other global is refused before it runs)."""
    from perovscreen.ml.gnn.models import PropertyNet
    from perovscreen.potentials.calculators import safe_torch_load

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    card = read_card(path)
    if card.get("model_file") != path.name or sha256_file(path) != card["sha256"]:
        raise ModelError(f"{path}: SHA-256 or file name does not match its card; the file was modified or replaced")
    blob = safe_torch_load(path, "property network")
    try:
        cfg = dict(blob["config"])
        arch, size, cutoff = cfg.pop("arch"), cfg.pop("size"), cfg.pop("cutoff")
        net = PropertyNet(arch, size, cutoff, **cfg)
        net.load_state_dict(blob["state_dict"], strict=True)
    except Exception as exc:
        raise ModelError(f"{path}: not a compatible perovscreen property network ({exc})") from exc
    net.eval()
    return net, card


def member_files(model_dir) -> list[Path]:
    """Member files with cards in ``model_dir`` (networks ``*.pt``, CHGNet-transfer ``*.skops``), by name."""
    d = Path(model_dir)
    return sorted(p for p in [*d.glob("*.pt"), *d.glob("*.skops")] if card_path(p).is_file()) if d.is_dir() else []


def find_models(model_dir, archs=None) -> list[Path]:
    """``member_files``, or those of the architectures ``archs`` when given; ModelError when there are none."""
    d = Path(model_dir)
    files = member_files(d)
    if not files:
        raise ModelError(f"no property models with cards in {d}; train them with `perovscreen gnn train --out {d}`")
    if archs:
        files = [p for p in files if read_card(p).get("config", {}).get("arch") in set(archs)]
        if not files:
            raise ModelError(f"no property models of the architectures {sorted(archs)} in {d}")
    return files
