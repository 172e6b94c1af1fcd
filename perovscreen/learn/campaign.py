"""A resumable discovery campaign over a fixed candidate pool: propose a batch, observe it, repeat.

The replay harness drives it with an oracle; the live loop (later) will drive it with stage results.
Everything needed to continue is in `to_state()` (JSON-able: labelled indices and values in query
order, the random generator's state, the bandit's counts and the surrogate's warm-start state), so a
campaign stopped after any batch resumes with `Campaign.from_state(state, X_pool)` and proposes exactly
what the uninterrupted one would have.
"""
from __future__ import annotations

import math

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.learn.acquisition import POLICIES, UCB1Bandit, select
from perovscreen.learn.surrogates import make_surrogate


class Campaign:
    def __init__(self, X_pool, policy: str = "greedy", surrogate: str = "forest", seed: int = 0,
                 noise=None, truth=None):
        if policy not in POLICIES:
            raise InputError(f"unknown policy {policy!r}; choose from {', '.join(POLICIES)}")
        self.X = np.asarray(X_pool)
        if len(self.X) == 0:
            raise InputError("empty candidate set")
        self.policy, self.surrogate_name, self.seed = policy, surrogate, seed
        self.noise = None if noise is None else np.asarray(noise, float)
        self.truth = truth                       # only the oracle policy reads it
        self.rng = np.random.default_rng(seed)
        self.labelled: list[int] = []
        self.values: list[float] = []
        self.arms: list[str] = []                # bandit: the arm behind each batch
        self.bandit = UCB1Bandit() if policy == "bandit" else None
        self.model = make_surrogate(surrogate, seed) if POLICIES[policy] else None
        self._prepared = False
        self._pending_arm = None

    # ---- the loop ---------------------------------------------------------------------------------
    @property
    def free(self) -> np.ndarray:
        m = np.ones(len(self.X), bool)
        m[self.labelled] = False
        return m

    def propose(self, q: int) -> list[int]:
        free = self.free
        if not free.any():
            return []
        policy = self.policy
        if self.model is not None and len(self.labelled) >= 2:
            if not self._prepared:
                self.model.prepare(self.X)
                self._prepared = True
            idx = np.asarray(self.labelled)
            noise = self.noise[idx] if self.noise is not None else None
            self.model.fit(idx, np.asarray(self.values), noise)
            if self.bandit is not None:
                policy = self._pending_arm = self.bandit.choose(self.rng)
        elif self.model is not None:
            policy = "random"                    # nothing to fit yet
        best = max(self.values) if self.values else -math.inf
        return select(policy, q, free, self.rng, self.model, best, self.truth)

    def observe(self, idx, values) -> None:
        idx = [int(i) for i in idx]
        values = [float(v) for v in values]
        if len(idx) != len(values):
            raise InputError("observe: indices and values differ in length")
        if self.bandit is not None and self._pending_arm is not None:
            self.bandit.update(self._pending_arm, self.bandit.reward(self.values, values))
            self.arms.append(self._pending_arm)
            self._pending_arm = None
        self.labelled += idx
        self.values += values

    # ---- resume -----------------------------------------------------------------------------------
    def to_state(self) -> dict:
        return {"policy": self.policy, "surrogate": self.surrogate_name, "seed": self.seed,
                "labelled": list(self.labelled), "values": list(self.values), "arms": list(self.arms),
                "rng": self.rng.bit_generator.state,
                "bandit": self.bandit.state() if self.bandit else None,
                "model": self.model.state() if self.model else None}

    @classmethod
    def from_state(cls, state: dict, X_pool, noise=None, truth=None) -> "Campaign":
        c = cls(X_pool, state["policy"], state["surrogate"], state["seed"], noise, truth)
        c.labelled, c.values, c.arms = list(state["labelled"]), list(state["values"]), list(state["arms"])
        c.rng.bit_generator.state = state["rng"]
        if state.get("bandit"):
            c.bandit = UCB1Bandit(state=state["bandit"])
        if c.model is not None and state.get("model"):
            c.model.load_state(state["model"])
        return c
