"""The live explorer without a browser: engine fidelity, widget behaviour, student functions.

The engine must train the same network as the kit's NumPy path; the app
must retrain on every change, drop stale runs, show the numbers of the
picture on screen, and report errors inside itself.
"""

from __future__ import annotations

import ast
import html.parser
import importlib
import inspect
import io
import itertools
import json
import os
import pkgutil
import subprocess
import sys
import threading
import types
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from reg_utils import (
    backward_propagation,
    compute_cost,
    engine,
    explorer,
    forward_propagation,
    gradient_descent,
    initialize_parameters,
    load_2D_dataset,
    toy_datasets,
)
from reg_utils.activations import relu, sigmoid
from reg_utils.errors import RegularizationInputError
from reg_utils.explorer import live
from reg_utils.predict import accuracy

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120  # seconds; generous for a loaded 2-core CI machine, never reached when all is well
LAYERS = [2, 20, 3, 1]
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


@pytest.fixture(scope="module", autouse=True)
def compiled_engine():
    """Compile (or load) the engine once, so no test measures the compiler."""
    assert engine.warm_up(wait=True).is_set()


@pytest.fixture(scope="module")
def football():
    return load_2D_dataset()


@pytest.fixture
def make_app():
    """Build explorers that are closed (threads stopped) after the test."""
    apps = []

    def make(*args, **kwargs):
        app = explorer.RegularizationExplorer(*args, **kwargs)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def settle(app):
    assert app.wait(WAIT), "the explorer did not finish in time"
    return app.shown


# ---------------------------------------------------------------------------
# Reference: the kit's NumPy path plus the L2 penalty and inverted dropout.
# ---------------------------------------------------------------------------


def l2_penalty(parameters, lambd, m):
    return lambd / (2 * m) * sum(np.sum(np.square(parameters[f"W{k}"])) for k in (1, 2, 3))


def kit_run(X, Y, parameters, iterations, lambd, record_every):
    """The kit's forward/cost/backward/update, with the L2 cost term and weight decay added."""
    m = X.shape[1]

    def cost(a3, Y, p):
        return compute_cost(a3, Y) + l2_penalty(p, lambd, m)

    def backward(X, Y, cache):
        grads = dict(backward_propagation(X, Y, cache))
        for k, W in zip((1, 2, 3), (cache[2], cache[6], cache[10]), strict=True):
            grads[f"dW{k}"] = grads[f"dW{k}"] + lambd / m * W
        return grads

    params = {key: value.copy() for key, value in parameters.items()}
    return gradient_descent(X, Y, params, forward_propagation, cost, backward, 0.3, iterations,
                            record_every=record_every, print_every=None)  # fmt: skip


def layer_loop_run(X, Y, parameters, iterations, lambd, keep_prob, masks, record_every):
    """Textbook NumPy over the three layers, inverted dropout on hidden layers 1 and 2.

    ``masks`` (D1s, D2s) gives each iteration's 0/1 masks.
    """
    p = {key: value.copy() for key, value in parameters.items()}
    m = X.shape[1]
    costs = []
    for t in range(iterations):
        A = [X]
        for k in (1, 2, 3):
            Z = np.dot(p[f"W{k}"], A[-1]) + p[f"b{k}"]
            if k == 3:
                A.append(sigmoid(Z))
                break
            H = relu(Z)
            H = H * masks[k - 1][t]
            A.append(H / keep_prob)
        if t % record_every == 0:
            costs.append(compute_cost(A[3], Y) + l2_penalty(p, lambd, m))
        dZ = A[3] - Y
        grads = {}
        for k in (3, 2, 1):
            grads[f"W{k}"] = 1.0 / m * np.dot(dZ, A[k - 1].T) + lambd / m * p[f"W{k}"]
            grads[f"b{k}"] = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
            if k > 1:
                dA = np.dot(p[f"W{k}"].T, dZ)
                dA = dA * masks[k - 2][t]
                dA = dA / keep_prob
                dZ = dA * (A[k - 1] > 0)
        for key in KEYS:
            p[key] = p[key] - 0.3 * grads[key]
    return p, costs


def assert_same_run(got, want, tol):
    (params, costs), (ref_params, ref_costs) = got, want
    np.testing.assert_allclose(costs, ref_costs, rtol=0, atol=tol)
    for key in KEYS:
        np.testing.assert_allclose(params[key], ref_params[key], rtol=0, atol=tol, err_msg=key)


# ---------------------------------------------------------------------------
# The engine.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lambd", "keep_prob"), [(0.0, 1.0), (0.7, 1.0), (0.0, 0.86), (0.7, 0.86)],
                         ids=["none", "L2", "dropout", "both"])  # fmt: skip
def test_engine_matches_numpy_reference_over_2000_iterations(football, lambd, keep_prob):
    X, Y, _, _ = football
    start = initialize_parameters(LAYERS)
    n = 2000
    if keep_prob == 1.0:
        want = kit_run(X, Y, start, n, lambd, record_every=100)
        got = engine.train(X, Y, start, 0.3, n, lambd=lambd, record_every=100)
        assert_same_run(got, want, 1e-9)
        return
    masks = engine.dropout_masks(7, n, LAYERS, X.shape[1], keep_prob)
    want = layer_loop_run(X, Y, start, n, lambd, keep_prob, masks, record_every=100)
    supplied = engine.train(X, Y, start, 0.3, n, lambd=lambd, keep_prob=keep_prob, masks=masks,
                            record_every=100)  # fmt: skip
    drawn = engine.train(X, Y, start, 0.3, n, lambd=lambd, keep_prob=keep_prob, seed=7,
                         record_every=100)  # fmt: skip
    assert_same_run(supplied, want, 1e-9)
    assert_same_run(drawn, want, 1e-9)  # the seeded run draws exactly the replayed masks


def test_layer_loop_reference_is_the_kit_path_without_dropout(football):
    """The dropout reference above reduces to the kit's own functions when nothing is dropped."""
    X, Y, _, _ = football
    start = initialize_parameters(LAYERS)
    ones = (np.ones((50, 20, X.shape[1])), np.ones((50, 3, X.shape[1])))
    got = layer_loop_run(X, Y, start, 50, 0.7, 1.0, ones, record_every=10)
    assert_same_run(got, kit_run(X, Y, start, 50, 0.7, record_every=10), 1e-12)


@pytest.mark.slow
@pytest.mark.parametrize(("lambd", "keep_prob"), [(0.7, 1.0), (0.0, 0.86)], ids=["L2", "dropout"])
def test_engine_matches_reference_at_the_assignments_settings(football, lambd, keep_prob):
    """30000 iterations: costs to 1e-9, parameters to 1e-5, identical accuracies.

    The parameters are compared loosely on purpose: training amplifies
    last-bit differences, and the NumPy reference started from weights one
    unit in the last place away ends up ~1e-7 away from itself.
    """
    X, Y, test_X, test_Y = football
    start = initialize_parameters(LAYERS)
    n = 30000
    if keep_prob == 1.0:
        want = kit_run(X, Y, start, n, lambd, record_every=1000)
        got = engine.train(X, Y, start, 0.3, n, lambd=lambd)
    else:
        masks = engine.dropout_masks(1, n, LAYERS, X.shape[1], keep_prob)
        want = layer_loop_run(X, Y, start, n, lambd, keep_prob, masks, record_every=1000)
        got = engine.train(X, Y, start, 0.3, n, lambd=lambd, keep_prob=keep_prob, seed=1)
    np.testing.assert_allclose(got[1], want[1], rtol=0, atol=1e-9)
    for key in KEYS:
        np.testing.assert_allclose(got[0][key], want[0][key], rtol=0, atol=1e-5)
    for data in ((X, Y), (test_X, test_Y)):
        assert accuracy(*data, got[0]) == accuracy(*data, want[0])


def test_dropout_masks_are_fresh_each_iteration_and_reproducible(football):
    X, Y, _, _ = football
    D1, D2 = engine.dropout_masks(3, 200, LAYERS, 211, 0.86)
    assert D1.shape == (200, 20, 211)
    assert D2.shape == (200, 3, 211)
    assert set(np.unique(D1)) == {0, 1}
    assert abs(D1.mean() - 0.86) < 0.005
    assert abs(D2.mean() - 0.86) < 0.01
    assert (D1[0] != D1[1]).mean() > 0.1  # a new draw each iteration: real dropout
    again = engine.dropout_masks(3, 200, LAYERS, 211, 0.86)
    np.testing.assert_array_equal(D1, again[0])
    assert not np.array_equal(D1, engine.dropout_masks(4, 200, LAYERS, 211, 0.86)[0])
    start = initialize_parameters(LAYERS)
    first = engine.train(X, Y, start, 0.3, 300, keep_prob=0.86, seed=5)[0]
    second = engine.train(X, Y, start, 0.3, 300, keep_prob=0.86, seed=5)[0]
    other = engine.train(X, Y, start, 0.3, 300, keep_prob=0.86, seed=6)[0]
    assert all(np.array_equal(first[k], second[k]) for k in KEYS)
    assert not np.array_equal(first["W1"], other["W1"])


@pytest.mark.slow
def test_a_cold_warm_up_compiles_in_a_child_and_leaves_this_process_warnings_alone(tmp_path):
    """numba's compiler swaps the warning filters (catch_warnings); in a thread that races the
    learner's code, so the warm-up must compile elsewhere and only load from the cache here."""
    probe = """
import threading, warnings
from reg_utils import engine
entered = []
original = warnings.catch_warnings.__enter__
def spy(self):
    entered.append(threading.current_thread().name)
    return original(self)
warnings.catch_warnings.__enter__ = spy
assert engine.warm_up(wait=True).is_set()
print(len(entered), sorted(set(entered)))
print(engine.predict_proba([[0.0], [1.0]], engine.train(
    [[0.0, 1.0]] * 2, [[0.0, 1.0]], {k: [[0.5] * c] * r for k, (r, c) in zip(
        ("W1", "b1", "W2", "b2", "W3", "b3"), ((3, 2), (3, 1), (2, 3), (2, 1), (1, 2), (1, 1)))},
    num_iterations=5)[0]).shape)
"""
    cache = tmp_path / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                            timeout=1800, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.split("\n")[:2] == ["0 []", "(1, 1)"]
    assert any(cache.rglob("*.nbc")), "the child wrote no compiled kernels to numba's cache"


def test_training_in_chunks_equals_one_call(football):
    X, Y, _, _ = football
    start = initialize_parameters(LAYERS)
    whole = engine.Trainer(X, Y, start, learning_rate=0.3, lambd=0.7, keep_prob=0.86, seed=2)
    whole.step(1000)
    parts = engine.Trainer(X, Y, start, learning_rate=0.3, lambd=0.7, keep_prob=0.86, seed=2)
    for n in (1, 299, 400, 300):
        parts.step(n)
    for key in KEYS:
        np.testing.assert_array_equal(whole.parameters[key], parts.parameters[key])
    np.testing.assert_array_equal(whole.history, parts.history)


def test_engine_rejects_bad_inputs(football):
    X, Y, _, _ = football
    start = initialize_parameters(LAYERS)
    with pytest.raises(RegularizationInputError, match="keep_prob"):
        engine.Trainer(X, Y, start, learning_rate=0.3, keep_prob=1.5)
    with pytest.raises(RegularizationInputError, match="lambd"):
        engine.Trainer(X, Y, start, learning_rate=0.3, lambd=-1)
    with pytest.raises(RegularizationInputError, match="examples"):
        engine.Trainer(X, Y[:, :10], start, learning_rate=0.3)
    trainer = engine.Trainer(X, Y, start, learning_rate=0.3, keep_prob=0.5)
    with pytest.raises(RegularizationInputError, match="masks"):
        trainer.step(2, masks=(np.ones((1, 20, 211)), np.ones((1, 3, 211))))


# ---------------------------------------------------------------------------
# Generated datasets.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", toy_datasets.NAMES)
def test_generated_datasets(name):
    train_X, train_Y, test_X, test_Y = toy_datasets.make_dataset(name, n=400, noise=0.1,
                                                                 train_share=0.7)  # fmt: skip
    assert train_X.shape == (2, 280)
    assert train_Y.shape == (1, 280)
    assert test_X.shape == (2, 120)
    assert test_Y.shape == (1, 120)
    labels = np.concatenate([train_Y, test_Y], axis=1)
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert 0.4 < labels.mean() < 0.6
    assert np.abs(train_X).max() < 2.5
    again = toy_datasets.make_dataset(name, n=400, noise=0.1, train_share=0.7)
    np.testing.assert_array_equal(train_X, again[0])
    noisier = toy_datasets.make_dataset(name, n=400, noise=0.3, train_share=0.7)
    assert not np.array_equal(train_X, noisier[0])


def test_generated_dataset_arguments_are_checked():
    with pytest.raises(RegularizationInputError, match="Unknown dataset"):
        toy_datasets.make_dataset("spirals")
    with pytest.raises(RegularizationInputError, match="train_share"):
        toy_datasets.make_dataset("moons", train_share=1.0)
    with pytest.raises(RegularizationInputError, match="noise"):
        toy_datasets.make_dataset("moons", noise=-0.1)


# ---------------------------------------------------------------------------
# The app.
# ---------------------------------------------------------------------------


def caption_data(app) -> dict:
    """The data-* attributes of the caption under the picture."""
    found = {}

    class Parser(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.update({k[5:]: v for k, v in attrs if k.startswith("data-")})

    Parser().feed(app.caption.value)
    return found


def test_app_shows_the_assignments_run_with_matching_numbers(make_app, football):
    app = make_app()
    frame = settle(app)
    s = app.settings
    assert (s.regularizer, s.lambd, s.keep_prob, s.learning_rate, s.num_iterations) == (
        "L2", 0.7, 0.86, 0.3, 30000,
    )  # fmt: skip
    assert frame.settings == s
    assert frame.done
    assert frame.iteration == 30000
    data = caption_data(app)
    assert data["status"] == "done"
    assert data["lambda"] == "0.7"
    assert data["iteration"] == "30000"
    # The picture's parameters are those of an uninterrupted engine run from the same start.
    X, Y, test_X, test_Y = football
    want, _ = engine.train(X, Y, initialize_parameters(LAYERS), 0.3, 30000, lambd=0.7)
    for key in KEYS:
        np.testing.assert_array_equal(frame.parameters[key], want[key])
    train_acc, test_acc = accuracy(X, Y, want), accuracy(test_X, test_Y, want)
    assert app.shown_accuracy == (train_acc, test_acc)
    assert f"{100 * train_acc:.1f} %" in app.accuracy.value
    assert f"{100 * test_acc:.1f} %" in app.accuracy.value
    assert app.image.value[:3] == b"\xff\xd8\xff"  # JPEG: the boundary is redrawn often
    assert app.curves_image.value[:8] == b"\x89PNG\r\n\x1a\n"  # PNG: thin lines and text
    assert app.errors == []


def test_the_boundary_picture_shows_the_networks_prediction(make_app):
    """Where the finished network says blue (label 1) the picture is blue, red where it says red.

    Probes are grid points at least 0.2 from the 0.5 level, away from every
    data point and from the axes' frame, read back from the JPEG on screen
    at their pixel.
    """
    app = make_app(num_iterations=5000)
    frame = settle(app)
    painter = app.live.boundary
    pixels = matplotlib.image.imread(io.BytesIO(app.image.value), format="jpeg")
    assert pixels.shape[:2] == (painter.figure.bbox.height, painter.figure.bbox.width)
    probs = engine.predict_proba(painter._grid, frame.parameters).ravel()
    points = np.concatenate([frame.data.train_X, frame.data.test_X], axis=1)
    gap = np.min(np.linalg.norm(painter._grid.T[:, None, :] - points.T[None, :, :], axis=2), axis=1)
    x_lo, x_hi, y_lo, y_hi = frame.data.limits
    inside = (np.abs(painter._grid[0] - (x_lo + x_hi) / 2) < 0.45 * (x_hi - x_lo)) & (
        np.abs(painter._grid[1] - (y_lo + y_hi) / 2) < 0.45 * (y_hi - y_lo)
    )  # away from the axes' frame
    clear = inside & (gap > 0.04 * max(x_hi - x_lo, y_hi - y_lo))  # ~12 pixels from a marker
    checked = {"blue": 0, "red": 0}
    for colour, chosen in (("blue", clear & (probs > 0.7)), ("red", clear & (probs < 0.3))):
        for x, y in painter._grid.T[chosen][::25]:
            column, row_up = painter.axes.transData.transform((x, y))
            red, _, blue = pixels[int(pixels.shape[0] - row_up), int(column), :3].astype(int)
            assert (blue > red + 20) if colour == "blue" else (red > blue + 20), (colour, x, y)
            checked[colour] += 1
    assert min(checked.values()) >= 10, checked  # both classes of the plane were probed


def test_pictures_in_the_middle_of_a_run_are_paced(make_app, monkeypatch):
    """Between pictures of one run the drawing thread waits; the first and the last are not held.

    The explorer's clock is stopped, so a middle picture never comes due:
    only the first and the final picture of the run are drawn. Training is
    held after its first snapshot until that one is drawn, so the verdict
    does not depend on how fast this machine trains or draws.
    """
    assert live._pause(0.001, live._FRAME_EVERY) == live._FRAME_EVERY
    slow_drawing = 3 * live._FRAME_EVERY * live._PAINT_SHARE
    assert live._pause(slow_drawing, live._FRAME_EVERY) == pytest.approx(3 * live._FRAME_EVERY)

    app = make_app(start=False)
    monkeypatch.setattr(live, "time", types.SimpleNamespace(perf_counter=lambda: 1000.0))
    drawn, published = [], []
    paint, publish = app.live.paint, app.live.publish

    def paint_spy(frame, view):
        paint(frame, view)
        drawn.append((frame.generation, frame.iteration, frame.done))

    def publish_spy(frame):
        publish(frame)
        published.append((frame.generation, frame.iteration, frame.done))
        if len(published) == 1:
            assert frame.drawn.wait(WAIT)  # the first picture is drawn before training goes on

    app.live.paint, app.live.publish = paint_spy, publish_spy
    app.set(lambd=0.3)
    final = settle(app)
    assert len(published) >= 4, published  # snapshots came in the middle of the run ...
    first, last = published[0], published[-1]
    assert drawn == [first, last], (drawn, published)  # ... and none of them was drawn
    assert last == (final.generation, 30000, True)


def test_weights_shrink_as_lambda_grows(make_app):
    app = make_app(num_iterations=10000)
    totals = []
    for lambd in (0.0, 0.1, 0.7, 3.0, 10.0):
        app.set(lambd=lambd)
        frame = settle(app)
        assert frame.settings.lambd == lambd
        totals.append(sum(np.linalg.norm(frame.parameters[f"W{k}"]) for k in (1, 2, 3)))
    assert all(a > b for a, b in itertools.pairwise(totals)), totals


def test_a_new_value_cancels_the_stale_run(make_app):
    """A run made stale mid-way publishes nothing more; only the newest run finishes.

    The first run is held after its first picture until every new value is set,
    so the verdict does not depend on how fast this machine trains.
    """
    app = make_app(start=False)
    published = []
    first_published, all_set = threading.Event(), threading.Event()
    original = app.live.publish

    def spy(frame):
        published.append((frame.generation, frame.settings.lambd, frame.done))
        original(frame)
        if frame.settings.lambd == 0.0 and not frame.done:
            first_published.set()
            assert all_set.wait(WAIT)  # hold the training thread: this run must go stale mid-way

    app.live.publish = spy
    app.set(lambd=0.0)
    assert first_published.wait(WAIT)
    for lambd in (0.01, 0.1, 1.0, 0.3):
        app.set(lambd=lambd)  # no waiting: each value makes the previous run stale
    all_set.set()
    frame = settle(app)
    assert frame.settings.lambd == 0.3
    assert caption_data(app)["lambda"] == "0.3"
    finished = {generation for generation, _, done in published if done}
    assert finished == {frame.generation}, published
    stale = [item for item in published if item[0] != frame.generation]
    assert stale, published  # the first run did publish before it went stale
    assert all(iteration_done is False for _, _, iteration_done in stale)


def test_view_toggle_redraws_without_retraining(make_app):
    app = make_app(num_iterations=2000)
    frame = settle(app)
    before = app.image.value
    app.set(show_test=False)
    again = settle(app)
    assert again.generation == frame.generation  # the same run, drawn again
    assert caption_data(app)["show-test"] == "false"
    assert app.image.value != before


def test_slow_motion_draws_every_300_iterations(make_app):
    """Each slow-motion chunk waits for its picture, so every 300th iteration is drawn.

    Only pictures of the final run are counted: a run made stale by the next
    setting may or may not get a picture, depending on scheduling.
    """
    app = make_app(start=False, num_iterations=2000)
    drawn = []
    original = app.live.paint

    def spy(frame, view):
        original(frame, view)
        drawn.append((frame.generation, frame.iteration))

    app.live.paint = spy
    app.set(slow=True)
    app.set(lambd=0.3)
    final = settle(app)
    assert [iteration for generation, iteration in drawn if generation == final.generation] == [
        300, 600, 900, 1200, 1500, 1800, 2000,
    ]  # fmt: skip


def test_errors_raised_while_drawing_are_shown_in_the_app(make_app):
    app = make_app(num_iterations=1000)
    settle(app)
    original = app.live.boundary.paint

    def broken(*args, **kwargs):
        raise ValueError("the painter fell over")

    app.live.boundary.paint = broken
    app.set(lambd=0.3)
    assert app.wait(WAIT)
    assert app.failed()
    assert "the painter fell over" in app.error_box.value
    assert "ValueError" in app.error_box.value
    app.live.boundary.paint = original
    app.set(lambd=0.5)
    settle(app)
    assert app.idle()
    assert app.error_box.value == ""
    assert caption_data(app)["lambda"] == "0.5"


def test_errors_raised_in_widget_callbacks_are_shown_in_the_app(make_app):
    app = make_app(num_iterations=1000)
    settle(app)

    def broken():
        raise RuntimeError("observer exploded")

    app._restart = broken
    app.lambd.value = 0.3  # the observer runs, fails, and says so in the app
    assert "observer exploded" in app.error_box.value


def test_keep_prob_outside_its_range_is_rejected(make_app):
    app = make_app(start=False)
    for bad in (1.3, 0.3, 0.0, -1):
        with pytest.raises(RegularizationInputError, match="keep_prob"):
            app.set(keep_prob=bad)
    assert app.keep_prob.value == 0.86
    with pytest.raises(RegularizationInputError, match="keep_prob"):
        explorer.Settings(keep_prob=0.45).validated()
    with pytest.raises(RegularizationInputError, match="lambd"):
        app.set(lambd=0.123)  # not a stop of the slider
    with pytest.raises(RegularizationInputError, match="Unknown setting"):
        app.set(lamda=0.7)


def test_url_query_sets_the_controls_and_bad_values_are_reported(make_app):
    app = make_app(query="regularizer=dropout&keep_prob=1.3&lambd=0.3&num_iterations=2000",
                   url_state=True)  # fmt: skip
    s = app.settings
    assert (s.regularizer, s.keep_prob, s.lambd, s.num_iterations) == ("dropout", 0.86, 0.3, 2000)
    assert "keep_prob" in app.error_box.value
    assert "1.3" in app.error_box.value
    settle(app)
    assert "regularizer=dropout" in app.link.value
    parsed, problems = explorer.Settings.from_query(app.settings.query())
    assert parsed == app.settings
    assert problems == []


def test_generated_dataset_with_noise_and_split(make_app):
    app = make_app(start=False, num_iterations=2000)
    app.set(dataset="moons", noise=0.3, train_share=0.7)
    frame = settle(app)
    assert frame.data.name == "moons"
    assert frame.data.train_X.shape == (2, 280)
    assert not app.noise.disabled
    assert not app.train_share.disabled
    assert caption_data(app)["dataset"] == "moons"
    app.set(dataset="football")
    assert app.noise.disabled
    assert app.train_share.disabled


def test_regularizer_choice_enables_its_slider(make_app):
    app = make_app(start=False)
    for regularizer, lambd_on, keep_on in [("none", False, False), ("L2", True, False),
                                           ("dropout", False, True), ("both", True, True)]:  # fmt: skip
        app.set(regularizer=regularizer)
        assert (not app.lambd.disabled, not app.keep_prob.disabled) == (lambd_on, keep_on)
        s = app.settings
        assert s.effective_lambd == (0.7 if lambd_on else 0.0)
        assert s.effective_keep_prob == (0.86 if keep_on else 1.0)


def test_lambda_sweep_on_the_football_data(make_app):
    """Regularization helps on the football data: the best dev accuracy is at some lambda > 0."""
    app = make_app(start=False)
    sweep = app.run_sweep("lambd")
    assert sweep.values[0] == 0.0
    assert len(sweep.dev) == len(sweep.test) == len(explorer.SWEEP_LAMBDAS)
    assert sweep.best == sweep.values[int(np.argmax(sweep.dev))]  # chosen on dev, not on test
    assert sweep.best > 0
    assert max(sweep.dev) > sweep.dev[0]
    assert sweep.train[0] > sweep.train[-1]  # a huge lambda costs training accuracy
    print(f"lambda sweep: best dev accuracy {max(sweep.dev):.3f} at lambda={sweep.best}")


def test_sweep_button_plots_with_the_current_value_marked(make_app):
    app = make_app(num_iterations=1000, regularizer="dropout")
    settle(app)
    assert [value for _, value in app.sweep_parameter.options] == ["keep_prob"]  # no λ sweep in dropout mode
    app.sweep_button.click()
    assert app.wait_sweep(WAIT)
    assert app.sweep is not None
    assert app.sweep.parameter == "keep_prob"
    assert app.sweep_image.value[:4] == b"\x89PNG"
    assert app.sweep_image.layout.display is None
    assert "Highest dev accuracy" in app.sweep_status.value
    assert app.state.sweep_marker == 0.86
    app.set(keep_prob=0.7)
    settle(app)
    assert app.state.sweep_marker == 0.7  # the marker follows the slider


def test_the_sweep_follows_the_dataset_and_the_mode(make_app):
    app = make_app(num_iterations=1000, regularizer="L2")
    settle(app)
    assert [value for _, value in app.sweep_parameter.options] == ["lambd"]
    app.sweep_button.click()
    assert app.wait_sweep(WAIT)
    assert app.sweep is not None
    app.set(lambd=0.3)  # moving the swept value keeps the curve
    settle(app)
    assert app.sweep is not None
    app.set(dataset="moons")  # another dataset: the old curve goes
    settle(app)
    assert app.sweep is None
    assert app.sweep_image.layout.display == "none"
    assert "press Sweep again" in app.sweep_status.value
    app.set(regularizer="both")
    settle(app)
    assert [value for _, value in app.sweep_parameter.options] == ["lambd", "keep_prob"]


# ---------------------------------------------------------------------------
# The student's functions.
# ---------------------------------------------------------------------------


def wrong_functions():
    """Plausible mistakes: the L2 term forgotten, dropout without rescaling."""

    def cost_without_penalty(A3, Y, parameters, lambd):
        return compute_cost(A3, Y)

    def gradients_without_decay(X, Y, cache, lambd):
        return backward_propagation(X, Y, cache)

    def forward_not_implemented(X, parameters, keep_prob):
        return None

    def backward_raises(X, Y, cache, keep_prob):
        raise NotImplementedError("write me")

    return dict(zip(explorer.STUDENT_FUNCTION_NAMES,
                    (cost_without_penalty, gradients_without_decay, forward_not_implemented,
                     backward_raises), strict=True))  # fmt: skip


def test_wrong_student_functions_get_a_message_and_the_engine_stands_in(make_app):
    app = make_app(wrong_functions(), num_iterations=1000)
    frame = settle(app)
    checks = app.checks
    assert not any(check.passed for check in checks.values())
    assert "cost with L2" in checks["compute_cost_with_regularization"].message
    assert "dW" in checks["backward_propagation_with_regularization"].message
    assert "returned None" in checks["forward_propagation_with_dropout"].message
    assert "forward_propagation_with_dropout" in checks["backward_propagation_with_dropout"].message
    notes = app.notes.value
    assert ("your <code>forward_propagation_with_dropout</code> does not pass its check yet"
            in notes)  # fmt: skip
    assert frame.backend == "engine"
    assert caption_data(app)["backend"] == "engine"
    assert "compute_cost_with_regularization" in app.status.value


def reference_functions():
    reference = pytest.importorskip("autograder.reference")
    try:
        return reference.reference_solutions()
    except (LookupError, OSError) as exc:
        pytest.skip(f"the instructor notebook's solutions are not available: {exc}")


def test_correct_student_functions_pass_and_train(make_app, football):
    functions = reference_functions()
    checks = explorer.check_student_functions(functions)
    assert all(check.passed for check in checks.values()), checks
    assert "np.random.seed(1)" in checks["forward_propagation_with_dropout"].note
    app = make_app(functions, num_iterations=2000)
    frame = settle(app)
    assert frame.backend == "student"
    assert caption_data(app)["backend"] == "student"
    assert "same units at every iteration" in app.notes.value
    X, Y, _, _ = football
    want, _ = engine.train(X, Y, initialize_parameters(LAYERS), 0.3, 2000, lambd=0.7)
    for key in KEYS:
        np.testing.assert_allclose(frame.parameters[key], want[key], rtol=0, atol=1e-9)
    app.set(regularizer="dropout")
    frame = settle(app)
    assert frame.backend == "student"
    assert frame.done


def first_published(app, **values):
    """(backend, iteration) of each snapshot published by the run that ``values`` start."""
    published = []
    original = app.live.publish

    def spy(frame):
        published.append((frame.backend, frame.iteration))
        original(frame)

    app.live.publish = spy
    app.set(**values)
    settle(app)
    return published


def test_student_runs_draw_their_first_picture_after_a_few_iterations(make_app):
    """The learner's NumPy functions are ~100x slower than the engine: their first chunk is short.

    Counted in iterations, not milliseconds, so the verdict does not depend on this
    machine's speed (``make bench`` times the first picture).
    """
    student = make_app(reference_functions(), start=False, num_iterations=2000, regularizer="dropout")
    published = first_published(student, keep_prob=0.8)
    assert published[0] == ("student", 20)
    assert published[-1] == ("student", 2000)
    engine_app = make_app(start=False, num_iterations=2000, regularizer="dropout")
    assert first_published(engine_app, keep_prob=0.8)[0] == ("engine", 300)


def test_the_note_on_student_dropout_says_why_its_costs_can_climb(make_app):
    app = make_app(reference_functions(), start=False)
    note = html.unescape(app.notes.value)
    assert "np.random.seed(1) on every call" in note
    assert "same units at every iteration" in note
    assert "costs can therefore climb while the cost it minimises falls" in note


def test_student_function_failing_mid_training_hands_over_to_the_engine(make_app):
    functions = dict(reference_functions())
    honest = functions["backward_propagation_with_regularization"]

    def fails_on_big_inputs(X, Y, cache, lambd):
        if X.shape[1] > 50:
            raise FloatingPointError("overflow on the real data")
        return honest(X, Y, cache, lambd)

    functions["backward_propagation_with_regularization"] = fails_on_big_inputs
    app = make_app(functions, num_iterations=1000)
    frame = settle(app)
    assert "overflow on the real data" in app.error_box.value
    assert frame.backend == "engine"
    assert frame.done


def test_student_checks_leave_the_global_random_state_alone():
    functions = reference_functions()
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    explorer.check_student_functions(functions)
    assert np.random.rand() == expected


# ---------------------------------------------------------------------------
# No leaks, and the notebook.
# ---------------------------------------------------------------------------

GRADED_SIGNATURES = {
    ("A3", "Y", "parameters", "lambd"),
    ("X", "Y", "cache", "lambd"),
    ("X", "parameters", "keep_prob"),
    ("X", "Y", "cache", "keep_prob"),
}


#: The explorer is a package: check the source of each of its modules, not only __init__.
EXPLORER_MODULES = [
    importlib.import_module(f"{explorer.__name__}.{info.name}")
    for info in pkgutil.iter_modules(explorer.__path__)
]


@pytest.mark.parametrize(
    "module", [engine, explorer, *EXPLORER_MODULES, toy_datasets], ids=lambda m: m.__name__
)
def test_the_graded_functions_are_not_in_the_kit(module):
    source = inspect.getsource(module)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            assert node.name not in explorer.STUDENT_FUNCTION_NAMES, node.name
            params = tuple(arg.arg for arg in node.args.args)
            assert params not in GRADED_SIGNATURES, (node.name, params)


#: Each explorer module and the sibling modules it may import: dependencies point one way,
#: towards ``settings``, so no module reaches back into one that uses it (not even for type hints).
ALLOWED_SIBLINGS = {
    "settings": set(),
    "records": {"settings"},
    "student": {"settings"},
    "painters": {"settings", "records"},
    "controls": {"settings"},
    "live": {"settings", "records", "student", "painters", "controls"},
    "sweep": {"settings", "records", "painters", "controls"},
    "app": {"settings", "records", "student", "controls", "live", "sweep"},
}


def test_explorer_modules_import_one_way():
    assert {m.__name__.rsplit(".", 1)[1] for m in EXPLORER_MODULES} == set(ALLOWED_SIBLINGS)
    for module in EXPLORER_MODULES:
        name = module.__name__.rsplit(".", 1)[1]
        siblings = set()
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                siblings |= {node.module} if node.module else {alias.name for alias in node.names}
        assert siblings <= ALLOWED_SIBLINGS[name], (name, sorted(siblings - ALLOWED_SIBLINGS[name]))


def test_the_app_is_one_class_that_owns_its_parts(make_app):
    """No mixins: the app's state is one ExplorerState, shared by its parts, not private attributes."""
    assert explorer.RegularizationExplorer.__mro__ == (explorer.RegularizationExplorer, object)
    app = make_app(start=False)
    assert app.live.state is app.state
    assert app.sweeper.state is app.state
    assert app.lambd is app.controls.lambd


def test_explorer_notebook_shows_the_app_in_short_cells():
    notebook = json.loads((ROOT / "notebooks" / "Explore_regularization.ipynb").read_text())
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert any("show_explorer(" in cell for cell in code)
    assert max(len(cell.splitlines()) for cell in code) <= 4
    assert all(not cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")
