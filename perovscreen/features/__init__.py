"""Descriptors: magpie-style composition features (vectorised) and structure features (incl. BVSE)."""
from perovscreen.features.composition import featurize_compositions
from perovscreen.features.descriptors import (ALL_NAMES, COMPOSITION_NAMES, STRUCTURE_NAMES, DiskCache,
                                              MemoryCache, compute_descriptors)
from perovscreen.features.formula import parse_formula

__all__ = ["ALL_NAMES", "COMPOSITION_NAMES", "STRUCTURE_NAMES", "DiskCache", "MemoryCache",
           "compute_descriptors", "featurize_compositions", "parse_formula"]
