"""Grading the course with nbgrader: sandbox, feedback, recovery, parallel runs.

Importing this package runs nothing; the modules load nbgrader when imported:

- :mod:`fmnist_utils.grading.sandbox` -- ``SandboxedExecute``: every autograded
  notebook runs in a bubblewrap sandbox, with ``FMNIST_FAST=1``.
- :mod:`fmnist_utils.grading.feedback` -- ``StripHiddenTests``: feedback without the
  hidden tests.
- :mod:`fmnist_utils.grading.recovery` -- an autograde run that was killed midway is
  completed by the next run.
- :mod:`fmnist_utils.grading.parallel` -- grade a class with several processes
  (``python -m fmnist_utils.grading.parallel LESSON --workers N``).

``nbgrader_config.py`` wires them up; INSTRUCTORS.md explains the workflow.
"""
