"""ctypes bindings of the Swift library's C ABI (Sources/NWBridge/Bridge.swift).

Arrays cross as pointers to C-contiguous float64 memory (no copy when the caller's array already
is one); results are written into NumPy arrays allocated here. ctypes releases the GIL for the
whole foreign call, so other Python threads run while the library computes on every core.
"""
import ctypes
import os
from pathlib import Path

import numpy as np

_MESSAGE_CAPACITY = 2048
_ABI_VERSION = 2

_c_size = ctypes.c_ssize_t  # Swift's Int
_ptr = ctypes.c_void_p
_name = ctypes.c_char_p
_SIGNATURES = {
    "nw_regressor_fit": [_name, _name, ctypes.c_int32, _name, _name, _ptr, _c_size, _c_size, _ptr, _ptr, _ptr,
                         ctypes.c_int32, _ptr, _ptr, _ptr, _c_size],
    "nw_regressor_predict": [_name, _name, ctypes.c_int32, _name, _ptr, _c_size, _c_size, _ptr, _ptr, _ptr,
                             _c_size, _ptr, ctypes.c_int32, _ptr, _ptr, _c_size],
    "nw_classifier_predict_proba": [_name, _name, _name, _ptr, _c_size, _c_size, _ptr, _ptr, _c_size, _ptr,
                                    _c_size, _ptr, ctypes.c_int32, _ptr, _ptr, _c_size],
    "nw_classifier_fit": [_name, _name, _name, _name, _ptr, _c_size, _c_size, _ptr, _ptr, _ptr, ctypes.c_int32, _ptr,
                          _ptr, _ptr, _c_size],
    "nw_density_fit": [_name, _name, _name, _ptr, _c_size, _c_size, _ptr, _ptr, ctypes.c_int32, _ptr, _ptr, _ptr,
                       _c_size],
    "nw_density_log": [_name, _name, _ptr, _c_size, _c_size, _ptr, _ptr, _c_size, _ptr, ctypes.c_int32, _ptr,
                       _ptr, _c_size],
}

_library = None


def _load():
    """The library shipped in the package ($NW_BRIDGE_LIBRARY overrides), loaded once."""
    global _library
    if _library is None:
        path = os.environ.get("NW_BRIDGE_LIBRARY")
        if path is None:
            here = Path(__file__).resolve().parent
            candidates = [here / "libNWBridge.so", here / "libNWBridge.dylib"]
            found = [c for c in candidates if c.is_file()]
            if not found:
                raise ImportError(f"the nw native library is missing from {here}: reinstall with pip install ./python")
            path = str(found[0])
        library = ctypes.CDLL(path)
        library.nw_abi_version.restype = ctypes.c_int32
        if library.nw_abi_version() != _ABI_VERSION:
            raise ImportError(f"{path} has ABI version {library.nw_abi_version()}, this package needs {_ABI_VERSION}")
        for function, arguments in _SIGNATURES.items():
            getattr(library, function).argtypes = arguments
            getattr(library, function).restype = ctypes.c_int32
        _library = library
    return _library


def _pointer(array):
    return None if array is None else array.ctypes.data


def _call(function, *arguments):
    """Calls a C function with a message buffer appended; its failure becomes a ValueError."""
    message = ctypes.create_string_buffer(_MESSAGE_CAPACITY)
    status = getattr(_load(), function)(*arguments, message, _MESSAGE_CAPACITY)
    if status != 0:
        raise ValueError(message.value.decode("utf-8", errors="replace"))


def contiguous(array, dtype=np.float64):
    """The array as C-contiguous memory of `dtype` (the same array when it already is)."""
    return None if array is None else np.ascontiguousarray(array, dtype=dtype)


def _threads(n_jobs):
    return 0 if n_jobs is None or n_jobs < 0 else int(n_jobs)


def regressor_fit(kernel, form, degree, empty, method, widths, X, y, sample_weight, n_jobs):
    n, d = X.shape
    widths_out = np.empty(d)
    score = ctypes.c_double(np.nan)
    _call("nw_regressor_fit", kernel.encode(), form.encode(), int(degree), empty.encode(), method.encode(),
          _pointer(widths), n, d, _pointer(X), _pointer(y), _pointer(sample_weight), _threads(n_jobs),
          _pointer(widths_out), ctypes.addressof(score))
    return widths_out, score.value


def regressor_predict(kernel, form, degree, empty, widths, X, y, sample_weight, queries, n_jobs):
    n, d = X.shape
    out = np.empty(queries.shape[0])
    _call("nw_regressor_predict", kernel.encode(), form.encode(), int(degree), empty.encode(), _pointer(widths),
          n, d, _pointer(X), _pointer(y), _pointer(sample_weight), queries.shape[0], _pointer(queries),
          _threads(n_jobs), _pointer(out))
    return out


def classifier_predict_proba(kernel, form, empty, widths, X, labels, classes, sample_weight, queries, n_jobs):
    n, d = X.shape
    out = np.empty((queries.shape[0], classes))
    _call("nw_classifier_predict_proba", kernel.encode(), form.encode(), empty.encode(), _pointer(widths), n, d,
          _pointer(X), _pointer(labels), classes, _pointer(sample_weight), queries.shape[0], _pointer(queries),
          _threads(n_jobs), _pointer(out))
    return out


def classifier_fit(kernel, form, empty, method, widths, X, labels, sample_weight, n_jobs):
    n, d = X.shape
    widths_out = np.empty(d)
    score = ctypes.c_double(np.nan)
    _call("nw_classifier_fit", kernel.encode(), form.encode(), empty.encode(), method.encode(), _pointer(widths), n, d,
          _pointer(X), _pointer(labels), _pointer(sample_weight), _threads(n_jobs), _pointer(widths_out),
          ctypes.addressof(score))
    return widths_out, score.value


def density_fit(kernel, form, method, widths, X, sample_weight, n_jobs):
    n, d = X.shape
    widths_out = np.empty(d)
    score = ctypes.c_double(np.nan)
    _call("nw_density_fit", kernel.encode(), form.encode(), method.encode(), _pointer(widths), n, d, _pointer(X),
          _pointer(sample_weight), _threads(n_jobs), _pointer(widths_out), ctypes.addressof(score))
    return widths_out, score.value


def density_log(kernel, form, widths, X, sample_weight, queries, n_jobs):
    n, d = X.shape
    out = np.empty(queries.shape[0])
    _call("nw_density_log", kernel.encode(), form.encode(), _pointer(widths), n, d, _pointer(X), _pointer(sample_weight),
          queries.shape[0], _pointer(queries), _threads(n_jobs), _pointer(out))
    return out
