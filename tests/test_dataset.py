"""The kit's generated football dataset: reproducible bytes, layout and character."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import scipy.io
from reg_utils.datasets import generate

from reg_utils import load_2D_dataset
from reg_utils.loading import default_dataset_path

#: sha256 of the committed datasets/data.mat; regenerate the file and update this together.
DATA_SHA256 = "33bed390f131d2dd339a133789f563800b7c78c48c574ce454ab0783f51c0b55"

X1_RANGE = (-0.75, 0.40)
X2_RANGE = (-0.75, 0.65)


@pytest.fixture(scope="module")
def committed(root):
    return (root / "datasets" / "data.mat").read_bytes()


@pytest.fixture(scope="module")
def splits():
    train_X, train_Y, test_X, test_Y = load_2D_dataset()
    return {"train": (train_X, train_Y), "test": (test_X, test_Y)}


def test_generator_reproduces_the_committed_file(committed):
    assert generate.dataset_bytes() == committed


def test_committed_file_has_the_recorded_checksum(committed):
    assert hashlib.sha256(committed).hexdigest() == DATA_SHA256


def test_generator_main_writes_the_same_bytes(tmp_path, committed, capsys):
    out = tmp_path / "regenerated.mat"
    assert generate.main([str(out)]) == 0
    assert out.read_bytes() == committed
    assert str(out) in capsys.readouterr().out


def test_the_package_ships_the_committed_file(committed):
    assert default_dataset_path().read_bytes() == committed


def test_file_layout(root):
    data = scipy.io.loadmat(root / "datasets" / "data.mat")
    layout = {k: (v.shape, v.dtype) for k, v in data.items() if not k.startswith("__")}
    assert layout == {
        "X": ((211, 2), np.dtype(np.float64)),
        "y": ((211, 1), np.dtype(np.uint8)),
        "Xval": ((200, 2), np.dtype(np.float64)),
        "yval": ((200, 1), np.dtype(np.uint8)),
    }


def test_load_2D_dataset_shapes_and_dtypes(splits):
    (train_X, train_Y), (test_X, test_Y) = splits["train"], splits["test"]
    assert train_X.shape == (2, 211)
    assert train_Y.shape == (1, 211)
    assert test_X.shape == (2, 200)
    assert test_Y.shape == (1, 200)
    for array in (train_X, train_Y, test_X, test_Y):
        assert array.dtype == np.float64
        assert array.flags.c_contiguous
    for labels in (train_Y, test_Y):
        assert set(np.unique(labels)) == {0.0, 1.0}


def test_load_2D_dataset_is_the_transpose_of_the_file(root, splits):
    data = scipy.io.loadmat(root / "datasets" / "data.mat")
    np.testing.assert_array_equal(splits["train"][0], data["X"].T)
    np.testing.assert_array_equal(splits["train"][1], data["y"].T)
    np.testing.assert_array_equal(splits["test"][0], data["Xval"].T)
    np.testing.assert_array_equal(splits["test"][1], data["yval"].T)


@pytest.mark.parametrize("split", ["train", "test"])
def test_points_lie_on_the_field_area(splits, split):
    X, _ = splits[split]
    assert X1_RANGE[0] <= X[0].min()
    assert X[0].max() <= X1_RANGE[1]
    assert X2_RANGE[0] <= X[1].min()
    assert X[1].max() <= X2_RANGE[1]
    # ... and they fill it, rather than a corner of it.
    assert X[0].max() - X[0].min() > 0.9 * (X1_RANGE[1] - X1_RANGE[0])
    assert X[1].max() - X[1].min() > 0.9 * (X2_RANGE[1] - X2_RANGE[0])


@pytest.mark.parametrize("split", ["train", "test"])
def test_classes_are_balanced(splits, split):
    _, Y = splits[split]
    assert 0.40 <= Y.mean() <= 0.60


@pytest.mark.parametrize("split", ["train", "test"])
def test_blue_upper_left_red_lower_right(splits, split):
    X, Y = splits[split]
    diagonal = X[1] - X[0]
    upper_left, lower_right = Y[0][diagonal > 0.3], Y[0][diagonal < -0.3]
    assert upper_left.size >= 30
    assert lower_right.size >= 30
    assert upper_left.mean() >= 0.85  # mostly blue (1)
    assert lower_right.mean() <= 0.15  # mostly red (0)


def test_some_labels_are_noisy(splits):
    """A few headers land in the other team's zone: that is what a plain network overfits."""
    X, Y = splits["train"]
    far_side = Y[0][np.abs(X[1] - generate.boundary(X[0])) > 0.2]
    assert 0 < min(far_side.sum(), far_side.size - far_side.sum())


@pytest.mark.parametrize("as_string", [False, True])
def test_load_2D_dataset_reads_another_file_of_the_same_layout(tmp_path, as_string):
    rng = np.random.default_rng(4)
    arrays = {
        "X": rng.uniform(-0.7, 0.3, (7, 2)),
        "y": np.array([[0], [1], [1], [0], [1], [0], [0]], dtype=np.uint8),
        "Xval": rng.uniform(-0.7, 0.3, (3, 2)),
        "yval": np.array([[1], [0], [1]], dtype=np.uint8),
    }
    path = tmp_path / "other.mat"
    scipy.io.savemat(path, arrays)

    train_X, train_Y, test_X, test_Y = load_2D_dataset(str(path) if as_string else path)

    assert train_X.shape == (2, 7)
    assert test_X.shape == (2, 3)
    np.testing.assert_array_equal(train_X, arrays["X"].T)
    np.testing.assert_array_equal(train_Y, [[0, 1, 1, 0, 1, 0, 0]])
    np.testing.assert_array_equal(test_X, arrays["Xval"].T)
    np.testing.assert_array_equal(test_Y, [[1, 0, 1]])
    assert train_Y.dtype == np.float64
    # Float labels: 1 - Y cannot wrap around as it would with the file's uint8.
    assert (1 - train_Y).min() == 0.0
