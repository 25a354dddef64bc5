# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: nbgrader,tags,-all
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 5 — Convolution filters by hand
#
# In lesson 4 your dense network did just as well on images whose pixels had been
# shuffled into a fixed random order: it never used the fact that neighbouring
# pixels belong together. A *convolution* looks at small neighbourhoods, each with
# the same few weights. In this lesson you write one yourself, see what it does to
# clothing, and check that Keras computes exactly the same numbers.
#
# ## Learning objectives
#
# By the end of this lesson you can:
#
# - compute one output of a filter by hand: a window of pixels times a kernel, summed;
# - implement `conv2d` in NumPy, with `"valid"` and `"same"` padding and a stride,
#   and predict the shape of its output;
# - read what hand-made kernels (edges, blur, sharpen) do to an image, and design one;
# - tell cross-correlation from convolution, and turn one into the other;
# - show that a Keras `Conv2D` layer computes your function;
# - stack several filters into a feature-map stack of shape `(height, width, channels)`.
#
# ## New ideas
#
# - **kernel**: a small grid of weights slid over the image.
# - **feature map**: the image a kernel makes, one output per position.
# - **padding**: zeros around the image, to keep the output's size.
# - **stride**: how far the kernel jumps between outputs.
# - **cross-correlation**: what deep learning calls convolution (no flipped kernel).
# - **channels**: the numbers per pixel, along the last axis.
#
# Estimated time: about 65 minutes (23 reading, 30 on the exercises, 12 running the examples).

# %% [markdown]
# ## Setup
#
# Run this cell first: imports, a check of the library versions, a fixed random seed.

# %%
import functools

import keras
import numpy as np

from fmnist_utils import filters, plots, widgets
from fmnist_utils.data import CLASS_NAMES, load_fashion_mnist
from fmnist_utils.environment import check_versions

check_versions()
keras.utils.set_random_seed(0)

# %% [markdown]
# ## One image to work on
#
# As in lesson 1, you scale the pixels to `float32` values in $[0, 1]$: 0 is the
# white background, 1 the darkest ink. Most of this lesson works on the first
# training image.

# %%
(x_train, y_train), (x_test, y_test) = load_fashion_mnist()
image = x_train[0].astype(np.float32) / 255.0
CLASS_NAMES[y_train[0]], image.shape, image.dtype

# %% [markdown]
# ## One output value by hand
#
# A **kernel** is a small grid of weights, here 3×3. To compute one output value,
# you lay the kernel over a 3×3 window of the image, multiply each pixel by the
# weight on top of it, and add the nine products. Sliding the window one pixel at
# a time over the whole image gives a new image: the filtered image, or
# **feature map**.
#
# The first kernel of this lesson has a positive left column and a negative right
# column, so it computes "left minus right": how much the ink changes from left
# to right.

# %%
kernel = filters.VERTICAL_EDGE
kernel

# %% [markdown]
# The window whose top-left corner sits at row 11, column 11 lies on the left
# edge of the boot's shaft: background on the left, ink on the right.
#
# **Predict** before you run the next cell: is "left minus right" positive
# or negative there? Roughly how large?

# %%
window = image[11:14, 11:14]
window.round(2), float((window * kernel).sum())

# %% [markdown]
# Negative, and large: the left column is blank (0), the right column nearly
# black (about 0.9), and the weights $-1, -2, -1$ on the right add up to $-4$,
# so the sum is about $-4 \times 0.9$. On an evenly coloured area the kernel
# gives 0, because its weights add up to 0. The figure shows the same computation.

# %%
plots.convolution_step(image, kernel, row=11, col=11)

# %% [markdown]
# ## How big is the output? Padding and stride
#
# A 3×3 window fits in a 28×28 image at $28 - 3 + 1 = 26$ positions along each
# axis, so sliding it everywhere gives a 26×26 output. To keep the output as
# large as the input, you first surround the image with zeros, which act like
# blank background: that is **padding**. Keras offers two choices: `"valid"`, no
# padding at all, only windows that fit; and `"same"`, just enough zeros for the
# output to keep the image's size (for a 3×3 kernel, one row on top, one below,
# one column left and one right).
#
# The **stride** is how far the window jumps between outputs. With stride 2 the
# output keeps every second window, so it is about half as tall and half as wide,
# whatever the padding.
#
# Keras' exact rules, which your function follows (with $n$ the image's height,
# $k$ the kernel's height, $s$ the stride; the same for widths; $\lfloor a \rfloor$
# means $a$ rounded down to a whole number, $\lceil a \rceil$ rounded up):
#
# | padding | output height | zeros added |
# |---|---|---|
# | `"valid"` | $\lfloor (n - k) / s \rfloor + 1$ | none |
# | `"same"` | $\lceil n / s \rceil$ | $p = \max((\text{out} - 1)\,s + k - n,\ 0)$ rows in all: $\lfloor p / 2 \rfloor$ on top, the rest at the bottom |
#
# `np.pad` adds zeros for you:

# %%
np.pad(np.ones((2, 3)), ((1, 1), (1, 1)))

# %% [markdown]
# ### Exercise 1 — `conv2d` (5 points)
#
# Write `conv2d(image, kernel, padding="valid", stride=1)`. Slide `kernel` over
# `image`, and at each position sum the products of the window and the kernel.
#
# Hints:
# - With `"same"` padding, compute the output size first, then the padding, then
#   call `np.pad(image, ((top, bottom), (left, right)))`. `-(-n // s)` is
#   $\lceil n / s \rceil$ in integers.
# - After padding, both cases are the same: a `"valid"` slide over the padded image.
# - Two `for` loops over the output positions are fine: the images are small.
# - Kernels can have an even side (2×2), and need not be square.


# %% nbgrader={"grade": false, "grade_id": "conv2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d(
    image: np.ndarray, kernel: np.ndarray, padding: str = "valid", stride: int = 1
) -> np.ndarray:
    """Slide `kernel` over `image` and sum window times kernel at each position.

    out[i, j] = sum over a, b of kernel[a, b] * padded[i * stride + a, j * stride + b]

    Parameters
    ----------
    image : np.ndarray
        A 2-D image, shape (height, width), any numeric dtype.
    kernel : np.ndarray
        A 2-D kernel, shape (kh, kw); sides may be odd or even.
    padding : str
        "valid": no padding, only windows that fit in the image.
        "same": zeros around the image so the output has ceil(height / stride)
        rows and ceil(width / stride) columns; of the p rows of zeros needed,
        p // 2 go on top and the rest at the bottom (columns likewise).
    stride : int
        How far the window moves between outputs (1 or more).

    Returns
    -------
    np.ndarray
        The filtered image, dtype float32.

    Raises
    ------
    ValueError
        If padding is neither "valid" nor "same".
    """
    ### BEGIN SOLUTION
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    kh, kw = kernel.shape
    if padding == "same":
        pads = []
        for n, k in ((image.shape[0], kh), (image.shape[1], kw)):
            out_size = -(-n // stride)
            total = max((out_size - 1) * stride + k - n, 0)
            pads.append((total // 2, total - total // 2))
        image = np.pad(image, pads)
    rows = (image.shape[0] - kh) // stride + 1
    cols = (image.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols), dtype=np.float32)
    for i in range(rows):
        for j in range(cols):
            window = image[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = np.sum(window * kernel)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv2d_tests", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
"""Check conv2d: type, dtype and shape for each padding and stride, values inside and at the borders, strides, even kernels, bad padding."""
PADDING = "reread 'How big is the output? Padding and stride'"
out = conv2d(image, filters.VERTICAL_EDGE)
assert isinstance(out, np.ndarray), f"expected a NumPy array, got {type(out).__name__}"
assert out.dtype == np.float32, (
    f"expected dtype float32, got {out.dtype}: convert with .astype(np.float32) "
    "(reread 'One output value by hand')"
)
assert out.shape == (26, 26), (
    f"'valid' padding: expected shape (26, 26), got {out.shape}: a 3-wide window fits at "
    f"28 - 3 + 1 positions; {PADDING}"
)
hand = float((image[11:14, 11:14] * filters.VERTICAL_EDGE).sum())
assert np.isclose(out[11, 11], hand, atol=1e-4), (
    f"out[11, 11] should be the window image[11:14, 11:14] times the kernel, summed: {hand:.4f}; "
    f"got {out[11, 11]:.4f}. Is the window's top-left corner at (i, j), and the kernel used "
    "as it is, not flipped? Reread 'One output value by hand'"
)
shapes = {
    ("same", 1): (28, 28),
    ("valid", 2): (13, 13),
    ("same", 2): (14, 14),
    ("valid", 3): (9, 9),
}
for (pad, step), expected in shapes.items():
    got = conv2d(image, filters.VERTICAL_EDGE, padding=pad, stride=step).shape
    assert got == expected, (
        f"padding={pad!r}, stride={step}: expected shape {expected}, got {got}; {PADDING}"
    )
tiny = np.arange(16, dtype=np.float32).reshape(4, 4)
np.testing.assert_allclose(
    conv2d(tiny, np.array([[1.0, 0.0], [0.0, -1.0]])),
    np.full((3, 3), -5.0),
    err_msg="a 2x2 kernel [[1, 0], [0, -1]] on np.arange(16).reshape(4, 4) gives -5 everywhere: "
    "kernels can have an even side. Reread 'One output value by hand'",
)
weights = np.array([[1.0, 2.0], [3.0, 4.0]])
strided = conv2d(tiny, weights, stride=2)
assert isinstance(strided, np.ndarray) and strided.shape == (2, 2), (
    f"stride 2, 2x2 kernel, 4x4 image: expected shape (2, 2), got "
    f"{getattr(strided, 'shape', None)}; {PADDING}"
)
assert np.isclose(strided[1, 0], (tiny[2:4, 0:2] * weights).sum()), (
    "with stride 2, output row i uses the window that starts at image row i * stride: "
    f"out[1, 0] should come from tiny[2:4, 0:2], got {strided[1, 0]}; {PADDING}"
)
same_even = conv2d(tiny, weights, padding="same")
assert isinstance(same_even, np.ndarray) and same_even.shape == (4, 4), (
    "padding='same' with a 2x2 kernel on a 4x4 image: expected shape (4, 4), got "
    f"{getattr(same_even, 'shape', None)}. An even kernel needs an odd number of zero rows "
    f"(p = 1 here), not k // 2 on each side; {PADDING}"
)
corner = np.array([[1.0, 0.0], [0.0, 0.0]])
np.testing.assert_allclose(
    conv2d(tiny, corner, padding="same"),
    tiny,
    err_msg="'same' padding, 2x2 kernel with a 1 in its top-left corner: the output should be "
    "the image itself, because of the p rows of zeros, p // 2 (here 0) go on top and the rest "
    f"at the bottom (columns likewise); {PADDING}",
)
np.testing.assert_allclose(
    conv2d(image, filters.IDENTITY, padding="same"),
    image,
    atol=1e-6,
    err_msg="'same' padding with the identity kernel must give back the image unchanged; "
    + PADDING,
)
ones = conv2d(np.ones((4, 4)), np.ones((3, 3)), padding="same")
assert np.isclose(ones[0, 0], 4) and np.isclose(ones[0, 1], 6) and np.isclose(ones[1, 1], 9), (
    "a 3x3 kernel of ones on a 4x4 image of ones with 'same' padding should give 4 in the "
    f"corners, 6 on the edges and 9 inside (the padding zeros count as 0); got\n{ones}\n{PADDING}"
)
try:
    conv2d(image, filters.BLUR, padding="full")
except ValueError:
    pass
else:
    raise AssertionError(
        "padding='full' should raise ValueError: only 'valid' and 'same' exist (see the "
        f"docstring's Raises section); {PADDING}"
    )
print("conv2d: all visible checks passed")


### BEGIN HIDDEN TESTS
def _reference_conv2d(x, k, padding, stride):
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    if padding == "same":
        pads = []
        for n, size in zip(x.shape, k.shape, strict=True):
            total = max((-(-n // stride) - 1) * stride + size - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, pads)
    rows = (x.shape[0] - k.shape[0]) // stride + 1
    cols = (x.shape[1] - k.shape[1]) // stride + 1
    result = np.empty((rows, cols))
    for r in range(rows):
        for c in range(cols):
            patch = x[r * stride : r * stride + k.shape[0], c * stride : c * stride + k.shape[1]]
            result[r, c] = (patch * k).sum()
    return result


rng = np.random.default_rng(3)
for shape in [(5, 7), (8, 8), (9, 6), (11, 10)]:
    for kshape in [(1, 1), (2, 2), (3, 3), (2, 3), (4, 1), (5, 5)]:
        for step in (1, 2, 3):
            for pad in ("valid", "same"):
                case = f"image {shape}, kernel {kshape}, stride {step}, padding {pad!r}"
                x = rng.normal(size=shape)
                k = rng.normal(size=kshape)
                got = conv2d(x, k, padding=pad, stride=step)
                want = _reference_conv2d(x, k, pad, step)
                assert isinstance(got, np.ndarray) and got.dtype == np.float32, (
                    f"{case}: conv2d should return a float32 NumPy array; {PADDING}"
                )
                assert got.shape == want.shape, (
                    f"{case}: expected shape {want.shape}, got {got.shape}; {PADDING}"
                )
                msg = (
                    f"{case}: the values are wrong. Check where each window starts "
                    f"(i * stride) and where the zeros go (p // 2 on top); {PADDING}"
                )
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=msg)
pixels = rng.integers(0, 256, size=(6, 6), dtype=np.uint8)
kept = pixels.copy()
want = _reference_conv2d(pixels, -np.ones((3, 3)), "same", 1)
got = conv2d(pixels, -np.ones((3, 3)), padding="same")
assert np.allclose(got, want), (
    "on a uint8 image the values are wrong: convert the image to float before you compute, "
    "or the products overflow; reread 'One image to work on'"
)
assert np.array_equal(pixels, kept), "conv2d must not modify its input image"
for bad in ("full", "VALID", "", None):
    try:
        conv2d(pixels, np.ones((3, 3)), padding=bad)
        raised = False
    except ValueError as error:
        raised = isinstance(error, ValueError)
    assert raised, f"padding={bad!r} should raise ValueError: only 'valid' and 'same' exist"
### END HIDDEN TESTS

# %% [markdown]
# ## Hand-made kernels
#
# `fmnist_utils.filters` holds four classic kernels (lesson 8 compares them with
# a trained network's). Read their weights first:
#
# - vertical edge (Sobel): left column minus right column, the middle row
#   counting twice. Its weights add up to 0.
# - horizontal edge: the same turned by 90°, top minus bottom.
# - blur: nine weights of 1/9, the mean of the neighbourhood. They add up to 1.
# - sharpen: five times the centre minus its four neighbours. They add up to 1.
#
# **Predict**: which kernels will leave the boot roughly as it is, and which will
# keep only its outline? Will the top of the boot light up with the vertical-edge
# kernel?

# %%
outputs = {
    name: conv2d(image, kernel, padding="same")
    for name, kernel in filters.KERNELS.items()
    if name != "identity"
}
plots.filter_gallery(image, outputs, kernels=filters.KERNELS)

# %% [markdown]
# A map with negative values is drawn red where it is positive, blue where it is
# negative and white at 0; a map without negative values is drawn like the image.
#
# - The vertical-edge map is 0 wherever the ink does not change, blue (negative)
#   on left edges, where ink starts, and red on right edges. The flat top of the
#   boot barely shows.
# - The horizontal-edge map is the opposite: it sees the top of the boot and its sole.
# - Blur softens the picture; sharpen exaggerates the differences between
#   neighbours, so the texture stands out. Both keep the brightness (weights
#   adding up to 1).
#
# The same kernels on a trouser and a sandal:

# %%
trouser = x_train[np.flatnonzero(y_train == CLASS_NAMES.index("Trouser"))[0]] / 255.0
plots.filter_gallery(
    trouser,
    {
        name: conv2d(trouser, k, padding="same")
        for name, k in filters.KERNELS.items()
        if name != "identity"
    },
)

# %%
sandal = x_train[np.flatnonzero(y_train == CLASS_NAMES.index("Sandal"))[0]] / 255.0
plots.filter_gallery(
    sandal,
    {
        name: conv2d(sandal, k, padding="same")
        for name, k in filters.KERNELS.items()
        if name != "identity"
    },
)

# %% [markdown]
# The gap between the trouser legs is two long vertical edges; the sandal's straps
# are a tangle of both kinds. An edge map already says something about the class,
# wherever in the image the edge is, because the same kernel is used at every
# position: the sharing of weights a dense layer lacks.
#
# ### Exercise 2 — a diagonal-edge kernel (2 points)
#
# Design a 3×3 kernel that responds to edges running like `\` (from top-left to
# bottom-right) far more than to edges running like `/`. It is judged on the four
# images below: a `\` edge, a `/` edge, a vertical and a horizontal edge.
#
# Hint: the vertical-edge kernel compares the left column with the right column.
# Turn that idea by 45°: compare the three weights above the `\` diagonal
# with the three below it (one sign above, the other below), and put zeros
# on the diagonal itself.

# %%
edges = np.stack(
    [
        np.triu(np.ones((12, 12)), k=1),
        np.fliplr(np.triu(np.ones((12, 12)), k=1)),
        np.repeat([[0.0] * 6 + [1.0] * 6], 12, axis=0),
        np.repeat([[0.0] * 6 + [1.0] * 6], 12, axis=0).T,
    ],
    axis=-1,
)
plots.feature_map_row(
    edges, ["\\ edge", "/ edge", "vertical edge", "horizontal edge"], title="the test images"
)


# %% nbgrader={"grade": false, "grade_id": "diagonal_edge_kernel", "locked": false, "schema_version": 3, "solution": true, "task": false}
def diagonal_edge_kernel() -> np.ndarray:
    r"""Return a 3x3 float kernel that detects edges running like \ (top-left to bottom-right).

    Its weights add up to 0 (no response on a flat image). Its largest response,
    in absolute value, is larger on a \ edge than on a vertical or a horizontal
    edge, and at least twice as large as on a / edge.
    """
    ### BEGIN SOLUTION
    return np.array([[0, 1, 1], [-1, 0, 1], [-1, -1, 0]], dtype=np.float32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "diagonal_edge_kernel_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check diagonal_edge_kernel by what it does: 3x3 floats, silent on flat images, strongest on \\ edges."""
KERNELS = "reread 'Hand-made kernels'"
k = diagonal_edge_kernel()
assert isinstance(k, np.ndarray), (
    f"expected a NumPy array, got {type(k).__name__}: wrap your weights in np.array(...); "
    + KERNELS
)
assert np.issubdtype(k.dtype, np.floating), (
    f"expected a float dtype, got {k.dtype}: write the weights as floats or pass "
    f"dtype=np.float32; {KERNELS}"
)
assert k.shape == (3, 3), f"expected shape (3, 3), got {k.shape}"
k = np.array(k, dtype=np.float64)
assert np.abs(k).max() > 0, f"the kernel is all zeros: it responds to nothing; {KERNELS}"


def _peak(img: np.ndarray, kern: np.ndarray) -> float:
    # the strongest 'valid' response, in absolute value (no zero padding, so no fake edges)
    return float(np.abs(filters.filter_image(img, kern)[1:-1, 1:-1]).max())


scale = np.abs(k).sum()
assert _peak(np.full((12, 12), 0.7), k) <= 1e-6 * scale, (
    f"on a flat image the kernel must give 0, but its weights add up to {k.sum():.3g}, not 0; "
    + KERNELS
)
diag, anti, vert, horiz = (_peak(edges[..., c], k) for c in range(4))
assert diag > vert and diag > horiz, (
    f"the \\ edge should give the strongest response: \\ gives {diag:.3g}, vertical {vert:.3g}, "
    f"horizontal {horiz:.3g}. Give the three weights above the \\ diagonal one sign and the three "
    f"below it the other, with zeros on the diagonal; {KERNELS}"
)
assert anti <= 0.5 * diag, (
    f"the / edge gives {anti:.3g}, more than half of the \\ edge's {diag:.3g}: the kernel should "
    f"not see edges in the other diagonal direction; {KERNELS}"
)
print("diagonal_edge_kernel: all visible checks passed")
### BEGIN HIDDEN TESTS
big = np.triu(np.ones((20, 20)), k=4)
for img in (big, 1.0 - big, 0.3 * big + 0.2):
    d = _peak(img, k)
    assert d > 1e-6 * scale, (
        f"no response on a \\ edge of another size, position or contrast; {KERNELS}"
    )
    assert _peak(np.fliplr(img), k) <= 0.5 * d, (
        f"on a larger image, a / edge gives more than half the response of a \\ edge; {KERNELS}"
    )
vertical = np.repeat([[0.0] * 9 + [1.0] * 11], 20, axis=0)
assert _peak(big, k) > max(_peak(vertical, k), _peak(vertical.T, k)), (
    f"on a larger image, a vertical or horizontal edge beats the \\ edge; {KERNELS}"
)
assert _peak(np.full((7, 9), -2.5), k) <= 1e-6 * scale, (
    f"a flat image of any value must give 0: the weights must add up to 0; {KERNELS}"
)
### END HIDDEN TESTS

# %% [markdown]
# Your kernel at work on the boot, next to its mirror image, which looks for `/`
# edges. Compare the front of the boot, which slopes like `/`, in the two maps.

# %%
plots.filter_gallery(
    image,
    {
        "\\ edges": conv2d(image, diagonal_edge_kernel(), padding="same"),
        "/ edges": conv2d(image, np.fliplr(diagonal_edge_kernel()), padding="same"),
    },
)

# %% [markdown]
# ## Cross-correlation or convolution?
#
# What you implemented slides the kernel as it is. Mathematicians call that a
# **cross-correlation**. Their **convolution** first turns the kernel by 180°
# (flips it upside down and left to right), then slides it:
#
# $$(x \star k)[i, j] = \sum_{a, b} k[a, b]\, x[i + a, j + b] \qquad (x * k)[i, j] = \sum_{a, b} k[a, b]\, x[i - a, j - b].$$
#
# Keras, PyTorch and the other common deep-learning libraries compute the
# cross-correlation and call it convolution. Nothing is lost: the kernels are
# learned, so a network that needed the flipped kernel would simply learn it.
#
# ### Exercise 3 — `flip_kernel` (1 point)


# %% nbgrader={"grade": false, "grade_id": "flip_kernel", "locked": false, "schema_version": 3, "solution": true, "task": false}
def flip_kernel(kernel: np.ndarray) -> np.ndarray:
    """Return `kernel` turned by 180 degrees: flipped upside down and left to right.

    conv2d(image, flip_kernel(kernel)) is then a true convolution. The input is
    not modified; the result has the same shape and dtype.
    """
    ### BEGIN SOLUTION
    return np.array(kernel[::-1, ::-1])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "flip_kernel_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Check flip_kernel: same shape and dtype, both axes flipped, input untouched."""
FLIP = "reread 'Cross-correlation or convolution?'"
k = np.arange(6, dtype=np.float32).reshape(2, 3)
flipped = flip_kernel(k)
assert isinstance(flipped, np.ndarray), f"expected a NumPy array, got {type(flipped).__name__}"
assert flipped.shape == (2, 3), (
    f"expected shape (2, 3), got {flipped.shape}: turning by 180 degrees keeps the shape; " + FLIP
)
assert flipped.dtype == k.dtype, f"expected dtype {k.dtype}, got {flipped.dtype}"
np.testing.assert_array_equal(
    flipped,
    [[5, 4, 3], [2, 1, 0]],
    err_msg="[[0, 1, 2], [3, 4, 5]] flipped both ways is [[5, 4, 3], [2, 1, 0]]; flipping only "
    f"one axis is not enough; {FLIP}",
)
np.testing.assert_array_equal(
    k,
    np.arange(6).reshape(2, 3),
    err_msg="flip_kernel must not modify its input: return a new array, do not assign into "
    f"`kernel`; {FLIP}",
)
print("flip_kernel: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(7)
for shape in [(1, 1), (3, 3), (4, 2), (5, 3)]:
    k = rng.normal(size=shape)
    original = k.copy()
    got = flip_kernel(k)
    case = f"a {shape[0]}x{shape[1]} kernel"
    assert isinstance(got, np.ndarray) and got.shape == shape and got.dtype == k.dtype, (
        f"{case}: the result should be a NumPy array of the kernel's shape and dtype"
    )
    msg = f"{case}: not turned by 180 degrees (both axes flipped); {FLIP}"
    np.testing.assert_array_equal(got, original[::-1, ::-1], err_msg=msg)
    np.testing.assert_array_equal(k, original, err_msg=f"{case}: the input was modified")
    msg = f"{case}: flipping twice should give the kernel back"
    np.testing.assert_array_equal(flip_kernel(got), original, err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# For the symmetric kernels, blur and sharpen, flipping changes nothing; for the
# edge kernels it only changes the sign. The difference shows on a kernel with
# nothing symmetric about it: a 7×7 kernel holding a single 1, in its top-left
# corner. Cross-correlation puts at each position the pixel 3 rows up and 3
# columns left of it.
#
# **Predict**: which way does the boot move with the cross-correlation, and which
# way with the convolution?

# %%
corner = np.zeros((7, 7), dtype=np.float32)
corner[0, 0] = 1.0
plots.filter_gallery(
    image,
    {
        "cross-correlation\n(Keras, conv2d)": conv2d(image, corner, padding="same"),
        "convolution\n(flipped kernel)": conv2d(image, flip_kernel(corner), padding="same"),
    },
)

# %% [markdown]
# The cross-correlation moves the boot 3 pixels down and to the right, the
# convolution 3 pixels up and to the left.
#
# ## Keras' `Conv2D` computes the same numbers
#
# Keras stores images with **channels**: the numbers kept at each pixel, along a
# last axis (one for a grayscale image, three for a colour one). A `Conv2D` layer
# holds a stack of kernels of shape
# `(kernel_height, kernel_width, input_channels, filters)`, plus one bias per
# filter that it adds to each output. Here you make a layer with 4 filters for
# a 1-channel image, switch the bias off, and give it the four hand-made kernels
# as weights.

# %%
names = ["vertical edge", "horizontal edge", "blur", "sharpen"]
kernels = filters.kernel_stack(names)
layer = keras.layers.Conv2D(filters=4, kernel_size=3, padding="same", use_bias=False)
layer.build((None, 28, 28, 1))
layer.set_weights([kernels[:, :, np.newaxis, :]])
layer.kernel.shape

# %% [markdown]
# A Keras layer works on a batch of images, shape `(batch, height, width, channels)`:
# one grayscale image becomes a batch of one, with one channel.

# %%
keras_maps = keras.ops.convert_to_numpy(layer(image[np.newaxis, :, :, np.newaxis]))[0]
keras_maps.shape

# %%
for c, name in enumerate(names):
    np.testing.assert_allclose(
        keras_maps[:, :, c],
        conv2d(image, kernels[:, :, c], padding="same"),
        atol=1e-5,
        err_msg=f"the {name} maps differ",
    )
"conv2d and Keras agree on all four maps"

# %% [markdown]
# They agree to within rounding, and with a stride too, where the extra row of
# zeros goes at the bottom:

# %%
strided = keras.layers.Conv2D(1, kernel_size=2, strides=3, padding="same", use_bias=False)
strided.build((None, 28, 28, 1))
strided.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32).reshape(2, 2, 1, 1)])
np.testing.assert_allclose(
    keras.ops.convert_to_numpy(strided(image[np.newaxis, :, :, np.newaxis]))[0, :, :, 0],
    conv2d(image, np.array([[1.0, 2.0], [3.0, 4.0]]), padding="same", stride=3),
    atol=1e-5,
    err_msg="Keras and your conv2d differ for a 2x2 kernel with stride 3: check the stride and "
    "the 'same' padding rule in 'How big is the output? Padding and stride'",
)
"2x2 kernel, stride 3: conv2d and Keras agree"

# %% [markdown]
# ## Try your own kernels
#
# The editor below runs *your* `conv2d` on the boot. Pick a preset, or type
# weights into the nine boxes (press Enter to apply). Try:
#
# - identity, with the 1 changed to 2, then 0.5: what does the sum of the weights
#   do to the brightness?
# - vertical edge with its columns swapped: what changes colour?
# - a kernel that sees the boot's *top* edge only, not its sole.

# %%
widgets.kernel_editor(image, conv=functools.partial(conv2d, padding="same"))

# %% [markdown]
# ## From one filter to a stack of feature maps
#
# A convolution layer applies many kernels to the same input and stacks the
# results along the last axis, the channels. With $C$ kernels, a `(28, 28)`
# image becomes a `(28, 28, C)` stack of feature maps: at each pixel, $C$ numbers
# that say how much each pattern is present there. That stack is what the next
# layer of a CNN reads.
#
# ### Exercise 4 — `apply_kernels` (2 points)
#
# Kernels come stacked like Keras' filters, along the last axis:
# `kernels[:, :, c]` is kernel number `c`.


# %% nbgrader={"grade": false, "grade_id": "apply_kernels", "locked": false, "schema_version": 3, "solution": true, "task": false}
def apply_kernels(image: np.ndarray, kernels: np.ndarray, padding: str = "same") -> np.ndarray:
    """Filter `image` with each kernel of a stack and stack the results as channels.

    Parameters
    ----------
    image : np.ndarray
        A 2-D image, shape (height, width).
    kernels : np.ndarray
        A stack of C kernels, shape (kh, kw, C).
    padding : str
        "same" or "valid", as for conv2d.

    Returns
    -------
    np.ndarray
        Shape (out_height, out_width, C), dtype float32; channel c is
        conv2d(image, kernels[:, :, c], padding=padding).
    """
    ### BEGIN SOLUTION
    maps = [conv2d(image, kernels[:, :, c], padding=padding) for c in range(kernels.shape[-1])]
    return np.stack(maps, axis=-1).astype(np.float32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "apply_kernels_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check apply_kernels: type, dtype, (H, W, C) shape for both paddings, one channel per kernel, in order."""
stack = filters.kernel_stack(["vertical edge", "blur", "identity"])
STACK = "reread 'From one filter to a stack of feature maps'"
maps = apply_kernels(image, stack)
assert isinstance(maps, np.ndarray), f"expected a NumPy array, got {type(maps).__name__}"
assert maps.dtype == np.float32, f"expected dtype float32, got {maps.dtype}"
assert maps.shape == (28, 28, 3), (
    f"expected shape (28, 28, 3): channels last, one per kernel; got {maps.shape}; {STACK}"
)
np.testing.assert_allclose(
    maps[:, :, 2],
    image,
    atol=1e-6,
    err_msg="channel 2 (the identity kernel) should be the image itself: kernel number c is "
    f"kernels[:, :, c], along the last axis; {STACK}",
)
np.testing.assert_allclose(
    maps[:, :, 0],
    filters.filter_image(image, filters.VERTICAL_EDGE),
    atol=1e-5,
    err_msg="channel 0 should be the image filtered by kernels[:, :, 0], the vertical edge, "
    f"as conv2d does it (the kernel not flipped); {STACK}",
)
four = apply_kernels(image, np.concatenate([stack, stack[:, :, :1]], axis=-1))
assert isinstance(four, np.ndarray) and four.shape == (28, 28, 4), (
    "with a stack of 4 kernels, shape (3, 3, 4), expected shape (28, 28, 4), got "
    f"{getattr(four, 'shape', None)}: the number of kernels is kernels.shape[-1]; {STACK}"
)
valid = apply_kernels(image, stack, padding="valid")
assert isinstance(valid, np.ndarray) and valid.shape == (26, 26, 3), (
    f"padding='valid': expected shape (26, 26, 3), got {getattr(valid, 'shape', None)}: "
    f"pass `padding` on to conv2d; {STACK}"
)
print("apply_kernels: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(11)
for shape, c in [((9, 7), 1), ((10, 10), 5), ((6, 8), 2)]:
    x = rng.normal(size=shape).astype(np.float32)
    ks = rng.normal(size=(3, 3, c)).astype(np.float32)
    case = f"a {shape[0]}x{shape[1]} image and {c} kernel(s)"
    got = apply_kernels(x, ks)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (*shape, c), (
        f"{case}: expected a float32 array of shape (height, width, C); {STACK}"
    )
    want = np.stack([filters.filter_image(x, ks[:, :, i]) for i in range(c)], axis=-1)
    msg = f"{case}: the feature maps are wrong; {STACK}"
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=msg)
    got_valid = apply_kernels(x, ks, padding="valid")
    assert isinstance(got_valid, np.ndarray) and got_valid.shape == (
        shape[0] - 2,
        shape[1] - 2,
        c,
    ), f"{case}, padding='valid': the shape is wrong; {STACK}"
    msg = f"{case}, padding='valid': the feature maps are wrong; {STACK}"
    np.testing.assert_allclose(got_valid, want[1:-1, 1:-1], rtol=1e-4, atol=1e-4, err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# The four hand-made kernels turn the boot into a `(28, 28, 4)` stack:

# %%
maps = apply_kernels(image, kernels)
plots.feature_map_row(maps, names)

# %% [markdown]
# This is exactly what the Keras layer above computed:

# %%
np.testing.assert_allclose(maps, keras_maps, atol=1e-5)
"apply_kernels(image, kernels) == Conv2D layer(image)"

# %% [markdown]
# A real CNN's first layer is this, with three differences: it uses 32 or 64
# kernels; it adds a bias and keeps only the positive part of each map (the
# ReLU, $\max(0, x)$, from lesson 4); and training finds its kernels, starting
# from random numbers. The second layer slides kernels of shape `(3, 3, C)` over
# the *stack*, one 3×3 slice per input channel, all summed. Lesson 6 follows the
# sizes of these stacks through a network; lesson 8 shows a trained network's
# kernels next to yours.
#
# ## Summary
#
# - A filter sums a window of pixels times a kernel at every position, with the
#   *same* kernel everywhere.
# - `"valid"` padding keeps only windows that fit ($n - k + 1$ outputs for stride
#   1); `"same"` pads with zeros to keep $\lceil n / s \rceil$ outputs; a stride $s$
#   keeps every $s$-th window.
# - Kernels adding up to 0 (edges) ignore flat regions; kernels adding up to 1
#   (blur, sharpen) keep the brightness.
# - Deep-learning "convolution" is cross-correlation: a true convolution flips the
#   kernel first.
# - Keras' `Conv2D` with your kernels and no bias gives your `conv2d`'s numbers;
#   $C$ kernels give a `(height, width, C)` stack of feature maps.
#
# ## Further exercises
#
# 1. Apply the vertical-edge kernel twice in a row. What single 5×5 kernel does
#    the same? (Hint: filter a 5×5 image holding a single 1 in its centre.)
# 2. Make `conv2d` fast with `np.lib.stride_tricks.sliding_window_view` and
#    `np.einsum`, and time both versions with `%timeit`.
# 3. Extend `conv2d` to an input `(height, width, C_in)` and kernels
#    `(kh, kw, C_in, C_out)`, and check it against a Keras `Conv2D` layer on the
#    `maps` stack above.
