"""Judges of the two L2 functions: is the output right, and if not, which property is off.

The cost is split into the cross-entropy (given) and the student's penalty,
and the penalty is matched against the wrong sums and factors students
write. Each weight gradient is split into its data term and its penalty by
a least-squares fit, using the student's own dZ, so a mistake is named in
the layer where it happens. Nothing here returns a graded quantity: the
judges only say whether the student's numbers are right.
"""

from __future__ import annotations

import numpy as np

from reg_utils.cost import compute_cost

from .contract import GRAD_KEYS
from .findings import RIGHT, Finding, Wrong, array, close, number, returned, shape_mismatches, wrong

LAYERS = (1, 2, 3)


# ------------------------------------------------------------------- the cost


def _as_cost(output) -> float:
    """The returned cost as a float, or ``Wrong`` saying why it is not a number."""
    if isinstance(output, bool):
        raise Wrong("The cost must be a number; it returned a bool.")
    if isinstance(output, int | float | np.number):
        return float(output)
    if isinstance(output, np.ndarray) and output.dtype.kind in "biuf":
        if output.ndim == 0:
            return float(output)
        raise Wrong(
            f"The cost must be a single number, but it is an array of shape {output.shape}. "
            "A sum with keepdims=True or axis=... keeps array dimensions: call np.sum(...) "
            "without them on the squared weights."
        )
    if isinstance(output, tuple | list):
        raise Wrong(
            f"The cost must be a single number, but {returned(output)}: look for a trailing "
            "comma, or a `return` of more than one value."
        )
    raise Wrong(f"The cost must be a single number, but {returned(output)}.")


def _factors(lambd: float, m: int, rows: int):
    """(factor, what is wrong with it) for the factors students put before the sum of squares."""
    rows_note = (
        f" If you wrote lambd / (2 * m), check m: it is the number of examples, Y.shape[1] "
        f"(= {m} here); Y.shape[0] (= {rows}) is the number of output units."
        if rows != m
        else ""
    )
    return (
        (lambd / (2 * m), ""),
        (lambd / m, "it is twice too large: the factor is lambd / (2 * m), not lambd / m."),
        (lambd / (2 * rows), "it is m times too large: formula (2) divides by 2m, m being the "
                             "number of examples." + rows_note),
        (lambd / 2, "it is m times too large: formula (2) divides by 2m, not by 2." + rows_note),
        (lambd, "it lacks the factor 1 / (2m): formula (2) multiplies the sum by lambd / (2 * m)."),
        (2 * lambd / m, "its factor is 2 * lambd / m: formula (2) has lambd / (2 * m) (divide by 2, "
                        "don't multiply)."),
        (lambd / (2 * m * m), "it divides by m twice (m squared): the factor is lambd / (2 * m)."),
        (lambd / (m * m), "its factor is lambd / m**2: formula (2) has lambd / (2 * m)."),
        (lambd / (4 * m), "it is halved twice: the factor is lambd / (2 * m)."),
        (lambd * m / 2, "it multiplies by m instead of dividing: the factor is lambd / (2 * m)."),
        (1 / (2 * m), "it lacks lambd: the factor is lambd / (2 * m)."),
        (lambd * lambd / (2 * m), "it uses lambd squared: the factor is lambd / (2 * m)."),
        (-lambd / (2 * m), "it has the wrong sign: the L2 term is ADDED to the cross-entropy."),
    )  # fmt: skip


def _sums(parameters):
    """(sum, what is wrong with it) for the sums of weights students write."""
    W = [array(parameters[f"W{layer}"], f"parameters['W{layer}']") for layer in LAYERS]
    b = [array(parameters.get(f"b{layer}", 0.0), f"parameters['b{layer}']") for layer in LAYERS]
    squares = [float(np.sum(np.square(w))) for w in W]
    right = sum(squares)
    sums = [(right, "")]
    for i, layer in enumerate(LAYERS):
        sums.append((right - squares[i], f"it leaves out W{layer}: add the squared weights of W1, W2 AND W3"))
    for i, layer in enumerate(LAYERS):
        sums.append((squares[i], f"only W{layer} enters it: add the squared weights of all of W1, W2 and "
                                 "W3 (a variable overwritten in a loop?)."))  # fmt: skip
    sums += [
        (right + sum(float(np.sum(np.square(x))) for x in b),
         "it includes the biases: only the weights W1, W2, W3 are penalised, not b1, b2, b3."),
        (sum(float(np.sum(w)) for w in W),
         "the weights are not squared: sum np.square(W), not W itself."),
        (sum(float(np.sum(np.abs(w))) for w in W),
         "it sums absolute values (that is L1): formula (2) sums the squares, np.sum(np.square(W))."),
        (sum(np.sqrt(s) for s in squares),
         "np.linalg.norm(W) is the square ROOT of the sum of squares: formula (2) needs the sum of "
         "squares itself, np.sum(np.square(W)) (or norm squared)."),
        (sum(np.sqrt(s) for s in squares) ** 2,
         "it adds the norms of W1, W2, W3 before squaring: square each norm (or sum each np.square(W)), "
         "then add."),
        (sum(float(np.sum(w)) ** 2 for w in W),
         "it squares the sum of each matrix, (sum of W)**2: formula (2) sums the squares of the "
         "entries, np.sum(np.square(W))."),
        (sum(float(np.sum(w)) for w in W) ** 2,
         "it squares the sum of all weights: formula (2) sums the squares of the entries."),
        (sum(float(np.sum(w @ w.T)) for w in W),
         "np.sum(np.dot(W, W.T)) adds products of different weights: use np.sum(np.square(W))."),
        (sum(float(np.sum(w.T @ w)) for w in W),
         "np.sum(np.dot(W.T, W)) adds products of different weights: use np.sum(np.square(W))."),
    ]  # fmt: skip
    return right, sums


def judge_cost(inputs: dict, output) -> Finding:
    """Is ``output`` the regularized cost of ``inputs`` (A3, Y, parameters, lambd)?"""
    A3, Y, parameters, lambd = (inputs[k] for k in ("A3", "Y", "parameters", "lambd"))
    try:
        value = _as_cost(output)
        m, rows = np.shape(Y)[1], np.shape(Y)[0]
        cross_entropy = compute_cost(A3, Y)
        right_sum, sums = _sums(parameters)
    except Wrong as stop:
        return stop.finding
    want = cross_entropy + lambd / (2 * m) * right_sum
    if close(value, want):
        return RIGHT
    penalty = value - cross_entropy
    head = (f"The cost is {number(value)} where formula (2) gives {number(want)}: its L2 term is "
            f"{number(penalty)}, formula (2)'s is {number(want - cross_entropy)}.")  # fmt: skip
    if not np.isfinite(value):
        return wrong(f"The cost is {value}: look for a division by zero or a log of 0.")
    if lambd != 0 and abs(penalty) <= 1e-12 * max(1.0, abs(value)):
        return wrong(
            "The cost has no L2 term: it equals the cross-entropy alone. Either the term is not "
            "added, or it is rounded to 0: integer division (lambd // m, 1 // m) gives 0 here. "
            "Use / and lambd / (2 * m)."
        )
    if close(value, want - cross_entropy):
        return wrong("The cost is only the L2 term: add the cross-entropy, cost = cross_entropy_cost + "
                     "L2_regularization_cost.")  # fmt: skip
    if close(penalty, cross_entropy + want - cross_entropy):
        return wrong("The cross-entropy is counted twice: cost = cross_entropy_cost + L2 term.")
    for total, sum_problem in sums:
        for factor, factor_problem in _factors(lambd, m, rows):
            if (sum_problem or factor_problem) and close(penalty, factor * total, rtol=1e-6, atol=1e-12):
                both = "; also, ".join(p.rstrip(".") for p in (sum_problem, factor_problem) if p)
                return wrong(head, f"Your L2 term: {both}.")
    if close(penalty, np.floor(lambd / (2 * m)) * right_sum, rtol=1e-6, atol=1e-12):
        return wrong(head, "An integer division (//) rounds the factor: write lambd / (2 * m).")
    ratio = penalty / (want - cross_entropy) if want != cross_entropy else float("nan")
    return wrong(
        head,
        f"Your term is {number(ratio)} times formula (2)'s: compare it with lambd / (2 * m) * "
        "(np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3))), with m = Y.shape[1].",
    )


# ------------------------------------------------------- the L2 backward pass


def grads_of(output, keys=GRAD_KEYS) -> dict:
    """The gradients dict as float arrays, or ``Wrong`` naming what is missing or not numeric."""
    if not isinstance(output, dict):
        raise Wrong(f"The function must return the gradients dict {{'dZ3': ..., ...}}; {returned(output)}.")
    missing = [k for k in keys if k not in output]
    if missing:
        raise Wrong(f"The gradients dict lacks the key(s) {', '.join(missing)}.")
    return {k: array(output[k], k) for k in keys}


def _fit(target, basis_a, basis_b):
    """(a, b) with target = a * basis_a + b * basis_b exactly (to rounding), else None."""
    A = np.stack([basis_a.ravel(), basis_b.ravel()], axis=1)
    coefficients, *_ = np.linalg.lstsq(A, target.ravel(), rcond=None)
    scale = max(np.abs(target).max(), 1e-12)
    if np.abs(A @ coefficients - target.ravel()).max() > 1e-7 * scale:
        return None
    return coefficients


def _penalty_problem(dW, data, W, lambd, m, x_rows, y_rows) -> str:
    """What is wrong with ``dW`` = data term + penalty term; ``{l}`` stands for the layer."""
    bases = (
        (W, ""),
        (np.sign(W), "it uses lambd / m * sign(W{l}): that is the L1 penalty's gradient; L2's is "
                     "lambd / m * W{l}"),
        (np.full_like(W, W.sum()), "it adds lambd / m * sum(W{l}) (one number) to every entry: "
                                   "the penalty's gradient is lambd / m * W{l}, entry by entry"),
        (np.square(W), "it uses W{l} squared: the derivative of (lambda / 2m) * W**2 is "
                       "(lambda / m) * W, so write lambd / m * W{l}"),
    )  # fmt: skip
    for basis, basis_problem in bases:
        fit = _fit(dW, data, basis)
        if fit is None:
            continue
        a, b = fit
        problems = []
        if not np.isclose(a, 1 / m, rtol=1e-6):
            problems.append(
                f"its data term is {number(a)} * np.dot(dZ{{l}}, {{prev}}.T) where it should be "
                f"1/m * np.dot(dZ{{l}}, {{prev}}.T) (1/m = {number(1 / m)})"
            )
        if basis_problem:
            problems.append(basis_problem)
        elif abs(b) <= 1e-12:
            problems.append("it lacks the regularization term: add lambd / m * W{l}")
        elif not np.isclose(b, lambd / m, rtol=1e-6):
            problems.append(_factor_problem(b, lambd, m, x_rows, y_rows))
        return "; ".join(problems) + "."
    return (
        "it is neither 1/m * np.dot(dZ{l}, {prev}.T) + lambd / m * W{l} nor a "
        "common variant of it; compare it with the formula above the exercise."
    )


def _factor_problem(b, lambd, m, x_rows, y_rows) -> str:
    """The wrong factor in front of W in a weight gradient's penalty term."""
    write = "write lambd / m * W{l}"
    for factor, text in (
        (-lambd / m, "the penalty has the wrong sign: it is ADDED, + lambd / m * W{l}"),
        (lambd, "the penalty lacks 1/m (dividing by Y.shape[0] = 1 would not count: m is X.shape[1]): "
                + write),
        (lambd / (2 * m), "the penalty has an extra 1/2 (the 2 of the square cancels it): " + write),
        (2 * lambd / m, "the penalty is twice too large: " + write),
        (lambd / (m * m), "the penalty divides by m twice: " + write),
        (1 / m, "the penalty lacks lambd: " + write),
        (lambd / x_rows, f"the penalty divides by X.shape[0] (= {x_rows}, the number of features): m is "
                         "the number of examples, X.shape[1]"),
        (lambd / y_rows, f"the penalty divides by Y.shape[0] (= {y_rows}): m is the number of examples, "
                         "X.shape[1]"),
        (lambd * m, "the penalty multiplies by m instead of dividing: " + write),
    ):  # fmt: skip
        if np.isclose(b, factor, rtol=1e-6):
            return text
    return (f"its penalty is {number(b)} * W{{l}} where it should be lambd / m * W{{l}} = "
            f"{number(lambd / m)} * W{{l}}")  # fmt: skip


def judge_l2_backward(inputs: dict, output) -> Finding:
    """Are the gradients right for ``inputs`` (X, Y, cache, lambd)? Each step from the own values."""
    X, Y, cache, lambd = (inputs[k] for k in ("X", "Y", "cache", "lambd"))
    try:
        g = grads_of(output)
    except Wrong as stop:
        return stop.finding
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = (np.asarray(c, dtype=float) for c in cache)
    m = X.shape[1]
    layers = {3: (W3, b3, A2, None), 2: (W2, b2, A1, A2), 1: (W1, b1, X, A1)}
    wrong_shapes = shape_mismatches(g, dW1=W1, dW2=W2, dW3=W3, db1=b1, db2=b2, db3=b3)
    if wrong_shapes:
        return wrong("; ".join(wrong_shapes) + ". A gradient has the shape of what it differentiates: "
                     "1/m * np.dot(dZ3, A2.T) for dW3.")  # fmt: skip
    problems: list[tuple[int | None, str]] = []
    if not close(g["dZ3"], A3 - Y):
        problems.append((None, "dZ3 is not A3 - Y: the given first line seems changed."))
    for layer in (3, 2, 1):
        W, b, A_prev, A = layers[layer]
        dZ = g[f"dZ{layer}"]
        if layer < 3:
            dA, upper_W, upper_dZ = g[f"dA{layer}"], layers[layer + 1][0], g[f"dZ{layer + 1}"]
            if not close(dA, upper_W.T @ upper_dZ):
                problems.append((None, _changed(f"dA{layer}", f"np.dot(W{layer + 1}.T, dZ{layer + 1})")))
            if not close(dZ, dA * (A > 0)):
                problems.append((None, _changed(f"dZ{layer}", f"dA{layer} * (A{layer} > 0)")))
        data = dZ @ A_prev.T
        if not close(g[f"dW{layer}"], data / m + lambd / m * W):
            problem = _penalty_problem(g[f"dW{layer}"], data, W, lambd, m, X.shape[0], np.shape(Y)[0])
            problems.append((layer, problem))
        db_data = dZ.sum(axis=1, keepdims=True) / m
        if not close(g[f"db{layer}"], db_data):
            if close(g[f"db{layer}"] - db_data, lambd / m * b):
                text = ("db{l} has a penalty term: biases are not regularised, so db{l} stays "
                        "1/m * np.sum(dZ{l}, axis=1, keepdims=True).")  # fmt: skip
            else:
                text = "db{l} is not 1/m * np.sum(dZ{l}, axis=1, keepdims=True): the given line changed?"
            problems.append((-layer, text))
    return RIGHT if not problems else wrong(*merge_layers(problems))


def _changed(key: str, formula: str) -> str:
    return (f"{key} is not {formula} (from your own values): the given line seems changed, or a penalty "
            f"was added to it. The penalty lambd / m * W belongs in dW only.")  # fmt: skip


def merge_layers(problems: list[tuple[int | None, str]]) -> list[str]:
    """One sentence per distinct problem; the same mistake in several layers is named once, for all.

    ``problems`` holds (layer, template): a template's ``{l}`` stands for the layer; a positive layer
    names dW, a negative one db, None a sentence that stands alone.
    """
    merged: dict[tuple[str, str], list[int]] = {}
    for layer, template in problems:
        kind = "alone" if layer is None else ("db" if layer < 0 else "dW")
        merged.setdefault((kind, template), []).append(abs(layer) if layer is not None else 0)
    out = []
    previous = {3: "A2", 2: "A1", 1: "X"}
    for (kind, template), layers in list(merged.items()):
        if "{prev}" in template and len(layers) > 1:  # the sentence names each layer's input: one per layer
            del merged[(kind, template)]
            for layer in layers:
                merged[(kind + str(layer), template)] = [layer]
    for (kind, template), layers in merged.items():
        kind = kind[:2] if kind != "alone" else kind
        if kind == "alone":
            out.append(template)
        elif kind == "db":
            layer_list = ", ".join(map(str, layers))
            out.append(template.format(l=layers[0], prev=previous[layers[0]]) if len(layers) == 1
                       else template.format(l="", prev="") + f" (layers {layer_list})")  # fmt: skip
        else:
            names = ", ".join(f"dW{layer}" for layer in layers)
            one = len(layers) == 1
            out.append(
                f"{names}: "
                + template.format(l=layers[0] if one else "", prev=previous[layers[0]] if one else "")
            )
    return out
