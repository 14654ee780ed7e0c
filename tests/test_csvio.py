import numpy as np
import pytest

from backprop_lab.data.csvio import load_csv, save_csv
from backprop_lab.data.datasets import make_circle


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- round trip


def test_round_trip_is_bit_exact_for_awkward_floats(tmp_path):
    awkward = [0.1, 1 / 3, -0.0, 5e-324, 2.2250738585072014e-308, 1e308, -1.7976931348623157e308]
    rng = np.random.default_rng(0)
    X = np.vstack(
        [np.reshape(awkward + [np.nextafter(1.0, 2.0)], (4, 2)), rng.normal(size=(50, 2))]
    )
    y = rng.integers(0, 3, size=len(X))
    path = tmp_path / "data.csv"
    save_csv(path, X, y)
    X_back, y_back = load_csv(path)
    assert X_back.dtype == np.float64 and y_back.dtype == np.int64
    assert X_back.shape == X.shape and y_back.shape == y.shape
    np.testing.assert_array_equal(X_back.view(np.uint64), X.view(np.uint64))  # sign of -0.0 too
    np.testing.assert_array_equal(y_back, y)


def test_saved_file_has_the_documented_layout(tmp_path):
    path = tmp_path / "data.csv"
    save_csv(path, [[0.5, -1.0], [0.1, 2.0]], np.array([[1.0], [0.0]]))
    assert path.read_text(encoding="utf-8") == "x1,x2,label\n0.5,-1.0,1\n0.1,2.0,0\n"


def test_round_trip_of_a_generated_dataset_with_more_features(tmp_path):
    X, y = make_circle(1000, noise=0.1, random_state=0)
    X3 = np.column_stack([X, X[:, 0] * X[:, 1]])
    path = tmp_path / "three.csv"
    save_csv(str(path), X3, y)
    assert path.read_text(encoding="utf-8").startswith("x1,x2,x3,label\n")
    X_back, y_back = load_csv(str(path))
    np.testing.assert_array_equal(X_back, X3)
    np.testing.assert_array_equal(y_back, y)


# --------------------------------------------------------------------------- lenient reading


def test_file_without_header(tmp_path):
    X, y = load_csv(_write(tmp_path / "raw.csv", "0.5,0.25,1\n-1,2e-3,0\n"))
    np.testing.assert_array_equal(X, [[0.5, 0.25], [-1.0, 0.002]])
    np.testing.assert_array_equal(y, [1, 0])


def test_blank_lines_spaces_crlf_bom_and_integral_float_labels(tmp_path):
    path = tmp_path / "messy.csv"
    path.write_bytes(b"\xef\xbb\xbfx1, x2, label\r\n\r\n 0.5 , 1 , 1.0\r\n\r\n2,3,0\r\n")
    X, y = load_csv(path)
    np.testing.assert_array_equal(X, [[0.5, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(y, [1, 0])


def test_single_feature_and_class_ids(tmp_path):
    X, y = load_csv(_write(tmp_path / "one.csv", "x,class\n1.5,0\n2.5,7\n"))
    assert X.shape == (2, 1)
    np.testing.assert_array_equal(y, [0, 7])


# --------------------------------------------------------------------------- malformed files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x1,x2,label\n0,0,1\n1,1\n", "line 3: expected 3 columns, got 2"),
        ("x1,x2,label\n0,0,1\n1,1,0,1\n", "line 3: expected 3 columns, got 4"),
        ("x1,x2,label\n\n0,0,1\n\n1,abc,0\n", "line 5: could not parse 'abc' as a number"),
        ("x1,x2,label\n0,nan,1\n", "line 2: non-finite value 'nan'"),
        ("0,0,1\n-inf,0,1\n", "line 2: non-finite value '-inf'"),
        ("x1,x2,label\n0,0,one\n", "line 2: could not parse 'one' as a number"),
        ("0.5,abc,1\n", "line 1: could not parse 'abc' as a number"),
        ("label\n1\n", "line 1: expected at least 2 columns (features, then the label), got 1"),
        ('x1,x2,label\n0,0,1\n"0,0,1\n', "line 3: unexpected end of data"),
        ('x1,x2,label\n0,"1"2,1\n', "line 2: ',' expected after '\"'"),
    ],
)
def test_malformed_files_name_the_file_and_line(tmp_path, text, message):
    path = _write(tmp_path / "data.csv", text)
    with pytest.raises(ValueError) as info:
        load_csv(path)
    assert str(info.value).startswith(f"{path} {message}")


@pytest.mark.parametrize("text", ["", "\n\n", " , \n"])
def test_empty_file(tmp_path, text):
    path = _write(tmp_path / "empty.csv", text)
    with pytest.raises(ValueError, match="file is empty") as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_header_only_file(tmp_path):
    path = _write(tmp_path / "head.csv", "x1,x2,label\n")
    with pytest.raises(ValueError, match="file has no data rows"):
        load_csv(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        load_csv(tmp_path / "nowhere.csv")


def test_binary_file(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ValueError, match="image.csv: not UTF-8 text"):
        load_csv(path)


# --------------------------------------------------------------------------- writing safely


def test_save_refuses_to_overwrite_unless_asked(tmp_path):
    path = _write(tmp_path / "keep.csv", "precious\n")
    with pytest.raises(FileExistsError, match="keep.csv already exists; pass overwrite=True"):
        save_csv(path, [[0.0, 0.0]], [1])
    assert path.read_text(encoding="utf-8") == "precious\n"
    save_csv(path, [[0.0, 0.0]], [1], overwrite=True)
    assert path.read_text(encoding="utf-8") == "x1,x2,label\n0.0,0.0,1\n"


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        ([[0.0, np.nan]], [1], "X must contain only finite values"),
        (
            [0.0, 1.0],
            [1, 0],
            r"X must have shape \(n_samples, n_features\) with both >= 1, got \(2,\)",
        ),
        (np.zeros((0, 2)), np.zeros(0), r"got \(0, 2\)"),
        ([[0.0, 1.0]], [np.inf], "y must hold finite values, got inf at index 0"),
        ([[0.0, 1.0]], ["a"], "y must hold class ids or real targets, got dtype <U1"),
        ([[0.0, 1.0]], [0, 1], r"y must have shape \(1,\) to match X, got \(2,\)"),
    ],
)
def test_save_rejects_bad_data_and_writes_nothing(tmp_path, X, y, message):
    path = tmp_path / "bad.csv"
    with pytest.raises(ValueError, match=message):
        save_csv(path, X, y)
    assert not path.exists()


def test_save_accepts_boolean_labels(tmp_path):
    path = tmp_path / "bool.csv"
    save_csv(path, [[0.0, 1.0], [1.0, 0.0]], np.array([True, False]))
    np.testing.assert_array_equal(load_csv(path)[1], [1, 0])


# --------------------------------------------------------------------------- problem types


def test_integer_labels_mean_classes_and_real_targets_mean_regression(tmp_path):
    _, y = load_csv(_write(tmp_path / "k.csv", "x1,x2,label\n0,0,0\n1,1,2\n2,2,1.0\n"))
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]
    _, y = load_csv(_write(tmp_path / "r.csv", "x1,x2,y\n0,0,0\n1,1,-1\n2,2,0.5\n"))
    assert y.dtype == np.float64 and y.tolist() == [0.0, -1.0, 0.5]
    _, y = load_csv(tmp_path / "k.csv", task="regression")
    assert y.dtype == np.float64 and y.tolist() == [0.0, 2.0, 1.0]


def test_forced_classification_names_the_first_line_that_is_not_a_class_id(tmp_path):
    path = _write(tmp_path / "r.csv", "x1,x2,y\n0,0,1\n\n1,1,0.5\n2,2,-1\n")
    with pytest.raises(ValueError) as info:
        load_csv(path, task="classification")
    assert str(info.value).startswith(f"{path} line 4: label 0.5 is not a class id")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("cell", "message"),
    [("cat", "could not parse 'cat' as a number"), ("nan", "non-finite value 'nan'")],
)
def test_labels_that_fit_no_task_are_refused_with_their_line(tmp_path, cell, message):
    path = _write(tmp_path / "bad.csv", f"x1,x2,y\n0,0,1\n1,1,{cell}\n")
    with pytest.raises(ValueError, match=f"line 3: {message}"):
        load_csv(path)


def test_real_targets_round_trip(tmp_path):
    X, y = np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([0.1, -2.5])
    save_csv(tmp_path / "r.csv", X, y)
    X2, y2 = load_csv(tmp_path / "r.csv")
    np.testing.assert_array_equal(y2, y)
