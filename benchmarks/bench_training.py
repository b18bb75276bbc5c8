"""Training-loop benchmark: the kit's helpers against the textbook yardstick.

One unregularized run on the kit's data (layers [2, 20, 3, 1], lr 0.3,
30000 iterations) with the loop every notebook writes: forward ->
compute_cost -> backward -> update at every iteration. The same loop runs
with ``reg_utils`` and with ``benchmarks.yardstick``; runs alternate so
that a busy machine slows both alike, and medians are reported. The two
runs must also agree: their final parameters and cost curves are compared.

    python -m benchmarks.bench_training [--runs N] [--iterations N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import timeit
from pathlib import Path

import numpy as np

import reg_utils
from benchmarks import yardstick

LAYERS = (2, 20, 3, 1)
LEARNING_RATE = 0.3
ITERATIONS = 30000
GOAL = 1.4
RESULTS = Path(__file__).resolve().parent / "results" / "training.json"
HELPERS = (
    "sigmoid",
    "relu",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "update_parameters",
)


def train(helpers, X, Y, num_iterations, learning_rate=LEARNING_RATE):
    """The notebook's loop, with the cost at every iteration; ``helpers`` is a module."""
    forward = helpers.forward_propagation
    cost = helpers.compute_cost
    backward = helpers.backward_propagation
    update = helpers.update_parameters
    parameters = helpers.initialize_parameters(list(LAYERS))
    costs = []
    for _ in range(num_iterations):
        a3, cache = forward(X, parameters)
        costs.append(cost(a3, Y))
        grads = backward(X, Y, cache)
        parameters = update(parameters, grads, learning_rate)
    return parameters, np.array(costs, dtype=float)


def train_gradient_descent(X, Y, num_iterations):
    """The kit's own loop: the cost only on the recorded iterations."""
    return reg_utils.gradient_descent(
        X,
        Y,
        reg_utils.initialize_parameters(list(LAYERS)),
        reg_utils.forward_propagation,
        lambda a3, Y, _parameters: reg_utils.compute_cost(a3, Y),
        reg_utils.backward_propagation,
        LEARNING_RATE,
        num_iterations,
        print_every=None,
    )


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def time_training(X, Y, runs, iterations):
    """Alternate kit / yardstick / gradient_descent runs; return the times and the last results."""
    times = {"kit": [], "yardstick": [], "gradient_descent": []}
    results = {}
    for _ in range(runs):
        seconds, results["kit"] = timed(train, reg_utils, X, Y, iterations)
        times["kit"].append(seconds)
        # The textbook cost takes log(0) (and 0 * inf) once predictions saturate; its
        # nansum drops those terms, so silence the warnings rather than change the code.
        with np.errstate(divide="ignore", invalid="ignore"):
            seconds, results["yardstick"] = timed(train, yardstick, X, Y, iterations)
        times["yardstick"].append(seconds)
        seconds, results["gradient_descent"] = timed(train_gradient_descent, X, Y, iterations)
        times["gradient_descent"].append(seconds)
    return times, results


def max_differences(results):
    """Largest absolute and relative gaps between the kit's and the yardstick's runs."""
    (kit_params, kit_costs), (ref_params, ref_costs) = results["kit"], results["yardstick"]
    gd_params, gd_costs = results["gradient_descent"]
    param_abs = max(float(np.max(np.abs(kit_params[k] - ref_params[k]))) for k in ref_params)
    param_rel = max(
        float(np.max(np.abs(kit_params[k] - ref_params[k]) / np.abs(ref_params[k]).max())) for k in ref_params
    )
    cost_abs = float(np.max(np.abs(kit_costs - ref_costs)))
    cost_rel = float(np.max(np.abs(kit_costs - ref_costs) / np.abs(ref_costs)))
    gd_param_abs = max(float(np.max(np.abs(gd_params[k] - ref_params[k]))) for k in ref_params)
    record_every = 1000
    gd_cost_abs = float(np.max(np.abs(np.asarray(gd_costs) - ref_costs[::record_every])))
    return {
        "parameters_abs": param_abs,
        "parameters_rel": param_rel,
        "costs_abs": cost_abs,
        "costs_rel": cost_rel,
        "gradient_descent_parameters_abs": gd_param_abs,
        "gradient_descent_costs_abs": gd_cost_abs,
    }


def helper_arguments(helpers, X, Y):
    """Arguments on the training data's shapes, taken a few hundred iterations into training."""
    parameters, _ = train(reg_utils, X, Y, 300)
    a3, cache = helpers.forward_propagation(X, parameters)
    grads = helpers.backward_propagation(X, Y, cache)
    return {
        "sigmoid": (cache[8],),  # Z3, (1, 211)
        "relu": (cache[0],),  # Z1, (20, 211)
        "forward_propagation": (X, parameters),
        "compute_cost": (a3, Y),
        "backward_propagation": (X, Y, cache),
        "update_parameters": (parameters, grads, LEARNING_RATE),
    }


def _call(helpers, name, arguments):
    function, args = getattr(helpers, name), arguments[name]
    if name == "update_parameters":
        parameters, grads, rate = args
        # A fresh dict each call, so that every call steps the same parameters.
        return lambda: function(dict(parameters), grads, rate)
    return lambda: function(*args)


def time_helpers(X, Y, number=2000, repeat=7):
    """Median microseconds per call of each helper, kit and yardstick timed in alternation."""
    calls = {}
    for label, helpers in (("kit", reg_utils), ("yardstick", yardstick)):
        arguments = helper_arguments(helpers, X, Y)
        calls[label] = {name: _call(helpers, name, arguments) for name in HELPERS}
    table = {}
    for name in HELPERS:
        samples = {"kit": [], "yardstick": []}
        for _ in range(repeat):
            for label in samples:
                samples[label].append(timeit.timeit(calls[label][name], number=number))
        table[name] = {label: statistics.median(v) / number * 1e6 for label, v in samples.items()}
    return table


def report(times, differences, helper_times, iterations):
    kit = statistics.median(times["kit"])
    reference = statistics.median(times["yardstick"])
    gd = statistics.median(times["gradient_descent"])
    ratio = reference / kit
    runs = len(times["kit"])
    print(f"Training: {iterations} iterations, layers {list(LAYERS)}, lr {LEARNING_RATE}, ", end="")
    print(f"kit data (211 examples); median of {runs} alternating runs")
    print(f"  {'loop':<44}{'median s':>10}{'per iter':>12}   runs (s)")
    rows = (
        ("(a) kit helpers, cost every iteration", times["kit"]),
        ("(b) yardstick (textbook), same loop", times["yardstick"]),
        ("(f) reg_utils.gradient_descent (cost /1000)", times["gradient_descent"]),
    )
    for label, samples in rows:
        median = statistics.median(samples)
        per_iteration = median / iterations * 1e6
        listed = " ".join(f"{s:.2f}" for s in samples)
        print(f"  {label:<44}{median:>10.3f}{per_iteration:>9.1f} us   {listed}")
    verdict = "meets" if ratio >= GOAL else "BELOW"
    print(f"  (c) speed-up yardstick / kit: {ratio:.2f}x ({verdict} the {GOAL}x goal)")
    print(f"      speed-up yardstick / gradient_descent: {reference / gd:.2f}x")
    print("  (d) kit vs yardstick after the run:")
    print(
        f"      final parameters  max |diff| {differences['parameters_abs']:.3g}"
        f"  (relative to each array's largest entry {differences['parameters_rel']:.3g})"
    )
    print(
        f"      cost curve        max |diff| {differences['costs_abs']:.3g}"
        f"  (relative {differences['costs_rel']:.3g})"
    )
    print(
        f"      gradient_descent  parameters {differences['gradient_descent_parameters_abs']:.3g}"
        f", recorded costs {differences['gradient_descent_costs_abs']:.3g}"
    )
    print("  (e) time per call on the training shapes, median of 7 x 2000 calls, alternating:")
    print(f"      {'helper':<24}{'kit us':>9}{'yardstick us':>14}{'ratio':>8}")
    for name in HELPERS:
        kit_us, ref_us = helper_times[name]["kit"], helper_times[name]["yardstick"]
        print(f"      {name:<24}{kit_us:>9.2f}{ref_us:>14.2f}{ref_us / kit_us:>8.2f}")
    return {
        "iterations": iterations,
        "runs_seconds": times,
        "median_seconds": {k: statistics.median(v) for k, v in times.items()},
        "ratio_yardstick_over_kit": ratio,
        "differences": differences,
        "helpers_us": helper_times,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_training")
    parser.add_argument("--runs", type=int, default=5, help="alternating runs per loop (>= 3)")
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    parser.add_argument("--quick", action="store_true", help="1 run of 3000 iterations (smoke test)")
    options = parser.parse_args([] if argv is None else argv)
    runs, iterations = (1, 3000) if options.quick else (options.runs, options.iterations)

    X, Y, _, _ = reg_utils.load_2D_dataset()
    load_before = os.getloadavg()[0]
    times, results = time_training(X, Y, runs, iterations)
    differences = max_differences(results)
    helper_times = time_helpers(X, Y)
    summary = report(times, differences, helper_times, iterations)
    load_after = os.getloadavg()[0]
    print(
        f"  1-min load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs "
        "(other work on the machine makes these figures noisy)"
    )
    summary["load_average"] = [load_before, load_after]
    if not options.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"  (saved to benchmarks/results/{RESULTS.name})")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
