"""The identity of an MD potential: what a result depends on besides the cell and the settings."""
from __future__ import annotations

from perovscreen.core.errors import InputError
from perovscreen.md.settings import DEFAULTS, calculator_identity


def md_identity(calculator, engine: str = DEFAULTS.engine, model_path: str = "") -> dict:
    """What an MD result depends on about its potential. Universal potentials (ase engine): backend, model
    and weights hash (`potential_identity`); an ASE calculator object: its class and parameters; classical
    potentials: name, engine, hash of the parameters and the SHA-256 of the potential file if any."""
    if engine == "ase":
        if not isinstance(calculator, str):
            return calculator_identity(calculator)
        from perovscreen.potentials.calculators import potential_identity

        return potential_identity(calculator, "", model_path)
    from perovscreen.core.hashing import file_sha256
    from perovscreen.md.classical import POTENTIALS, load_potential, potential_key

    if not model_path and isinstance(calculator, str) and calculator.endswith(".json") and calculator not in POTENTIALS:
        model_path = calculator  # a JSON file given as the potential
    if model_path:
        pot = load_potential(model_path)
        return {"potential": str(calculator), "engine": engine, "parameters": potential_key(pot),
                "file_sha256": file_sha256(model_path)}
    if isinstance(calculator, dict):
        return {"potential": "custom", "engine": engine, "parameters": potential_key(calculator)}
    if calculator not in POTENTIALS:
        raise InputError(f"unknown classical potential {calculator!r}; choose from {', '.join(POTENTIALS)} "
                         "or give --model-path FILE.json")
    return {"potential": calculator, "engine": engine, "parameters": potential_key(POTENTIALS[calculator])}
