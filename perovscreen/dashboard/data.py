"""Read-only loading of a results folder into typed objects.

The store is opened through SQLite's read-only URI (`file:...?mode=ro`), so nothing the dashboard does can
write to it. Each subject's latest successful run of each stage is decoded into the pipeline's `Candidate`
(typed `Result`s and `Estimate`s); the funnel's `ranking.json` beside the store, when present, adds the
fronts, scores, stage logs and removal reasons. Files are only ever read when the store names them, they
lie inside the allowed folders (the store's own folder and any the operator adds) and their SHA-256 still
matches the one recorded at intake; nothing taken from a URL reaches the filesystem.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perovscreen.core.results import Estimate, decode
from perovscreen.learn.report import FIDELITY_LABELS, _directions
from perovscreen.pipeline.funnel import Candidate

STAGES = ("bvse", "ml", "stability", "md", "mesoscale", "neb")
SHARED = "@shared:"


class StoreError(Exception):
    """The results store cannot be shown (missing, not a store, unreadable): shown as a page, not a traceback."""


@dataclass(frozen=True)
class Objective:
    key: str
    label: str
    maximize: bool
    unit: str = ""


OBJECTIVES = {
    "ml:log10_sigma": Objective("ml:log10_sigma", "ML log10 sigma(RT)", True, "log10 S/cm"),
    "ml:Ea": Objective("ml:Ea", "ML Ea", False, "eV"),
    "barrier": Objective("barrier", "BVSE barrier", False, "eV"),
    "e_above_hull": Objective("e_above_hull", "E above hull", False, "eV/atom"),
    "md:log10_sigma": Objective("md:log10_sigma", "MD log10 sigma(T target)", True, "log10 S/cm"),
    "md:Ea": Objective("md:Ea", "MD Ea", False, "eV"),
}


def estimate(c: Candidate, key: str) -> Estimate | None:
    """The Estimate of objective `key` for candidate `c` (point values become Estimates without interval)."""
    if key.startswith("ml:"):
        return c.pred(key[3:])
    if key == "barrier":
        if not c.bvse:
            return None
        cal = getattr(c.bvse, "Ea_calibrated", None)
        return cal if isinstance(cal, Estimate) else Estimate(c.barrier, unit="eV", method="bvse")
    if key == "e_above_hull":
        return Estimate(float(c.stability.e_above_hull), unit="eV/atom") if c.stability else None
    arr = c.md.arrhenius if c.md else None
    if arr is None:
        return None
    if key == "md:Ea":
        return arr.Ea
    if key == "md:log10_sigma" and arr.sigma_target and arr.sigma_target.value > 0:
        s = arr.sigma_target
        lg = lambda x: math.log10(x) if x and x > 0 else None  # noqa: E731
        return Estimate(math.log10(s.value), lg(s.lower), lg(s.upper), s.level, "log10 S/cm", s.method)
    return None


@dataclass
class Results:
    """Everything the dashboard shows, loaded once, read-only."""
    db: Path
    candidates: list = field(default_factory=list)
    by_id: dict = field(default_factory=dict)
    status: dict = field(default_factory=dict)  # id -> "ranked" | "removed at <stage>: <reason>"
    stages: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)  # ranking.json's
    config: dict = field(default_factory=dict)
    run_info: dict = field(default_factory=dict)  # id -> {stage: {params, provenance, seconds}}
    records: dict = field(default_factory=dict)  # id -> intake record
    campaign: dict | None = None  # the `learn run` campaign beside the store (campaign.json), read-only
    campaign_error: str | None = None
    ranking_file: bool = False
    error: str | None = None
    _arrays: dict = field(default_factory=dict, repr=False)

    @property
    def folder(self) -> Path:
        return self.db.parent

    def objectives(self) -> list[str]:
        """Objectives with a value for at least one candidate."""
        return [k for k in OBJECTIVES if any(estimate(c, k) is not None for c in self.candidates[:2000])]

    def arrays(self, keys) -> tuple[np.ndarray, ...]:
        """(value, lower, upper, level) arrays (n, m) for objectives `keys`; NaN where unknown."""
        out = []
        for k in keys:
            if k not in self._arrays:
                a = np.full((len(self.candidates), 4), np.nan)
                for i, c in enumerate(self.candidates):
                    e = estimate(c, k)
                    if e is not None:
                        a[i] = [e.value, _f(e.lower), _f(e.upper), _f(e.level)]
                a[~np.isfinite(a[:, 0]), 0] = np.nan
                self._arrays[k] = a
            out.append(self._arrays[k])
        st = np.stack(out, 1) if out else np.zeros((len(self.candidates), 0, 4))
        return st[..., 0], st[..., 1], st[..., 2], st[..., 3]


def _f(x):
    return np.nan if x is None else float(x)


def connect_ro(db: str | Path) -> sqlite3.Connection:
    """A read-only connection (`file:<path>?mode=ro`): any write raises sqlite3.OperationalError."""
    path = Path(db).resolve()
    if not path.is_file():
        raise StoreError(f"no results store at {db}: run `perovscreen screen ...` first, or pass --db")
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=10)
        con.execute("PRAGMA query_only=1")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{db} is not a perovscreen results store ({exc})") from None
    if "runs" not in tables:
        con.close()
        raise StoreError(f"{db} is not a perovscreen results store (no 'runs' table)")
    return con


def load_results(db: str | Path, campaign: str | Path | None = None) -> Results:
    """Load the store (and ranking.json and the `learn run` campaign.json beside it, or the campaign folder or
    file `campaign` the operator names). Raises StoreError with a clear message."""
    path = Path(db).resolve()
    con = connect_ro(path)
    try:
        res = _load(con, path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{db} could not be read as a perovscreen results store ({exc})") from None
    finally:
        con.close()
    _attach_campaign(res, campaign)
    return res


def _load(con: sqlite3.Connection, path: Path) -> Results:
    res = Results(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    shared = {h: v for h, v in con.execute("SELECT hash, value FROM shared")} if "shared" in tables else {}
    subjects: dict[str, dict] = {}
    if "structures" in tables:
        for key, id_, file, fh, formula, ident, rec in con.execute(
                "SELECT key, id, file, file_hash, formula, identity, record FROM structures ORDER BY rowid"):
            subjects[key] = {"id": id_, "file": file, "file_hash": fh, "formula": formula, "identity": ident,
                             "record": rec}
    if "compositions" in tables:
        for key, id_, file, formula in con.execute("SELECT key, id, file, formula FROM compositions"):
            subjects.setdefault(key, {"id": id_, "file": file, "formula": formula, "identity": None, "record": None})
    latest: dict[tuple, tuple] = {}
    errors: dict[str, tuple] = {}
    for key, stage, status, err, result, params, prov, sec in con.execute(
            "SELECT structure_key, stage, status, error, result, params, provenance, seconds FROM runs"
            " ORDER BY run_id"):
        if status == "ok" and result and stage in STAGES:
            latest[(key, stage)] = (result, params, prov, sec)
        elif status != "ok":
            errors[key] = (stage, err)
    cands: dict[str, Candidate] = {}
    for (key, stage), (result, params, prov, sec) in latest.items():
        subj = subjects.get(key)
        if subj is None or not subj["id"]:
            continue
        c = cands.get(key)
        if c is None:
            c = cands[key] = Candidate(subj["id"], subj["file"], subj["formula"], subj["identity"], key)
        try:
            value = decode(json.loads(result))
        except Exception as exc:  # an old or foreign row: shown as missing, with the reason
            res.run_info.setdefault(c.id, {})[stage] = {"error": f"cannot decode: {exc}"}
            continue
        if hasattr(c, stage):
            setattr(c, stage, value)
        res.run_info.setdefault(c.id, {})[stage] = {"params": _shared(params, shared),
                                                   "provenance": _shared(prov, shared), "seconds": sec}
    for key, c in cands.items():
        rec = subjects[key].get("record")
        if rec:
            res.records[c.id] = json.loads(rec)
    res.candidates = list(cands.values())
    res.by_id = {c.id: c for c in res.candidates}
    for key, (stage, err) in errors.items():
        subj = subjects.get(key)
        if subj and subj["id"] and subj["id"] not in res.by_id:
            res.status[subj["id"]] = f"failed at {stage}: {err}"
    _attach_ranking(res)
    for c in res.candidates:
        res.status.setdefault(c.id, "in store")
    return res


def _shared(text, shared: dict):
    if not text:
        return None
    if text.startswith(SHARED):
        text = shared.get(text[len(SHARED):], "null")
    try:
        return json.loads(text)
    except ValueError:
        return None


def _attach_ranking(res: Results) -> None:
    f = res.folder / "ranking.json"
    if not f.is_file():
        return
    try:
        data = json.loads(f.read_text())
    except (OSError, ValueError) as exc:
        res.error = f"ranking.json beside the store is unreadable ({exc}); showing the store alone"
        return
    res.ranking_file = True
    res.stages = data.get("stages") or []
    res.provenance = data.get("provenance") or {}
    res.config = data.get("config") or {}
    for d in data.get("ranked") or []:
        c = res.by_id.get(d.get("id"))
        if c is not None:
            c.front, c.score, c.overlaps_leader = d.get("front"), d.get("score"), d.get("overlaps_leader")
            c.measured = d.get("measured")
            res.status[c.id] = f"ranked (front {c.front})"
    for s in res.stages:
        for cid, why in (s.get("removed") or {}).items():
            if not str(res.status.get(cid, "")).startswith("ranked"):
                res.status[cid] = f"removed at {s['name']}: {why}"


def stage_funnel(res: Results) -> list[dict]:
    """[{name, n_in, n_out, seconds, reasons: {reason: count}}] from ranking.json, else from the store."""
    if res.stages:
        out = []
        for s in res.stages:
            reasons: dict[str, int] = {}
            for why in (s.get("removed") or {}).values():
                short = re.sub(r"^\S+?\.(cif|vasp|json|xyz|poscar)\S*:\s*", "", str(why), flags=re.I)  # no paths
                short = re.sub(r"-?\d+\.\d+", "#", short)[:100]  # group 'E_hull 0.213 > 0.1' by kind
                reasons[short] = reasons.get(short, 0) + 1
            out.append({"name": s["name"], "n_in": s["n_in"], "n_out": s["n_out"], "seconds": s.get("seconds"),
                        "reasons": reasons})
        return out
    out = []
    for st in STAGES:
        n = sum(1 for c in res.candidates if getattr(c, st, None) is not None)
        if n:
            out.append({"name": st, "n_in": n, "n_out": n, "seconds": None, "reasons": {}})
    return out


def read_inside(res: Results, cid: str, allowed=()) -> str | None:
    """The text of candidate `cid`'s recorded input file, only if it lies inside the store's folder (or an
    `allowed` folder) and its SHA-256 still matches the store's record; else None. `cid` is only a key into
    the loaded results: it never becomes a path."""
    c = res.by_id.get(cid)
    rec = res.records.get(cid) or {}
    if c is None or not c.file:
        return None
    try:
        p = Path(c.file).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    roots = [res.folder.resolve(), *(Path(a).resolve() for a in allowed)]
    if not p.is_file() or not any(p.is_relative_to(r) for r in roots):
        return None
    data = p.read_bytes()
    want = rec.get("file_hash")
    if not want or hashlib.sha256(data).hexdigest() != want:
        return None
    return data.decode("utf-8", "replace")


# ---- the active-learning campaign (`perovscreen learn run`) ----------------------------------------------
CAMPAIGN = "campaign.json"
CAMPAIGN_MAX_BYTES = 64 << 20


def _attach_campaign(res: Results, where=None) -> None:
    """res.campaign = the state `learn run` saves (<out>/campaign.json, beside its store by default), or
    res.campaign_error = why it cannot be shown. Only this one file is read, never a path from a URL."""
    f = Path(where) if where else res.folder / CAMPAIGN
    if f.is_dir():
        f = f / CAMPAIGN
    if not f.is_file():
        if where:
            res.campaign_error = f"no campaign state at {where} (perovscreen learn run writes <out>/{CAMPAIGN})"
        return
    try:
        if f.stat().st_size > CAMPAIGN_MAX_BYTES:
            raise ValueError(f"over {CAMPAIGN_MAX_BYTES >> 20} MB")
        state = json.loads(f.read_text())
        for k in ("objectives", "candidates", "cycles"):
            if not isinstance(state.get(k), list):
                raise ValueError(f"no '{k}' list")
    except (OSError, ValueError) as exc:
        res.campaign_error = f"{f.name} beside the store is not a `learn run` campaign state ({exc})"
        return
    res.campaign = state


def campaign_picks(state: dict) -> list[dict]:
    """Every pick in query order: {cycle, query (1-based, calculations that returned a value), id, formula,
    acquisition, policy, predicted {fid: (mean, std)}, observed {fid: value}, status, error}."""
    out, q = [], 0
    for cyc in state["cycles"]:
        for p in cyc.get("picks") or []:
            ok = p.get("status") == "ok"
            q += ok
            pred = {n: (v.get("mean"), v.get("std")) for n, v in (p.get("predicted") or {}).items() if v}
            out.append({"cycle": cyc.get("cycle"), "query": q if ok else None, "id": p.get("id"),
                        "formula": p.get("formula"), "acquisition": p.get("acquisition"),
                        "policy": p.get("policy"), "predicted": pred, "observed": p.get("observed") or {},
                        "status": p.get("status", ""), "error": p.get("error")})
    return out


def campaign_top(state: dict, picks=None) -> tuple[list[int], int, str]:
    """The found-vs-queries curve: after each successful query, how many of the campaign's best measured
    candidates had been found. Best = the k best measured values (one objective; k = a quarter of the
    measured, 1 to 10) or the non-dominated measured candidates (two objectives). Returns (found after
    query 1..n, k, what k is)."""
    picks = campaign_picks(state) if picks is None else picks
    names, up = state["objectives"], _directions(state)
    done = [p for p in picks if p["query"] and all(n in p["observed"] for n in names)]
    if not done:
        return [], 0, "nothing measured yet"
    v = np.array([[p["observed"][n] * (-1 if up[n] else 1) for n in names] for p in done], float)  # minimise
    if len(names) == 1:
        k = int(min(10, max(1, len(done) // 4)))
        top = set(np.argsort(v[:, 0], kind="stable")[:k].tolist())
        what = f"the {k} best measured {FIDELITY_LABELS.get(names[0], names[0])}"
    else:
        from perovscreen.dashboard.pareto import non_dominated

        top = set(np.flatnonzero(non_dominated(v)).tolist())
        k = len(top)
        what = f"the {k} non-dominated measured candidates"
    return np.cumsum([i in top for i in range(len(done))]).tolist(), k, what
