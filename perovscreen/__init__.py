"""perovscreen: find lithium solid electrolytes among perovskite-family crystals."""
__version__ = "0.1.0"
