"""The results table of the notebook's Conclusions section."""

from __future__ import annotations

from .predict import accuracy


def accuracy_table(models: dict, train: tuple, test: tuple) -> list[tuple[str, float, float]]:
    """Print (and return) model name, train accuracy and test accuracy for each trained model.

    ``models`` maps a name to trained parameters; ``train`` and ``test`` are
    (X, Y) pairs. The figures are recomputed from the parameters, never typed in.
    """
    rows = [(name, accuracy(*train, params), accuracy(*test, params)) for name, params in models.items()]
    width = max(len("model"), *(len(name) for name, _, _ in rows))
    print(f"{'model':<{width}}  {'train accuracy':>14}  {'test accuracy':>13}")
    for name, train_acc, test_acc in rows:
        print(f"{name:<{width}}  {train_acc:>14.1%}  {test_acc:>13.1%}")
    return rows
