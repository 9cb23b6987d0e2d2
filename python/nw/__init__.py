"""Nadaraya–Watson kernel regression (attention pooling) with scikit-learn estimators, over the
exact and fast Swift library ``NadarayaWatson``."""
from .estimators import KernelDensity, NadarayaWatsonClassifier, NadarayaWatsonRegressor

__all__ = ["NadarayaWatsonRegressor", "NadarayaWatsonClassifier", "KernelDensity"]
__version__ = "0.1.0"
