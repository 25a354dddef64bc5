"""Course tooling: what builds, checks, measures and ships the course (learners never import it).

- :mod:`~fmnist_utils.tooling.lessons` -- where a lesson's files live, reading a
  py:percent source as a notebook, the answer markers, running nbgrader's command line.
- :mod:`~fmnist_utils.tooling.build` -- derive every lesson's source notebook and
  student copy (nbgrader's Python API, one process); list the stale ones.
- :mod:`~fmnist_utils.tooling.profiler` -- run a notebook in a fresh kernel and
  measure its wall time and peak memory.
- :mod:`~fmnist_utils.tooling.cli` -- the command line,
  ``python -m fmnist_utils.tooling build|check|data|readme-figure|samples|times|profile|site``.
- :mod:`~fmnist_utils.tooling.site` -- build the website (``make site``): each lesson in
  the learner's view, with its figures, and the docs by audience.
- :mod:`~fmnist_utils.tooling.sitemath` -- a Sphinx extension that writes the website's
  formulas as MathML when it is built.
- :mod:`~fmnist_utils.tooling.timing` -- how long a lesson takes a newcomer, by one
  documented rule (``python -m fmnist_utils.tooling times``).
- :mod:`~fmnist_utils.tooling.deps` -- derive environment.yml and
  binder/requirements.txt from pyproject.toml, and check they agree
  (``python -m fmnist_utils.tooling.deps``).
- :mod:`~fmnist_utils.tooling.train_reference` -- train lesson 7's CNN on the full
  data and write its shipped weights (``python -m fmnist_utils.tooling.train_reference``).

Grading (:mod:`fmnist_utils.grading`) is course tooling too: a package of its own,
mapped in its docstring.
"""
