"""The kit's own football-field dataset: ``data.mat`` and the generator that made it.

Installed as ``reg_utils.datasets`` so the data ship inside the package.
"""
