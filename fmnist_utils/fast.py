"""The course's one "fast" setting, for CI and autograding.

When the environment variable ``FMNIST_FAST`` is ``1``, the helpers below
return a small, stratified, seeded subset of the training data and at most
:data:`FAST_MAX_EPOCHS` epochs, so every lesson runs top to bottom in
well under a minute. Nothing else in the course changes behaviour: the test
set is never trimmed, and without the variable the helpers return their
input unchanged.

The exact numbers, documented for instructors and maintainers:

==========================  ==========================================
``FAST_TRAIN_PER_CLASS``    200 images per class (2,000 in all)
``FAST_MAX_EPOCHS``         2 epochs
``FAST_SEED``               0 (the subset is the same on every run)
==========================  ==========================================
"""

from __future__ import annotations

import os

import numpy as np

FAST_ENV = "FMNIST_FAST"
FAST_TRAIN_PER_CLASS = 200
FAST_MAX_EPOCHS = 2
FAST_SEED = 0

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_fast() -> bool:
    """Tell whether the fast setting is on.

    Returns
    -------
    bool
        ``True`` when ``FMNIST_FAST`` is ``1`` (or ``true``/``yes``/``on``).

    Raises
    ------
    ValueError
        If the variable holds anything else, so a typo is never ignored.
    """
    value = os.environ.get(FAST_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"The environment variable {FAST_ENV}={os.environ[FAST_ENV]!r} is not understood: "
        f"set it to 1 for the fast setting, or unset it (or 0) for the full course."
    )


def stratified_subset(
    x: np.ndarray, y: np.ndarray, per_class: int, *, seed: int = FAST_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``per_class`` examples of every class, at random but reproducibly.

    Parameters
    ----------
    x : numpy.ndarray
        Examples, first axis indexed like ``y``.
    y : numpy.ndarray
        Integer class labels, shape ``(n,)``.
    per_class : int
        How many examples of each class to keep.
    seed : int, optional
        Seed of the random choice; the same seed gives the same subset.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x_subset, y_subset)``, shuffled, with ``per_class`` examples of each
        class present in ``y``.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` disagree in length, or a class has too few examples.
    """
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)} labels; they must match.")
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}.")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(y):
        where = np.flatnonzero(y == label)
        if len(where) < per_class:
            raise ValueError(
                f"class {label} has only {len(where)} examples, fewer than per_class={per_class}."
            )
        chosen.append(rng.choice(where, size=per_class, replace=False))
    index = rng.permutation(np.concatenate(chosen))
    return x[index], y[index]


def training_data(
    x: np.ndarray, y: np.ndarray, *, per_class: int = FAST_TRAIN_PER_CLASS
) -> tuple[np.ndarray, np.ndarray]:
    """Return the training data a lesson should use under the current setting.

    Parameters
    ----------
    x, y : numpy.ndarray
        The full training images and labels.
    per_class : int, optional
        Examples per class kept in the fast setting.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y)`` unchanged, or a stratified seeded subset when fast.
    """
    if not is_fast():
        return x, y
    return stratified_subset(x, y, per_class)


def epochs(full: int) -> int:
    """Return how many epochs to train under the current setting.

    Parameters
    ----------
    full : int
        The number of epochs the lesson uses on the full data.

    Returns
    -------
    int
        ``full``, or at most :data:`FAST_MAX_EPOCHS` when fast.
    """
    return min(full, FAST_MAX_EPOCHS) if is_fast() else full
