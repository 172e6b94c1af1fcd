"""The screening funnel: (space ->) intake -> BVSE -> ML -> stability -> MD (-> mesoscale) (-> advanced) -> ranking.

A list of stages with keep/order/accept rules. Each stage runs through the batch runner, so results land
in the store as they finish and a re-run (or a killed and restarted run) recomputes nothing finished.
Each stage keeps a configurable number or fraction of the candidates; its wall time and what it removed
are recorded. The report layer (perovscreen.report) renders the returned `ScreenResult`.
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perovscreen.bvse.core import BVSEResult
from perovscreen.core.provenance import params_hash, provenance
from perovscreen.core.results import Estimate, Result, decode, encode
from perovscreen.jobs.runner import RunOptions, execute_batch
from perovscreen.md.runner import MDResult
from perovscreen.ml.model import Prediction
from perovscreen.pipeline.config import keep_count, stage_params
from perovscreen.pipeline.stages import ADVANCED, BVSE, INGEST, MD, ML, NEB_STAGE, RELAX, STABILITY
from perovscreen.potentials.stability import StabilityResult


@dataclass
class StageLog:
    name: str
    n_in: int
    n_out: int
    seconds: float
    removed: dict = field(default_factory=dict)  # id -> reason

    def to_dict(self) -> dict:
        return {"name": self.name, "n_in": self.n_in, "n_out": self.n_out, "seconds": round(self.seconds, 2),
                "removed": self.removed}


@dataclass
class Candidate:
    """One candidate and the typed result of every stage it went through."""
    id: str
    file: str
    formula: str | None = None
    identity: str | None = None
    key: str | None = None
    source: str = "cif"  # cif | space
    bvse: BVSEResult | None = None
    ml: Prediction | None = None
    stability: StabilityResult | None = None
    md: MDResult | None = None
    mesoscale: Result | None = None  # MesoResult: pellet conductivity with grain boundaries
    advanced: Result | None = None  # AdvancedResult: formation energy, interfaces, window, elastic constants
    neb: Result | None = None  # NebPathway: NEB-refined barriers ([advanced] neb_top)
    measured: dict | None = None
    front: int | None = None
    score: float | None = None
    overlaps_leader: bool | None = None

    @property
    def barrier(self) -> float:
        """Lowest finite percolation barrier (the easiest long-range path), inf when none."""
        if not self.bvse:
            return math.nan
        vals = [float(v) for v in self.bvse.barriers.values()]
        return min(vals) if vals else math.inf

    def pred(self, target: str) -> Estimate | None:
        return self.ml.predictions.get(target) if self.ml else None

    def value(self, target: str, default=math.nan) -> float:
        p = self.pred(target)
        return p.value if p else default

    def to_dict(self) -> dict:
        return {k: encode(getattr(self, k)) for k in self.__dataclass_fields__} | {"barrier": self.barrier}


class Funnel:
    def __init__(self, cfg: dict, log=sys.stderr):
        self.cfg = cfg
        self.out = Path(cfg["run"]["out"])
        self.out.mkdir(parents=True, exist_ok=True)
        self.db = self.out / "perovscreen.db"
        self.stages: list[StageLog] = []
        self.log = log
        r = cfg["run"]
        self.opts = RunOptions(db=str(self.db), jobs=r["jobs"], executor=r["executor"], address=r["address"] or None,
                               quiet=True, ion=r["ion"], max_atoms=r["max_atoms"])

    def say(self, msg: str) -> None:
        print(f"[screen] {msg}", file=self.log, flush=True)

    def _stage(self, stage, cands, params, keep=None, order=None, accept=None) -> list[Candidate]:
        """Run `stage` over `cands`, attach typed results, keep the best `keep` (by `order`)."""
        t0 = time.perf_counter()
        self.say(f"{stage.name}: {len(cands)} candidates")
        files = sorted({c.file for c in cands})
        rows = execute_batch(stage, files, params, self.opts)
        by_input = {(r["file"], r["key"]): r for r in rows}  # byte-identical files share a key, not a file
        kept, removed = [], {}
        for c in cands:
            r = by_input.get((c.file, c.key))
            if r is None or r["status"] != "ok":
                removed[c.id] = (r or {}).get("error") or "not run"
                continue
            setattr(c, stage.name, decode(r["result"]))
            if accept and (why := accept(c)):
                removed[c.id] = why
                continue
            kept.append(c)
        if keep is not None and order is not None:
            kept.sort(key=order)
            n = keep_count(keep, len(kept))
            for c in kept[n:]:
                removed[c.id] = f"not in the best {n} by {stage.name}"
            kept = kept[:n]
        self.stages.append(StageLog(stage.name, len(cands), len(kept), time.perf_counter() - t0, removed))
        return kept

    def relax_prototypes(self, folder: Path) -> list[str]:
        """Relax the generated prototypes with the universal potential (resumable batch stage); the relaxed
        CIFs go to candidates_relaxed/, a prototype whose relaxation failed goes on unrelaxed (reason logged)."""
        t0 = time.perf_counter()
        rows = execute_batch(RELAX, [folder], stage_params(self.cfg, "relax"), self.opts)
        dest = self.out / "candidates_relaxed"
        dest.mkdir(parents=True, exist_ok=True)
        files, failed = [], {}
        for r in rows:
            if r["status"] == "ok" and r.get("cif"):
                (dest / Path(r["file"]).name).write_text(r["cif"])
                files.append(str(dest / Path(r["file"]).name))
            else:
                failed[r["id"]] = f"kept unrelaxed: {r.get('error') or 'no result'}"
                files.append(r["file"])
        self.stages.append(StageLog("relax", len(rows), len(rows) - len(failed), time.perf_counter() - t0, failed))
        return files

    def intake(self, paths) -> list[Candidate]:
        t0 = time.perf_counter()
        rows = execute_batch(INGEST, paths, None, self.opts)
        cands, removed = [], {}
        for r in rows:
            if r["status"] != "ok":
                removed[r["id"]] = r["error"]
            elif r.get("duplicate_of"):
                removed[r["id"]] = f"duplicate of {r['duplicate_of']}"
            else:
                src = "space" if Path(r["file"]).parent.name.startswith("candidates") else "cif"
                cands.append(Candidate(r["id"], r["file"], r["formula"], r["identity"], r["key"], src))
        self.stages.append(StageLog("ingest", len(rows), len(cands), time.perf_counter() - t0, removed))
        return cands

    def bvse(self, cands):
        return self._stage(BVSE, cands, stage_params(self.cfg, "bvse"), keep=self.cfg["bvse"]["keep"],
                           order=lambda x: x.barrier)

    def ml(self, cands):
        c = self.cfg["ml"]
        path = ensure_ml_model(c["model_path"], self.say, c["descriptors"] == "structure", cache=self.db)
        params = stage_params(self.cfg, "ml", model_path=str(path), cache=c["cache"] or str(self.db))
        return self._stage(ML, cands, params, keep=c["keep"], order=lambda x: -x.value("log10_sigma", -99))

    def stability(self, cands):
        c = self.cfg["stability"]
        limit = c["max_e_above_hull"]
        params = stage_params(self.cfg, "stability")
        self._warm_references(cands, params)

        def accept(x):
            e = x.stability.e_above_hull
            return f"E_hull {e:.3f} eV/atom > {limit}" if e is not None and e > limit else None

        return self._stage(STABILITY, cands, params, keep=c["keep"], order=lambda x: x.stability.e_above_hull,
                           accept=accept)

    def _warm_references(self, cands, params) -> None:
        """Relax the competing phases once, in parallel, before the candidates' workers need them."""
        from pymatgen.core import Composition

        from perovscreen.jobs.executors import get_executor
        from perovscreen.potentials.stability import warm_references

        if not params.use_references:
            return
        t0 = time.perf_counter()
        elements = {el.symbol for x in cands if x.formula for el in Composition(x.formula).elements}
        o = self.opts
        with get_executor(o.executor, max_workers=o.jobs, address=o.address) as ex:
            names = warm_references(elements, params.calculator, params.fmax, params.steps, params.cache or None,
                                    executor=ex, **params.calc_kw())
        self.say(f"stability: {len(names)} reference phases ready ({time.perf_counter() - t0:.0f} s)")

    def md(self, cands):
        c = self.cfg["md"]
        top = sorted(cands, key=lambda x: -x.value("log10_sigma", -99))[: int(c["top"])]
        chosen = [i.strip() for i in c["ids"].split(",") if i.strip()]
        top += [x for x in cands if x.id in chosen and x not in top]
        params = stage_params(self.cfg, "md", workdir=str(self.out / "md"), jobs=self.cfg["run"]["jobs"])
        if top:
            self._stage(MD, top, params)
        else:
            self.stages.append(StageLog(MD.name, 0, 0, 0.0))
        here = {x.id for x in cands}
        self.stages[-1].removed |= {i: "chosen by [md] ids but removed by an earlier stage" for i in chosen
                                    if i not in here}
        return cands

    def advanced(self, cands):
        """The optional last stage on the best `top` candidates (by ML conductivity), then the NEB-refined
        barrier of the best `neb_top` of them with the same potential; nobody is removed."""
        c = self.cfg["advanced"]
        best = sorted(cands, key=lambda x: -x.value("log10_sigma", -99))
        top = best[: int(c["top"])]
        if top:
            self._stage(ADVANCED, top, stage_params(self.cfg, "advanced"))
        neb = best[: int(c["neb_top"])]
        if neb:
            self._stage(NEB_STAGE, neb, NEB_STAGE.make(potential=c["calculator"], model=c["model"],
                                                       model_path=c["model_path"], device=c["device"],
                                                       plot_dir=str(self.out / "neb")))
        return cands

    def mesoscale(self, cands):
        """Pellet conductivity: the microstructure is solved once (sigma_eff is linear in a common scale);
        each candidate's bulk is its MD sigma(300 K), else its ML sigma, interval carried through."""
        from perovscreen.mesoscale.stage import bulk_from, run_mesoscale

        t0 = time.perf_counter()
        params = stage_params(self.cfg, "mesoscale")
        unit = run_mesoscale(None, params, bulk=Estimate(1.0, unit="S/cm"))
        removed = {}
        for c in cands:
            bulk = bulk_from(c.md) if c.md and c.md.arrhenius else bulk_from({"log10_sigma": c.pred("log10_sigma")}) \
                if c.pred("log10_sigma") else None
            if bulk is None:
                removed[c.id] = "no bulk conductivity (neither MD nor ML)"
                continue
            scale = lambda x: None if x is None else x * unit.ratio  # noqa: E731
            c.mesoscale = dataclasses.replace(
                unit, bulk=bulk, source="md" if c.md and c.md.arrhenius else "ml",
                sigma_eff=Estimate(bulk.value * unit.ratio, scale(bulk.lower), scale(bulk.upper), bulk.level, "S/cm",
                                   f"mesoscale({bulk.method or 'point'})"),
                brick_layer=bulk.value * unit.brick_layer)
        self.stages.append(StageLog("mesoscale", len(cands), len(cands) - len(removed), time.perf_counter() - t0,
                                    removed))
        return cands


def ensure_ml_model(model: str, say, structures: bool = False, data=None, cache=None) -> Path:
    """The configured model, else the default model path, trained on OBELiX on first use (a structure
    model caches its descriptors in `cache`, a results store or directory; see features.open_cache)."""
    from perovscreen.features.descriptors import open_cache
    from perovscreen.ml.dataset import obelix_table
    from perovscreen.ml.train import resolve_model_path, save_property_model, train_model

    path = Path(model) if model else resolve_model_path("structure" if structures else "composition")
    if path.exists():
        return path
    say(f"ml: no model at {path}; training one on the OBELiX training split (first run only)")
    table = obelix_table(data, structures=structures, bvse=structures,
                         cache=open_cache(cache) if structures else None)
    m, card = train_model(table, structures=structures)
    save_property_model(m, card, path)
    return path


def attach_measured(cands, data=None) -> None:
    """Measured OBELiX conductivity beside candidates whose composition matches (within 0.5 at.%)."""
    try:
        from pymatgen.core import Composition

        from perovscreen.data.obelix import load_obelix

        df = load_obelix(data)
    except Exception:  # data not available: the report says nothing is known
        return
    known = []
    for _, row in df.iterrows():
        try:
            known.append((Composition(row["formula"]).fractional_composition, row))
        except Exception:
            continue
    for c in cands:
        try:
            comp = Composition(c.formula).fractional_composition
        except Exception:
            continue
        for kc, row in known:
            if set(kc.elements) == set(comp.elements) and all(abs(kc[e] - comp[e]) < 0.005 for e in comp.elements):
                c.measured = {"log10_sigma": float(row["log10_sigma"]), "obelix_id": row["id"],
                              "upper_bound": bool(row["sigma_is_upper_bound"])}
                break


def rank(cands, weights: dict) -> list:
    """Pareto fronts over (ML log10 sigma max, barrier min, E_hull min), then weighted score within fronts."""
    from perovscreen.pipeline.ranking import overlaps_leader, pareto_fronts, weighted_score

    if not cands:
        return []
    names = ["log10_sigma", "barrier", "e_above_hull"]
    v = np.array([[c.value("log10_sigma"), c.barrier,
                   c.stability.e_above_hull if c.stability else np.nan] for c in cands], float)
    v[~np.isfinite(v)] = np.nan
    maximize = [True, False, False]
    fronts = pareto_fronts(v, maximize)
    used = [j for j in range(3) if np.isfinite(v[:, j]).any()]
    score = weighted_score(v[:, used], [maximize[j] for j in used], [weights.get(names[j], 0.0) for j in used])
    for c, f, s in zip(cands, fronts, score):
        c.front, c.score = int(f), float(s)
    ranked = sorted(cands, key=lambda c: (c.front, -c.score))
    lo = np.array([c.pred("log10_sigma").lower if c.pred("log10_sigma") else np.nan for c in ranked])
    hi = np.array([c.pred("log10_sigma").upper if c.pred("log10_sigma") else np.nan for c in ranked])
    ov = overlaps_leader(lo, hi, 0)
    for c, o in zip(ranked, ov):
        c.overlaps_leader = bool(o)
    return ranked


@dataclass
class ScreenResult:
    """What a funnel run produced (the report layer renders it)."""
    ranked: list
    stages: list
    config: dict
    provenance: dict
    out: Path
    db: Path
    all_bvse: list = field(default_factory=list)
    space: dict | None = None
    seconds: float = 0.0


def run_screen(paths=(), space=None, cfg: dict | None = None) -> ScreenResult:
    """The whole funnel; writes ranking.json (and the store) under cfg["run"]["out"]."""
    from perovscreen.pipeline.config import validate_config

    cfg = cfg or validate_config({})
    # an unknown potential or a missing weight file fails now, not after BVSE
    for section, stage in (("stability", STABILITY), ("md", MD), ("advanced", ADVANCED)):
        if cfg[section]["enabled"] and (cfg[section].get("top", 1) or cfg[section].get("ids")):
            stage.identities(stage_params(cfg, section))
    t0 = time.perf_counter()
    f = Funnel(cfg)
    paths = list(paths)
    space_summary = None
    if space is not None:
        from perovscreen.ml.train import load_property_model
        from perovscreen.pipeline.space_stage import space_candidates
        from perovscreen.structures.space import load_space

        spec = load_space(space) if isinstance(space, (str, Path)) else space
        ts = time.perf_counter()
        comp_model, _ = load_property_model(ensure_ml_model("", f.say, structures=False))
        sp = cfg["space"]
        space_summary = space_candidates(spec, comp_model, f.out / "candidates", int(sp["keep"]), sp["min_length"],
                                         sp["seed"])
        f.stages.append(StageLog("space", space_summary["n_enumerated"], len(space_summary["selected"]),
                                 time.perf_counter() - ts, {}))
        paths += f.relax_prototypes(f.out / "candidates") if sp["relax"] else [str(f.out / "candidates")]
    cands = f.intake(paths)
    all_bvse: list[float] = []
    if cfg["bvse"]["enabled"]:
        cands = f.bvse(cands)
        all_bvse = [c.barrier for c in cands]
    if cfg["ml"]["enabled"]:
        cands = f.ml(cands)
    if cfg["stability"]["enabled"]:
        cands = f.stability(cands)
    if cfg["md"]["enabled"] and (cfg["md"]["top"] > 0 or cfg["md"]["ids"].strip()):
        cands = f.md(cands)
    if cfg["mesoscale"]["enabled"]:
        cands = f.mesoscale(cands)
    if cfg["advanced"]["enabled"] and (cfg["advanced"]["top"] > 0 or cfg["advanced"]["neb_top"] > 0):
        cands = f.advanced(cands)
    attach_measured(cands)
    ranked = rank(cands, cfg["ranking"]["weights"])
    prov = provenance({"config_hash": params_hash(cfg)}, files=[p for p in paths if Path(p).is_file()])
    (f.out / "ranking.json").write_text(json.dumps({"config": cfg, "provenance": prov,
                                                    "stages": [s.to_dict() for s in f.stages],
                                                    "space": space_summary,
                                                    "ranked": [c.to_dict() for c in ranked]}, indent=1,
                                                   default=str))
    return ScreenResult(ranked, f.stages, cfg, prov, f.out, f.db, all_bvse, space_summary, time.perf_counter() - t0)
