"""The live campaign: stages as the oracle, the store as the memory, a JSON state file as the campaign.

Each cycle fits the surrogates on everything known, scores the candidates, picks a batch, runs the
objective stages on it through the batch runner (so local/Ray executors and content-addressed resume
come for free), records the results and refits. Cheap fidelities (BVSE barrier, ML log10 sigma) run on
every candidate once and enter the surrogates as inputs (stacked multi-fidelity, learn/campaign.py), or,
with `--surrogate mfgp`, as lower-fidelity observations of a BoTorch multi-fidelity GP (learn/mfgp.py).

The campaign folder holds `campaign.json` (settings, candidates, the Campaign state, every pick with its
acquisition value and the prediction made before the calculation, per-fidelity CPU-seconds), the store
`perovscreen.db` (unless --db) and the report. The picks of a cycle are written *before* its
calculations run: a campaign killed at any moment continues, on rerun, with the same picks, and the
store returns every finished calculation without recomputing it. A pick whose calculation fails is
recorded as failed and never proposed again.

CPU-seconds are the runner's measured seconds of each task (stored with every run), counted once per
candidate and fidelity, whether computed in this run or found in the store.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.jobs.runner import INGEST, RunOptions, execute_batch
from perovscreen.jobs.stage import Stage, make_params, param
from perovscreen.learn.campaign import Campaign
from perovscreen.learn.report import FIDELITY_LABELS
from perovscreen.learn.surrogates import SURROGATES

STATE = "campaign.json"


@dataclass(frozen=True)
class LearnParams:
    cycles: int = param(3, "cycles to reach (a rerun with a larger number continues)", minimum=1)
    batch: int = param(4, "candidates computed per cycle", "candidates", minimum=1)
    budget: float = param(1.0, "stop once this much CPU time is spent (all fidelities)", "CPU-hours", minimum=0.0,
                          exclusive=True)
    objective: str = param("log10_sigma", "objective(s): log10_sigma, e_above_hull, or both (comma-separated)")
    sigma_from: str = param("md", "fidelity measuring log10_sigma", choices=("md", "ml"))
    cheap: str = param("bvse,ml", "cheap fidelities run on every candidate, inputs to the surrogates "
                       "(comma-separated; 'none' for none)")
    policy: str = param("", "acquisition: ei, greedy, ucb, thompson, eipc (EI per expected CPU-second), bandit; "
                        "ehvi for two objectives (default: ei, or ehvi)")
    surrogate: str = param("forest", "surrogate model (mfgp: BoTorch multi-fidelity GP, cheap fidelities as "
                           "lower-fidelity data)", choices=SURROGATES)
    seed: int = param(0, "random seed")
    pool: int = param(24, "candidates built from --space (the best by the composition model)", minimum=1)
    config: str = param("", "funnel TOML whose stage sections set the stage parameters", science=False,
                        kind="path")
    out: str = param("campaign", "campaign folder (state, store, report)", science=False, kind="path")


@dataclass
class Fidelity:
    """A stage that measures one number per candidate; `maximize` says which way is better."""
    name: str
    stage: Stage
    params: object
    value: Callable[[dict], float]
    maximize: bool
    label: str


def _min_barrier(r: dict) -> float:
    vals = [float(v) for v in (r.get("barriers") or {}).values()]
    return min(vals) if vals else math.inf


def _ml_sigma(r: dict) -> float:
    return float(r["predictions"]["log10_sigma"]["value"])


def _md_sigma(r: dict) -> float:
    from perovscreen.mesoscale.stage import bulk_from

    s = bulk_from(r)
    if s is None or not s.value or s.value <= 0:
        raise InputError("MD gave no conductivity")
    return math.log10(s.value)


def default_fidelities(cfg: dict, out: Path, jobs: int, db: str) -> dict:
    """The project's fidelities with the stage parameters of the funnel config `cfg`."""
    from perovscreen.pipeline.config import stage_params
    from perovscreen.pipeline.funnel import ensure_ml_model
    from perovscreen.pipeline.stages import BY_NAME

    say = lambda m: print(f"[learn] {m}", file=sys.stderr, flush=True)  # noqa: E731
    ml_model = ensure_ml_model(cfg["ml"]["model_path"], say, cfg["ml"]["descriptors"] == "structure", cache=db)
    return {
        "bvse": Fidelity("bvse", BY_NAME["bvse"], stage_params(cfg, "bvse"), _min_barrier, False,
                         FIDELITY_LABELS["bvse"]),
        "ml": Fidelity("ml", BY_NAME["ml"], stage_params(cfg, "ml", model_path=str(ml_model),
                                                         cache=cfg["ml"]["cache"] or db), _ml_sigma, True,
                       FIDELITY_LABELS["ml"]),
        "stability": Fidelity("stability", BY_NAME["stability"], stage_params(cfg, "stability"),
                              lambda r: float(r["e_above_hull"]), False, FIDELITY_LABELS["stability"]),
        "md": Fidelity("md", BY_NAME["md"], stage_params(cfg, "md", workdir=str(out / "md"), jobs=jobs),
                       _md_sigma, True, FIDELITY_LABELS["md"]),
    }


def objective_fidelities(p: LearnParams) -> list[str]:
    names = [o.strip() for o in p.objective.split(",") if o.strip()]
    table = {"log10_sigma": p.sigma_from, "e_above_hull": "stability"}
    bad = [o for o in names if o not in table]
    if bad or not 1 <= len(names) <= 2:
        raise InputError(f"--objective: one or two of log10_sigma, e_above_hull, got {p.objective!r}")
    return [table[o] for o in names]


def cheap_fidelities(p: LearnParams, objectives) -> list[str]:
    names = [c.strip() for c in p.cheap.split(",") if c.strip() and c.strip() != "none"]
    return [c for c in dict.fromkeys(names) if c not in objectives]


# ---- state -------------------------------------------------------------------------------------------
def load_state(folder: Path) -> dict | None:
    path = folder / STATE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not a campaign state ({exc})") from None


def save_state(folder: Path, state: dict) -> None:
    """Atomically: a kill during the write leaves the previous state."""
    tmp = folder / (STATE + ".tmp")
    tmp.write_text(json.dumps(state, indent=1, default=str))
    os.replace(tmp, folder / STATE)


def _settings(p: LearnParams, fids: dict, names) -> dict:
    """What the campaign's answers depend on: a rerun with other settings must use another folder."""
    d = {k: v for k, v in asdict(p).items() if k not in ("cycles", "budget", "config", "out")}
    d["stages"] = {n: fids[n].stage.resume_key(fids[n].params) for n in names}
    return d


# ---- candidates --------------------------------------------------------------------------------------
def space_pool(space, p: LearnParams, cfg: dict, out: Path) -> list[str]:
    """The best `pool` compositions of a space (composition model), built as ordered supercells."""
    from perovscreen.ml.train import load_property_model
    from perovscreen.pipeline.funnel import ensure_ml_model
    from perovscreen.pipeline.space_stage import space_candidates
    from perovscreen.structures.space import load_space

    spec = load_space(space)
    model, _ = load_property_model(ensure_ml_model("", lambda m: print(f"[learn] {m}", file=sys.stderr), False))
    folder = out / "candidates"
    summary = space_candidates(spec, model, folder, p.pool, cfg["space"]["min_length"], cfg["space"]["seed"])
    return [str(folder / f"{c['id']}.cif") for c in summary["selected"]]


def intake(paths, opts: RunOptions) -> list[dict]:
    """Readable, distinct structures (duplicates and unreadable inputs dropped, with a line each)."""
    rows = execute_batch(INGEST, paths, None, opts)
    out, seen = [], set()
    for r in rows:
        if r["status"] != "ok" or r.get("duplicate_of") or r["key"] in seen:
            print(f"[learn] skipped {r['id']}: {r.get('error') or 'duplicate of ' + str(r.get('duplicate_of'))}",
                  file=sys.stderr)
            continue
        seen.add(r["key"])
        out.append({"id": r["id"], "file": r["file"], "formula": r["formula"], "key": r["key"]})
    if not out:
        raise InputError("no readable candidate structures")
    return out


def measure(fid: Fidelity, cands: list[dict], opts: RunOptions) -> dict:
    """key -> {value, seconds, resumed, error} for the candidates, through the batch runner."""
    files = sorted({c["file"] for c in cands})
    rows = execute_batch(fid.stage, files, fid.params, opts)
    by_key = {}
    for r in rows:
        if r["key"] in by_key:
            continue
        entry = {"seconds": float(r.get("seconds") or 0.0), "resumed": bool(r.get("resumed")), "error": r["error"]}
        if r["status"] == "ok":
            try:
                entry["value"] = fid.value(r["result"])
                if not math.isfinite(entry["value"]):
                    raise InputError(f"{fid.name} gave a non-finite value")
            except (InputError, KeyError, TypeError, ValueError) as exc:
                entry["error"] = f"{fid.name}: {exc}"
        by_key[r["key"]] = entry
    return by_key


# ---- the loop ----------------------------------------------------------------------------------------
def run_campaign(paths=(), space=None, params: LearnParams | None = None, opts: RunOptions | None = None,
                 fidelities: dict | None = None, log=sys.stderr, **overrides) -> dict:
    """Run (or continue) the campaign in `params.out` until `cycles` cycles or `budget` CPU-hours; returns
    the state (also in <out>/campaign.json) and writes the report."""
    from perovscreen.features.composition import featurize_compositions

    p = params if params is not None else make_params(LearnParams, overrides, label="learn")
    out = Path(p.out)
    out.mkdir(parents=True, exist_ok=True)
    opts = opts or RunOptions(db=str(out / "perovscreen.db"), quiet=True)
    opts.quiet = True
    cfg = _config(p) if fidelities is None or space is not None else None
    say = lambda m: print(f"[learn] {m}", file=log, flush=True)  # noqa: E731
    obj_names = objective_fidelities(p)
    policy = p.policy or ("ehvi" if len(obj_names) == 2 else "ei")
    fids = fidelities if fidelities is not None else default_fidelities(cfg, out, opts.jobs, opts.db)
    cheap = cheap_fidelities(p, obj_names)
    unknown = [n for n in [*obj_names, *cheap] if n not in fids]
    if unknown:
        raise InputError(f"unknown fidelity {unknown[0]!r}; known: {', '.join(fids)}")
    settings = _settings(p, fids, [*obj_names, *cheap])
    state = load_state(out)
    if state is not None and state["settings"] != settings:
        changed = sorted(k for k in settings if state["settings"].get(k) != settings[k])
        raise InputError(f"{out / STATE} holds a campaign with other settings ({', '.join(changed)}); "
                         f"use another --out")
    if state is None:
        if space is not None:
            paths = [*paths, *space_pool(space, p, cfg, out)]
        if not paths:
            raise InputError("give candidate structures or --space")
        cands = intake(paths, opts)
        state = {"settings": settings, "policy": policy, "objectives": obj_names, "cheap": cheap,
                 "candidates": cands, "campaign": None, "pending": None, "cycles": [],
                 "cost": {}, "spent": {}, "failed": {}}
        save_state(out, state)
    cands = state["candidates"]
    X = featurize_compositions([c["formula"] for c in cands])
    t0 = time.perf_counter()

    # cheap fidelities: every candidate, once per run (from the store after the first time)
    aux = np.full((len(cands), len(cheap)), np.nan)
    for j, name in enumerate(cheap):
        res = measure(fids[name], cands, opts)
        for i, c in enumerate(cands):
            e = res.get(c["key"], {})
            state["cost"].setdefault(name, {})[c["key"]] = e.get("seconds", 0.0)
            if "value" in e:
                aux[i, j] = e["value"] if fids[name].maximize else -e["value"]
        say(f"{name}: {np.isfinite(aux[:, j]).sum()}/{len(cands)} candidates "
            f"({sum(not e['resumed'] for e in res.values())} computed now)")
    _tally(state)
    signs = [1.0 if fids[n].maximize else -1.0 for n in obj_names]

    while True:
        pending = state["pending"]
        if pending is None:
            if len(state["cycles"]) >= p.cycles:
                break
            if sum(state["spent"].values()) >= p.budget * 3600:
                say(f"budget of {p.budget:g} CPU-hours spent")
                break
            c = _campaign(state, X, aux, policy, p, len(obj_names), fids, obj_names)
            picks = c.propose(p.batch)
            if not picks:
                say("every candidate is labelled or failed")
                break
            pending = {"cycle": len(state["cycles"]) + 1, "picks": c.last, "campaign": c.to_state()}
            for pick in pending["picks"]:
                pick["id"] = cands[pick["index"]]["id"]
                pick["formula"] = cands[pick["index"]]["formula"]
                pick["predicted"] = _display(pick, signs, obj_names)
            state["pending"] = pending
            save_state(out, state)       # the picks are fixed before any calculation runs
        c = Campaign.from_state(pending["campaign"], X, aux=aux if cheap else None, cost=_cost(state, obj_names))
        c.aux_same_scale = _same_scale(cheap, obj_names, p)
        say(f"cycle {pending['cycle']}: " + ", ".join(f"{x['id']}" for x in pending["picks"]))
        chosen = [cands[x["index"]] for x in pending["picks"]]
        results = {n: measure(fids[n], chosen, opts) for n in obj_names}
        good, values, failed = [], [], []
        for pick, cand in zip(pending["picks"], chosen):
            es = [results[n].get(cand["key"], {"error": "not run"}) for n in obj_names]
            for n, e in zip(obj_names, es):
                state["cost"].setdefault(n, {})[cand["key"]] = e.get("seconds", 0.0)
            pick["computed_now"] = {n: not e.get("resumed", False) for n, e in zip(obj_names, es)}
            errs = [e["error"] or "no value" for e in es if "value" not in e]
            if errs:
                pick["status"], pick["error"] = "failed", "; ".join(errs)
                state["failed"][cand["id"]] = pick["error"]
                failed.append(pick["index"])
                continue
            pick["status"] = "ok"
            pick["observed"] = {n: e["value"] for n, e in zip(obj_names, es)}
            good.append(pick["index"])
            values.append([s * e["value"] for s, e in zip(signs, es)])
        c.fail(failed)
        if good:
            batch_cost = sum(state["cost"][n][cands[i]["key"]] for n in obj_names for i in good) / 3600.0
            c.observe(good, [v[0] for v in values] if len(obj_names) == 1 else values, cost=max(batch_cost, 1e-9))
        _tally(state)
        state["cycles"].append({"cycle": pending["cycle"], "policy": pending["picks"][0]["policy"] if
                                pending["picks"] else policy, "picks": pending["picks"],
                                "spent": dict(state["spent"]), "seconds": round(time.perf_counter() - t0, 1)})
        state["campaign"], state["pending"] = c.to_state(), None
        save_state(out, state)
        say(f"cycle {pending['cycle']} done: {len(good)} ok, {len(failed)} failed; spent "
            + ", ".join(f"{k} {v / 3600:.3f}" for k, v in state["spent"].items()) + " CPU-h")
    from perovscreen.learn.report import write_report

    state["report"] = write_report(state, out, [fids[n].label for n in obj_names])
    save_state(out, state)
    return state


def _config(p: LearnParams) -> dict:
    from perovscreen.pipeline.config import load_config   # imports every stage: only when needed

    return load_config(p.config or None)


def _campaign(state, X, aux, policy, p: LearnParams, n_obj: int, fids, obj_names) -> Campaign:
    cost = _cost(state, obj_names)
    if state["campaign"] is None:
        c = Campaign(X, policy, p.surrogate, seed=p.seed, objectives=n_obj,
                     aux=aux if aux.shape[1] else None, cost=cost)
    else:
        c = Campaign.from_state(state["campaign"], X, aux=aux if aux.shape[1] else None, cost=cost)
    c.aux_same_scale = _same_scale(state["cheap"], obj_names, p)
    return c


def _same_scale(cheap, obj_names, p: LearnParams) -> list[bool]:
    """mfgp: the ML log10 sigma is the MD log10 sigma at a lower fidelity, in the same units; other cheap
    fidelities (BVSE barrier) are calibrated onto the target's scale."""
    return [n == "ml" and list(obj_names) == [p.sigma_from] != ["ml"] for n in cheap]


def _cost(state, obj_names) -> np.ndarray:
    """Expected CPU-seconds of each candidate's objective calculations: the mean measured cost per fidelity
    (1 s before any is measured), scaled by the candidate's cheap-fidelity cost relative to the mean (BVSE
    and ML times grow with the cell, as the expensive stages do)."""
    cands = state["candidates"]
    total = np.zeros(len(cands))
    size = np.ones(len(cands))
    cheap = [n for n in state["cheap"] if state["cost"].get(n)]
    if cheap:
        s = np.array([sum(state["cost"][n].get(c["key"], 0.0) for n in cheap) for c in cands])
        if s.mean() > 0:
            size = np.where(s > 0, s / s.mean(), 1.0)
    for n in obj_names:
        known = list(state["cost"].get(n, {}).values())
        total += (float(np.mean(known)) if known else 1.0) * size
    return total


def _tally(state) -> None:
    state["spent"] = {n: round(float(sum(v.values())), 3) for n, v in state["cost"].items()}


def _display(pick: dict, signs, names) -> dict | None:
    if pick.get("mean") is None:
        return None
    return {n: {"mean": None if m is None else s * m, "std": sd}
            for n, s, m, sd in zip(names, signs, pick["mean"], pick["std"])}
