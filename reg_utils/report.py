"""The results table of the notebook's Conclusions section."""

from __future__ import annotations

from .predict import accuracy


def accuracy_table(
    models: dict, train: tuple, held_out: tuple, held_out_name: str = "dev"
) -> list[tuple[str, float, float]]:
    """Print (and return) model name, train accuracy and held-out accuracy for each trained model.

    ``models`` maps a name to trained parameters; ``train`` and ``held_out`` are
    (X, Y) pairs, the latter the dev set in the notebook (the test set is
    scored once, later). The figures are recomputed from the parameters, never typed in.
    """
    rows = [(name, accuracy(*train, params), accuracy(*held_out, params)) for name, params in models.items()]
    width = max(len("model"), *(len(name) for name, _, _ in rows))
    second = f"{held_out_name} accuracy"
    print(f"{'model':<{width}}  {'train accuracy':>14}  {second:>{len(second)}}")
    for name, train_acc, held_out_acc in rows:
        print(f"{name:<{width}}  {train_acc:>14.1%}  {held_out_acc:>{len(second)}.1%}")
    return rows
