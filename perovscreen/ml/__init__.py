"""ML property models: RF/LightGBM on magpie + structure descriptors, grouped CV, conformal intervals."""
from perovscreen.core.lazy import lazy_exports

_EXPORTS = {"Prediction": "model", "PropertyModel": "model", "load_model": "cards", "save_model": "cards"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
