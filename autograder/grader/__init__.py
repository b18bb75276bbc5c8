"""The hardened grader: every submission in its own sandbox, verdicts computed outside it.

``python -m autograder.grader`` (or ``make autograde``) grades a course;
``autograder/README.md`` states what it guarantees and what it does not.
Modules: ``extract`` (reading a submission), ``plan`` (what runs, decided by
the source notebook), ``harness`` (the sandbox side), ``sandbox`` (the
grader's side of a sandbox), ``wire`` (what crosses between them),
``judge`` (verdicts), ``gradebook`` (writing results), ``batch`` (the
parallel batch), ``drive`` (one sandbox's loop, shared), ``cluster`` (the
batch on Dask: tasks out, results in) and ``worker`` (a Dask worker's
side), ``progress`` (bar and summary), ``confine`` (the
namespaces), ``bounds`` (every per-student limit), ``text`` (escaping what
a student controls). The fault and cheat corpus lives in ``tests/corpus``.

This package's ``__init__`` imports nothing: the sandbox imports
``harness`` through it and must not load the hidden checks.
"""
