"""Room-temperature Li conductivity from frozen CHGNet embeddings: deep-ensemble MLP head + conformal intervals.

With ~250 OBELiX CIFs a graph network cannot be trained from scratch, so the pretrained CHGNet 0.3.0
(Deng et al., Nat. Mach. Intell. 5, 1031 (2023); weights bundled, offline) is used frozen as a featuriser:
the final-layer atom features (after CHGNet's readout LayerNorm, 64 per atom) are averaged over all atoms
(= CHGNet's ``crystal_fea``, a sum, divided by the atom count) and over the Li atoms, giving 128 numbers per structure. Both means are
intensive, so a supercell has the same embedding as its cell. Disordered CIFs are first turned into a seeded
ordered supercell (perovscreen.structures.ordering); embeddings are cached on disk by the CIF's SHA-256.

Head: a deep ensemble (Lakshminarayanan et al., NeurIPS 2017) of small MLPs, trained at once as one
vectorised network with independent initialisations, on log10 sigma (upper-bound rows excluded, as in
perovscreen.ml.dataset). Prediction = ensemble mean, spread = ensemble standard deviation; the 90% interval
is split-conformal, normalised by the spread, calibrated on grouped out-of-fold predictions inside the
training rows (perovscreen.ml.conformal).
"""
from __future__ import annotations

import hashlib
import json
import math
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from perovscreen.core.paths import cache_dir as _cache_dir
from perovscreen.core.errors import InputError
from perovscreen.ml import conformal
from perovscreen.ml.cv import grouped_folds, metrics, summarize

EMBED_VERSION = 1
DIM = 64  # CHGNet 0.3.0 atom feature size


@dataclass(frozen=True)
class EmbeddingSettings:
    min_length: float = 6.0  # Å, ordered-supercell width for disordered CIFs
    seed: int = 0  # ordering seed
    max_atoms: int = 400  # larger (ordered) cells are skipped with a recorded reason
    device: str = "cpu"

    def tag(self) -> str:
        d = {**asdict(self), "version": EMBED_VERSION, "model": "chgnet-0.3.0"}
        d.pop("device")
        return "chgnet-" + hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def embedding_names() -> list[str]:
    return [f"chgnet_mean_{i}" for i in range(DIM)] + [f"chgnet_li_{i}" for i in range(DIM)]


def _model(device: str = "cpu"):
    from perovscreen.potentials.calculators import get_calculator

    return get_calculator("chgnet", device=device).model


def chgnet_readout(structures, device: str = "cpu", batch_size: int = 64):
    """(energies eV/atom [n], final-layer atom features [(atoms, 64)] per structure) of the frozen CHGNet,
    in batches. Graph construction raises for a structure with an isolated atom."""
    model = _model(device)
    energies, feats = [], []
    for i in range(0, len(structures), batch_size):
        chunk = structures[i:i + batch_size]
        graphs = [model.graph_converter(s).to(device) for s in chunk]
        captured = []
        hook = model.readout_norm.register_forward_hook(lambda _m, _i, out: captured.append(out.detach()))
        try:
            with torch.no_grad():
                out = model(graphs, task="e")
        finally:
            hook.remove()
        energies.extend(out["e"].cpu().double().numpy().ravel().tolist())
        feas = captured[-1].cpu().double().numpy()
        splits = np.cumsum([len(s) for s in chunk])[:-1]
        feats.extend(np.split(feas, splits))
    return np.array(energies), feats


def chgnet_embedding(structure, device: str = "cpu") -> np.ndarray:
    """[128]: final-layer CHGNet atom features averaged over all atoms, then over Li atoms (ordered input)."""
    if not structure.is_ordered:
        raise InputError("chgnet_embedding needs an ordered structure (use ordered_supercell first)")
    li = np.array([site.specie.symbol == "Li" for site in structure])
    if not li.any():
        raise InputError(f"{structure.composition.reduced_formula}: no Li sites to pool")
    feas = chgnet_readout([structure], device)[1][0]
    return np.concatenate([feas.mean(0), feas[li].mean(0)])


def cache_dir(path=None) -> Path:
    """``path``, else $PEROVSCREEN_CACHE/embeddings, else ~/.cache/perovscreen/embeddings."""
    return _cache_dir("embeddings", path)


def embed_file(path, settings: EmbeddingSettings = EmbeddingSettings(), cache=None) -> dict:
    """{"embedding": list|None, "reason": str|None, "n_atoms", "ordering"} for one structure file, cached by
    the file's SHA-256 under the settings' tag (skips are cached too, with their reason)."""
    from perovscreen.ml.dataset import _read_structure
    from perovscreen.core.hashing import file_sha256
    from perovscreen.structures.ordering import ordered_supercell, scaling_for

    sha = file_sha256(path)
    f = cache_dir(cache) / settings.tag() / f"{sha}.json"
    if f.is_file():
        return json.loads(f.read_text())
    rec = {"file": str(path), "sha256": sha, "embedding": None, "reason": None, "n_atoms": None, "ordering": None}
    try:
        s = _read_structure(str(path))
        if not s.is_ordered:
            n = len(s) * int(np.prod(scaling_for(s, settings.min_length)))
            if n > settings.max_atoms:
                raise InputError(f"{n} sites in the ordered supercell > max_atoms {settings.max_atoms}")
            s, rep = ordered_supercell(s, settings.min_length, settings.seed)
            rec["ordering"] = {k: rep.to_dict()[k] for k in ("scaling", "max_rel_deviation")}
        rec["n_atoms"] = len(s)
        if len(s) > settings.max_atoms:
            raise InputError(f"{len(s)} atoms > max_atoms {settings.max_atoms}")
        rec["embedding"] = chgnet_embedding(s, settings.device).tolist()
    except Exception as exc:  # noqa: BLE001  unreadable CIF, no Li, isolated atom: recorded, not fatal
        rec["reason"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps(rec))
    return rec


@contextmanager
def torch_threads(n: int):
    """Temporarily set torch's intra-op threads (small models are overhead-bound: 1 thread is fastest)."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def embed_files(paths, settings: EmbeddingSettings = EmbeddingSettings(), cache=None, log=None, threads: int = 1):
    """(X [n, 128] with NaN rows for skipped files, per-file records). One torch thread by default: a single
    CHGNet forward is overhead-bound and several threads are slower on a loaded machine."""
    recs = []
    with torch_threads(threads):
        for i, p in enumerate(paths):
            recs.append(embed_file(p, settings, cache))
            if log and (i + 1) % 25 == 0:
                log(f"embedded {i + 1}/{len(paths)}")
    X = np.array([r["embedding"] if r["embedding"] else [math.nan] * 2 * DIM for r in recs], float)
    return X, recs


# --- deep-ensemble head ---------------------------------------------------------------------------------
class _EnsembleMLP(torch.nn.Module):
    """M independent MLPs evaluated as batched matrix products: x [N, d] -> [M, N]."""

    def __init__(self, n_in: int, n_members: int, hidden=(64, 32), dropout: float = 0.1, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        dims = [n_in, *hidden, 1]
        self.weights, self.biases = torch.nn.ParameterList(), torch.nn.ParameterList()
        for a, b in zip(dims[:-1], dims[1:]):  # Kaiming-uniform (PyTorch's Linear default), per member
            bound = 1 / math.sqrt(a)
            self.weights.append(torch.nn.Parameter((torch.rand(n_members, a, b, generator=g) * 2 - 1) * bound))
            self.biases.append(torch.nn.Parameter((torch.rand(n_members, 1, b, generator=g) * 2 - 1) * bound))
        self.dropout = dropout

    def forward(self, x):
        h = x.unsqueeze(0).expand(self.weights[0].shape[0], -1, -1)
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if k < len(self.weights) - 1:
                h = torch.nn.functional.dropout(torch.nn.functional.silu(h), self.dropout, self.training)
        return h[..., 0]


class EnsembleRegressor:
    """Deep ensemble of small MLPs with spread-normalised split-conformal intervals.

    fit(X, y, groups): inputs/targets standardised on the training rows; rows with a non-finite target or
    feature are dropped; calibration uses grouped inner CV (``inner_splits``) out-of-fold mean and spread.
    """

    def __init__(self, n_members: int = 5, hidden=(64, 32), epochs: int = 300, lr: float = 3e-3,
                 weight_decay: float = 1e-2, dropout: float = 0.1, alpha: float = 0.1, inner_splits: int = 5,
                 seed: int = 0):
        self.n_members, self.hidden, self.epochs, self.lr = n_members, tuple(hidden), epochs, lr
        self.weight_decay, self.dropout, self.alpha, self.inner_splits, self.seed = weight_decay, dropout, alpha, inner_splits, seed
        self.calibration = None

    def _train(self, X, y):
        mu, sd = X.mean(0), X.std(0) + 1e-6
        ym, ys = float(y.mean()), float(y.std() + 1e-6)
        torch.manual_seed(self.seed)  # dropout masks
        net = _EnsembleMLP(X.shape[1], self.n_members, self.hidden, self.dropout, self.seed)
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        xt = torch.tensor((X - mu) / sd, dtype=torch.float32)
        yt = torch.tensor((y - ym) / ys, dtype=torch.float32).expand(self.n_members, -1)
        net.train()
        with torch_threads(1):
            for _ in range(self.epochs):  # full batch: ~200 rows
                opt.zero_grad()
                loss = torch.nn.functional.huber_loss(net(xt), yt, delta=1.0)
                loss.backward()
                opt.step()
        net.eval()
        return net, mu, sd, ym, ys

    @staticmethod
    def _members(state, X) -> np.ndarray:
        net, mu, sd, ym, ys = state
        with torch.no_grad():
            out = net(torch.tensor((X - mu) / sd, dtype=torch.float32)).double().numpy()
        return out * ys + ym  # [M, N]

    def fit(self, X, y, groups) -> "EnsembleRegressor":
        X, y, groups = np.asarray(X, float), np.asarray(y, float), np.asarray(groups)
        ok = np.isfinite(y) & np.isfinite(X).all(1)
        X, y, groups = X[ok], y[ok], groups[ok]
        n_splits = min(self.inner_splits, len(np.unique(groups)))
        if n_splits < 2:
            raise InputError(f"too few labelled compositions ({len(np.unique(groups))}) to train")
        oof, spread = np.empty_like(y), np.empty_like(y)
        for tr, te in grouped_folds(groups, n_splits, self.seed):
            m = self._members(self._train(X[tr], y[tr]), X[te])
            oof[te], spread[te] = m.mean(0), m.std(0)
        self.calibration = conformal.calibrate(y, oof, spread, self.alpha)
        self.inner_cv_mae = float(np.abs(oof - y).mean())
        self.state = self._train(X, y)
        return self

    def predict(self, X) -> dict[str, np.ndarray]:
        """{"value", "spread", "lower", "upper"} (ensemble mean, ensemble std, conformal interval)."""
        m = self._members(self.state, np.asarray(X, float))
        v, s = m.mean(0), m.std(0)
        lo, hi = conformal.interval(v, s, self.calibration)
        return {"value": v, "spread": s, "lower": lo, "upper": hi}


# --- grouped CV against #4's forests ----------------------------------------------------------------------
METHODS = ("mean", "magpie_rf", "composition_rf", "chgnet_rf", "composition_chgnet_rf", "chgnet_mlp_ens")


def obelix_cif_table(root=None, limit: int | None = None, seed: int = 0):
    """(#4's TrainingTable restricted to OBELiX rows with a Li-bearing CIF, their CIF paths)."""
    from perovscreen.data import load_obelix
    from perovscreen.ml.dataset import obelix_table

    table, df = obelix_table(root), load_obelix(root)
    if table.ids != df["id"].tolist():
        raise InputError("OBELiX table and loader disagree on row order")
    mask = (df["has_cif"] & df["cif_has_li"].astype(str).str.lower().eq("true")).to_numpy()
    if limit is not None and limit < mask.sum():
        keep = np.random.default_rng(seed).choice(np.flatnonzero(mask), limit, replace=False)
        mask = np.isin(np.arange(len(mask)), keep)
    return table.subset(mask), [p for p, m in zip(df["cif_path"], mask) if m]


def _with_columns(table, X, names):
    import pandas as pd

    from perovscreen.ml.dataset import TrainingTable

    Xn = pd.concat([table.X, pd.DataFrame(X, columns=names)], axis=1)
    return TrainingTable(Xn, table.Y, table.groups, table.ids, table.formulas, table.censor_bound, table.source,
                         table.evaluate)


def _mlp_records(table, names, seeds, n_splits, head_kw, progress):
    """Fold records of the ensemble MLP in perovscreen.ml.evaluate's format (same folds)."""
    X, y, bound = table.X[names].to_numpy(float), table.Y["log10_sigma"].to_numpy(float), table.censor_bound
    records, spread_err = [], []
    for seed in seeds:
        for k, (tr, te) in enumerate(grouped_folds(table.groups, n_splits, seed)):
            p = EnsembleRegressor(seed=seed, **head_kw).fit(X[tr], y[tr], table.groups[tr]).predict(X[te])
            v, lo, hi, yt = p["value"], p["lower"], p["upper"], y[te]
            ok = np.isfinite(yt)
            rec = {"seed": seed, "fold": k, "method": "chgnet_mlp_ens", "target": "log10_sigma",
                   "n_test": int(ok.sum()), **metrics(yt[ok], v[ok]),
                   "coverage": float(((yt[ok] >= lo[ok]) & (yt[ok] <= hi[ok])).mean()),
                   "width": float((hi[ok] - lo[ok]).mean())}
            cen = np.isfinite(bound[te])
            if cen.any():
                rec.update(censored_n=int(cen.sum()), censored_point_below_bound=float((v[cen] <= bound[te][cen]).mean()),
                           censored_interval_consistent=float((lo[cen] <= bound[te][cen]).mean()))
            records.append(rec)
            spread_err.append(metrics(np.abs(yt[ok] - v[ok]), p["spread"][ok])["spearman"])
            if progress:
                progress(f"chgnet_mlp_ens seed {seed} fold {k} done")
    return records, spread_err


def cross_validate_conductivity(root=None, seeds=(0, 1, 2), n_splits: int = 5, limit: int | None = None,
                                cache=None, settings: EmbeddingSettings = EmbeddingSettings(), n_members: int = 5,
                                epochs: int = 300, n_estimators: int | None = None, progress=None) -> dict:
    """Composition-grouped CV on OBELiX CIF rows, all methods on the same folds and rows:
    training mean, magpie RF, #4's composition RF (PropertyModel: tuned, conformal), an RF on the CHGNet
    embeddings, an RF on composition descriptors + embeddings (same PropertyModel) and the deep-ensemble MLP
    on the embeddings.
    Returns {"summary": {method: {"log10_sigma": metric summaries}}, "folds", "skipped", "n_rows", ...}."""
    from perovscreen.ml.evaluate import cross_validate
    from perovscreen.ml.train import usable_features

    table, paths = obelix_cif_table(root, limit, seeds[0])
    X, recs = embed_files(paths, settings, cache, progress)
    ok = np.isfinite(X).all(1)
    skipped = [{"id": i, "reason": r["reason"]} for i, r, o in zip(table.ids, recs, ok) if not o]
    names = embedding_names()
    table = _with_columns(table, X, names).subset(ok)
    kw = {"seeds": tuple(seeds), "n_splits": n_splits, "n_estimators": n_estimators, "progress": progress}
    comp = cross_validate(table, ["log10_sigma"], usable_features(table, False), "rf",
                          methods=("mean", "magpie_rf", "model"), **kw)
    emb = cross_validate(table, ["log10_sigma"], names, "rf", methods=("model",), **kw)
    both = cross_validate(table, ["log10_sigma"], usable_features(table, False) + names, "rf", methods=("model",),
                          **kw)
    mlp, spread_err = _mlp_records(table, names, seeds, n_splits, {"n_members": n_members, "epochs": epochs},
                                   progress)
    rename = {"model": "composition_rf"}
    folds = ([{**r, "method": rename.get(r["method"], r["method"])} for r in comp["folds"]]
             + [{**r, "method": "chgnet_rf"} for r in emb["folds"]]
             + [{**r, "method": "composition_chgnet_rf"} for r in both["folds"]] + mlp)
    summary = {}
    for m in METHODS:
        rs = [r for r in folds if r["method"] == m]
        keys = [k for k in ("mae", "rmse", "r2", "spearman", "coverage", "width", "censored_point_below_bound",
                            "censored_interval_consistent") if any(k in r for r in rs)]
        s = {k: summarize([r.get(k, np.nan) for r in rs]) for k in keys}
        s["n_rows"] = int(sum(r["n_test"] for r in rs) / len(seeds))
        summary[m] = {"log10_sigma": s}
    summary["chgnet_mlp_ens"]["log10_sigma"]["spread_error_spearman"] = summarize(spread_err)
    return {"summary": summary, "folds": folds, "skipped": skipped, "n_rows": int(ok.sum()),
            "n_censored": int(np.isfinite(table.censor_bound).sum()), "seeds": list(seeds), "n_splits": n_splits,
            "embedding": {**asdict(settings), "tag": settings.tag(), "dim": len(names)},
            "head": {"n_members": n_members, "epochs": epochs}}


def format_cv(res: dict) -> str:
    """Markdown table: MAE and Spearman (mean [95% CI] over folds x seeds), 90% coverage and width."""
    def ci(s):
        return f"{s['mean']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]"

    lines = [f"grouped {res['n_splits']}-fold CV x {len(res['seeds'])} seeds on {res['n_rows']} OBELiX CIF rows "
             f"({res['n_censored']} upper bounds, not regressed; {len(res['skipped'])} skipped), log10 sigma",
             "", "| method | n | MAE | Spearman | cov90 | width | censored: point <= bound |", "|---|---|---|---|---|---|---|"]
    for m, per in res["summary"].items():
        s = per["log10_sigma"]
        cov = f"{s['coverage']['mean']:.3f}" if "coverage" in s else "-"
        wid = f"{s['width']['mean']:.2f}" if "width" in s else "-"
        cen = f"{s['censored_point_below_bound']['mean']:.2f}" if "censored_point_below_bound" in s else "-"
        lines.append(f"| {m} | {s['n_rows']} | {ci(s['mae'])} | {ci(s['spearman'])} | {cov} | {wid} | {cen} |")
    se = res["summary"]["chgnet_mlp_ens"]["log10_sigma"].get("spread_error_spearman")
    if se:
        lines.append(f"\nchgnet_mlp_ens: Spearman(ensemble spread, |error|) = {ci(se)}")
    return "\n".join(lines)
