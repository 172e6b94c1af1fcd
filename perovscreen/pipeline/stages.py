"""Every stage of the platform, in funnel order (the registry the funnel, the docs and schedulers read)."""
from __future__ import annotations

from perovscreen.bvse.stage import BVSE
from perovscreen.jobs.runner import INGEST
from perovscreen.md.stage import MD
from perovscreen.mesoscale.stage import MESOSCALE
from perovscreen.ml.gnn.predict import PROPS
from perovscreen.ml.stage import ML, ML_COMPOSITIONS
from perovscreen.potentials.stage import RELAX, SINGLE_POINT, STABILITY

STAGES = (INGEST, RELAX, BVSE, ML, STABILITY, MD, MESOSCALE, SINGLE_POINT, PROPS)
BY_NAME = {s.name: s for s in STAGES}

__all__ = ["BVSE", "BY_NAME", "INGEST", "MD", "MESOSCALE", "ML", "ML_COMPOSITIONS", "PROPS", "RELAX", "SINGLE_POINT", "STABILITY",
           "STAGES"]

