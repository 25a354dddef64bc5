"""``python -m fmnist_utils.tooling``: see :mod:`fmnist_utils.tooling.cli`."""

import sys

from .cli import main

sys.exit(main())
