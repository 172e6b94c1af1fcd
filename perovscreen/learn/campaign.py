"""A resumable discovery campaign over a fixed candidate pool: propose a batch, observe it, repeat.

The replay harness drives it with an oracle; the live loop (`learn/live.py`) drives it with stage results.
Everything needed to continue is in `to_state()` (JSON-able: labelled indices and values in query
order, failed indices, the random generator's state, the bandit's counts and the surrogates' warm-start
state), so a campaign stopped after any batch resumes with `Campaign.from_state(state, X_pool)` and
proposes exactly what the uninterrupted one would have (given the same `aux` and `cost`).

Beyond one maximised objective:
- `objectives=2`: values are pairs (both maximised; negate a minimised one), one surrogate each, and the
  `ehvi` policy (Monte Carlo expected hypervolume improvement, learn/pareto.py);
- `aux` [N, F]: cheap-fidelity values per candidate (NaN = not computed): appended to the descriptors
  of the surrogates (a stacked multi-fidelity model); unknown entries are imputed by a forest on the
  descriptors, fitted on the known ones; the `mfgp` surrogate takes them as lower-fidelity observations
  instead (nothing imputed);
- `cost` [N]: the expected cost of labelling each candidate, read by the cost-aware `eipc` policy and by
  the bandit's reward (improvement per cost);
- `failed`: candidates whose calculation failed are never proposed again.
`last` holds, for the batch just proposed, each pick's acquisition value and the prediction made before
the calculation (the live campaign stores them).
"""
from __future__ import annotations

import math

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.learn.acquisition import MULTI_OBJECTIVE, POLICIES, UCB1Bandit, select
from perovscreen.learn.surrogates import ForestSurrogate, make_surrogate


class Campaign:
    def __init__(self, X_pool, policy: str = "greedy", surrogate: str = "forest", seed: int = 0,
                 noise=None, truth=None, objectives: int = 1, aux=None, cost=None):
        if policy not in POLICIES:
            raise InputError(f"unknown policy {policy!r}; choose from {', '.join(POLICIES)}")
        if objectives not in (1, 2):
            raise InputError(f"1 or 2 objectives are supported, got {objectives}")
        if objectives == 2 and policy not in MULTI_OBJECTIVE:
            raise InputError(f"two objectives need a policy among {', '.join(MULTI_OBJECTIVE)}, got {policy!r}")
        if objectives == 1 and policy == "ehvi":
            raise InputError("ehvi needs two objectives")
        self.X = np.asarray(X_pool)
        if len(self.X) == 0:
            raise InputError("empty candidate set")
        self.policy, self.surrogate_name, self.seed, self.objectives = policy, surrogate, seed, objectives
        self.noise = None if noise is None else np.asarray(noise, float)
        self.truth = truth                       # only the oracle policy reads it
        self.aux = None if aux is None else np.asarray(aux, float).reshape(len(self.X), -1)
        self.aux_same_scale = None               # mfgp: per aux column, measured in the target's units
        self.cost = None if cost is None else np.asarray(cost, float)
        self.rng = np.random.default_rng(seed)
        self.labelled: list[int] = []
        self.values: list = []
        self.failed: list[int] = []
        self.arms: list[str] = []                # bandit: the arm behind each batch
        self.bandit = UCB1Bandit() if policy == "bandit" else None
        needs = POLICIES[policy]
        self.models = [make_surrogate(surrogate, seed + 7919 * j) for j in range(objectives)] if needs else []
        self.model = self.models[0] if self.models else None
        self.last: list[dict] = []
        self._prepared = False
        self._pending_arm = None

    # ---- the loop ---------------------------------------------------------------------------------
    @property
    def free(self) -> np.ndarray:
        m = np.ones(len(self.X), bool)
        m[self.labelled] = False
        m[self.failed] = False
        return m

    def _aux_columns(self) -> np.ndarray:
        """Cheap-fidelity columns with unknown entries imputed from the descriptors."""
        A = self.aux.copy()
        for j in range(A.shape[1]):
            known = np.isfinite(A[:, j])
            if known.all():
                continue
            if known.sum() < 3:
                A[~known, j] = np.nanmean(A[:, j]) if known.any() else 0.0
                continue
            f = ForestSurrogate(n_trees=32, seed=self.seed + j)
            f.prepare(self.X)
            f.fit(np.flatnonzero(known), A[known, j])
            A[~known, j] = f.predict()[0][~known]
        return A

    def fit(self) -> bool:
        """Fit the surrogates on everything labelled; False when there is too little to fit."""
        if not self.models or len(self.labelled) < 2:
            return False
        if not self._prepared:
            for m in self.models:
                m.prepare(self.X)
            self._prepared = True
        if self.aux is not None:
            stacked = [m for m in self.models if not getattr(m, "multi_fidelity", False)]
            cols = self._aux_columns() if stacked else None
            for m in self.models:
                if m in stacked:
                    m.set_extra(cols)
                else:
                    m.set_low(self.aux, self.aux_same_scale)   # cheap values as lower-fidelity data

        idx = np.asarray(self.labelled)
        noise = self.noise[idx] if self.noise is not None else None
        Y = np.asarray(self.values, float).reshape(len(idx), self.objectives)
        for j, m in enumerate(self.models):
            m.fit(idx, Y[:, j], noise)
        return True

    def predict(self):
        """(mean [N, M], std [N, M]) of the fitted surrogates."""
        ms = [m.predict() for m in self.models]
        return np.stack([a for a, _ in ms], 1), np.stack([b for _, b in ms], 1)

    def propose(self, q: int) -> list[int]:
        self.last = []
        free = self.free
        if not free.any():
            return []
        policy = self.policy
        fitted = self.fit()
        if self.models and not fitted:
            policy = "random"                    # nothing to fit yet
        elif self.bandit is not None:
            policy = self._pending_arm = self.bandit.choose(self.rng)
        Y = np.asarray(self.values, float).reshape(len(self.labelled), self.objectives)
        best = float(Y[:, 0].max()) if len(Y) else -math.inf
        idx, acq = select(policy, q, free, self.rng, self.models, best, self.truth, cost=self.cost, observed=Y)
        mean, std = self.predict() if fitted else (None, None)
        for i, a in zip(idx, acq):
            self.last.append({"index": int(i), "policy": policy, "acquisition": _num(a),
                              "mean": None if mean is None else [_num(v) for v in mean[i]],
                              "std": None if std is None else [_num(v) for v in std[i]]})
        return idx

    def observe(self, idx, values, cost: float = 1.0) -> None:
        idx = [int(i) for i in idx]
        if self.objectives == 1:
            values = [float(v) for v in values]
        else:
            values = [[float(x) for x in v] for v in values]
        if len(idx) != len(values):
            raise InputError("observe: indices and values differ in length")
        if self.bandit is not None and self._pending_arm is not None:
            first = [v if self.objectives == 1 else v[0] for v in values]
            prev = [v if self.objectives == 1 else v[0] for v in self.values]
            self.bandit.update(self._pending_arm, self.bandit.reward(prev, first, cost))
            self.arms.append(self._pending_arm)
            self._pending_arm = None
        self.labelled += idx
        self.values += values

    def fail(self, idx) -> None:
        """Candidates whose calculation failed: never proposed again."""
        self.failed += [int(i) for i in idx if int(i) not in self.failed]

    # ---- resume -----------------------------------------------------------------------------------
    def to_state(self) -> dict:
        return {"policy": self.policy, "surrogate": self.surrogate_name, "seed": self.seed,
                "objectives": self.objectives, "labelled": list(self.labelled), "values": list(self.values),
                "failed": list(self.failed), "arms": list(self.arms), "rng": self.rng.bit_generator.state,
                "bandit": self.bandit.state() if self.bandit else None,
                "models": [m.state() for m in self.models], "pending_arm": self._pending_arm}

    @classmethod
    def from_state(cls, state: dict, X_pool, noise=None, truth=None, aux=None, cost=None) -> "Campaign":
        c = cls(X_pool, state["policy"], state["surrogate"], state["seed"], noise, truth,
                state.get("objectives", 1), aux, cost)
        c.labelled, c.values, c.arms = list(state["labelled"]), list(state["values"]), list(state["arms"])
        c.failed = list(state.get("failed", []))
        c.rng.bit_generator.state = state["rng"]
        c._pending_arm = state.get("pending_arm")
        if state.get("bandit"):
            c.bandit = UCB1Bandit(state=state["bandit"])
        models = state.get("models") or ([state["model"]] if state.get("model") else [])
        for m, s in zip(c.models, models):
            if s:
                m.load_state(s)
        return c


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None
