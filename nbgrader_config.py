"""nbgrader configuration of the Fashion-MNIST CNN course.

The course directory is this repository:

- ``solutions/NN_slug/`` -- the source of every lesson (nbgrader's "source").
- ``lessons/NN_slug/``   -- the student copies (nbgrader's "release").

Maintainers regenerate ``lessons/`` with ``make lessons``; instructors follow
INSTRUCTORS.md.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file

COURSE_ROOT = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "fmnist-cnn"
c.CourseDirectory.root = str(COURSE_ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"

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

# The gradebook lives in the gitignored instructor area unless an instructor
# points FMNIST_GRADEBOOK_URL elsewhere (for example a PostgreSQL URL).
c.CourseDirectory.db_url = os.environ.get(
    "FMNIST_GRADEBOOK_URL", f"sqlite:///{COURSE_ROOT / 'instructor' / 'gradebook.db'}"
)

# What a learner sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
