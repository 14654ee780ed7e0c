"""The scikit-learn estimators: scikit-learn's own checks, and the places users put them."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from backprop_lab.sklearn import BackpropClassifier, BackpropRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Small and quick, yet good enough for the checks' accuracy thresholds.
CHECKED = [
    BackpropClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=50),
    BackpropRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=50),
]


@pytest.mark.estimator_checks
@parametrize_with_checks(CHECKED)
def test_sklearn_check(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- data
def blobs(n=120, n_features=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (classes, n_features))
    y = np.arange(n) % classes
    return centres[y] + rng.normal(0, 1, (n, n_features)), y


def quick(cls, **kw):
    return cls(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=30, random_state=0, **kw)


# ---------------------------------------------------------------- behaviour
def test_classifier_attributes_like_mlp():
    X, y = blobs(n_features=7)
    clf = quick(BackpropClassifier).fit(X, y)
    assert clf.n_features_in_ == 7
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert [w.shape for w in clf.coefs_] == [(7, 8), (8, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (3,)]
    assert len(clf.loss_curve_) == clf.n_iter_ <= 30
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.n_layers_ == 3 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[P.argmax(1)], clf.predict(X))
    assert clf.score(X, y) > 0.9
    assert clf.decision_function(X).shape == (len(X), 3)
    # the trained network is a backprop-lab model with the same weights
    np.testing.assert_allclose(clf.model_.predict(X, verbose=0), P)


def test_binary_string_labels_map_through_classes():
    X, y = blobs(classes=2)
    labels = np.array(["no", "yes"])[y]
    clf = quick(BackpropClassifier).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    P = clf.predict_proba(X)
    assert P.shape == (len(X), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.decision_function(X).shape == (len(X),)
    np.testing.assert_array_equal(clf.predict(X), np.where(P[:, 1] > 0.5, "yes", "no"))


def test_regressor_single_and_multi_output():
    X, y = blobs(classes=3)
    target = X @ np.arange(1.0, 6.0)
    reg = quick(BackpropRegressor, solver="sgd", momentum=0.9).fit(X, target)
    assert reg.predict(X).shape == (len(X),)
    multi = quick(BackpropRegressor).fit(X, np.c_[target, -target])
    assert multi.predict(X).shape == (len(X), 2) and multi.n_outputs_ == 2


def test_partial_fit_continues_and_needs_classes():
    X, y = blobs()
    clf = quick(BackpropClassifier)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    steps = clf.model_.optimizer.iterations
    clf.partial_fit(X[60:], y[60:])
    assert clf.n_iter_ == 2 and clf.model_.optimizer.iterations > steps
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y + 5)


def test_early_stopping_holds_out_and_restores_the_best():
    X, y = blobs(n=200)
    clf = quick(BackpropClassifier, early_stopping=True, validation_fraction=0.2)
    clf.set_params(max_iter=200, n_iter_no_change=3).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_random_state_repeats_and_engines_agree():
    X, y = blobs()
    a = quick(BackpropClassifier).fit(X, y).predict_proba(X)
    b = quick(BackpropClassifier).fit(X, y).predict_proba(X)
    c = quick(BackpropClassifier, engine="numpy").fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- scikit-learn's tools
@pytest.mark.subprocess  # GridSearchCV(n_jobs=2) starts worker processes
def test_pipeline_grid_search_and_cross_val_score():
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = blobs(n=150)
    pipe = make_pipeline(StandardScaler(), quick(BackpropClassifier))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    grid = GridSearchCV(
        pipe,
        {"backpropclassifier__alpha": [1e-4, 1e-2], "backpropclassifier__solver": ["sgd", "adam"]},
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4 and grid.best_score_ > 0.8
    assert grid.predict(X).shape == (150,)


def test_pickle_round_trip():
    X, y = blobs()
    clf = quick(BackpropClassifier).fit(X, np.array(["a", "b", "c"])[y])
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    again.partial_fit(X, np.array(["a", "b", "c"])[y])  # optimizer state travels too


@pytest.mark.parametrize("labels", [None, np.array(["cat", "dog", "emu"])])
def test_save_and_load_through_safe_model_files(tmp_path, labels):
    X, y = blobs()
    y = y if labels is None else labels[y]
    clf = quick(BackpropClassifier, alpha=1e-3).fit(X, y)
    clf.save(tmp_path / "clf")
    assert sorted(p.name for p in (tmp_path / "clf").iterdir()) == [
        "estimator.json",
        "model.json",
        "model.safetensors",
    ]
    back = BackpropClassifier.load(tmp_path / "clf")
    assert back.get_params() == {**clf.get_params(), "hidden_layer_sizes": [8]}
    np.testing.assert_array_equal(back.classes_, clf.classes_)
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.loss_curve_ == clf.loss_curve_
    back.partial_fit(X, y)
    reg = quick(BackpropRegressor).fit(X, X.sum(axis=1))
    reg.save(tmp_path / "reg")
    np.testing.assert_array_equal(
        BackpropRegressor.load(tmp_path / "reg").predict(X), reg.predict(X)
    )
    with pytest.raises(ValueError, match="not written by BackpropRegressor"):
        BackpropRegressor.load(tmp_path / "clf")


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("where", "value", "message"),
    [("X", np.nan, "Input X contains NaN"), ("X", np.inf, "Input X contains infinity")],
)
def test_non_finite_features_are_refused(where, value, message):
    X, y = blobs()
    X[3, 1] = value
    for est in (quick(BackpropClassifier), quick(BackpropRegressor)):
        with pytest.raises(ValueError, match=message):
            est.fit(X, y)


def test_bad_targets_are_refused():
    X, y = blobs()
    with pytest.raises(ValueError, match="one class only"):
        quick(BackpropClassifier).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        quick(BackpropClassifier).fit(X, X[:, 0])
    bad = X[:, 0].copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        quick(BackpropRegressor).fit(X, bad)
    with pytest.raises(ValueError, match="NaN"):
        quick(BackpropClassifier).fit(X, bad)


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("hidden_layer_sizes", (8, 0), "hidden_layer_sizes"),
        ("activation", "softplus", "activation must be one of"),
        ("solver", "lbfgs", "solver must be one of"),
        ("learning_rate_init", 0.0, "learning_rate_init"),
        ("max_iter", 0, "max_iter must be a positive integer"),
        ("batch_size", "big", "batch_size"),
        ("validation_fraction", 1.0, "validation_fraction"),
        ("engine", "gpu", "engine must be"),
    ],
)
def test_bad_parameters_are_refused_at_fit(param, value, message):
    X, y = blobs()
    est = quick(BackpropClassifier).set_params(**{param: value})  # __init__ only stores
    with pytest.raises(ValueError, match=message):
        est.fit(X, y)


def test_predict_checks_the_features():
    from sklearn.exceptions import NotFittedError

    X, y = blobs()
    with pytest.raises(NotFittedError):
        quick(BackpropClassifier).predict(X)
    clf = quick(BackpropClassifier).fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features"):
        clf.predict(X[:, :4])


def test_float32_option_trains_in_float32():
    X, y = blobs()
    clf = quick(BackpropClassifier, dtype="float32").fit(X, y)
    assert clf.model_.dtype == np.float32 and clf.coefs_[0].dtype == np.float32
    same_in_float64 = quick(BackpropClassifier).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(clf.predict_proba(X), same_in_float64, atol=1e-4)


def test_load_refuses_a_damaged_estimator_file(tmp_path):
    X, y = blobs()
    quick(BackpropClassifier).fit(X, y).save(tmp_path)
    (tmp_path / "estimator.json").write_text('{"format": "backprop-lab-sklearn", "class": "x"}')
    with pytest.raises(ValueError, match="not written by BackpropClassifier"):
        BackpropClassifier.load(tmp_path)
    text = '{"format": "backprop-lab-sklearn", "class": "BackpropClassifier", "params": {}}'
    (tmp_path / "estimator.json").write_text(text)
    with pytest.raises(ValueError, match="incomplete or malformed"):
        BackpropClassifier.load(tmp_path)


def test_the_trained_network_draws_as_a_backprop_lab_model():
    from backprop_lab import plot

    X, y = blobs(classes=2, n_features=2)
    clf = quick(BackpropClassifier).fit(X, y)
    assert plot.network(clf.model_) is not None
    assert plot.boundary(clf.model_, X, y) is not None


def test_the_validation_r2_is_scikit_learns_even_for_a_constant_target():
    from sklearn.metrics import r2_score

    y = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0]])
    P = np.array([[1.2, 5.0], [1.9, 5.0], [3.1, 5.0], [3.7, 5.0]])  # column 2 exact
    reg = BackpropRegressor()
    assert reg._val_score(P, y) == pytest.approx(r2_score(y, P))
    P[0, 1] = 4.0  # column 2 missed: 0, never -inf
    assert reg._val_score(P, y) == pytest.approx(r2_score(y, P))


def test_importing_without_scikit_learn_says_how_to_install_it():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['sklearn'] = None\n"  # what an environment without scikit-learn sees
        "try:\n"
        "    import backprop_lab.sklearn\n"
        "except ImportError as e:\n"
        "    print(e)\n"
        "else:\n"
        "    print('imported')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1 and "needs scikit-learn" in lines[0]
    assert "pip install -e '.[sklearn]'" in lines[0]
