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
# # Lesson 6 — Pooling, padding, stride and shapes
#
# In lesson 5 a convolution layer turned one `(28, 28)` image into a
# `(28, 28, C)` stack of feature maps. A CNN alternates such layers with
# pooling layers, which shrink the maps, and ends with a dense layer. Before
# you build one in lesson 7, you learn to predict what every layer outputs: its
# shape, its number of weights, and how much of the image one of its units
# sees. Shape mismatches are a common bug in CNN code. You also measure what
# pooling is for.
#
# ## Learning objectives
#
# By the end of this lesson you can:
#
# - implement max and average pooling in NumPy, and check them against Keras;
# - predict the output size of a convolution or pooling layer from its kernel,
#   padding and stride;
# - count the weights of a convolution layer, and explain why it has so few;
# - compute the receptive field of a unit through a stack of layers;
# - measure how pooling trades position for tolerance to shifts;
# - write the shape table of a Conv-Pool-Conv-Pool-Dense network and check it
#   against `model.summary()`.
#
# ## New ideas
#
# - **pooling**: summarizing each window of a feature map by one number, its max or mean.
# - **tolerance to small shifts**: a representation that barely changes when the image moves.
# - **weight sharing**: one kernel used at every position of the image.
# - **receptive field**: the patch of input pixels that one unit depends on.
# - **jump**: the distance in input pixels between two neighbouring units.
# - **shape table**: every layer's output shape and weight count, predicted.
#
# Estimated time: about 60 minutes (21 reading, 30 on the exercises, 10 running the examples).

# %%
import keras
import numpy as np

from fmnist_utils import filters, plots
from fmnist_utils.data import load_fashion_mnist
from fmnist_utils.environment import check_versions

check_versions()
keras.utils.set_random_seed(0)

# %%
(x_train, y_train), (x_test, y_test) = load_fashion_mnist()
x_test.shape

# %% [markdown]
# ## Pooling: one number per window
#
# A **pooling** layer slides a window over each feature map, like a convolution,
# but it has no weights: it summarizes each window by one number. **Max pooling**
# keeps the largest value, **average pooling** the mean. The usual window is 2×2,
# moved by 2 (the **stride**), so the windows do not overlap and the map shrinks
# to half its height and half its width. Each channel is pooled on its own: a
# `(28, 28, 32)` stack becomes `(14, 14, 32)`.
#
# A small 6×6 map to pool:

# %%
rng = np.random.default_rng(0)
small = rng.integers(0, 10, size=(6, 6))
small

# %% [markdown]
# **Predict**: what are the max and the mean of the top-left 2×2 window? What
# shape will the pooled map have?

# %%
int(small[:2, :2].max()), float(small[:2, :2].mean())

# %% [markdown]
# When the window does not fit a whole number of times, Keras' pooling (with its
# default `padding="valid"`) drops the rows and columns left over: a 7×7 map
# max-pooled by 2 gives 3×3, and the last row and column play no part. The
# number of windows along an axis of length $n$ is $\lfloor (n - \text{size}) /
# \text{stride} \rfloor + 1$ ($\lfloor a \rfloor$ is $a$ rounded down to a whole
# number, $\lceil a \rceil$ rounded up), the rule of `"valid"` padding from lesson 5.
#
# ### Exercise 1 — `max_pool2d` (3 points)
#
# Hint: `x[r0:r1, c0:c1].max(axis=(0, 1))` is the max of a window, for each
# channel at once when `x` has a third axis.


# %% nbgrader={"grade": false, "grade_id": "max_pool2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_pool2d(x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """Max-pool a map (H, W) or a stack of maps (H, W, C) over its first two axes.

    Parameters
    ----------
    x : np.ndarray
        Shape (H, W) or (H, W, C); each channel is pooled on its own.
    size : int
        The side of the square window.
    stride : int or None
        How far the window moves; None means `size` (windows side by side).

    Returns
    -------
    np.ndarray
        Shape ((H - size) // stride + 1, (W - size) // stride + 1) plus the
        channel axis if x has one, same dtype as x; rows and columns that do
        not fill a window are dropped, like Keras' padding="valid".
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    stride = size if stride is None else stride
    rows = (x.shape[0] - size) // stride + 1
    cols = (x.shape[1] - size) // stride + 1
    out = np.empty((rows, cols, *x.shape[2:]), dtype=x.dtype)
    for i in range(rows):
        for j in range(cols):
            window = x[i * stride : i * stride + size, j * stride : j * stride + size]
            out[i, j] = window.max(axis=(0, 1))
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "max_pool2d_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Check max_pool2d: type, shape and dtype, the 6x6 example, odd sizes, channels, strides, and agreement with Keras."""
POOLING = "reread 'Pooling: one number per window'"
pooled = max_pool2d(small)
assert isinstance(pooled, np.ndarray), f"expected a NumPy array, got {type(pooled).__name__}"
assert pooled.shape == (3, 3), (
    f"a 6x6 map pooled by 2: expected shape (3, 3), got {pooled.shape}; {POOLING}"
)
assert pooled.dtype == small.dtype, (
    f"expected the input's dtype {small.dtype}, got {pooled.dtype}: create the output with "
    f"dtype=x.dtype; {POOLING}"
)
assert pooled[0, 0] == small[:2, :2].max(), (
    f"pooled[0, 0] should be the max of small[:2, :2], {small[:2, :2].max()}; got {pooled[0, 0]}"
)
odd = max_pool2d(np.arange(49).reshape(7, 7))
assert isinstance(odd, np.ndarray) and odd.shape == (3, 3), (
    f"a 7x7 map pooled by 2: expected shape (3, 3), the last row and column dropped; got "
    f"{odd.shape}; {POOLING}"
)
assert odd[2, 2] == 40, (
    f"the bottom-right window of the 7x7 map is rows 4-5, columns 4-5: max 40, got {odd[2, 2]}; "
    + POOLING
)
negative = max_pool2d(-np.arange(1.0, 17.0).reshape(4, 4))
assert isinstance(negative, np.ndarray) and negative.tolist() == [[-1, -3], [-9, -11]], (
    f"a 4x4 map of negative numbers, -1 to -16: expected [[-1, -3], [-9, -11]], got "
    f"{getattr(negative, 'tolist', lambda: negative)()}. The max of negative numbers is "
    f"negative: start from the window's own values, not from 0; {POOLING}"
)
stack = rng.normal(size=(8, 10, 3)).astype(np.float32)
mine = max_pool2d(stack, size=3, stride=2)
assert isinstance(mine, np.ndarray) and mine.shape == (3, 4, 3), (
    f"an (8, 10, 3) stack, window 3, stride 2: expected shape (3, 4, 3), got {mine.shape}: the "
    f"window moves by `stride`, and each channel is pooled on its own; {POOLING}"
)
theirs = keras.ops.convert_to_numpy(
    keras.layers.MaxPooling2D(pool_size=3, strides=2)(stack[np.newaxis])
)[0]
np.testing.assert_allclose(
    mine,
    theirs,
    err_msg="max_pool2d differs from keras.layers.MaxPooling2D on random values, negative ones "
    f"included: window (i * stride, j * stride), the max of its own values; {POOLING}",
)
print("max_pool2d: all visible checks passed")
### BEGIN HIDDEN TESTS
hidden_rng = np.random.default_rng(42)
for shape in [(5, 5, 1), (9, 7, 2), (12, 12, 4), (11, 6, 3)]:
    for size, step in [(2, None), (3, None), (2, 1), (3, 2), (2, 3)]:
        case = f"a {shape} stack, size={size}, stride={step}"
        x = -np.abs(hidden_rng.normal(size=shape)).astype(
            np.float32
        )  # all negative: a 0 start fails
        got = max_pool2d(x, size=size, stride=step)
        layer = keras.layers.MaxPooling2D(pool_size=size, strides=step)
        want = keras.ops.convert_to_numpy(layer(x[np.newaxis]))[0]
        assert isinstance(got, np.ndarray) and got.shape == want.shape, (
            f"{case}: the shape differs from Keras' MaxPooling2D; {POOLING}"
        )
        msg = f"{case}, all values negative: the maxima differ from Keras'; {POOLING}"
        np.testing.assert_allclose(got, want, err_msg=msg)
        flat = max_pool2d(x[:, :, 0], size=size, stride=step)
        assert isinstance(flat, np.ndarray) and flat.shape == want.shape[:2], (
            f"{case}, one map of shape (H, W): the shape is wrong; {POOLING}"
        )
        msg = f"{case}, one map of shape (H, W): wrong maxima"
        np.testing.assert_allclose(flat, want[:, :, 0], err_msg=msg)
ints = hidden_rng.integers(-50, 50, size=(6, 4))
kept = ints.copy()
result = max_pool2d(ints)
assert isinstance(result, np.ndarray) and result.dtype == ints.dtype, (
    "integer input: the result keeps the integer dtype"
)
assert np.array_equal(result, ints.reshape(3, 2, 2, 2).max(axis=(1, 3))), (
    f"a 6x4 integer map: wrong maxima; {POOLING}"
)
assert np.array_equal(ints, kept), "max_pool2d must not modify its input"
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 — `avg_pool2d` (2 points)
#
# The same, with the mean. The result is a float array even for integer input.


# %% nbgrader={"grade": false, "grade_id": "avg_pool2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def avg_pool2d(x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """Average-pool a map (H, W) or a stack of maps (H, W, C) over its first two axes.

    Same windows and output shape as max_pool2d, with the mean of each window
    instead of its max. Returns a float array (float32 for float32 input).
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    stride = size if stride is None else stride
    rows = (x.shape[0] - size) // stride + 1
    cols = (x.shape[1] - size) // stride + 1
    out = np.empty((rows, cols, *x.shape[2:]), dtype=x.dtype)
    for i in range(rows):
        for j in range(cols):
            window = x[i * stride : i * stride + size, j * stride : j * stride + size]
            out[i, j] = window.mean(axis=(0, 1))
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "avg_pool2d_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check avg_pool2d: type, float dtype, shape, the 6x6 example, and agreement with Keras on a stack."""
POOLING = "reread 'Pooling: one number per window'"
averaged = avg_pool2d(small)
assert isinstance(averaged, np.ndarray), f"expected a NumPy array, got {type(averaged).__name__}"
assert np.issubdtype(averaged.dtype, np.floating), (
    f"expected a float dtype, got {averaged.dtype}: a mean of integers is not an integer; "
    + POOLING
)
assert averaged.shape == (3, 3), (
    f"a 6x6 map pooled by 2: expected shape (3, 3), got {averaged.shape}"
)
assert np.isclose(averaged[0, 0], small[:2, :2].mean()), (
    f"averaged[0, 0] should be the mean of small[:2, :2], {small[:2, :2].mean()}; got "
    f"{averaged[0, 0]}: the sum of the window divided by its size, with /; {POOLING}"
)
mine = avg_pool2d(stack, size=2, stride=3)
assert isinstance(mine, np.ndarray) and mine.shape == (3, 3, 3), (
    f"an (8, 10, 3) stack, window 2, stride 3: expected shape (3, 3, 3), got {mine.shape}: the "
    f"window moves by `stride`, and each channel is pooled on its own; {POOLING}"
)
theirs = keras.ops.convert_to_numpy(
    keras.layers.AveragePooling2D(pool_size=2, strides=3)(stack[np.newaxis])
)[0]
np.testing.assert_allclose(
    mine,
    theirs,
    rtol=1e-5,
    err_msg=f"avg_pool2d differs from keras.layers.AveragePooling2D; {POOLING}",
)
print("avg_pool2d: all visible checks passed")
### BEGIN HIDDEN TESTS
hidden_rng = np.random.default_rng(43)
for shape in [(5, 5, 1), (9, 7, 2), (12, 12, 4)]:
    for size, step in [(2, None), (3, None), (2, 1), (3, 2)]:
        case = f"a {shape} stack, size={size}, stride={step}"
        x = hidden_rng.normal(size=shape).astype(np.float32)
        got = avg_pool2d(x, size=size, stride=step)
        layer = keras.layers.AveragePooling2D(pool_size=size, strides=step)
        want = keras.ops.convert_to_numpy(layer(x[np.newaxis]))[0]
        assert isinstance(got, np.ndarray) and got.shape == want.shape, (
            f"{case}: the shape differs from Keras' AveragePooling2D; {POOLING}"
        )
        msg = f"{case}: the means differ from Keras'; {POOLING}"
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=msg)
        flat = avg_pool2d(x[:, :, 1 % shape[2]], size=size, stride=step)
        assert isinstance(flat, np.ndarray) and flat.shape == want.shape[:2], (
            f"{case}, one map of shape (H, W): the shape is wrong; {POOLING}"
        )
        msg = f"{case}, one map of shape (H, W): wrong means"
        channel = want[:, :, 1 % shape[2]]
        np.testing.assert_allclose(flat, channel, rtol=1e-5, atol=1e-6, err_msg=msg)
ints = np.array([[1, 2, 7], [4, 4, 7], [9, 9, 9]])
result = avg_pool2d(ints)
assert isinstance(result, np.ndarray) and result.shape == (1, 1), (
    "a 3x3 integer map pooled by 2: expected shape (1, 1)"
)
assert np.isclose(float(result[0, 0]), 2.75), (
    f"integer input: the mean must not be rounded to an integer; {POOLING}"
)
### END HIDDEN TESTS

# %% [markdown]
# The 6×6 example, every window in its own colour:

# %%
plots.pooling_grid(small, {"max pool": max_pool2d(small), "average pool": avg_pool2d(small)})

# %% [markdown]
# Max pooling asks "is the pattern somewhere in this window?"; average pooling
# asks "how much of it is there on average?". Classification CNNs mostly use
# max pooling: a feature map is large where its pattern is present, and the max
# keeps that answer wherever the pattern sits inside the window.
#
# ## What pooling buys: tolerance to small shifts
#
# A garment photographed one or two pixels further to the right is the same
# garment. A representation $f(x)$ of an image $x$ has **tolerance to small
# shifts** when it barely changes as the image moves. Measure the change as the
# distance between the representations of the image and of the shifted image,
# divided by the size of the representation, $\lVert f(x) - f(\text{shifted } x)\rVert /
# \lVert f(x)\rVert$.
#
# The representations compared, on 200 test images:
#
# - the **pixels** themselves;
# - the **filtered images** of lesson 5's four hand-made kernels (two edge
#   detectors, a blur and a sharpen; "edge maps" below, for short), keeping their
#   positive part (a `Conv2D` layer with a ReLU);
# - the edge maps after one, then two 2×2 **max poolings**;
# - the **global max** of each edge map: one number per kernel.
#
# Keras' `MaxPooling2D` pools the whole batch at once. `np.roll` shifts the images; what leaves on the right comes back
# on the left. Many garments touch the edges, so a shift also wraps a thin strip
# of ink around, which changes little of the picture.
#
# **Predict**: edge maps are thin lines. Do they change more or less than the
# pixels when the image moves by one pixel?

# %%
images = x_test[:200, :, :, np.newaxis].astype(np.float32) / 255.0
edges = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, activation="relu")
edges.build((None, 28, 28, 1))
edges.set_weights([filters.kernel_stack()[:, :, np.newaxis, :]])
pool = keras.layers.MaxPooling2D(2)
representations = {
    "pixels": lambda z: z,
    "edge maps": edges,
    "edge maps, 1 pool": lambda z: pool(edges(z)),
    "edge maps, 2 pools": lambda z: pool(pool(edges(z))),
    "global max of edge maps": lambda z: keras.ops.max(edges(z), axis=(1, 2)),
}
shifts = [0, 1, 2, 3, 4]
changes = {}
for name, represent in representations.items():
    base = keras.ops.convert_to_numpy(represent(images)).reshape(len(images), -1)
    changes[name] = []
    for shift in shifts:
        moved = keras.ops.convert_to_numpy(represent(np.roll(images, shift, axis=2)))
        distance = np.linalg.norm(moved.reshape(len(images), -1) - base, axis=1)
        changes[name].append(float(np.mean(distance / np.linalg.norm(base, axis=1))))
plots.shift_tolerance(shifts, changes)

# %% [markdown]
# Three things to read off the plot:
#
# - The edge maps change *more* than the pixels: a line one pixel wide, moved by
#   one pixel, no longer overlaps itself at all.
# - Each 2×2 max pooling makes them more tolerant: a feature that moves inside
#   its window keeps the same max. After two poolings the maps change less than
#   the raw pixels.
# - The global max hardly changes: it says *whether* each edge is present, and
#   has forgotten *where*.
#
# That is the trade pooling makes: it gives up exact position to gain tolerance.
# A CNN pools a little after each convolution, so it keeps a coarse layout of
# the garment while ignoring jitter of a pixel or two.
#
# ## How big is each output?
#
# From lesson 5, for an input of side $n$, a kernel (or pooling window) of side
# $k$ and a stride $s$:
#
# - `"valid"` padding: $\lfloor (n - k) / s \rfloor + 1$;
# - `"same"` padding: $\lceil n / s \rceil$, whatever the kernel.
#
# A 2×2 max pooling with stride 2 is a `"valid"` window of side 2 with stride 2.
#
# ### Exercise 3 — `conv_output_size` (2 points)


# %% nbgrader={"grade": false, "grade_id": "conv_output_size", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_output_size(n: int, kernel: int, padding: str = "valid", stride: int = 1) -> int:
    """Return the output side of a convolution or pooling layer along one axis.

    Parameters
    ----------
    n : int
        The input's side.
    kernel : int
        The kernel's (or pooling window's) side.
    padding : str
        "valid" or "same".
    stride : int
        The step between windows.

    Returns
    -------
    int
        The output's side, a plain Python int.

    Raises
    ------
    ValueError
        If padding is neither "valid" nor "same", or a "valid" kernel is larger than n.
    """
    ### BEGIN SOLUTION
    if padding == "same":
        return -(-n // stride)
    if padding != "valid":
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    if kernel > n:
        raise ValueError(f"a kernel of side {kernel} does not fit in an input of side {n}")
    return (n - kernel) // stride + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv_output_size_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check conv_output_size: an int, the usual cases, even kernels, Keras' answers, and errors."""
SIZES = "reread 'How big is each output?'"
got = conv_output_size(28, 3)
assert isinstance(got, int), (
    f"expected a Python int, got {type(got).__name__}: use // and wrap the result in int(); {SIZES}"
)
cases = {
    (28, 3, "valid", 1): 26,
    (28, 3, "same", 1): 28,
    (28, 2, "valid", 2): 14,
    (13, 2, "valid", 2): 6,
    (28, 5, "same", 2): 14,
    (27, 3, "valid", 2): 13,
    (28, 2, "same", 2): 14,
}
for (n, k, pad, step), expected in cases.items():
    got = conv_output_size(n, k, pad, step)
    assert isinstance(got, int) and got == expected, (
        f"conv_output_size({n}, {k}, {pad!r}, {step}): expected {expected}, got {got}; {SIZES}"
    )
keras_side = keras.layers.Conv2D(1, 4, strides=3, padding="same").compute_output_shape(
    (None, 20, 20, 1)
)[1]
assert conv_output_size(20, 4, "same", 3) == keras_side, (
    f"Keras says {keras_side} for n=20, kernel 4, 'same', stride 3: 'same' rounds n / s up; "
    + SIZES
)
try:
    conv_output_size(28, 3, "full")
    raised = False
except ValueError:
    raised = True
assert raised, f"padding='full' should raise ValueError; {SIZES}"
try:
    conv_output_size(5, 6)
    raised = False
except ValueError:
    raised = True
assert raised, (
    f"a 'valid' kernel of side 6 does not fit in an input of side 5: raise ValueError, as the "
    f"docstring says; {SIZES}"
)
print("conv_output_size: all visible checks passed")
### BEGIN HIDDEN TESTS
hidden_rng = np.random.default_rng(44)
for _ in range(60):
    n = int(hidden_rng.integers(1, 40))
    k = int(hidden_rng.integers(1, n + 1))
    step = int(hidden_rng.integers(1, 5))
    for pad in ("valid", "same"):
        layer = keras.layers.Conv2D(1, k, strides=step, padding=pad)
        want = layer.compute_output_shape((None, n, n, 1))[1]
        answer = conv_output_size(n, k, pad, step)
        assert isinstance(answer, int) and answer == want, (
            f"n={n}, kernel={k}, padding={pad!r}, stride={step}: the side differs from Keras'; "
            + SIZES
        )
for args in [(4, 7, "valid", 2), (10, 3, "SAME", 1)]:
    try:
        conv_output_size(*args)
        complained = False
    except ValueError as error:
        complained = isinstance(error, ValueError)
    assert complained, (
        f"conv_output_size{args} should raise ValueError (only 'valid' and 'same', and a "
        f"'valid' kernel must fit); {SIZES}"
    )
### END HIDDEN TESTS

# %% [markdown]
# A Keras layer applied to a symbolic `keras.Input` tells you its output shape
# without any data; the first axis, `None`, is the batch size, unknown yet.

# %%
inputs = keras.Input((28, 28, 1))
(
    keras.layers.Conv2D(8, 5, strides=2, padding="same")(inputs).shape,
    conv_output_size(28, 5, "same", 2),
)

# %% [markdown]
# ## How many weights?
#
# A convolution layer with $C_\text{out}$ filters of size $k_h \times k_w$ on an
# input with $C_\text{in}$ channels has one kernel of shape
# $(k_h, k_w, C_\text{in})$ per filter (lesson 5: the kernel spans all input
# channels) and one bias per filter:
#
# $$\text{weights} = k_h \, k_w \, C_\text{in} \, C_\text{out} + C_\text{out}.$$
#
# The size of the image does not appear: the same kernel is used at every
# position, which is called **weight sharing**. That is why a convolution layer
# is small. Compare with lesson 4's
# dense layer: 784 pixels to 128 units is $784 \times 128 + 128 = 100{,}480$
# weights; 32 filters of 3×3 on the image is 320.
#
# ### Exercise 4 — `conv_param_count` (1 point)


# %% nbgrader={"grade": false, "grade_id": "conv_param_count", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_param_count(
    kernel: int | tuple[int, int], c_in: int, c_out: int, use_bias: bool = True
) -> int:
    """Return the number of weights of a Conv2D layer, biases included.

    kernel is the side of a square kernel, or (kh, kw); c_in the number of
    input channels; c_out the number of filters. Returns a plain Python int.
    """
    ### BEGIN SOLUTION
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return int(kh * kw * c_in * c_out + (c_out if use_bias else 0))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv_param_count_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Check conv_param_count: an int, square and rectangular kernels, with and without bias, against Keras."""
WEIGHTS = "reread 'How many weights?'"
got = conv_param_count(3, 1, 32)
assert isinstance(got, int), f"expected a Python int, got {type(got).__name__}; {WEIGHTS}"
assert got == 320, (
    f"32 filters of 3x3 on 1 channel: expected 3*3*1*32 + 32 = 320, got {got}; {WEIGHTS}"
)
assert conv_param_count(3, 32, 64) == 18496, (
    f"64 filters of 3x3 on 32 channels: expected 18,496, got {conv_param_count(3, 32, 64)}: "
    f"each kernel spans all c_in input channels; {WEIGHTS}"
)
assert conv_param_count(5, 3, 16, use_bias=False) == 1200, (
    f"without bias (use_bias=False) there is no + c_out; {WEIGHTS}"
)
try:
    rectangular = conv_param_count((3, 5), 2, 4)
except Exception as error:  # - any failure here has the same cause
    raise AssertionError(
        f"conv_param_count((3, 5), 2, 4) raised {type(error).__name__}: {error}. `kernel` may "
        f"be a pair (kh, kw) as well as one side; {WEIGHTS}"
    ) from None
assert rectangular == 124, (
    f"a (3, 5) kernel has 15 weights per input channel: expected 124, got {rectangular}; {WEIGHTS}"
)
layer = keras.layers.Conv2D(6, (2, 3))
layer.build((None, 10, 10, 4))
assert conv_param_count((2, 3), 4, 6) == layer.count_params(), (
    f"Keras counts {layer.count_params()}"
)
print("conv_param_count: all visible checks passed")
### BEGIN HIDDEN TESTS
hidden_rng = np.random.default_rng(45)
for _ in range(10):
    kh, kw, c_in, c_out = (int(v) for v in hidden_rng.integers(1, 8, size=4))
    for bias in (True, False):
        case = f"kernel ({kh}, {kw}), c_in={c_in}, c_out={c_out}, use_bias={bias}"
        layer = keras.layers.Conv2D(c_out, (kh, kw), use_bias=bias)
        layer.build((None, 12, 12, c_in))
        answer = conv_param_count((kh, kw), c_in, c_out, use_bias=bias)
        assert isinstance(answer, int) and answer == layer.count_params(), (
            f"{case}: the count differs from Keras'; {WEIGHTS}"
        )
        if kh == kw:
            assert conv_param_count(kh, c_in, c_out, use_bias=bias) == layer.count_params(), (
                f"{case}, kernel given as one side: the count differs from Keras'; {WEIGHTS}"
            )
### END HIDDEN TESTS

# %% [markdown]
# ## How much of the image does one unit see?
#
# A unit of a first 3×3 convolution depends on a 3×3 window of pixels: its
# **receptive field**. A unit of a second 3×3 convolution depends on 3×3 units of
# the first, whose windows overlap: together they cover 5×5 pixels. The diagram
# shows this in one dimension, with the input at the bottom.

# %%
plots.receptive_field_diagram([("conv 3x3", 3, 1), ("conv 3x3", 3, 1)], n_input=12)

# %% [markdown]
# Pooling with stride 2 spreads the units of the next layer twice as far apart
# in the input. From then on, every extra unit of kernel width adds 2 pixels to
# the receptive field instead of 1. The Conv-Pool-Conv-Pool stack of the network
# you build in lesson 7:

# %%
plots.receptive_field_diagram(
    [("conv 3x3", 3, 1), ("max pool 2", 2, 2), ("conv 3x3", 3, 1), ("max pool 2", 2, 2)],
    n_input=22,
)

# %% [markdown]
# The rule behind the pictures: keep two numbers while you go up the stack, the
# receptive field $r$ and the **jump** $j$, the distance in input pixels between
# two neighbouring units of the current layer. Start from the input, $r = 1$ and
# $j = 1$. A layer with kernel $k$ and stride $s$ does
#
# $$r \leftarrow r + (k - 1)\, j, \qquad j \leftarrow j \cdot s.$$
#
# Padding does not change $r$: it shifts which pixels a unit sees, not how many.
#
# ### Exercise 5 — `receptive_field` (2 points)


# %% nbgrader={"grade": false, "grade_id": "receptive_field", "locked": false, "schema_version": 3, "solution": true, "task": false}
def receptive_field(layers: list[tuple[int, int]]) -> int:
    """Return the side of the input window one unit of the last layer depends on.

    layers lists (kernel, stride) for each layer, input side first: a 3x3
    convolution is (3, 1), a 2x2 max pooling with stride 2 is (2, 2). An empty
    list means the input itself: 1 pixel. Returns a plain Python int.
    """
    ### BEGIN SOLUTION
    field, jump = 1, 1
    for kernel, stride in layers:
        field += (kernel - 1) * jump
        jump *= stride
    return int(field)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "receptive_field_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check receptive_field: an int, the diagrams' stacks, and stacks where the stride matters."""
FIELD = "reread 'How much of the image does one unit see?'"
got = receptive_field([(3, 1)])
assert isinstance(got, int), f"expected a Python int, got {type(got).__name__}; {FIELD}"
assert got == 3, f"one 3x3 convolution sees 3 pixels, got {got}; {FIELD}"
assert receptive_field([]) == 1, (
    f"no layer at all: the input pixel itself, 1; got {receptive_field([])}: start from r = 1; "
    + FIELD
)
assert receptive_field([(3, 1), (3, 1)]) == 5, (
    f"two 3x3 convolutions see 5 pixels (first diagram); got "
    f"{receptive_field([(3, 1), (3, 1)])}: each layer adds (k - 1) * j; {FIELD}"
)
classic = receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)])
assert classic == 10, (
    f"conv 3, pool 2, conv 3, pool 2 sees 10 pixels (second diagram); got {classic}. "
    f"Does the jump multiply by each stride, and grow the field only after the layer is added? "
    + FIELD
)
print("receptive_field: all visible checks passed")


### BEGIN HIDDEN TESTS
def _brute_force_field(stack):
    units = {0}
    for kernel, stride in reversed(stack):
        units = {unit * stride + offset for unit in units for offset in range(kernel)}
    return max(units) - min(units) + 1


hidden_rng = np.random.default_rng(46)
for depth in range(1, 6):
    for _ in range(6):
        stack = [
            (int(hidden_rng.integers(1, 6)), int(hidden_rng.integers(1, 4))) for _ in range(depth)
        ]
        answer = receptive_field(stack)
        assert isinstance(answer, int) and answer == _brute_force_field(stack), (
            f"a random stack of {depth} layer(s): the receptive field is wrong; {FIELD}"
        )
assert receptive_field([(2, 2), (2, 2), (2, 2)]) == 8, (
    f"three 2x2 poolings with stride 2: wrong receptive field; {FIELD}"
)
assert receptive_field([(5, 3), (1, 1)]) == 5, (
    f"a 1x1 layer after a 5-wide one adds nothing; {FIELD}"
)
### END HIDDEN TESTS

# %% [markdown]
# After Conv-Pool-Conv-Pool, each unit sees a 10×10 patch of the 28×28 image:
# enough for a collar, a heel or a strap, not for the whole garment. The dense
# layer at the end looks at all the units at once, so it sees everything. Deeper
# networks keep stacking so their last convolutions see the whole image:

# %%
{depth: receptive_field([(3, 1), (3, 1), (2, 2)] * depth) for depth in (1, 2, 3, 4)}

# %% [markdown]
# ## The shape table of a small CNN
#
# A **shape table** lists every layer's output shape and number of weights.
# Here is a classic small CNN: two blocks of a 3×3 convolution followed by a 2×2
# max pooling, then `Flatten` lays the last stack out as one long vector, and a
# dense layer gives one score per class. Lesson 7 trains a network of this shape.
#
# **Predict** before you run the next cell, with your two functions: the output
# shape of each layer for one image, and its number of weights.

# %%
side1 = conv_output_size(28, 3)  # conv1: 3x3, 'valid'
side2 = conv_output_size(side1, 2, stride=2)  # pool1
side3 = conv_output_size(side2, 3)  # conv2
side4 = conv_output_size(side3, 2, stride=2)  # pool2
flat = side4 * side4 * 64
predicted = [
    ("conv1", (side1, side1, 32), conv_param_count(3, 1, 32)),
    ("pool1", (side2, side2, 32), 0),
    ("conv2", (side3, side3, 64), conv_param_count(3, 32, 64)),
    ("pool2", (side4, side4, 64), 0),
    ("flatten", (flat,), 0),
    ("dense", (10,), flat * 10 + 10),
]
predicted

# %% [markdown]
# Now the network itself, and Keras' summary of it:

# %%
model = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(2, name="pool1"),
        keras.layers.Conv2D(64, 3, activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(2, name="pool2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(10, activation="softmax", name="dense"),
    ]
)
model.summary()

# %%
for layer, (name, shape, params) in zip(model.layers, predicted, strict=True):
    assert layer.name == name, f"expected layer {name}, found {layer.name}"
    assert tuple(layer.output.shape[1:]) == shape, (
        f"{name}: Keras {layer.output.shape}, predicted {shape}"
    )
    assert layer.count_params() == params, (
        f"{name}: Keras {layer.count_params()}, predicted {params}"
    )
f"all {len(predicted)} layers match; {model.count_params():,} weights in all"

# %% [markdown]
# Every number matches. The picture of the table:

# %%
plots.layer_sizes(
    ["input", *(name for name, _, _ in predicted)],
    [(28, 28, 1), *(shape for _, shape, _ in predicted)],
    [0, *(params for _, _, params in predicted)],
)

# %% [markdown]
# How to read it:
#
# - The maps get **smaller but deeper**: 28 → 26 → 13 → 11 → 5 pixels on a side,
#   1 → 32 → 64 channels. Fewer positions, more kinds of pattern at each.
# - pool2 drops the last row and column of conv2's 11×11 maps: $\lfloor 11 / 2
#   \rfloor = 5$. Nothing warns you; the shape table does.
# - The convolutions hold few weights for what they compute; the dense layer,
#   which connects every one of the 1,600 numbers to every class, holds almost
#   half of the network's 34,826 weights. Lesson 4's dense network had far more.
# - Pooling layers and `Flatten` have no weights at all.
#
# ## Summary
#
# - Pooling summarizes each window of each channel by one number, the max or the
#   mean; a 2×2 pool with stride 2 halves the height and width and has no weights.
# - Output side: $\lfloor (n - k) / s \rfloor + 1$ with `"valid"` padding,
#   $\lceil n / s \rceil$ with `"same"`; rows that do not fill a window are dropped.
# - A convolution layer has $k_h k_w C_\text{in} C_\text{out} + C_\text{out}$
#   weights, whatever the image size, thanks to weight sharing.
# - The receptive field grows by $(k - 1)\,j$ per layer, and each stride multiplies
#   the jump $j$: pooling makes later layers see much more of the image.
# - Pooling trades exact position for tolerance to small shifts: edge maps are
#   fragile, pooled edge maps much less so.
# - You can predict every shape and weight count of a CNN before you build it, and
#   `model.summary()` confirms it.
#
# ## Further exercises
#
# 1. Change conv1 and conv2 to `padding="same"`. Predict the new shape table and
#    weight count, then check with `model.summary()`. Which layer's weights grow?
# 2. Replace pool2 by `keras.layers.GlobalMaxPooling2D()`. What does the shape table
#    become, and how many weights does the dense layer keep? Relate this to the
#    "global max" line of the shift plot.
# 3. Add average pooling to the shift experiment. Is it more or less tolerant than
#    max pooling?
# 4. Pooling windows can overlap: compare `max_pool2d(x, size=3, stride=2)` (used
#    by AlexNet) with `size=2, stride=2` on an edge map from lesson 5.
