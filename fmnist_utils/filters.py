"""The hand-made 3×3 kernels of lesson 5, and a plain NumPy filter to apply them.

Lesson 5 designs these kernels by hand; lesson 8 compares them with the
kernels a trained CNN learns. Every kernel is a read-only ``float32`` array of
shape ``(3, 3)``, written the way Keras applies it: as a *cross-correlation*
(the kernel slides over the image unflipped, see :func:`filter_image`).

==================  ======================================================
``IDENTITY``        copies the image: a single 1 in the centre
``VERTICAL_EDGE``   Sobel: left minus right, positive where values fall to the right
``HORIZONTAL_EDGE`` Sobel: top minus bottom, positive where values fall downwards
``BLUR``            box blur: the mean of the 3×3 neighbourhood
``SHARPEN``         the centre minus its four neighbours, plus the centre
==================  ======================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _kernel(rows: list[list[float]]) -> np.ndarray:
    kernel = np.array(rows, dtype=np.float32)
    kernel.setflags(write=False)
    return kernel


IDENTITY = _kernel([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
VERTICAL_EDGE = _kernel([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
HORIZONTAL_EDGE = _kernel([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
BLUR = _kernel([[1 / 9] * 3] * 3)
SHARPEN = _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])

KERNELS: dict[str, np.ndarray] = {
    "identity": IDENTITY,
    "vertical edge": VERTICAL_EDGE,
    "horizontal edge": HORIZONTAL_EDGE,
    "blur": BLUR,
    "sharpen": SHARPEN,
}
"""The hand-made kernels by name, in the order the lessons show them."""


def kernel_stack(names: Sequence[str] | None = None) -> np.ndarray:
    """Stack named kernels along a last axis, the layout Keras uses for filters.

    Parameters
    ----------
    names : sequence of str, optional
        Keys of :data:`KERNELS` (default: all but ``"identity"``).

    Returns
    -------
    numpy.ndarray
        A new ``float32`` array of shape ``(3, 3, len(names))``.

    Raises
    ------
    KeyError
        If a name is not a kernel of :data:`KERNELS`.
    ValueError
        If ``names`` is empty.
    """
    if names is None:
        names = [name for name in KERNELS if name != "identity"]
    unknown = [name for name in names if name not in KERNELS]
    if unknown:
        raise KeyError(f"unknown kernel(s) {unknown}; choose from {list(KERNELS)}")
    if not names:
        raise ValueError("names must hold at least one kernel name")
    return np.stack([KERNELS[name] for name in names], axis=-1).astype(np.float32)


def filter_image(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slide a kernel over an image, zero-padded so the output keeps its size.

    This is the cross-correlation Keras' ``Conv2D(padding="same")`` computes
    for one channel and stride 1: ``out[i, j]`` is the sum of ``kernel``
    times the window of ``image`` centred on ``(i, j)``.

    Parameters
    ----------
    image : numpy.ndarray
        A 2-D image, shape ``(height, width)``.
    kernel : numpy.ndarray
        A 2-D kernel with odd sides, shape ``(kh, kw)``.

    Returns
    -------
    numpy.ndarray
        The filtered image, ``float32``, same shape as ``image``.

    Raises
    ------
    ValueError
        If an argument is not 2-D or a side of the kernel is even.
    """
    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(
            f"image and kernel must be 2-D, got shapes {image.shape} and {kernel.shape}"
        )
    kh, kw = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"the kernel's sides must be odd to have a centre, got {kernel.shape}")
    padded = np.pad(image, ((kh // 2, kh // 2), (kw // 2, kw // 2)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw))
    return np.einsum("ijkl,kl->ij", windows, kernel).astype(np.float32)
