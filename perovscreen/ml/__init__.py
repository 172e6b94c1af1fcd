"""ML property models: RF/LightGBM on magpie + structure descriptors, grouped CV, conformal intervals."""
from perovscreen.ml.cards import load_model, save_model
from perovscreen.ml.model import Prediction, PropertyModel, TargetPrediction

__all__ = ["Prediction", "PropertyModel", "TargetPrediction", "load_model", "save_model"]
