"""Model files with a model card: skops format (no code execution on load) + a JSON card with SHA-256.

save_model(obj, "m.skops", card)  writes m.skops and m.card.json (card + sha256 + library versions)
load_model("m.skops", trusted_types=[...])  verifies the card, the hash and the types, then loads.

The card is the trust anchor: a file whose hash differs from its card, a missing or malformed card, or a
file containing types outside the default + `trusted_types` allow-list is refused with ModelError.
"""
from __future__ import annotations

import json
from pathlib import Path

from perovscreen.core.errors import ModelError
from perovscreen.core.hashing import file_sha256 as sha256_file

CARD_FORMAT = "perovscreen.model_card/1"
# types skops does not trust by default but which are plain fitted-estimator internals
DEFAULT_TRUSTED = (
    "sklearn.tree._tree.Tree",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMRegressor",
    "collections.OrderedDict",
)


def card_path(path) -> Path:
    p = Path(path)
    return p.with_name(p.name.removesuffix(".skops") + ".card.json")


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    from perovscreen.core.provenance import library_versions as base

    return {**base(), "skops": version("skops")}


def save_model(obj, path, card: dict) -> Path:
    """Write `obj` with skops (deflate-compressed: fitted trees shrink ~3x) and its card (adds format, file
    name, sha256 and library versions)."""
    import zipfile

    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(obj, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    full = dict(card)
    full.update({"card_format": CARD_FORMAT, "model_file": path.name, "sha256": sha256_file(path),
                 "libraries": {**library_versions(), **card.get("libraries", {})}})
    card_path(path).write_text(json.dumps(full, indent=2, sort_keys=True, default=str))
    return path


def read_card(path) -> dict:
    cp = card_path(path)
    if not cp.is_file():
        raise ModelError(f"{path}: model card {cp.name} not found; refusing to load a model without its card")
    try:
        card = json.loads(cp.read_text())
    except ValueError as exc:
        raise ModelError(f"{cp}: model card is not valid JSON ({exc})") from None
    if card.get("card_format") != CARD_FORMAT or "sha256" not in card:
        raise ModelError(f"{cp}: not a {CARD_FORMAT} card")
    return card


def load_model(path, trusted_types=(), expect: dict | None = None):
    """Return (obj, card) after verifying card, SHA-256 and types; `expect` = card fields that must match."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    card = read_card(path)
    if card.get("model_file") != path.name:
        raise ModelError(f"{path}: card is for {card.get('model_file')!r}, not this file")
    digest = sha256_file(path)
    if digest != card["sha256"]:
        raise ModelError(f"{path}: SHA-256 {digest[:12]}... does not match its card ({card['sha256'][:12]}...); "
                         "the file was modified or replaced")
    for key, val in (expect or {}).items():
        if card.get(key) != val:
            raise ModelError(f"{path}: card field {key!r} is {card.get(key)!r}, expected {val!r}")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"{path}: not a readable skops file ({exc})") from None
    allowed = set(DEFAULT_TRUSTED) | set(trusted_types)
    bad = [t for t in untrusted if t not in allowed]
    if bad:
        raise ModelError(f"{path}: contains untrusted types {bad}; pass trusted_types to allow them")
    try:
        obj = sio.load(path, trusted=[t for t in untrusted if t in allowed])
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"{path}: could not load ({exc})") from None
    return obj, card
