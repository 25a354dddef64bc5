"""IPython kernel settings for the course's environment.

``pip install`` puts this file in ``<environment>/etc/ipython/`` (pyproject.toml,
data-files; ``make venv`` copies it there for the editable install), where every
IPython kernel of the environment reads it, whoever starts the kernel: JupyterLab,
nbgrader validate and autograde, the grading sandbox, the container, Binder.

TensorFlow's C++ libraries log through absl straight to file descriptor 2 while they
load ("Could not find cuda drivers...", "failed call to cuInit..."), before and
regardless of ``TF_CPP_MIN_LOG_LEVEL``. By default ipykernel copies whatever reaches
the process's file descriptors into the cell that is running, so that start-up chatter
looked like an error in the lesson. With ``capture_fd_output`` off it goes to the
kernel's own log (the terminal or the server's log) instead. Python's own output,
warnings and tracebacks (``sys.stdout``, ``sys.stderr``) still appear in the cells.
"""

c = get_config()  # noqa: F821 -- provided by IPython when it reads this file
c.IPKernelApp.capture_fd_output = False
