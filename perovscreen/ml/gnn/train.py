"""Train and compare property networks on Perov-5 (heat of formation + band gap), one formula-grouped split.

Gap model: a metal/non-metal classifier (logit output, BCE) plus a gap regressor trained on non-metals only
(L1); the prediction is 0 when P(metal) > 0.5, else the regressed gap. Heat: L1 on standardised targets.
Baseline: magpie-feature random forests (regressor for heat; classifier + regressor for gap) on the same split.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from perovscreen.ml.gnn.models import ARCHS, PropertyNet
from perovscreen.ml.gnn.store import save_net

METAL_GAP = 1e-3  # eV; Perov-5 stores exactly 0 for metals


class TrainingPaused(Exception):
    """Raised when a training run reaches its time limit; its checkpoints let the same call continue."""


@dataclass
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass
class ArchResult:
    arch: str
    heat_mae: float  # eV/atom, test set
    gap_mae: float  # eV, test set (all rows, metals included)
    gap_mae_nonmetal: float  # eV, test rows that are non-metals
    metal_accuracy: float
    nonmetal_recall: float  # fraction of true non-metals predicted non-metal
    nonmetal_precision: float  # fraction of predicted non-metals that are
    nonmetal_auc: float  # ROC AUC of 1 - P(metal) for finding the non-metals (threshold-free)
    train_seconds: float
    seconds_per_epoch: float
    epochs: int
    n_params: int
    files: list = field(default_factory=list)


def formula_split(formulas, seed: int = 0, n_folds: int = 10) -> Split:
    """Test = one tenth, validation = one tenth, train = the rest; each formula in exactly one part."""
    from perovscreen.ml.cv import grouped_folds

    folds = grouped_folds(formulas, n_splits=n_folds, seed=seed)
    test, val = folds[0][1], folds[1][1]
    train = np.setdiff1d(np.arange(len(formulas)), np.concatenate([test, val]))
    return Split(train, val, test)


def load_data(root=None, limit: int | None = None, seed: int = 0):
    """Structures, targets (heat_ref, fundamental gap) and formulas of Perov-5 (optionally a random subset)."""
    from perovscreen.data.perov5 import load_perov5

    from pymatgen.core import Structure

    df = load_perov5(root, structures=False)
    if limit and limit < len(df):
        df = df.sample(n=limit, random_state=seed).reset_index(drop=True)
    df["structure"] = [Structure.from_str(c, fmt="cif") for c in df["cif"]]
    gap = np.minimum(df["dir_gap"].to_numpy(float), df["ind_gap"].to_numpy(float))
    y = np.stack([df["heat_ref"].to_numpy(float), gap], axis=1)
    return list(df["structure"]), y, list(df["formula"]), df.attrs.get("source_file")


def _loss(net: PropertyNet, batch, y: torch.Tensor, pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    out = net.raw(batch)
    ys = (y - net.mean) / net.std
    metal = (y[:, 1] <= METAL_GAP).float()
    bce = F.binary_cross_entropy_with_logits(out[:, 2], metal, pos_weight=pos_weight)
    loss = F.l1_loss(out[:, 0], ys[:, 0]) + bce
    nm = metal < 0.5
    if nm.any():
        loss = loss + F.l1_loss(out[nm, 1], ys[nm, 1])
    return loss


def decide(out: np.ndarray) -> np.ndarray:
    """Network outputs (..., 3) [heat, gap, metal logit] -> [heat, gap (0 where P(metal) > 0.5), P(metal)]."""
    from scipy.special import expit

    p = expit(out[..., 2])
    return np.stack([out[..., 0], np.where(p > 0.5, 0.0, np.clip(out[..., 1], 0, None)), p], axis=-1)


def ensemble_mean(preds: np.ndarray) -> np.ndarray:
    """Member predictions (members, n, 3) -> (n, 3): the mean, gap 0 where the mean P(metal) > 0.5."""
    mean = preds.mean(0)
    mean[:, 1] = np.where(mean[:, 2] > 0.5, 0.0, mean[:, 1])
    return mean


def predict_batches(net: PropertyNet, graphs, batch_size: int = 256, raw: bool = False) -> np.ndarray:
    """(n, 3): heat, gap (0 for predicted metals; with ``raw`` the regressed gap, >= 0, for every cell), P(metal)."""
    from scipy.special import expit

    net.eval()
    with torch.no_grad():
        out = np.concatenate([net(net.collate(graphs[i:i + batch_size])).numpy()
                              for i in range(0, len(graphs), batch_size)])
    return np.stack([out[:, 0], np.clip(out[:, 1], 0, None), expit(out[:, 2])], axis=-1) if raw else decide(out)


def _restore(checkpoint: Path | None, config: dict, net, opt, sched, rng, log) -> dict | None:
    """Training state from a checkpoint written for the same config (None: start from epoch 0)."""
    if checkpoint is None or not checkpoint.is_file():
        return None
    st = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if st.get("config") != config:
        log(f"  {checkpoint.name}: written for other settings; starting again")
        return None
    net.load_state_dict(st["net"])
    opt.load_state_dict(st["opt"])
    sched.load_state_dict(st["sched"])
    rng.bit_generator.state = st["rng"]
    torch.set_rng_state(st["torch_rng"])
    log(f"  {config['arch']}: resuming after epoch {st['epoch']} from {checkpoint}")
    return st


def fit_net(arch: str, graphs, y: np.ndarray, split: Split, size: str = "default", epochs: int = 100,
            batch_size: int = 64, lr: float = 2e-3, seed: int = 0, patience: int = 30, log=print,
            checkpoint: str | Path | None = None, time_limit: float | None = None, cutoff: float = 5.0):
    """Train one network; returns (net, seconds, epochs run). Keeps the weights of the best validation loss.

    checkpoint: a file written after every epoch (model, optimiser, schedule and RNG states); a run started
    again with the same settings continues after the last finished epoch, with the same result.
    time_limit: seconds for this call; when spent, the epoch is checkpointed and TrainingPaused raised."""
    if time_limit is not None and checkpoint is None:
        raise ValueError("a time limit needs a checkpoint file to continue from")
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = PropertyNet(arch, size, cutoff)
    ytr = y[split.train]
    nm = ytr[:, 1] > METAL_GAP
    net.mean.copy_(torch.tensor([ytr[:, 0].mean(), ytr[nm, 1].mean() if nm.any() else 0.0]))
    net.std.copy_(torch.tensor([ytr[:, 0].std() + 1e-6, ytr[nm, 1].std() + 1e-6 if nm.sum() > 1 else 1.0]))
    # class balance: ~96 % of Perov-5 cells are metals; down-weight them in the classifier loss
    n_nm, n_metal = int(nm.sum()), int((~nm).sum())
    pw = torch.tensor(n_nm / n_metal if n_nm and n_metal else 1.0)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * math.ceil(
        len(split.train) / batch_size))
    yt = torch.tensor(y, dtype=torch.float32)
    best, best_state, since, t0 = math.inf, None, 0, time.perf_counter()
    start = 0
    config = {"arch": arch, "size": size, "cutoff": cutoff, "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
              "patience": patience, "n_train": int(len(split.train)), "n_val": int(len(split.val))}
    checkpoint = Path(checkpoint) if checkpoint else None
    if st := _restore(checkpoint, config, net, opt, sched, rng, log or (lambda *_: None)):
        start, best, best_state, since = st["epoch"], st["best"], st["best_state"], st["since"]
        t0 -= st["seconds"]
    ep = start
    while ep < epochs and since < patience:  # early stop after `patience` epochs without improvement
        ep += 1
        net.train()
        order = rng.permutation(split.train)
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            if len(idx) < 2:
                continue
            opt.zero_grad()
            loss = _loss(net, net.collate([graphs[j] for j in idx]), yt[idx], pw)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            vl = float(_loss(net, net.collate([graphs[j] for j in split.val]), yt[split.val], pw))
        if vl < best - 1e-4:
            best, since = vl, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            since += 1
        if log and (ep % 10 == 0 or ep == 1):
            log(f"  {arch} epoch {ep}: val loss {vl:.4f} ({time.perf_counter() - t0:.0f} s)")
        if checkpoint:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp = checkpoint.with_suffix(".tmp")
            torch.save({"config": config, "epoch": ep, "net": net.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict(), "rng": rng.bit_generator.state,
                        "torch_rng": torch.get_rng_state(), "best": best, "best_state": best_state,
                        "since": since, "seconds": time.perf_counter() - t0}, tmp)
            tmp.replace(checkpoint)
            if deadline is not None and time.perf_counter() >= deadline and ep < epochs and since < patience:
                raise TrainingPaused(f"{arch}: time limit reached after epoch {ep}/{epochs}; checkpoint "
                                     f"{checkpoint}; run the same command again to continue")
    net.load_state_dict(best_state)
    net.set_metal_prior(float(pw))
    return net, time.perf_counter() - t0, ep


def _finished_member(path: Path | None, arch: str, size: str, epochs: int, seed: int, n_train: int,
                     cutoff: float = 5.0):
    """(net, card) of a saved ensemble member trained with these settings, else None."""
    from perovscreen.core.errors import ModelError
    from perovscreen.ml.gnn.store import load_net

    if path is None or not path.is_file():
        return None
    try:
        net, card = load_net(path)
    except ModelError:
        return None
    same = (card.get("arch") == arch and card.get("config", {}).get("size") == size and card.get("seed") == seed
            and card.get("config", {}).get("cutoff", 5.0) == cutoff
            and card.get("max_epochs") == epochs and card.get("n_train") == n_train and "train_seconds" in card
            and "metal_shift" in card.get("config", {}))  # older files: class-weighted metal logit
    return (net, card) if same else None


def evaluate(pred: np.ndarray, y: np.ndarray, called=None) -> dict:
    """Test metrics of predictions (n, 3) = heat, gap (0 for predicted metals), P(metal). ``called``: the
    non-metal calls (default: a predicted gap above METAL_GAP)."""
    from sklearn.metrics import roc_auc_score

    metal = y[:, 1] <= METAL_GAP
    nm = ~metal
    if called is not None:  # express the calls as gaps so the metrics below read them
        pred = pred.copy()
        pred[:, 1] = np.where(called, np.maximum(pred[:, 1], 2 * METAL_GAP), 0.0)
    return {"heat_mae": float(np.abs(pred[:, 0] - y[:, 0]).mean()),
            "gap_mae": float(np.abs(pred[:, 1] - y[:, 1]).mean()),
            "gap_mae_nonmetal": float(np.abs(pred[nm, 1] - y[nm, 1]).mean()) if nm.any() else math.nan,
            "metal_accuracy": float(((pred[:, 1] <= METAL_GAP) == metal).mean()),
            "nonmetal_recall": float((pred[nm, 1] > METAL_GAP).mean()) if nm.any() else math.nan,
            "nonmetal_precision": float((~metal[pred[:, 1] > METAL_GAP]).mean()) if (pred[:, 1] > METAL_GAP).any()
            else math.nan,
            "nonmetal_auc": float(roc_auc_score(nm, -pred[:, 2])) if 0 < nm.sum() < len(nm) else math.nan}


def forest_baseline(formulas, y: np.ndarray, split: Split, seed: int = 0, n_estimators: int = 300) -> dict:
    """Magpie random forests on the same split (heat regressor; gap classifier + non-metal regressor)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    from perovscreen.features.composition import featurize_compositions

    t0 = time.perf_counter()
    X = featurize_compositions(formulas)
    tr, te = split.train, split.test
    metal = y[:, 1] <= METAL_GAP
    heat = RandomForestRegressor(n_estimators, random_state=seed, n_jobs=-1).fit(X[tr], y[tr, 0])
    pred = np.zeros((len(te), 3))
    pred[:, 0] = heat.predict(X[te])
    if metal[tr].all() or not metal[tr].any():
        pmetal = np.full(len(te), float(metal[tr].mean()))
    else:
        pmetal = RandomForestClassifier(n_estimators, random_state=seed, n_jobs=-1).fit(
            X[tr], metal[tr]).predict_proba(X[te])[:, 1]
    nm = tr[~metal[tr]]
    gap = RandomForestRegressor(n_estimators, random_state=seed, n_jobs=-1).fit(X[nm], y[nm, 1]).predict(X[te]) \
        if len(nm) > 1 else np.zeros(len(te))
    pred[:, 1] = np.where(pmetal > 0.5, 0.0, gap)
    pred[:, 2] = pmetal
    return {**evaluate(pred, y[te]), "train_seconds": time.perf_counter() - t0}


def compare(archs=ARCHS, limit: int | None = None, size: str = "default", epochs: int = 100, ensemble: int = 1,
            out: str | Path | None = None, root=None, seed: int = 0, batch_size: int = 64, log=print,
            time_limit: float | None = None, command: str | None = None, cutoff: float = 5.0,
            baseline: bool = True) -> dict:
    """Train each architecture (``ensemble`` seeds each) and the forest on one formula split; save models.

    With ``out``, every member checkpoints each epoch and finished members are reused, so an interrupted
    call (or one stopped by ``time_limit`` seconds, raising TrainingPaused) continues where it stopped."""
    from perovscreen.core.errors import InputError

    if time_limit is not None and not out:
        raise InputError("a time limit needs an output directory for the checkpoints")
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    bad = [a for a in archs if a not in ARCHS]
    if bad:
        raise InputError(f"unknown architectures {bad}; choose from {', '.join(ARCHS)}")
    from perovscreen.ml.cards import sha256_file

    structures, y, formulas, source = load_data(root, limit, seed)
    data_sha = sha256_file(source) if source and Path(source).is_file() else None
    split = formula_split(formulas, seed)
    log(f"perov5: {len(y)} cells; train {len(split.train)}, val {len(split.val)}, test {len(split.test)}")
    trivial = np.zeros((len(split.test), 3))
    trivial[:, 0] = y[split.train, 0].mean()  # training-mean heat, every cell a metal (gap 0)
    trivial[:, 2] = 1.0
    rows = {"trivial": evaluate(trivial, y[split.test])}
    if baseline:
        rows["forest_magpie"] = forest_baseline(formulas, y, split, seed)
        log(f"  forest: {rows['forest_magpie']}")
    cache: dict = {}
    for arch in archs:
        key = ("alignn" if arch == "alignn" else "pyg", cutoff)
        if key not in cache:
            t = time.perf_counter()
            proto = PropertyNet(arch, "tiny", cutoff)
            cache[key] = [proto.featurize(s) for s in structures]
            log(f"  graphs ({key}): {time.perf_counter() - t:.1f} s")
        graphs = cache[key]
        preds, secs, files, eps = [], 0.0, [], 0
        for k in range(ensemble):
            final = Path(out) / f"{arch}-{k}.pt" if out else None
            done = _finished_member(final, arch, size, epochs, seed + k, len(split.train), cutoff)
            if done:  # an earlier (interrupted) call of the same comparison trained this member
                net, card = done
                s, ep = card["train_seconds"], card["epochs"]
                log(f"  {arch}-{k}: reusing {final}")
            else:
                left = None if deadline is None else max(0.0, deadline - time.perf_counter())
                net, s, ep = fit_net(arch, graphs, y, split, size, epochs, batch_size, seed=seed + k, log=log,
                                     checkpoint=final.with_suffix(".ckpt") if final else None, time_limit=left,
                                     cutoff=cutoff)
            secs, eps = secs + s, eps + ep
            preds.append(predict_batches(net, [graphs[j] for j in split.test]))
            if final and not done:
                card = {"task": "perov5 heat_ref (eV/atom) + band gap (eV)", "arch": arch, "member": k,
                        "epochs": ep, "max_epochs": epochs, "data": Path(source).name if source else None,
                        "data_sha256": data_sha, "limit": limit, "command": command, "n_train": int(len(split.train)),
                        "split": "formula", "seed": seed + k, "train_seconds": s,
                        "test_metrics": evaluate(preds[-1], y[split.test])}
                save_net(net, final, card)
                final.with_suffix(".ckpt").unlink(missing_ok=True)
            if final:
                files.append(str(final))
        pred = ensemble_mean(np.array(preds))
        n_params = sum(p.numel() for p in net.parameters())
        rows[arch] = asdict(ArchResult(arch, **evaluate(pred, y[split.test]), train_seconds=secs,
                                       seconds_per_epoch=secs / max(eps, 1), epochs=eps, n_params=n_params,
                                       files=files))
        log(f"  {arch}: {rows[arch]}")
    result = {"n_cells": len(y), "n_train": len(split.train), "n_test": len(split.test), "size": size,
              "epochs": epochs, "ensemble": ensemble, "results": rows}
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        name = f"comparison_{'+'.join(archs)}_x{ensemble}.json"  # one file per comparison run in a directory
        (Path(out) / name).write_text(json.dumps(result, indent=2))
    return result


def table(result: dict) -> str:
    """Markdown table of a ``compare`` result."""
    lines = ["| model | heat MAE (eV/atom) | gap MAE (eV) | gap MAE non-metals (eV) | metal acc. | non-metal recall "
             "| non-metal precision | non-metal AUC | train (s) | s/epoch |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in result["results"].items():
        lines.append(f"| {name} | {r['heat_mae']:.3f} | {r['gap_mae']:.3f} | {r['gap_mae_nonmetal']:.2f} | "
                     f"{r['metal_accuracy']:.3f} | {r['nonmetal_recall']:.2f} | {r['nonmetal_precision']:.2f} | "
                     f"{r.get('nonmetal_auc', math.nan):.2f} | "
                     f"{r.get('train_seconds', 0):.0f} | {r.get('seconds_per_epoch', 0):.1f} |")
    return "\n".join(lines)
