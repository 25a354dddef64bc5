"""Exact-type checks for hidden tests, on defensive copies.

A student's function can return an object that only looks right: an ``ndarray``
subclass whose ``__eq__``, ``sum`` or ``tolist`` lie, a number type whose ``==`` is
always true. Hidden tests call these helpers on what the student's code returned,
then compare only the plain copy they give back::

    from fmnist_utils.grading.checks import exact_array, plain_number

    counts = exact_array(count_labels(labels), "count_labels(labels)")
    np.testing.assert_array_equal(counts, expected)

A failed check raises ``AssertionError`` with a message that names the value and the
type found, and is reported to the grader (:func:`fmnist_utils.grading.guard.note`),
which flags the submission when the type is a subclass. Nothing runs at import time.
"""

from __future__ import annotations

from typing import Any

__all__ = ["exact_array", "plain_number"]


def _note(text: str) -> None:
    from fmnist_utils.grading import guard

    guard.note(text)


def exact_array(value: Any, what: str = "the result") -> Any:
    """Check that ``value`` is exactly a ``numpy.ndarray``; return a plain copy of it.

    Parameters
    ----------
    value : object
        What the student's code returned.
    what : str, optional
        How the message names it (``"count_labels(labels)"``).

    Returns
    -------
    numpy.ndarray
        A new array with the same data (never a view of ``value``).

    Raises
    ------
    AssertionError
        When ``value`` is not an ndarray, or is a subclass of it.
    """
    import numpy as np

    kind = type(value)
    if kind is not np.ndarray:
        if isinstance(value, np.ndarray):
            _note(f"an ndarray subclass ({kind.__name__}) was returned by {what}")
            raise AssertionError(
                f"{what} should be a plain NumPy array, got a subclass ({kind.__name__})"
            )
        raise AssertionError(f"{what} should be a NumPy array, got {kind.__name__}")
    return np.array(np.ndarray.view(value, np.ndarray), copy=True, subok=False)


def plain_number(value: Any, what: str = "the result") -> int | float:
    """Check that ``value`` is a plain Python or NumPy number; return it as ``int``/``float``.

    Parameters
    ----------
    value : object
        What the student's code returned.
    what : str, optional
        How the message names it.

    Returns
    -------
    int or float
        ``value`` as a built-in number (``bool`` is refused).

    Raises
    ------
    AssertionError
        For anything else (a subclass of ``int``, a string, an array, ...).
    """
    import numpy as np

    kind = type(value)
    if kind in (int, float):
        return kind(value)
    if kind in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64):
        return int(value)
    if kind in (np.float16, np.float32, np.float64):
        return float(value)
    if isinstance(value, int | float) and kind is not bool:
        _note(f"a number subclass ({kind.__name__}) was returned by {what}")
    raise AssertionError(f"{what} should be a number, got {kind.__name__}")
