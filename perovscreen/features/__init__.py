"""Descriptors: magpie-style composition features (vectorised) and structure features (incl. BVSE)."""
from perovscreen.features.composition import featurize_compositions, featurize_encoded
from perovscreen.features.descriptors import (ALL_NAMES, COMPOSITION_NAMES, STRUCTURE_NAMES, DiskCache,
                                              MemoryCache, StoreCache, compute_descriptors)
from perovscreen.features.formula import encode_formulas, parse_formula

__all__ = ["ALL_NAMES", "COMPOSITION_NAMES", "STRUCTURE_NAMES", "DiskCache", "MemoryCache", "StoreCache",
           "compute_descriptors", "encode_formulas", "featurize_compositions", "featurize_encoded", "parse_formula"]
