"""Screening configuration: the TOML schema is generated from the stages' parameter dataclasses plus the
funnel's own rules (enabled, keep, limits), so every default is written once, where the stage defines it.

    [run]        out, ion, jobs, executor, address, max_atoms        (how the funnel runs)
    [space]      keep, min_length, relax, seed                      (generated candidates)
    [relax]      the relax stage's parameters                       (used when [space] relax = true)
    [bvse] [ml] [stability] [md] [mesoscale] [advanced]   funnel rules + that stage's parameters
    [ranking]    weights
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

from perovscreen.core.errors import InputError
from perovscreen.jobs.stage import show_value, defaults_table, make_params, param
from perovscreen.pipeline.stages import ADVANCED, BVSE, MD, MESOSCALE, ML, RELAX, STABILITY, STAGES


@dataclass(frozen=True)
class RunSection:
    out: str = param("results", "output folder (report, ranking.json, store)", kind="path")
    ion: str = param("Li", "mobile ion")
    jobs: int = param(2, "parallel workers", minimum=1)
    executor: str = param("local", "where tasks run", choices=("local", "serial", "ray"))
    address: str = param("", "Ray address (auto or HOST:PORT; empty: start a local Ray)")
    max_atoms: int = param(2000, "reject larger cells", minimum=1)


@dataclass(frozen=True)
class SpaceSection:
    keep: float = param(8.0, "candidates kept from the enumerated space (fraction <= 1 or count)", minimum=0.0,
                        exclusive=True)
    min_length: float = param(7.5, "minimum width of generated prototype cells", "A", minimum=0.0, exclusive=True)
    relax: bool = param(False, "relax generated prototypes with the [relax] stage before screening")
    seed: int = param(0, "seed of the prototype decoration")


@dataclass(frozen=True)
class Rules:
    enabled: bool = param(True, "run this stage")
    keep: float = param(1.0, "candidates kept after the stage (fraction <= 1 or count > 1)", minimum=0.0,
                        exclusive=True)


@dataclass(frozen=True)
class StabilityRules(Rules):
    max_e_above_hull: float = param(0.2, "remove candidates above this energy above hull", "eV/atom", minimum=0.0)


@dataclass(frozen=True)
class MDRules:
    enabled: bool = param(True, "run this stage")
    top: int = param(1, "MD on this many best candidates (by ML conductivity)", minimum=0)
    ids: str = param("", "also MD on these candidates, comma-separated ids (a CIF's file stem), when they reach "
                     "the MD stage")


@dataclass(frozen=True)
class MesoRules:
    enabled: bool = param(False, "pellet conductivity of every ranked candidate: its MD sigma(300 K), else its ML "
                          "sigma, through the grain-boundary model below")


@dataclass(frozen=True)
class AdvancedRules:
    enabled: bool = param(False, "the optional last stage: formation energy, interface reactions vs Li and the "
                          "cathode, electrochemical window and elastic constants of the best candidates")
    top: int = param(1, "advanced stage on this many best candidates (by ML conductivity)", minimum=0)
    neb_top: int = param(0, "NEB-refined barrier (the neb stage's defaults, the [advanced] potential) for this "
                         "many of them", minimum=0)


# section -> (funnel rules dataclass or None, stage or None)
SECTIONS = {"run": (RunSection, None), "space": (SpaceSection, None), "relax": (None, RELAX),
            "bvse": (Rules, BVSE), "ml": (Rules, ML), "stability": (StabilityRules, STABILITY),
            "md": (MDRules, MD), "mesoscale": (MesoRules, MESOSCALE),
            "advanced": (AdvancedRules, ADVANCED)}
OBJECTIVES = ("log10_sigma", "barrier", "e_above_hull")
DEFAULT_WEIGHTS = {k: 1.0 for k in OBJECTIVES}


def _fields(cls) -> dict:
    return {f.name: f for f in dataclasses.fields(cls)} if cls else {}


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def validate_config(data: dict, where: str = "config") -> dict:
    """Defaults overlaid with `data`; unknown sections or keys, wrong types and out-of-range values raise
    InputError naming the key. Returns {section: {key: value}} (plain JSON values)."""
    data = data or {}
    cfg = {}
    for section in data:
        if section not in SECTIONS and section != "ranking":
            raise InputError(f"{where}: unknown section [{section}] (known: {', '.join([*SECTIONS, 'ranking'])})")
        if not isinstance(data[section], dict):
            raise InputError(f"{where}: [{section}] must be a table")
    for section, (rules, stage) in SECTIONS.items():
        values = dict(data.get(section, {}))
        rule_names, stage_names = _fields(rules), _fields(stage.params if stage else None)
        unknown = sorted(set(values) - set(rule_names) - set(stage_names))
        if unknown:
            raise InputError(f"{where}: unknown key(s) {unknown} in [{section}] "
                             f"(known: {', '.join([*rule_names, *stage_names])})")
        out = {}
        if rules:
            r = make_params(rules, {k: v for k, v in values.items() if k in rule_names}, where, f"[{section}]")
            out.update(dataclasses.asdict(r))
        if stage:
            p = make_params(stage.params, {k: _tuple(v) for k, v in values.items() if k in stage_names}, where,
                            f"[{section}]")
            out.update({k: _plain(v) for k, v in dataclasses.asdict(p).items()})
        cfg[section] = out
    weights = dict((data.get("ranking") or {}).get("weights", DEFAULT_WEIGHTS))
    extra = set(data.get("ranking") or {}) - {"weights"}
    if extra:
        raise InputError(f"{where}: unknown key(s) {sorted(extra)} in [ranking] (known: weights)")
    for k, v in weights.items():
        if k not in OBJECTIVES:
            raise InputError(f"{where}: [ranking] weights has unknown objective {k!r} (known: {', '.join(OBJECTIVES)})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise InputError(f"{where}: [ranking] weights.{k} must be a number >= 0, got {v!r}")
    cfg["ranking"] = {"weights": weights}
    return cfg


def _tuple(v):
    return tuple(v) if isinstance(v, list) else v


def stage_params(cfg: dict, section: str, **execution):
    """The stage parameters of a validated config section, with the funnel's execution options."""
    stage = SECTIONS[section][1]
    names = _fields(stage.params)
    values = {k: _tuple(v) for k, v in cfg[section].items() if k in names}
    return stage.make({**values, **execution})


def load_config(path: str | Path | None) -> dict:
    if not path:
        return validate_config({})
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    return validate_config(data, str(path))


def keep_count(keep: float, n: int) -> int:
    """A fraction (<= 1) of n, rounded up, or an absolute count (> 1)."""
    return min(n, int(keep) if keep > 1 else max(1 if n else 0, int(-(-keep * n // 1))))


def defaults_toml() -> str:
    """Every funnel key with its default, as TOML comments would show it (for docs)."""
    cfg = validate_config({})
    lines = []
    for section, values in cfg.items():
        lines.append(f"[{section}]")
        for k, v in values.items():
            lines.append(f"{k} = {_toml(v)}")
    return "\n".join(lines) + "\n"


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    return str(v)


def defaults_markdown() -> str:
    """docs/defaults.md: every stage parameter and funnel key with its default (generated; a test checks it).
    Regenerate with `python -m perovscreen.pipeline.config > docs/defaults.md`."""

    rules = [cls for cls, _ in SECTIONS.values() if cls is not None]
    lines = ["# Defaults", "",
             "Generated from the stages' parameter dataclasses by `python -m perovscreen.pipeline.config > "
             "docs/defaults.md`; a test fails when this page is out of date. Every default is written once, in "
             "its stage's dataclass; the CLI flags, the funnel's TOML keys and this page derive from it.", "",
             "## Stages", "",
             "Science parameters enter the resume key (with the stage version and the resolved identities: model, "
             "weight and reference-set hashes); execution options never do.", "",
             defaults_table(STAGES), "## Funnel configuration (`perovscreen screen --config screen.toml`)", "",
             "Each stage section takes the funnel's rules below plus that stage's parameters above; `[relax]` "
             "takes the relax stage's.", "",
             _rules_table(rules), "Every key with its default:", "", "```toml", defaults_toml().rstrip(), "```", ""]
    return "\n".join(lines)


def _rules_table(classes) -> str:

    names = {"RunSection": "[run]", "SpaceSection": "[space]", "Rules": "[bvse] [ml]",
             "StabilityRules": "[stability]", "MDRules": "[md]", "MesoRules": "[mesoscale]",
             "AdvancedRules": "[advanced]"}
    out = ["| section | key | default | unit | help |", "| --- | --- | --- | --- | --- |"]
    for cls in dict.fromkeys(classes):
        for f in dataclasses.fields(cls):
            out.append(f"| {names.get(cls.__name__, cls.__name__)} | `{f.name}` | {show_value(f.default)} | "
                       f"{f.metadata['unit']} | {f.metadata['help']} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(defaults_markdown(), end="")
