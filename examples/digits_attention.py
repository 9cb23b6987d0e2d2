#!/usr/bin/env python3
"""Classifies scikit-learn's 8x8 digits by attention pooling with `nw`, beside k-nearest neighbours.

    swift build -c release --product nw
    python3 -m pip install numpy scikit-learn      # the digits ship inside scikit-learn
    python3 examples/digits_attention.py [--nw .build/release/nw]

The 1797 digits (64 pixels, each 0..16, scaled to [0, 1]) are split 70/30, stratified,
random_state=0. The training pixels are the keys (K.npy, float64), their labels the values
(V.npy, int64), the test pixels the queries (Q.npy). Attention pooling gives each class the
softmax-weighted share of the keys carrying it, and predicts the most probable class:

  dot       cosine similarity (--normalize), weights softmax(q.k / h^2): the temperature h is
            chosen by leave-one-out cross-entropy (`nw bandwidth --method cv`, shown), and
            `nw predict --bandwidth cv` selects it again before predicting;
  gaussian  weights softmax(-|q - k|^2 / 2h^2), one h per pixel, chosen the same way.

Baselines, on the same split: k-nearest neighbours (Euclidean, and cosine) with k chosen in
1..15 by 5-fold cross-validated accuracy on the training set, and 1-NN. Seconds are wall time
of the whole selection and prediction (for nw the whole process, files in and out).
Prints a Markdown table; exits 1 if nw's dot accuracy is below 0.9, so CI notices breakage.
The nw binary: --nw, else $NW_BINARY, else .build/release/nw.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.neighbors import KNeighborsClassifier
except ImportError:
    sys.exit("digits_attention: needs scikit-learn: python3 -m pip install scikit-learn")

MINIMUM_DOT_ACCURACY = 0.9


def run(command):
    """Runs a command; returns (stdout, seconds), or exits with its stderr if it fails."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"digits_attention: {' '.join(command)} exited {result.returncode}:\n"
                 + result.stderr.strip())
    return result.stdout, seconds


def widths_text(widths):
    """One width as `h = 0.123`; several as their count and range."""
    if min(widths) == max(widths):
        return f"h = {widths[0]:.4g}"
    return f"{len(widths)} widths, h in [{min(widths):.3g}, {max(widths):.3g}]"


def nw_attention(nw, folder, kernel):
    """`nw bandwidth` then `nw predict --bandwidth cv` for one kernel.

    Returns the widths, the predicted labels, the probability columns and both times."""
    data = ["--train", f"{folder}/K.npy", "--values", f"{folder}/V.npy", "--kernel", kernel,
            "--classify"] + (["--normalize"] if kernel == "dot" else [])
    stdout, bandwidth_seconds = run([nw, "bandwidth"] + data + ["--method", "cv"])
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        sys.exit(f"digits_attention: nw bandwidth --kernel {kernel} printed no widths")
    widths = [float(field) for field in lines[-1].split(",")]

    output = f"{folder}/pred-{kernel}.csv"
    query = ["--query", f"{folder}/Q.npy", "--bandwidth", "cv", "--output", output]
    _, predict_seconds = run([nw, "predict"] + data + query)
    with open(output, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    labels = np.array([int(float(row["prediction"])) for row in rows])
    return widths, labels, bandwidth_seconds, predict_seconds


def knn(x_train, y_train, x_test, y_test, metric, k=None):
    """k-NN with k given, or chosen in 1..15 by 5-fold CV; returns (k, accuracy, seconds)."""
    start = time.perf_counter()
    if k is None:
        search = GridSearchCV(KNeighborsClassifier(metric=metric),
                              {"n_neighbors": list(range(1, 16))}, cv=5)
        model = search.fit(x_train, y_train).best_estimator_
    else:
        model = KNeighborsClassifier(n_neighbors=k, metric=metric).fit(x_train, y_train)
    accuracy = float(np.mean(model.predict(x_test) == y_test))
    return model.n_neighbors, accuracy, time.perf_counter() - start


def dot_pooling(x_train, y_train, x_test, h):
    """NumPy's attention pooling, cosine logits / h^2: the most probable label per query."""
    def unit(x):
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    logits = unit(x_test) @ unit(x_train).T / (h * h)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    classes = np.unique(y_train)
    shares = weights @ (y_train[:, None] == classes[None, :])
    return classes[np.argmax(shares, axis=1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nw", default=os.environ.get("NW_BINARY", ".build/release/nw"))
    # gaussian's cross-validation starts from Scott's rule per pixel, which has no width for
    # the pixels that are 0 in every training image: add it with --kernels dot,gaussian on
    # data without constant columns.
    parser.add_argument("--kernels", default="dot",
                        help="nw kernels to run, comma-separated (dot is always run)")
    args = parser.parse_args()
    if not os.access(args.nw, os.X_OK):
        sys.exit(f"digits_attention: {args.nw} is not an executable; build it with "
                 "`swift build -c release --product nw`, or give --nw or NW_BINARY")
    kernels = ["dot"] + [k for k in args.kernels.split(",") if k and k != "dot"]

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y)
    rows = []
    with tempfile.TemporaryDirectory(prefix="nw-digits-") as folder:
        np.save(f"{folder}/K.npy", x_train.astype(np.float64))
        np.save(f"{folder}/V.npy", y_train.astype(np.int64))
        np.save(f"{folder}/Q.npy", x_test.astype(np.float64))
        for kernel in kernels:
            widths, labels, t_bandwidth, t_predict = nw_attention(args.nw, folder, kernel)
            if len(labels) != len(y_test):
                sys.exit(f"digits_attention: nw predict --kernel {kernel} gave {len(labels)} "
                         f"predictions for {len(y_test)} queries")
            accuracy = float(np.mean(labels == y_test))
            rows.append((f"nw attention, {kernel}" + (" (cosine)" if kernel == "dot" else ""),
                         widths_text(widths), accuracy, t_predict, (kernel, t_bandwidth)))
            if kernel == "dot":
                dot_accuracy = accuracy
                agreement = np.mean(dot_pooling(x_train, y_train, x_test, widths[0]) == labels)

    for name, metric, k in (("k-NN, Euclidean", "euclidean", None),
                            ("1-NN, Euclidean", "euclidean", 1),
                            ("k-NN, cosine", "cosine", None)):
        k, accuracy, seconds = knn(x_train, y_train, x_test, y_test, metric, k)
        chosen = f"k = {k}" + (" (5-fold CV over 1..15)" if name.startswith("k-") else "")
        rows.append((name, chosen, accuracy, seconds, None))

    print(f"Digits: {len(y_train)} training and {len(y_test)} test images, 64 pixels, 10 classes")
    print()
    print("| method | chosen hyper-parameter | test accuracy | seconds |")
    print("| --- | --- | ---: | ---: |")
    for name, chosen, accuracy, seconds, _ in rows:
        print(f"| {name} | {chosen} | {accuracy:.4f} | {seconds:.2f} |")
    print()
    print("nw's seconds: `nw predict --bandwidth cv` (selection and prediction); the h shown")
    print("is from `nw bandwidth --method cv`, which took " + ", ".join(
        f"{t:.2f} s ({kernel})" for *_, (kernel, t) in rows[:len(kernels)]))
    print(f"NumPy's cosine attention pooling at nw's h agrees with nw on {agreement:.1%} "
          "of the test images")
    if not dot_accuracy >= MINIMUM_DOT_ACCURACY:
        sys.exit(f"digits_attention: nw's dot accuracy {dot_accuracy:.4f} is below "
                 f"{MINIMUM_DOT_ACCURACY}")


if __name__ == "__main__":
    main()
