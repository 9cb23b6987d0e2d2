"""scikit-learn estimators over the Swift library: hyper-parameters in __init__, data in fit,
queries in predict; the fitted widths in ``bandwidth_``.

Every estimator keeps its (validated, C-contiguous) training data and calls the library for each
prediction, so pickling is that of NumPy arrays and the results are bit for bit those of the
``nw`` command line with the same options.
"""
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _bridge

_RULES = ("scott", "silverman")


def _bandwidth(bandwidth, features, allow_cv):
    """(method, widths) for the library: a rule or 'cv' by name, or widths (one, or one per feature)."""
    if isinstance(bandwidth, str):
        allowed = _RULES + (("cv",) if allow_cv else ())
        if bandwidth not in allowed:
            raise ValueError(f"bandwidth should be a positive number, one per feature, or one of {', '.join(allowed)}, "
                             f"but is {bandwidth!r}")
        return bandwidth, None
    widths = np.asarray(bandwidth, dtype=np.float64).ravel()
    if widths.size == 1:
        widths = np.full(features, widths[0])
    if widths.size != features:
        raise ValueError(f"bandwidth should have 1 or {features} widths, but has {widths.size}")
    return "widths", np.ascontiguousarray(widths)


def _weights(sample_weight, X):
    if sample_weight is None:
        return None
    return _bridge.contiguous(_check_sample_weight(sample_weight, X, dtype=np.float64))


class _KernelEstimator(BaseEstimator):
    """The parameters every estimator shares, and the training data it keeps."""

    def _fit_data(self, X, y=None, sample_weight=None, supervised=True, **checks):
        if supervised:
            X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2, **checks)
        else:
            X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        self.X_fit_ = _bridge.contiguous(X)
        self.sample_weight_ = _weights(sample_weight, X)
        return y

    def _queries(self, X):
        check_is_fitted(self)
        return _bridge.contiguous(validate_data(self, X, dtype=np.float64, reset=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class NadarayaWatsonRegressor(RegressorMixin, _KernelEstimator):
    """Nadaraya–Watson kernel regression (attention pooling), or local polynomial regression of
    ``degree`` 1–3: f(q) = Σᵢ sᵢα(q, xᵢ)yᵢ / Σᵢ sᵢα(q, xᵢ) for degree 0.

    Parameters
    ----------
    kernel : str, default='gaussian'
        gaussian, epanechnikov, triangular, biweight, triweight, tricube, cosine, boxcar,
        logistic, cauchy, laplacian or constant.
    bandwidth : float, sequence of float, 'scott', 'silverman' or 'cv', default='scott'
        The width h (one, or one per feature), a rule of thumb, or the global minimiser of the
        leave-one-out score of this estimator (any degree).
    form : {'radial', 'product'}, default='radial'
    degree : int, default=0
        0 is Nadaraya–Watson; 1 local linear (no boundary bias); up to 3.
    empty : {'nan', 'nearest', 'mean', 'error'}, default='nan'
        Queries with no key in any support (compact kernels only).
    n_jobs : int, default=None
        Threads; None uses every core. Results do not depend on it.

    Attributes
    ----------
    bandwidth_ : ndarray of shape (n_features,)
    cv_score_ : float or None
        The leave-one-out score at ``bandwidth_`` when ``bandwidth='cv'``.
    n_features_in_ : int
    """

    def __init__(self, kernel="gaussian", bandwidth="scott", form="radial", degree=0, empty="nan", n_jobs=None):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.form = form
        self.degree = degree
        self.empty = empty
        self.n_jobs = n_jobs

    def fit(self, X, y, sample_weight=None):
        y = self._fit_data(X, y, sample_weight, y_numeric=True)
        self.y_fit_ = _bridge.contiguous(y)
        if not isinstance(self.degree, numbers.Integral):
            raise ValueError(f"degree should be 0, 1, 2 or 3, but is {self.degree!r}")
        method, widths = _bandwidth(self.bandwidth, self.X_fit_.shape[1], allow_cv=True)
        self.bandwidth_, score = _bridge.regressor_fit(self.kernel, self.form, self.degree, self.empty, method, widths,
                                                       self.X_fit_, self.y_fit_, self.sample_weight_, self.n_jobs)
        self.cv_score_ = None if np.isnan(score) else float(score)
        return self

    def predict(self, X):
        queries = self._queries(X)
        return _bridge.regressor_predict(self.kernel, self.form, self.degree, self.empty, self.bandwidth_, self.X_fit_,
                                         self.y_fit_, self.sample_weight_, queries, self.n_jobs)


class NadarayaWatsonClassifier(ClassifierMixin, _KernelEstimator):
    """Kernel classification: p(c | q) = Σᵢ sᵢα(q, xᵢ)[yᵢ = c] / Σᵢ sᵢα(q, xᵢ).

    Parameters as :class:`NadarayaWatsonRegressor`, without ``degree``; ``bandwidth='cv'``
    minimises the leave-one-out cross-entropy −Σᵢ sᵢ ln p̂₋ᵢ(yᵢ | xᵢ) / Σᵢ sᵢ (p̂ floored at 2⁻⁵²).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    bandwidth_ : ndarray of shape (n_features,)
    cv_score_ : float or None
        The leave-one-out cross-entropy at ``bandwidth_`` when ``bandwidth='cv'``.
    n_features_in_ : int
    """

    def __init__(self, kernel="gaussian", bandwidth="scott", form="radial", empty="nan", n_jobs=None):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.form = form
        self.empty = empty
        self.n_jobs = n_jobs

    def fit(self, X, y, sample_weight=None):
        y = self._fit_data(X, y, sample_weight)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        self.labels_ = np.ascontiguousarray(codes, dtype=np.int32)
        method, widths = _bandwidth(self.bandwidth, self.X_fit_.shape[1], allow_cv=True)
        self.bandwidth_, score = _bridge.classifier_fit(self.kernel, self.form, self.empty, method, widths, self.X_fit_,
                                                        self.labels_, self.sample_weight_, self.n_jobs)
        self.cv_score_ = None if np.isnan(score) else float(score)
        return self

    def predict_proba(self, X):
        queries = self._queries(X)
        return _bridge.classifier_predict_proba(self.kernel, self.form, self.empty, self.bandwidth_, self.X_fit_,
                                                self.labels_, len(self.classes_), self.sample_weight_, queries,
                                                self.n_jobs)

    def predict(self, X):
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]


class KernelDensity(_KernelEstimator):
    """The Parzen density p̂(q) = Σᵢ sᵢ K_h(q − xᵢ) / Σᵢ sᵢ, each kernel normalised to integrate
    to 1.

    Parameters
    ----------
    kernel, form, n_jobs : as :class:`NadarayaWatsonRegressor`.
    bandwidth : float, sequence of float, 'scott', 'silverman' or 'cv', default='scott'
        'cv' maximises the leave-one-out log-likelihood Σᵢ sᵢ ln p̂₋ᵢ(xᵢ) (statsmodels' ``cv_ml``).

    Attributes
    ----------
    bandwidth_ : ndarray of shape (n_features,)
    cv_score_ : float or None
        The negative leave-one-out log-likelihood per unit weight when ``bandwidth='cv'``.
    n_features_in_ : int
    """

    def __init__(self, kernel="gaussian", bandwidth="scott", form="radial", n_jobs=None):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.form = form
        self.n_jobs = n_jobs

    def fit(self, X, y=None, sample_weight=None):
        self._fit_data(X, None, sample_weight, supervised=False)
        method, widths = _bandwidth(self.bandwidth, self.X_fit_.shape[1], allow_cv=True)
        self.bandwidth_, score = _bridge.density_fit(self.kernel, self.form, method, widths, self.X_fit_,
                                                     self.sample_weight_, self.n_jobs)
        self.cv_score_ = None if np.isnan(score) else float(score)
        return self

    def score_samples(self, X):
        """ln p̂ at each row of X."""
        queries = self._queries(X)
        return _bridge.density_log(self.kernel, self.form, self.bandwidth_, self.X_fit_, self.sample_weight_, queries,
                                   self.n_jobs)

    def score(self, X, y=None):
        """The total log-likelihood Σ ln p̂(x) of X."""
        return float(np.sum(self.score_samples(X)))
