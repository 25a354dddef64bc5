"""Grading the course with nbgrader: sandbox, feedback, recovery, parallel runs.

Importing this package runs nothing; the modules load nbgrader when imported:

- :mod:`fmnist_utils.grading.sandbox` -- ``SandboxedExecute``: every autograded
  notebook runs in a bubblewrap sandbox, with ``FMNIST_FAST=1``.
- :mod:`fmnist_utils.grading.feedback` -- ``StripHiddenTests``: feedback without the
  hidden tests.
- :mod:`fmnist_utils.grading.recovery` -- an autograde run that was killed midway is
  completed by the next run; :mod:`fmnist_utils.grading.leftovers` -- the next run also
  stops the kernels and removes the scratch folders a killed run left.
- :mod:`fmnist_utils.grading.parallel` -- grade a class with several processes
  (``python -m fmnist_utils.grading.parallel LESSON --workers N``).
- :mod:`fmnist_utils.grading.views` -- wires up the instructor's view:
  :mod:`~fmnist_utils.grading.report` (the grading report), :mod:`~fmnist_utils.grading.logs`
  (a quiet autograde log), :mod:`~fmnist_utils.grading.exports` (course, Canvas and
  Moodle CSVs), :mod:`~fmnist_utils.grading.feedback_html` and
  :mod:`~fmnist_utils.grading.outputs` (feedback with exercise names, figures and math),
  :mod:`~fmnist_utils.grading.handout` (a feedback zip per learner) and
  :mod:`~fmnist_utils.grading.formgrader` (the formgrader without an exchange);
  :mod:`~fmnist_utils.grading.cells` is what they share about graded cells.
- :mod:`fmnist_utils.grading.csp` -- a Jupyter server extension: the formgrader's
  Content-Security-Policy (nonces for nbgrader's own scripts only).

``nbgrader_config.py`` wires them up; INSTRUCTORS.md explains the workflow.
"""
