"""Bond-valence site energy (softBV) landscapes and exact percolation barriers."""
from perovscreen.bvse.core import BVSEResult, bvse_stage, compute_bvse

__all__ = ["BVSEResult", "bvse_stage", "compute_bvse"]
