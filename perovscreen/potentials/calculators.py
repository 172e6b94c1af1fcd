"""One entry point to ASE calculators for universal potentials (ASE-style: one interface, many backends).

Backends (all offline):
- ``chgnet``: CHGNet 0.3.0 weights bundled in the wheel, or a user's CHGNet checkpoint (``model_path``).
- ``sevenn``: SevenNet bundled ``7net-0`` (default) or ``7net-l3i5`` (``model=``), or a user checkpoint.
- ``matgl``: a matgl 4.x potential saved in a *local* directory (model.json, model.pt, state.pt).
- any ASE ``Calculator`` instance is passed through unchanged.
A missing or incompatible weight file raises ``ModelError`` at once; nothing is fetched from the network.

Weight files are data, never code (docs/security.md): every checkpoint is read with
``torch.load(weights_only=True)`` and a per-backend allow-list of plain numpy types, and matgl's
``@module``/``@class`` references must name matgl model classes. Anything else is refused with a one-line
``ModelError`` before the backend sees the file.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import re
import sys
import warnings
from functools import lru_cache, wraps
from pathlib import Path

from ase.calculators.calculator import Calculator

from perovscreen.core.errors import ModelError

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


def _numpy_globals() -> list:
    """The numpy pieces of a pickled float/int array: what SevenNet configs (shift/scale) and matgl
    constructor arguments (element_refs) hold. Object arrays are not allowed."""
    import numpy as np

    reconstruct = np._core.multiarray._reconstruct
    return [np.ndarray, np.dtype, reconstruct, (reconstruct, "numpy.core.multiarray._reconstruct"),
            np.dtypes.Float32DType, np.dtypes.Float64DType, np.dtypes.Int32DType, np.dtypes.Int64DType,
            np.dtypes.BoolDType]


def _refusal(exc: Exception) -> str:
    """One line out of torch's multi-line weights_only error: the global it refused, if it names one."""
    text = str(exc)
    m = re.search(r"GLOBAL ([\w.]+)", text) or re.search(r"got <class '([\w.]+)'>", text)
    if m:
        return f"it names the non-data global {m.group(1)}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(("Weights only", "Check the"))]
    return lines[-1] if lines else type(exc).__name__


def safe_torch_load(path: str | os.PathLike, what: str, allowed: list | tuple = ()):
    """``torch.load(weights_only=True)`` with the extra ``allowed`` globals, else a one-line ``ModelError``
    naming the file and the offending global. A pickle payload is refused before anything is executed."""
    import torch
    from torch.serialization import get_unsafe_globals_in_checkpoint, safe_globals

    p = Path(path)
    with safe_globals(list(allowed)):
        try:
            unsafe = sorted(get_unsafe_globals_in_checkpoint(p))
        except Exception:  # not a zip checkpoint (legacy format, garbage): torch.load below decides
            unsafe = []
        if unsafe:
            raise ModelError(f"{what} weight file {p} refused: it names the non-data global {unsafe[0]}"
                             " (only tensors and plain data are loaded)")
        try:
            return torch.load(p, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            if re.search(r"GLOBAL |got <class ", str(exc)):
                raise ModelError(f"{what} weight file {p} refused: {_refusal(exc)}"
                                 " (only tensors and plain data are loaded)") from None
            raise ModelError(f"{what} weight file {p} is not a readable torch checkpoint: {_refusal(exc)}") from None
        except Exception as exc:  # truncated zip, not a torch file at all
            raise ModelError(f"{what} weight file {p} is not a readable torch checkpoint: {_refusal(exc)}") from None


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
    except pickle.UnpicklingError as exc:  # a pickle payload or a non-data object: nothing was executed
        raise ModelError(f"CHGNet weight file {p} is not a compatible CHGNet checkpoint: {_refusal(exc)}") from None
    except Exception as exc:  # missing keys, shape mismatch
        raise ModelError(f"CHGNet weight file {p} is not a compatible CHGNet checkpoint: {exc}") from exc
    return model.to(device)


def chgnet_task(properties) -> str:
    """The CHGNet task that yields ``properties``: stress costs a second backward pass and magnetic moments
    a readout, so MD and fixed-cell NEB (energy and forces) skip both (0.26 vs 0.44 s per call, 41 atoms,
    one core)."""
    props = set(properties or ("energy", "forces", "stress", "magmoms"))
    task = "e" + ("f" if props & {"forces", "stress"} else "") + ("s" if "stress" in props else "")
    return task + ("m" if "magmoms" in props else "")


@_quiet
@lru_cache(maxsize=4)
def _chgnet(model_path: str | None, device: str):
    from chgnet.model.dynamics import CHGNetCalculator

    class LeanCHGNetCalculator(CHGNetCalculator):
        """CHGNet's calculator computing only what ASE asked for (CHGNet's own always runs "efsm")."""

        def calculate(self, atoms=None, properties=None, system_changes=None, task=None):
            super().calculate(atoms, properties, system_changes, task=task or chgnet_task(properties))

    return LeanCHGNetCalculator(model=load_chgnet_model(model_path, device), use_device=device)


def _sevenn_checkpoint(path: Path):
    """A sevenn ``SevenNetCheckpoint`` filled from a dict read with weights_only=True: sevenn's own loader
    unpickles with ``weights_only=False``, i.e. runs whatever code a checkpoint names."""
    from sevenn.checkpoint import SevenNetCheckpoint, _config_cp_routine

    cp = safe_torch_load(path, "SevenNet", _numpy_globals())
    if not isinstance(cp, dict) or not isinstance(cp.get("config"), dict) or not cp.get("model_state_dict"):
        raise ModelError(f"SevenNet weight file {path} is not a SevenNet checkpoint (no config/model_state_dict)")
    ckpt = SevenNetCheckpoint(path)  # the same fields as SevenNetCheckpoint._load (sevenn 0.13)
    ckpt._config_original = cp["config"]
    ckpt._config = _config_cp_routine(cp["config"])
    ckpt._model_state_dict = cp["model_state_dict"]
    ckpt._optimizer_state_dict = cp.get("optimizer_state_dict", {})
    ckpt._scheduler_state_dict = cp.get("scheduler_state_dict", {})
    ckpt._epoch = cp.get("epoch")
    ckpt._time = cp.get("time", "Not found")
    ckpt._hash = cp.get("hash", "Not found")
    ckpt._loaded = True
    return ckpt


@_quiet
@lru_cache(maxsize=4)
def _sevenn(model: str, device: str):
    try:
        from sevenn.calculator import SevenNetCalculator
        from sevenn.util import pretrained_name_to_path
    except ImportError as exc:
        raise ModelError("sevenn is not installed: pip install sevenn 'torch==2.13.0'") from exc
    path = Path(pretrained_name_to_path(model)) if model in SEVENN_BUNDLED else _existing_file(model, "SevenNet")
    ckpt = _sevenn_checkpoint(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no tensor-product accelerator" on CPU
            net = ckpt.build_model()
            return SevenNetCalculator(net, file_type="model_instance", device=device, sevennet_config=ckpt.config)
    except Exception as exc:
        raise ModelError(f"SevenNet model {model!r} could not be loaded: {exc}") from exc


def _matgl_class(ref: dict, where: str):
    """The class a matgl ``@module``/``@class`` reference names, if it is a matgl torch module; else a
    ``ModelError`` (matgl itself imports and calls whatever a model file names)."""
    import torch

    mod, name = ref.get("@module"), ref.get("@class")
    if not (isinstance(mod, str) and isinstance(name, str) and mod.startswith("matgl.") and name.isidentifier()):
        raise ModelError(f"{where} refused: it names {mod}.{name}, not a matgl model class")
    public = "matgl.models" if mod.startswith("matgl.models._") else "matgl.apps.pes" if mod.startswith(
        "matgl.apps._pes") else mod  # matgl.utils.io._resolve_module
    try:
        cls = getattr(importlib.import_module(public), name)
    except (ImportError, AttributeError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module) and cls.__module__.startswith("matgl.")):
        raise ModelError(f"{where} refused: it names {mod}.{name}, not a matgl model class")
    return cls


def _check_matgl_refs(obj, where: str) -> None:
    """Every dict in a matgl model file that references code (@module, @class, @callable) must name a matgl
    model class."""
    if isinstance(obj, dict):
        if "@callable" in obj:
            raise ModelError(f"{where} refused: it names the callable {obj.get('@module')}.{obj['@callable']}")
        if "@module" in obj or "@class" in obj:
            _matgl_class(obj, where)
        for v in obj.values():
            _check_matgl_refs(v, where)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _check_matgl_refs(v, where)


def check_matgl_model(files: dict[str, Path]) -> None:
    """Read a matgl model directory as data (JSON; torch weights_only=True with numpy arrays) and check
    every code reference in it before matgl's ``Potential.load`` instantiates them."""
    import json

    try:
        meta = json.loads(files["model.json"].read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"matgl model file {files['model.json']} is not valid JSON: {exc}") from None
    args = safe_torch_load(files["model.pt"], "matgl", _numpy_globals())
    state = safe_torch_load(files["state.pt"], "matgl", _numpy_globals())
    for name, obj in (("model.json", meta), ("model.pt", args)):
        if not isinstance(obj, dict):
            raise ModelError(f"matgl model file {files[name]} is not a matgl model file (not a dict)")
        _check_matgl_refs(obj, f"matgl model file {files[name]}")
    _check_matgl_refs(state, f"matgl model file {files['state.pt']}")


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
    except ImportError as exc:
        raise ModelError("matgl is not installed: pip install matgl") from exc
    check_matgl_model(files)
    try:
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


def potential_identity(name: str, model: str = "", model_path: str = "") -> dict:
    """What a potential's results depend on: backend, model name and the SHA-256 of the weights (a user
    file or directory, else the bundled model of the installed package version)."""
    from importlib import metadata

    from perovscreen.core.hashing import path_sha256

    key = str(name).lower()
    if key in SEVENN_BUNDLED:
        key, model = "sevenn", key
    if key not in BACKENDS:
        raise ModelError(f"unknown potential {name!r}; choose one of {', '.join(BACKENDS)}")
    if model_path:
        p = Path(model_path).expanduser()
        if not p.exists():
            raise ModelError(f"{key} weights not found: {p}")
        return {"potential": key, "weights_sha256": path_sha256(p)}
    if key == "matgl":
        raise ModelError("the matgl backend needs model_path= a local matgl model directory")
    package = {"chgnet": "chgnet", "sevenn": "sevenn"}[key]
    return {"potential": key, "model": model or ("7net-0" if key == "sevenn" else "0.3.0"),
            "package": f"{package}=={metadata.version(package)}"}


def backend_name(calc: Calculator) -> str:
    """Short label of a calculator for provenance ('chgnet', 'sevenn', 'matgl' or the class name)."""
    cls = type(calc).__name__
    return {"CHGNetCalculator": "chgnet", "LeanCHGNetCalculator": "chgnet", "SevenNetCalculator": "sevenn",
            "PESCalculator": "matgl"}.get(cls, cls)
