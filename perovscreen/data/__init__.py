"""Dataset loaders: OBELiX, Liverpool ionics, Perov-5 (path, else $PEROVSCREEN_DATA, else ../shared/data)."""
from perovscreen.data.liverpool import load_liverpool
from perovscreen.data.obelix import download_obelix, load_obelix
from perovscreen.core.paths import data_root
from perovscreen.data.perov5 import load_perov5

__all__ = ["data_root", "download_obelix", "load_liverpool", "load_obelix", "load_perov5"]
