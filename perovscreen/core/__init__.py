"""Core: errors, provenance, hashing, paths and cache roots, typed results (`Estimate`). Imports nothing
else from perovscreen."""
