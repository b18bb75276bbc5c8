"""Bad inputs fail with one clear sentence and a short traceback.

Where the code re-raises with ``from None`` the NumPy/SciPy error that
triggered the check is hidden (``__suppress_context__``); where it raises
directly there is no chained exception at all.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from reg_utils import (
    RegularizationInputError,
    check_keep_prob,
    check_lambd,
    compute_cost,
    forward_propagation,
    initialize_parameters,
    load_2D_dataset,
)


def assert_reraised_from_none(excinfo):
    """The helper caught a low-level error and replaced it (``raise ... from None``)."""
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__ is True


def assert_raised_directly(excinfo):
    """The helper raised its own error with nothing chained to it."""
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None


@pytest.fixture
def parameters():
    return initialize_parameters([2, 20, 3, 1])


def test_the_error_type_is_a_value_error():
    assert issubclass(RegularizationInputError, ValueError)


# --- forward_propagation / compute_cost ---------------------------------------------------


def test_x_with_the_wrong_number_of_rows(parameters):
    with pytest.raises(RegularizationInputError, match=r"X has 3 features .* W1 expects 2") as e:
        forward_propagation(np.ones((3, 5)), parameters)
    assert "shape (features, examples)" in str(e.value)
    assert_reraised_from_none(e)


def test_x_given_as_examples_by_features(parameters):
    with pytest.raises(RegularizationInputError, match=r"X has 211 features .* W1 expects 2"):
        forward_propagation(np.ones((211, 2)), parameters)


def test_missing_w2(parameters):
    del parameters["W2"]
    with pytest.raises(RegularizationInputError, match=r"parameters is missing W2\b") as e:
        forward_propagation(np.ones((2, 5)), parameters)
    assert "initialize_parameters" in str(e.value)
    assert_reraised_from_none(e)


@pytest.mark.parametrize(
    ("key", "shape"),
    # (1, 1) and (1, 7) would broadcast silently against (20, 7): they must be refused too.
    [("b1", (20,)), ("b1", (1, 20)), ("b2", (1, 3)), ("b3", (5, 5)), ("b1", (1, 1)), ("b2", (1, 7))],
)
def test_bias_with_the_wrong_shape(parameters, key, shape):
    parameters[key] = np.zeros(shape)
    with pytest.raises(RegularizationInputError, match=rf"{key} must be a column of shape") as e:
        forward_propagation(np.ones((2, 7)), parameters)
    assert_reraised_from_none(e)


def test_one_dimensional_x(parameters):
    with pytest.raises(RegularizationInputError, match=r"X must be 2-D .* got shape \(2,\)") as e:
        forward_propagation(np.ones(2), parameters)
    assert "reshape" in str(e.value)
    assert_reraised_from_none(e)


def test_parameters_not_a_dict():
    with pytest.raises(RegularizationInputError, match=r"parameters must be a dict"):
        forward_propagation(np.ones((2, 5)), [np.ones((20, 2))])


def test_cost_with_a3_and_y_of_different_shapes():
    with pytest.raises(
        RegularizationInputError, match=r"a3 has shape \(1, 4\) but Y has shape \(1, 5\)"
    ) as e:
        compute_cost(np.full((1, 4), 0.5), np.ones((1, 5)))
    assert_raised_directly(e)


def test_cost_with_transposed_labels():
    with pytest.raises(RegularizationInputError, match=r"a3 has shape \(1, 5\) but Y has shape"):
        compute_cost(np.full((1, 5), 0.5), np.ones((5, 1)))


def test_cost_with_one_dimensional_arrays():
    with pytest.raises(RegularizationInputError, match=r"a3 must be 2-D .* got shape \(5,\)"):
        compute_cost(np.full(5, 0.5), np.ones(5))


def test_cost_accepts_nested_lists():
    assert compute_cost([[0.5, 0.5]], [[1, 0]]) == pytest.approx(np.log(2), rel=1e-15)


def test_cost_without_examples():
    with pytest.raises(RegularizationInputError, match=r"no examples"):
        compute_cost(np.ones((1, 0)), np.ones((1, 0)))


# --- keep_prob and lambd ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -0.1, 1.5, 0.0, float("nan")])
def test_keep_prob_out_of_range(value):
    with pytest.raises(RegularizationInputError, match=r"keep_prob must be in \(0, 1\]") as e:
        check_keep_prob(value)
    assert "probability of KEEPING" in str(e.value)
    assert_raised_directly(e)


@pytest.mark.parametrize("value", ["abc", None, [0.5]])
def test_keep_prob_not_a_number(value):
    with pytest.raises(RegularizationInputError, match=r"keep_prob must be a number") as e:
        check_keep_prob(value)
    assert repr(value) in str(e.value)
    assert_reraised_from_none(e)


@pytest.mark.parametrize(("value", "expected"), [(1, 1.0), (0.86, 0.86), ("0.5", 0.5)])
def test_keep_prob_accepted(value, expected):
    result = check_keep_prob(value)
    assert type(result) is float
    assert result == expected


@pytest.mark.parametrize("value", [-0.1, -1, float("nan")])
def test_lambd_negative(value):
    with pytest.raises(RegularizationInputError, match=r"lambd must be >= 0") as e:
        check_lambd(value)
    assert_raised_directly(e)


def test_lambd_not_a_number():
    with pytest.raises(RegularizationInputError, match=r"lambd must be a number") as e:
        check_lambd("abc")
    assert_reraised_from_none(e)


@pytest.mark.parametrize(("value", "expected"), [(0, 0.0), (0.7, 0.7)])
def test_lambd_accepted(value, expected):
    result = check_lambd(value)
    assert type(result) is float
    assert result == expected


# --- load_2D_dataset --------------------------------------------------------------------------


def good_layout(m=6, n=4):
    rng = np.random.default_rng(0)
    return {
        "X": rng.uniform(-0.7, 0.3, (m, 2)),
        "y": (np.arange(m) % 2).astype(np.uint8).reshape(-1, 1),
        "Xval": rng.uniform(-0.7, 0.3, (n, 2)),
        "yval": (np.arange(n) % 2).astype(np.uint8).reshape(-1, 1),
    }


def write_mat(tmp_path, arrays, name="data.mat"):
    path = tmp_path / name
    scipy.io.savemat(path, arrays)
    return path


def test_good_file_loads(tmp_path):
    """The files below differ from this one in a single respect."""
    train_X, *_ = load_2D_dataset(write_mat(tmp_path, good_layout()))
    assert train_X.shape == (2, 6)


def test_missing_path(tmp_path):
    missing = tmp_path / "nowhere" / "data.mat"
    with pytest.raises(FileNotFoundError, match=r"No dataset file at .*data\.mat") as e:
        load_2D_dataset(missing)
    assert "load_2D_dataset()" in str(e.value)
    assert_raised_directly(e)


def test_not_a_mat_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x1,x2,y\n0.1,0.2,1\n" * 20)
    with pytest.raises(RegularizationInputError, match=r"is not a readable MATLAB \.mat file") as e:
        load_2D_dataset(path)
    assert_reraised_from_none(e)


def test_directory_instead_of_a_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No dataset file"):
        load_2D_dataset(tmp_path)


def test_mat_without_xval(tmp_path):
    arrays = good_layout()
    del arrays["Xval"]
    with pytest.raises(RegularizationInputError, match=r"has no 'Xval' array") as e:
        load_2D_dataset(write_mat(tmp_path, arrays))
    assert "X, y, Xval, yval" in str(e.value)
    assert_raised_directly(e)


@pytest.mark.parametrize("shape", [(6, 2), (1, 6)])
def test_y_with_the_wrong_shape(tmp_path, shape):
    arrays = good_layout()
    arrays["y"] = np.zeros(shape, dtype=np.uint8)
    with pytest.raises(
        RegularizationInputError,
        match=rf"'y' in .* has shape \({shape[0]}, {shape[1]}\); expected \(examples, 1\)",
    ) as e:
        load_2D_dataset(write_mat(tmp_path, arrays))
    assert_raised_directly(e)


def test_one_label_per_example(tmp_path):
    arrays = good_layout()
    arrays["yval"] = np.zeros((3, 1), dtype=np.uint8)
    with pytest.raises(RegularizationInputError, match=r"'Xval' has 4 rows but 'yval' has 3"):
        load_2D_dataset(write_mat(tmp_path, arrays))


@pytest.mark.parametrize("bad", [2, -1, 0.5])
def test_labels_not_0_or_1(tmp_path, bad):
    arrays = good_layout()
    arrays["y"] = arrays["y"].astype(float)
    arrays["y"][3, 0] = bad
    with pytest.raises(RegularizationInputError, match=r"'y' in .* must hold only 0 and 1") as e:
        load_2D_dataset(write_mat(tmp_path, arrays))
    assert_raised_directly(e)


def test_truncated_mat_file(tmp_path):
    """SciPy's MatReadError on a cut-off file becomes the kit's clear error."""
    from reg_utils.loading import default_dataset_path

    path = tmp_path / "cut.mat"
    path.write_bytes(default_dataset_path().read_bytes()[:300])
    with pytest.raises(RegularizationInputError, match=r"is not a readable MATLAB \.mat file"):
        load_2D_dataset(path)
