"""Instructor-only benchmarks of the kit (``make bench`` runs ``python -m benchmarks``).

``yardstick`` is the textbook NumPy implementation the kit is measured and
checked against; ``bench_training`` times the training loop and each helper.
"""
