"""The Python package: scikit-learn's own estimator checks, equality with the command line bit
for bit, pickling, errors as exceptions, and the GIL released during computation."""
import csv
import pickle
import subprocess
import threading
import time

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

import nw


@pytest.mark.parametrize("estimator", [
    nw.NadarayaWatsonRegressor(),
    nw.NadarayaWatsonRegressor(degree=1),
    nw.NadarayaWatsonClassifier(),
    nw.KernelDensity(),
], ids=repr)
def test_scikit_learn_estimator_checks(estimator):
    check_estimator(estimator)


def chapter_data(n=120, seed=3):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 5, n))
    y = 2 * np.sin(x) + x ** 0.8 + rng.normal(0, 0.5, n)
    return x, y


def write_csv(path, header, columns):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in zip(*columns):
            # repr is the shortest string that reads back to the same double.
            writer.writerow([v if isinstance(v, str) else repr(float(v)) for v in row])


def run_cli(binary, *arguments):
    done = subprocess.run([binary, *arguments], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(done.stdout.splitlines()))
    return rows[0], rows[1:]


@pytest.mark.parametrize("kernel,degree,bandwidth,weighted", [
    ("gaussian", 0, "0.3", False),
    ("gaussian", 0, "cv", False),
    ("gaussian", 1, "scott", True),
    ("epanechnikov", 0, "0.7", True),
    ("epanechnikov", 2, "1.1", False),
    ("laplacian", 0, "silverman", False),
])
def test_regression_equals_the_command_line_bit_for_bit(tmp_path, nw_binary, kernel, degree, bandwidth, weighted):
    x, y = chapter_data()
    weights = np.arange(len(x)) % 3 + 0.5
    queries = np.linspace(-0.2, 5.2, 37)
    columns = [x, weights, y] if weighted else [x, y]
    write_csv(tmp_path / "train.csv", ["x", "s", "y"] if weighted else ["x", "y"], columns)
    write_csv(tmp_path / "query.csv", ["x"], [queries])
    arguments = ["predict", "--train", str(tmp_path / "train.csv"), "--query", str(tmp_path / "query.csv"),
                 "--kernel", kernel, "--degree", str(degree), "--bandwidth", bandwidth, "--target", "y"]
    if weighted:
        arguments += ["--sample-weight", "s"]
    header, rows = run_cli(nw_binary, *arguments)
    expected = np.array([float(r[header.index("prediction")]) for r in rows])
    width = float(bandwidth) if bandwidth[0].isdigit() else bandwidth
    model = nw.NadarayaWatsonRegressor(kernel=kernel, degree=degree, bandwidth=width)
    model.fit(x.reshape(-1, 1), y, sample_weight=weights if weighted else None)
    predicted = model.predict(queries.reshape(-1, 1))
    assert np.array_equal(predicted, expected, equal_nan=True)
    if bandwidth == "cv":
        assert model.cv_score_ is not None and model.cv_score_ > 0


def test_classification_and_density_equal_the_command_line(tmp_path, nw_binary):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(90, 2)) + np.repeat([[0, 0], [2, 1], [0, 3]], 30, axis=0)
    labels = np.repeat(["setosa", "versicolor", "virginica"], 30)
    queries = rng.normal(size=(25, 2)) * 2 + 1
    write_csv(tmp_path / "train.csv", ["a", "b", "species"], [X[:, 0], X[:, 1], labels])
    write_csv(tmp_path / "query.csv", ["a", "b"], [queries[:, 0], queries[:, 1]])
    train, query = str(tmp_path / "train.csv"), str(tmp_path / "query.csv")

    header, rows = run_cli(nw_binary, "predict", "--classify", "--train", train, "--query", query,
                           "--kernel", "gaussian", "--bandwidth", "scott")
    expected = np.array([[float(r[header.index("p_" + c)]) for c in ["setosa", "versicolor", "virginica"]] for r in rows])
    model = nw.NadarayaWatsonClassifier().fit(X, labels)
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert np.array_equal(model.predict_proba(queries), expected)
    assert [r[header.index("prediction")] for r in rows] == list(model.predict(queries))

    header, rows = run_cli(nw_binary, "density", "--train", train, "--features", "a,b", "--query", query,
                           "--kernel", "epanechnikov", "--bandwidth", "silverman")
    expected = np.array([float(r[header.index("density")]) for r in rows])
    log_density = nw.KernelDensity(kernel="epanechnikov", bandwidth="silverman").fit(X).score_samples(queries)
    # The CLI prints exp(ln p̂) by the C library's exp; NumPy's exp may round the last bit apart.
    assert np.allclose(np.exp(log_density), expected, rtol=4.5e-16, atol=0)

    # Cross-validation of the classifier (cross-entropy) and the density (likelihood): the
    # widths `nw bandwidth --classify|--density --method cv` prints.
    printed = subprocess.run([nw_binary, "bandwidth", "--train", train, "--method", "cv", "--classify"],
                             capture_output=True, text=True, check=True).stdout
    model = nw.NadarayaWatsonClassifier(bandwidth="cv").fit(X, labels)
    assert list(model.bandwidth_) == [float(v) for v in printed.split(",")]
    assert model.cv_score_ is not None and 0 < model.cv_score_ < np.log(3)
    printed = subprocess.run([nw_binary, "bandwidth", "--train", train, "--features", "a,b", "--method", "cv",
                              "--density"], capture_output=True, text=True, check=True).stdout
    density = nw.KernelDensity(bandwidth="cv").fit(X)
    assert list(density.bandwidth_) == [float(v) for v in printed.split(",")]
    assert density.cv_score_ is not None


def test_pickling_round_trip():
    x, y = chapter_data()
    X = x.reshape(-1, 1)
    for model in [nw.NadarayaWatsonRegressor(bandwidth="cv", degree=1).fit(X, y),
                  nw.NadarayaWatsonClassifier(kernel="tricube").fit(X, y > 2),
                  nw.KernelDensity(bandwidth=0.4).fit(X)]:
        copy = pickle.loads(pickle.dumps(model))
        method = "score_samples" if isinstance(model, nw.KernelDensity) else "predict"
        assert np.array_equal(getattr(copy, method)(X), getattr(model, method)(X))
        assert np.array_equal(copy.bandwidth_, model.bandwidth_)


def test_errors_are_exceptions_with_the_library_message():
    x, y = chapter_data(20)
    X = x.reshape(-1, 1)
    with pytest.raises(ValueError, match=r"the kernel should be one of gaussian, .*, but is 'gausian'"):
        nw.NadarayaWatsonRegressor(kernel="gausian").fit(X, y)
    with pytest.raises(ValueError, match="width"):
        nw.NadarayaWatsonRegressor(bandwidth=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="degree"):
        nw.NadarayaWatsonRegressor(degree=7).fit(X, y)
    far = nw.NadarayaWatsonRegressor(kernel="epanechnikov", bandwidth=0.1, empty="error").fit(X, y)
    with pytest.raises(ValueError, match="query"):
        far.predict([[100.0]])
    with pytest.raises(ValueError, match="bandwidth should be"):
        nw.KernelDensity(bandwidth="isj").fit(X)


def test_the_gil_is_released_during_a_long_predict():
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (30000, 1))
    y = rng.normal(size=30000)
    model = nw.NadarayaWatsonRegressor(bandwidth=0.01, n_jobs=1).fit(X, y)
    inside, finished = threading.Event(), threading.Event()
    elapsed = []

    def work():
        inside.set()
        start = time.perf_counter()
        model.predict(X)
        elapsed.append(time.perf_counter() - start)
        finished.set()

    def spin(until):
        ticks = 0
        while not until():
            ticks += 1
        return ticks

    # The main thread's spinning rate alone, then while the worker is inside the library.
    deadline = time.perf_counter() + 0.2
    rate = spin(lambda: time.perf_counter() > deadline) / 0.2
    worker = threading.Thread(target=work)
    worker.start()
    inside.wait()
    ticks = spin(finished.is_set)
    worker.join()
    # With the GIL held during the call the main thread would get only the switch intervals
    # before the worker enters C (a few ms); released, it spins all through the call on the
    # other core (n_jobs=1).
    assert elapsed[0] > 0.1, f"the predict was too short to tell ({elapsed[0]:.3f} s)"
    assert ticks > 0.1 * rate * elapsed[0], f"{ticks} ticks in {elapsed[0]:.3f} s at {rate:.0f} ticks/s alone"
