"""Judges of the two dropout functions: any valid dropout is right, whatever its random numbers.

Forward: the masks must be 0/1, shaped like the activations, and A1, A2, A3
must follow from the inputs and the student's OWN masks (A = relu(Z) * D /
keep_prob). On inputs large enough to count, the share of kept units must be
near keep_prob and the masks must differ between examples and units. Masks
that pass all that but are not the assignment's draws are right; the
finding then carries a note on how to reproduce the printed output.

Backward: each step is recomputed from the student's own upstream values and
the cached masks, so the first thing that is off is named in its layer.
"""

from __future__ import annotations

import numpy as np

from reg_utils.activations import relu, sigmoid

from .findings import RIGHT, Finding, Wrong, array, close, returned, shape_mismatches, wrong
from .l2_judge import grads_of, merge_layers

#: Mask entries needed before the share of kept units is judged (6 standard deviations apart).
COUNTABLE = 1000

CACHE_ITEMS = "(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)"


# ----------------------------------------------------------------- forward


def _unpack(output) -> tuple:
    if not (isinstance(output, tuple | list) and len(output) == 2):
        raise Wrong(f"The function must return the pair (A3, cache); {returned(output)}.")
    A3, cache = output
    if not isinstance(cache, tuple | list):
        raise Wrong(f"The cache must be the tuple {CACHE_ITEMS}; it is a {type(cache).__name__}.")
    if len(cache) == 12:
        raise Wrong(f"The cache has 12 items, like forward_propagation's: it must also hold the masks, "
                    f"{CACHE_ITEMS}.")  # fmt: skip
    if len(cache) != 14:
        raise Wrong(f"The cache must be the 14-tuple {CACHE_ITEMS}; it has {len(cache)} items.")
    names = CACHE_ITEMS.strip("()").split(", ")
    return array(A3, "A3"), {name: array(value, name) for name, value in zip(names, cache, strict=True)}


def mask_problem(name: str, D, A_shape, X_shape) -> str:
    """Why a mask is not a valid 0/1 mask of the activations' shape, or ''."""
    if D.shape != A_shape:
        if D.shape == X_shape and name == "D1":
            return (f"D1 has the shape of X {X_shape}, not of A1 {A_shape}: dropout applies to the hidden "
                    "layers, never to the input. Draw np.random.rand(A1.shape[0], A1.shape[1]).")  # fmt: skip
        if D.shape == (A_shape[0], 1):
            return (f"{name} has shape {D.shape}: one mask for all examples drops the same units for every "
                    f"example. Draw one entry per unit AND per example, shape {A_shape}.")  # fmt: skip
        if D.shape == (1, A_shape[1]):
            return (f"{name} has shape {D.shape}: one entry per example drops all units of an example "
                    f"together. Draw one entry per unit and example, shape {A_shape}.")  # fmt: skip
        return f"{name} has shape {D.shape}; it must have the shape of the activations, {A_shape}."
    if not np.isin(D, (0, 1)).all():
        if D.min() >= 0 and D.max() < 1:
            return (f"{name} holds the random numbers themselves: turn them into a 0/1 mask, "
                    f"{name} = {name} < keep_prob.")  # fmt: skip
        return f"{name} must hold only 0 and 1 (or False and True): keep or drop."
    return ""


def _activation_problem(layer: int, A, Z, D, keep_prob) -> str:
    """Why A is not relu(Z) * D / keep_prob, from the student's own mask D, or ''."""
    r = relu(Z)
    if close(A, r * D / keep_prob):
        return ""
    with np.errstate(divide="ignore", invalid="ignore"):  # keep_prob = 1 makes 1 - keep_prob zero
        over_the_drop_rate = r * D / (1 - keep_prob)
    candidates = (
        (r * D, f"A{layer} is masked but not divided by keep_prob: inverted dropout scales the kept units "
                f"up, A{layer} = A{layer} / keep_prob, so that their expected value stays the same."),
        (r * D * keep_prob, f"A{layer} is multiplied by keep_prob: divide by it (A{layer} / keep_prob), "
                            "the kept units are scaled UP."),
        (r / keep_prob, f"A{layer} is divided by keep_prob but the mask D{layer} is not applied: "
                        f"A{layer} = A{layer} * D{layer}."),
        (r, f"A{layer} is neither masked nor scaled: hidden layer {layer} is not dropped out. Apply D{layer} "
            f"to A{layer} and divide by keep_prob."),
        (r * (1 - D) / keep_prob, f"A{layer} keeps the units that D{layer} drops: multiply by D{layer}, "
                                  "not by its opposite."),
        (r * D / keep_prob**2, f"A{layer} is divided by keep_prob twice: once is enough."),
        (over_the_drop_rate, f"A{layer} is divided by 1 - keep_prob: divide by keep_prob."),
        (Z * D / keep_prob, f"A{layer} has no ReLU: A{layer} = relu(Z{layer}) comes before the mask."),
        (Z, f"A{layer} is Z{layer}: the ReLU and the dropout of layer {layer} are both missing."),
    )  # fmt: skip
    for value, problem in candidates:
        if close(A, value):
            return problem
    return (f"A{layer} is not relu(Z{layer}) * D{layer} / keep_prob with your own D{layer}: compare the "
            f"four steps of layer {layer} with the instructions.")  # fmt: skip


def statistics_problem(name: str, D, keep_prob) -> str:
    """On enough entries: is the share of kept units near keep_prob, and do the masks vary?"""
    if keep_prob >= 1:
        return "" if D.all() else f"{name} drops units with keep_prob = 1, which must keep every unit."
    if D.size < COUNTABLE:
        return ""
    kept = float(D.mean())
    spread = 6 * np.sqrt(keep_prob * (1 - keep_prob) / D.size)
    if abs(kept - keep_prob) > spread:
        if abs(kept - (1 - keep_prob)) <= spread:
            return (
                f"{name} keeps {kept:.0%} of the units with keep_prob = {keep_prob}: it keeps a unit when "
                f"its random number is ABOVE keep_prob. Keep it when it is below: {name} < keep_prob."
            )
        if abs(kept - 0.5) <= spread:
            return (f"{name} keeps {kept:.0%} of the units with keep_prob = {keep_prob}: use keep_prob, "
                    "not a fixed 0.5.")  # fmt: skip
        return f"{name} keeps {kept:.0%} of the units; keep_prob = {keep_prob} keeps {keep_prob:.0%}."
    if D.shape[1] > 1 and (D == D[:, :1]).all():
        return (f"{name} drops the same units for every example: draw one random number per unit AND per "
                "example.")  # fmt: skip
    if D.shape[0] > 1 and (D == D[:1, :]).all():
        return f"{name} drops all units of an example together: draw one random number per unit and example."
    return ""


def judge_dropout_forward(inputs: dict, output) -> Finding:
    """Is ``output`` a valid inverted-dropout forward pass of ``inputs`` (X, parameters, keep_prob)?"""
    X, p, keep_prob = (inputs[k] for k in ("X", "parameters", "keep_prob"))
    X = np.asarray(X, dtype=float)
    try:
        A3, c = _unpack(output)
        for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
            if not close(c[key], p[key], rtol=0, atol=0):
                raise Wrong(f"The cache's {key} is not parameters['{key}']: the cache is {CACHE_ITEMS}.")
        previous = X
        for layer in (1, 2):
            Z, D, A = c[f"Z{layer}"], c[f"D{layer}"], c[f"A{layer}"]
            W, b = p[f"W{layer}"], p[f"b{layer}"]
            Z_right = W @ previous + b
            if A.shape != Z_right.shape:
                raise Wrong(f"A{layer} has shape {A.shape}; the activations of layer {layer} have shape "
                            f"{Z_right.shape}.")  # fmt: skip
            problem = mask_problem(f"D{layer}", D, Z_right.shape, X.shape)
            if problem:
                raise Wrong(problem)
            if not (close(Z, Z_right) or close(Z, Z_right * D / keep_prob)):
                where = "X" if layer == 1 else "A1"
                raise Wrong(f"Z{layer} in the cache is not np.dot(W{layer}, {where}) + b{layer}"
                            + (": dropout must not touch the input X, only hidden layers 1 and 2."
                               if layer == 1 else " with your own A1."))  # fmt: skip
            problem = _activation_problem(layer, A, Z_right, D, keep_prob) or statistics_problem(
                f"D{layer}", D, keep_prob
            )
            if problem:
                raise Wrong(problem)
            previous = A
        Z3_right = p["W3"] @ previous + p["b3"]
        if not close(c["Z3"], Z3_right):
            raise Wrong("Z3 in the cache is not np.dot(W3, A2) + b3 with your own A2.")
        if not close(A3, sigmoid(Z3_right)):
            raise Wrong("A3 is not sigmoid(Z3): the output layer has no dropout, A3 = sigmoid(Z3).")
        if not close(c["A3"], A3):
            raise Wrong("The cache's A3 is not the A3 the function returns.")
        if keep_prob < 1 and c["D1"].size + c["D2"].size >= COUNTABLE:
            first = min(c["D1"].size, c["D2"].size)
            if (c["D1"].ravel()[:first] == c["D2"].ravel()[:first]).all():
                raise Wrong("D2 repeats the random numbers of D1: draw D2 after D1 from the same stream, "
                            "without seeding again in between.")  # fmt: skip
    except Wrong as stop:
        return stop.finding
    return RIGHT


def stream_note(inputs: dict, output, expected_masks) -> str:
    """For a valid forward pass: '' when its masks are the expected draws, else how they differ."""
    _, c = _unpack(output)
    D1, D2 = c["D1"], c["D2"]
    E1, E2, U1, U2 = expected_masks
    if np.array_equal(D1, E1) and np.array_equal(D2, E2):
        return ""
    keep_prob = inputs["keep_prob"]
    how = ""
    if np.array_equal(D1, U1 >= 1 - keep_prob):
        how = ("You keep a unit when its number is >= 1 - keep_prob: as valid, but the expected output keeps "
               "it when the number is < keep_prob.")  # fmt: skip
    elif np.array_equal(D1, E1):
        how = ("D1 matches; D2 does not: draw D2 = np.random.rand(A2.shape[0], A2.shape[1]) right after D1, "
               "with no other random call (and no new seed) in between.")  # fmt: skip
    elif D1.shape[1] == U1.shape[1]:
        transposed = np.random.RandomState(1).rand(D1.shape[1], D1.shape[0]).T < keep_prob
        if np.array_equal(D1, transposed):
            how = ("You drew rand(m, n).T: the same numbers in another order. The expected output draws "
                   "np.random.rand(A1.shape[0], A1.shape[1]).")  # fmt: skip
    return (
        "Your masks are valid (0/1, shaped like the activations, applied and scaled correctly), but they "
        "are not the random draws the expected output was computed with, so your numbers differ from the "
        "printed ones. The hidden tests accept any valid masks, so this costs no points. "
        + (how + " " if how else "")
        + "To reproduce the expected output: keep np.random.seed(1) at the top, draw "
        "D1 = np.random.rand(A1.shape[0], A1.shape[1]) and keep D1 < keep_prob, then draw D2 the same way "
        "for A2, in that order, with NumPy's legacy np.random functions (not default_rng or binomial)."
    )


# ---------------------------------------------------------------- backward


def _dA_problem(layer: int, dA, raw, D, keep_prob) -> str:
    """Why dA is not raw * D / keep_prob (raw = W.T . dZ from the student's own dZ), or ''."""
    if close(dA, raw * D / keep_prob):
        return ""
    candidates = (
        (raw * D, f"dA{layer} is masked but not divided by keep_prob: the forward pass divided A{layer} by "
                  f"keep_prob, so dA{layer} = dA{layer} / keep_prob too."),
        (raw / keep_prob, f"dA{layer} is divided by keep_prob but not masked: multiply it by D{layer} from "
                          "the cache, so that dropped units get no gradient."),
        (raw, f"dA{layer} is neither masked nor scaled: dA{layer} = dA{layer} * D{layer}, then "
              f"dA{layer} / keep_prob."),
        (raw * D * keep_prob, f"dA{layer} is multiplied by keep_prob: divide by it, as forward did."),
        (raw * (1 - D) / keep_prob, f"dA{layer} keeps the gradient of the units D{layer} dropped: multiply "
                                    f"by D{layer}, not by its opposite."),
        (raw * D / keep_prob**2, f"dA{layer} is divided by keep_prob twice: once is enough."),
        (raw * D / (1 - keep_prob), f"dA{layer} is divided by 1 - keep_prob: divide by keep_prob."),
    )  # fmt: skip
    for value, problem in candidates:
        if close(dA, value):
            return problem
    flowing = np.abs(raw) > 1e-12
    if flowing.any() and dA.shape == raw.shape:
        ratio = np.where(flowing, dA / np.where(flowing, raw, 1), 0)[flowing]
        for scale, scaled in ((1 / keep_prob, "scaled"), (1.0, "unscaled")):
            on_mask = np.isclose(ratio, scale) | np.isclose(ratio, 0)
            if on_mask.all():
                return (
                    f"dA{layer} is masked ({scaled}) with a mask other than the cached D{layer}: reuse "
                    f"D{layer} from the cache: new random masks shut down other units than the forward pass."
                )
    return (f"dA{layer} is not np.dot(W{layer + 1}.T, dZ{layer + 1}) * D{layer} / keep_prob with your own "
            f"dZ{layer + 1}.")  # fmt: skip


def judge_dropout_backward(inputs: dict, output) -> Finding:
    """Are the gradients right for ``inputs`` (X, Y, cache with masks, keep_prob)?"""
    X, Y, cache, keep_prob = (inputs[k] for k in ("X", "Y", "cache", "keep_prob"))
    try:
        g = grads_of(output)
    except Wrong as stop:
        return stop.finding
    (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3) = (np.asarray(c, dtype=float) for c in cache)
    X = np.asarray(X, dtype=float)
    m = X.shape[1]
    layers = {3: (W3, A2, None, None), 2: (W2, A1, A2, D2), 1: (W1, X, A1, D1)}
    shapes = shape_mismatches(g, dW1=W1, dW2=W2, dW3=W3, db1=b1, db2=b2, db3=b3, dA1=A1, dA2=A2)
    if shapes:
        return wrong("; ".join(shapes) + ".")
    problems: list[tuple[int | None, str]] = []
    if not close(g["dZ3"], A3 - Y):
        problems.append((None, "dZ3 is not A3 - Y: the given first line seems changed."))
    for layer in (3, 2, 1):
        W, A_prev, A, D = layers[layer]
        dZ = g[f"dZ{layer}"]
        if layer < 3:
            raw = layers[layer + 1][0].T @ g[f"dZ{layer + 1}"]
            dA = g[f"dA{layer}"]
            problem = _dA_problem(layer, dA, raw, D, keep_prob)
            right_dZ = raw * D / keep_prob * (A > 0)
            if problem and close(dZ, right_dZ) and not close(dZ, dA * (A > 0)):
                problem = (f"dZ{layer} is right but dA{layer} is not: apply the mask and the 1/keep_prob to "
                           f"dA{layer} itself (dA{layer} = dA{layer} * D{layer}, dA{layer} = dA{layer} / "
                           f"keep_prob), not to dZ{layer}: the returned dA{layer} must be it.")  # fmt: skip
                problems.append((None, problem))
                continue
            if problem:
                problems.append((None, problem))
            elif not close(dZ, dA * (A > 0)):
                problems.append((None, f"dZ{layer} is not dA{layer} * (A{layer} > 0): the given line seems "
                                       "changed."))  # fmt: skip
        if not close(g[f"dW{layer}"], dZ @ A_prev.T / m):
            problems.append((layer, "it is not 1/m * np.dot(dZ{l}, {prev}.T) from your own dZ{l}: the "
                                    "given line seems changed (dropout adds no term to dW)."))  # fmt: skip
        if not close(g[f"db{layer}"], dZ.sum(axis=1, keepdims=True) / m):
            problems.append((-layer, "db{l} is not 1/m * np.sum(dZ{l}, axis=1, keepdims=True): the given "
                                     "line seems changed."))  # fmt: skip
    if not problems:
        return RIGHT
    return wrong(*merge_layers(problems))
