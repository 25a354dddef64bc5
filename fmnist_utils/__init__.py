"""Shared helpers for the Fashion-MNIST CNN course.

Importing the package runs nothing and loads no heavy library (TensorFlow is imported
only by the functions that need it). It has two halves.

**What the lessons import** (the learner-facing helpers):

- :mod:`fmnist_utils.data` -- load and verify the Fashion-MNIST data (the one search
  order for the files).
- :mod:`fmnist_utils.csvfiles` -- read and write Kaggle-style CSV files.
- :mod:`fmnist_utils.download` -- download a file with a progress bar (the data loader's).
- :mod:`fmnist_utils.files` -- write a file atomically (downloads, CSV files, the build).
- :mod:`fmnist_utils.fast` -- the ``FMNIST_FAST=1`` setting that trims data and
  epochs for CI and grading.
- :mod:`fmnist_utils.plots` -- every figure the lessons draw, a package by kind of
  figure (images, matrices, charts, curves, diagrams, internals) under one style;
  its docstring maps each module to its job.
- :mod:`fmnist_utils.widgets` -- the interactive ipywidgets tools.
- :mod:`fmnist_utils.rate_explorer` -- lesson 3's learning-rate explorer, a widget
  that retrains (it holds the training loop the other widgets do not have).
- :mod:`fmnist_utils.filters` -- lesson 5's hand-made 3x3 kernels and a NumPy filter.
- :mod:`fmnist_utils.models` -- the reference models, their training recipes and
  their shipped weights (``weights/``).
- :mod:`fmnist_utils.improved` -- lesson 9's improved CNN, its augmentation and
  learning-rate schedule: the building blocks; :mod:`fmnist_utils.models` trains them.
- :mod:`fmnist_utils.pipeline` -- stream uint8 images to a network, normalised (and
  augmented) batch by batch with ``tf.data``.
- :mod:`fmnist_utils.photo` -- turn a photo into a Fashion-MNIST-style input; sample
  photos (``samples/``).
- :mod:`fmnist_utils.standins` -- a stand-in model that records the batches it is
  given, for checking code that uses a model.
- :mod:`fmnist_utils.environment` -- check the installed versions against the pins
  (every lesson's setup cell); describe the machine for measurements.
- :mod:`fmnist_utils.settings` -- every ``FMNIST_*`` environment variable, its default
  and meaning (CONTRIBUTING.md's table is generated from it).
- ``kernel_config/`` -- the IPython kernel settings installed with the course (keeps
  TensorFlow's start-up log out of the cells).

**Course tooling** (what builds, checks, grades and measures the course; learners
never import it):

- :mod:`fmnist_utils.tooling` -- build and check the lessons, profile a notebook,
  derive the dependency files, train the shipped weights; its docstring maps each
  module (``python -m fmnist_utils.tooling --help``).
- :mod:`fmnist_utils.grading` -- nbgrader's sandboxed autograding, feedback and the
  instructor's view; its docstring maps each module.
"""

__version__ = "0.1.0"
