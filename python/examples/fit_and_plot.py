"""Notebook-style example: local constant against local linear fits with CV-chosen widths on the
motorcycle data shipped in examples/, and the Gaussian attention weights of three queries.

    python python/examples/fit_and_plot.py [OUT.png]
"""
import csv
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from nw import NadarayaWatsonRegressor

data = Path(__file__).resolve().parents[2] / "examples" / "mcycle.csv"
with open(data) as f:
    rows = list(csv.DictReader(f))
X = np.array([[float(r["times"])] for r in rows])
y = np.array([float(r["accel"]) for r in rows])
grid = np.linspace(X.min(), X.max(), 400).reshape(-1, 1)

figure, (fits, weights) = plt.subplots(1, 2, figsize=(11, 4))
fits.scatter(X, y, s=8, c="grey", label="mcycle")
for degree in (0, 1):
    model = NadarayaWatsonRegressor(bandwidth="cv", degree=degree).fit(X, y)
    fits.plot(grid, model.predict(grid), label=f"degree {degree}: h = {model.bandwidth_[0]:.2f} ms, CV {model.cv_score_:.0f}")
fits.set(xlabel="time after impact (ms)", ylabel="acceleration (g)", title="Leave-one-out CV widths")
fits.legend(fontsize=8)

# Attention weights of three queries: a softmax over the keys (degree 0, Gaussian).
model = NadarayaWatsonRegressor(bandwidth="cv").fit(X, y)
h = model.bandwidth_[0]
for q in (15.0, 25.0, 40.0):
    logits = -0.5 * ((q - X[:, 0]) / h) ** 2
    alpha = np.exp(logits - logits.max())
    weights.plot(X[:, 0], alpha / alpha.sum(), label=f"q = {q:g} ms")
weights.set(xlabel="key (ms)", ylabel="attention weight", title=f"Gaussian attention, h = {h:.2f} ms")
weights.legend(fontsize=8)
figure.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "fit.png"
figure.savefig(out, dpi=110)
print(f"wrote {out}")
