"""Shared helpers for the Fashion-MNIST CNN course.

The package is split by purpose, and importing it runs nothing and loads
no heavy library (TensorFlow is imported only by the functions that need it):

- :mod:`fmnist_utils.data` -- load and verify the Fashion-MNIST data, CSV files.
- :mod:`fmnist_utils.fast` -- the ``FMNIST_FAST=1`` setting that trims data and
  epochs for CI and grading.
- :mod:`fmnist_utils.plots` -- every figure the lessons draw, a package by kind of
  figure (images, matrices, charts, curves, diagrams, internals) under one style;
  its docstring maps each module to its job.
- :mod:`fmnist_utils.widgets` -- the interactive ipywidgets tools.
- :mod:`fmnist_utils.models` -- the reference models and their shipped weights.
- :mod:`fmnist_utils.photo` -- turn a photo into a Fashion-MNIST-style input; sample photos.
- :mod:`fmnist_utils.course` -- maintainers' tools: build the lessons, check them.
"""

__version__ = "0.1.0"
