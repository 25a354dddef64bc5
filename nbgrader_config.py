"""nbgrader configuration of the Fashion-MNIST CNN course.

The course directory is this repository:

- ``solutions/NN_slug/`` -- the source of every lesson (nbgrader's "source").
- ``lessons/NN_slug/``   -- the student copies (nbgrader's "release").
- ``instructor/``        -- gitignored: submissions, autograded copies, feedback, the
  gradebook (``instructor/submitted/<student>/<lesson>/<lesson>.ipynb`` and so on).

Maintainers regenerate ``lessons/`` with ``make lessons``; instructors follow
docs/instructors/. JupyterLab's nbgrader extension loads this file too: it must not
change the environment of the process that loads it (learners' kernels inherit it).
"""

import os
import sys
from pathlib import Path

c = get_config()  # - provided by traitlets when it loads this file

COURSE_ROOT = Path(__file__).resolve().parent
INSTRUCTOR = COURSE_ROOT / "instructor"

c.CourseDirectory.course_id = "fmnist-cnn"
c.CourseDirectory.root = str(COURSE_ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
# Everything about learners stays in the gitignored instructor area.
c.CourseDirectory.submitted_directory = "instructor/submitted"
c.CourseDirectory.autograded_directory = "instructor/autograded"
c.CourseDirectory.feedback_directory = "instructor/feedback"
c.ZipCollectApp.downloaded_directory = "instructor/downloaded"

# The paired .py beside each source notebook holds the solutions: never copy
# it into a student's release (nbgrader copies every other file by default).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    ".*",
    "*.py",
]

# The gradebook: SQLite in the instructor area, unless FMNIST_GRADEBOOK_URL names
# another database, e.g. postgresql://user:password@host/fmnist for several graders.
c.CourseDirectory.db_url = os.environ.get(
    "FMNIST_GRADEBOOK_URL", f"sqlite:///{INSTRUCTOR / 'gradebook.db'}"
)
if c.CourseDirectory.db_url.startswith("sqlite:///"):
    try:  # SQLite creates the file, not its folder
        Path(c.CourseDirectory.db_url[len("sqlite:///") :]).parent.mkdir(
            parents=True, exist_ok=True
        )
    except OSError:
        pass  # a read-only checkout: nbgrader reports the missing gradebook itself

# What a learner sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Late submissions (timestamp after the due date set with `nbgrader db assignment add
# LESSON --duedate=...`) are flagged, with no penalty: "zero" would score them 0.
c.LateSubmissionPlugin.penalty_method = "none"
# A test cell the student deleted is put back (from the gradebook) and graded.
c.OverwriteCells.add_missing_cells = True
# Downloaded submissions for `nbgrader zip_collect`: files named
# STUDENT--LESSON.ipynb, or STUDENT--YYYY-MM-DDTHHMMSS--LESSON.ipynb (a UTC timestamp;
# not YYYY-MM-DD-HH-MM-SS, which nbgrader's date parser misreads).
c.FileNameCollectorPlugin.named_regexp = (
    r"^(?:.*/)?(?P<student_id>[A-Za-z0-9_.@+-]+?)--"
    r"(?:(?P<timestamp>\d{4}-\d\d-\d\dT\d{6})--)?(?P<file_id>[^/]+)$"
)

# --- grading: the whole pipeline, its limits and its start-of-run work ----------------
# fmnist_utils/grading/config.py lists what autograde and generate_feedback run, in
# order: the learner's cells in a bubblewrap sandbox (with FMNIST_FAST=1 there, never in
# this process), the tests in a sandboxed kernel of their own, feedback without hidden
# tests and with the learner's HTML made inert. Its LIMITS are every grading limit.
# traitlets only logs an exception raised in a config file and goes on, which would
# grade without the sandbox: any failure here stops nbgrader instead.
try:
    from fmnist_utils.grading import config as grading

    run = grading.apply(c, COURSE_ROOT)
    grading.start_run(c, COURSE_ROOT, run)
except SystemExit:
    raise
except BaseException as error:
    sys.stderr.write(f"nbgrader_config.py: cannot set up sandboxed grading: {error!r}\n")
    raise SystemExit(2) from error
