"""Active learning: surrogates with uncertainty, acquisition policies (EHVI, cost-aware, bandits), a
resumable campaign, the live campaign over stages (`perovscreen learn run`), multi-fidelity strategies and
the after-the-fact replay benchmark (`perovscreen learn replay`, docs/learn.md)."""
from perovscreen.core.lazy import lazy_exports

_EXPORTS = {"Oracle": "oracle", "load_oracle": "oracle", "oracle_from_arrays": "oracle",
            "Campaign": "campaign", "ReplayParams": "replay", "run_replay": "replay",
            "ReplayReport": "replay", "PolicySummary": "replay", "POLICIES": "acquisition",
            "LearnParams": "live", "run_campaign": "live", "hypervolume": "pareto", "ehvi": "pareto",
            "MFProblem": "fidelity", "run_strategy": "fidelity", "augmented_branin": "fidelity"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
