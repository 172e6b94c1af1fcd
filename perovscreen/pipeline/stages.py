"""Every stage of the platform, in funnel order (the registry the funnel, the docs and schedulers read)."""
from __future__ import annotations

from perovscreen.bvse.stage import BVSE
from perovscreen.dft.stage import DFT_GW, DFT_RELAX, DFT_STATIC
from perovscreen.jobs.runner import INGEST
from perovscreen.md.stage import MD
from perovscreen.mesoscale.stage import MESOSCALE
from perovscreen.neb.stage import NEB_STAGE
from perovscreen.ml.gnn.predict import PROPS
from perovscreen.ml.stage import ML, ML_COMPOSITIONS
from perovscreen.potentials.advanced_stage import ADVANCED, ELASTIC, INTERFACE
from perovscreen.potentials.stage import RELAX, SINGLE_POINT, STABILITY

STAGES = (INGEST, RELAX, BVSE, ML, STABILITY, MD, MESOSCALE, SINGLE_POINT, PROPS, DFT_STATIC, DFT_RELAX, DFT_GW, NEB_STAGE,
          ELASTIC, INTERFACE, ADVANCED)
BY_NAME = {s.name: s for s in STAGES}

__all__ = ["ADVANCED", "BVSE", "BY_NAME", "DFT_GW", "DFT_RELAX", "DFT_STATIC", "ELASTIC", "INGEST", "INTERFACE", "MD", "MESOSCALE", "ML", "ML_COMPOSITIONS", "NEB_STAGE", "PROPS", "RELAX", "SINGLE_POINT", "STABILITY",
           "STAGES"]

