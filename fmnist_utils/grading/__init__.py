"""Grading the course with nbgrader: sandbox, trusted tests, feedback, parallel runs.

Importing this package runs nothing; the modules load nbgrader when imported.

The pipeline:

- :mod:`~fmnist_utils.grading.config` -- the whole grading setup in one place: the
  autograde and feedback preprocessors in order, every limit, the start-of-run work;
  ``nbgrader_config.py`` calls it.
- :mod:`~fmnist_utils.grading.intake` -- submissions copied into a private folder,
  regular files only, names checked, before nbgrader sees them;
  :mod:`~fmnist_utils.grading.admit` -- each notebook checked before anything parses
  it (size, cells, format, grading metadata), and learner strings quoted for a log;
  :mod:`~fmnist_utils.grading.receipts` -- when each submission was received, which
  lateness is judged from (never the learner's own ``timestamp.txt``).
- :mod:`~fmnist_utils.grading.sandbox` -- ``SandboxedExecute``: the learner's cells run
  in a bubblewrap sandbox (the wrapper: ``kernels/fmnist-grader/sandbox_kernel.py``),
  with ``FMNIST_FAST=1``; :mod:`~fmnist_utils.grading.limits` -- output caps, the time
  limit of a notebook, the wrapper's environment.
- :mod:`~fmnist_utils.grading.testkernel` -- the second kernel, where the test cells
  run; :mod:`~fmnist_utils.grading.trusted` -- its side of the channel (the lesson's
  imports, the learner's names fetched as data, :class:`LearnerFunction`);
  :mod:`~fmnist_utils.grading.bridge` -- the learner kernel's side;
  :mod:`~fmnist_utils.grading.wire` -- what may cross, checked, and
  :mod:`~fmnist_utils.grading.keras_wire` -- Keras objects among it.
- :mod:`~fmnist_utils.grading.guard` (in the learner's kernel) and
  :mod:`~fmnist_utils.grading.integrity` -- hooks a notebook installs are found and
  the submission flagged; :mod:`~fmnist_utils.grading.checks` -- exact-type checks.
- :mod:`~fmnist_utils.grading.outputs` -- figures kept small, library noise dropped;
  :mod:`~fmnist_utils.grading.sanitize` -- the learner's HTML made inert, a test's
  feedback reduced to its result.
- :mod:`~fmnist_utils.grading.recovery` -- a run killed midway is completed by the next;
  :mod:`~fmnist_utils.grading.leftovers` -- the kernels and scratch folders it left are
  removed.
- :mod:`~fmnist_utils.grading.logs` -- a quiet log, one line per submission, control
  characters made visible; :mod:`~fmnist_utils.grading.failures` -- a submission
  nbgrader could not grade is recorded against its learner, never a stale score;
  :mod:`~fmnist_utils.grading.report` -- the grading report.

Around it:

- :mod:`~fmnist_utils.grading.course` -- a course's folders and gradebook, and how long
  each lesson took to grade; :mod:`~fmnist_utils.grading.parallel` -- grade a class
  with several processes (``python -m fmnist_utils.grading.parallel LESSON --workers N``).
- :mod:`~fmnist_utils.grading.feedback` (hidden tests stripped),
  :mod:`~fmnist_utils.grading.feedback_html` (exercise names, math) and
  :mod:`~fmnist_utils.grading.handout` (a feedback zip per learner);
  :mod:`~fmnist_utils.grading.cells` -- what they share about graded cells.
- :mod:`~fmnist_utils.grading.exports` -- course, Canvas and Moodle CSVs;
  :mod:`~fmnist_utils.grading.formgrader` -- the formgrader without an exchange;
  :mod:`~fmnist_utils.grading.csp` -- a Jupyter server extension: the formgrader's
  Content-Security-Policy; :mod:`~fmnist_utils.grading.exchange` -- the class hub's
  submit step, which leaves a submission readable by its learner and the instructors only.

The instructors' guide (docs/instructors/) explains the workflow.
"""
