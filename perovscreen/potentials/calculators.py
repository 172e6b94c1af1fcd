"""One entry point to ASE calculators for universal potentials (ASE-style: one interface, many backends).

Backends (all offline):
- ``chgnet``: CHGNet 0.3.0 weights bundled in the wheel, or a user's CHGNet checkpoint (``model_path``).
- ``sevenn``: SevenNet bundled ``7net-0`` (default) or ``7net-l3i5`` (``model=``), or a user checkpoint.
- ``matgl``: a matgl 4.x potential saved in a *local* directory (model.json, model.pt, state.pt).
- any ASE ``Calculator`` instance is passed through unchanged.
A missing or incompatible weight file raises ``ModelError`` at once; nothing is fetched from the network.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from functools import lru_cache, wraps
from pathlib import Path

from ase.calculators.calculator import Calculator

from perovscreen.errors import ModelError

# CHGNet 0.3.0 warns about a tensor->scalar conversion on every prediction (harmless, floods batch logs)
warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True", module=r"chgnet\.")

BACKENDS = ("chgnet", "sevenn", "matgl")
SEVENN_BUNDLED = ("7net-0", "7net-l3i5")


def _quiet(fn):
    """Backends print load messages; send them to stderr so stdout stays results only (--json lines)."""
    @wraps(fn)
    def wrapper(*args, **kw):
        with contextlib.redirect_stdout(sys.stderr):
            return fn(*args, **kw)
    return wrapper


def _existing_file(path: str | os.PathLike, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelError(f"{what} weight file not found: {p}")
    return p


@_quiet
def load_chgnet_model(model_path: str | None = None, device: str = "cpu"):
    """CHGNet model from the bundled 0.3.0 checkpoint or a user's, read with ``torch.load(weights_only=True)``."""
    import chgnet
    import torch
    from chgnet.model import CHGNet

    bundled = model_path is None
    if bundled:
        model_path = Path(chgnet.__file__).parent / "pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar"
    p = _existing_file(model_path, "CHGNet")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
        model = CHGNet.from_dict(state.get("model", state), **({"version": "0.3.0"} if bundled else {}))
    except Exception as exc:  # pickle refusal, missing keys, shape mismatch
        raise ModelError(f"CHGNet weight file {p} is not a compatible CHGNet checkpoint: {exc}") from exc
    return model.to(device)


@_quiet
@lru_cache(maxsize=4)
def _chgnet(model_path: str | None, device: str):
    from chgnet.model.dynamics import CHGNetCalculator

    return CHGNetCalculator(model=load_chgnet_model(model_path, device), use_device=device)


@_quiet
@lru_cache(maxsize=4)
def _sevenn(model: str, device: str):
    try:
        from sevenn.calculator import SevenNetCalculator
    except ImportError as exc:
        raise ModelError("sevenn is not installed: pip install sevenn 'torch==2.13.0'") from exc
    if model not in SEVENN_BUNDLED:
        _existing_file(model, "SevenNet")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no tensor-product accelerator" on CPU
            return SevenNetCalculator(model, device=device)
    except Exception as exc:
        raise ModelError(f"SevenNet model {model!r} could not be loaded: {exc}") from exc


@_quiet
@lru_cache(maxsize=4)
def _matgl(model_dir: str, device: str):
    d = Path(model_dir).expanduser()
    files = {f: d / f for f in ("model.json", "model.pt", "state.pt")}
    missing = [f for f, p in files.items() if not p.is_file()]
    if missing:  # checked here so that matgl never falls back to a hub download
        raise ModelError(f"matgl model directory {d} lacks {', '.join(missing)}")
    try:
        from matgl.apps.pes import Potential
        from matgl.ext.ase import PESCalculator

        pot = Potential.load({k: str(v) for k, v in files.items()})
    except Exception as exc:
        raise ModelError(f"matgl potential in {d} could not be loaded: {exc}") from exc
    return PESCalculator(pot.to(device))


def get_calculator(
    name: str | Calculator = "chgnet", device: str = "cpu", model: str | None = None, model_path: str | None = None
) -> Calculator:
    """Return an ASE calculator.

    name: 'chgnet' (default), 'sevenn', 'matgl', or an ASE Calculator (returned as is).
    model: SevenNet bundled model name ('7net-0', '7net-l3i5').
    model_path: a checkpoint file (chgnet, sevenn) or a model directory (matgl; required).
    Calculators are cached per (backend, weights, device): repeated calls are free.
    """
    if isinstance(name, Calculator):
        return name
    key = str(name).lower()
    if key in SEVENN_BUNDLED:
        key, model = "sevenn", key
    if key == "chgnet":
        return _chgnet(None if model_path is None else str(model_path), device)
    if key == "sevenn":
        return _sevenn(str(model_path or model or "7net-0"), device)
    if key == "matgl":
        if model_path is None:
            raise ModelError("the matgl backend needs model_path= a local matgl model directory")
        return _matgl(str(model_path), device)
    raise ModelError(f"unknown potential {name!r}; choose one of {', '.join(BACKENDS)} or pass an ASE calculator")


def backend_name(calc: Calculator) -> str:
    """Short label of a calculator for provenance ('chgnet', 'sevenn', 'matgl' or the class name)."""
    cls = type(calc).__name__
    return {"CHGNetCalculator": "chgnet", "SevenNetCalculator": "sevenn", "PESCalculator": "matgl"}.get(cls, cls)
