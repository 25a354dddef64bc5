# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: nbgrader,tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 1 — Pixels and labels
#
# Before you train anything, look at the data: a model can only learn what is
# in its inputs, and many surprises in machine learning show in the data
# before any training starts. In this lesson you get to know Fashion-MNIST:
# its arrays, its classes, its pixels, and which clothes look alike.
#
# ## Learning objectives
#
# By the end of this lesson you can:
#
# - load Fashion-MNIST and describe its arrays: shapes, dtypes and value ranges;
# - name the ten classes, and explain why a balanced dataset makes accuracy a fair measure;
# - scale pixels to floats in $[0, 1]$, and say why networks want them that way;
# - summarise a class with its mean and standard-deviation images;
# - measure how alike two classes are, and predict which ones a classifier will confuse;
# - read and write the dataset's CSV format (one row per image, label first).
#
# ## New ideas
#
# - **training and test sets**: images to learn from, and images kept aside to measure the finished model.
# - **example**: one item of a dataset: its features (here 784 pixels) and its label (its class).
# - **balanced dataset**: every class equally frequent, so guessing is right 1 time in 10 (the chance level).
# - **accuracy**: the share of correct predictions.
# - **scaling**: turning pixels 0 to 255 into floats in $[0, 1]$ for a network.
# - **mean image**: a class's pixel-by-pixel average.
#
# Estimated time: about 65 minutes (24 reading, 30 on the exercises, 12 running the examples).

# %% [markdown]
# ## Setup
#
# Run this cell first: it imports what the lesson uses, checks the library
# versions (a `!!` line says what differs and how to fix it) and fixes the
# random seed, so you see the same pictures as everyone else.

# %%
import tempfile
from pathlib import Path

import numpy as np

from fmnist_utils import plots, widgets
from fmnist_utils.csvfiles import load_csv, save_csv
from fmnist_utils.data import CLASS_NAMES, load_fashion_mnist
from fmnist_utils.environment import check_versions, set_random_seed

check_versions()
set_random_seed(0)

# %% [markdown]
# ## 1. Load the data
#
# [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist) holds
# 70,000 small grayscale photos of products from Zalando's online shop, each
# $28 \times 28$ pixels and labelled with one of ten classes. It comes split
# into **training and test sets**: 60,000 training images to learn from, and
# 10,000 test images kept aside to measure, once and at the end, how well a
# finished model does on images it has never seen.
#
# Before you run the next cell: what **shape** do you expect `x_train` to
# have? And `y_train`?

# %%
(x_train, y_train), (x_test, y_test) = load_fashion_mnist()
x_train.shape, y_train.shape, x_test.shape, y_test.shape

# %% [markdown]
# `x_train` is a stack of 60,000 images, each a $28 \times 28$ grid: axis 0
# picks an image, axis 1 a row, axis 2 a column. In machine-learning terms
# there are 60,000 **examples**, each with $28 \times 28 = 784$ **features**
# (the pixels) and one **label** (the class, in `y_train`). Row `i` of
# `y_train` is the label of image `i` of `x_train`: keep them paired.
#
# Now the values. What type of number do you expect a grayscale pixel to be?

# %%
x_train.dtype, x_train.min(), x_train.max(), f"{x_train.nbytes / 1e6:.0f} MB"

# %% [markdown]
# `uint8` is an *unsigned 8-bit integer*: a whole number from 0 to 255 that
# takes one byte, so the training set takes 60,000 × 784 bytes.

# %% [markdown]
# ### Labels are numbers, classes have names
#
# A model never sees the word "Sneaker", only the number 7. `CLASS_NAMES`
# maps each label to its name:

# %%
print(y_train[:12])
dict(enumerate(CLASS_NAMES))

# %% [markdown]
# Here is the first training image, with every pixel's value in its cell.
# In the files, 0 is the background and 255 the most ink; the course draws
# larger values darker, which looks like the original photo.

# %%
plots.pixel_values(x_train[0], title=f"x_train[0], label {y_train[0]}: {CLASS_NAMES[y_train[0]]}")

# %% [markdown]
# An image is nothing but this grid of numbers: everything a classifier
# will ever know about the picture is in these 784 values.

# %% [markdown]
# ## 2. The ten classes
#
# Ten random training images of every class. Look closely before you read
# on: **which classes would you find hard to tell apart at this size?** Write
# down two pairs; in section 7 you measure whether you were right.

# %%
plots.examples_per_class(x_train, y_train, per_class=10)

# %% [markdown]
# ## 3. Browse the images
#
# Pick a class and drag the slider. Things to try:
#
# - find a *Shirt* that you would have called a *T-shirt/top*;
# - compare how much of the frame a *Sandal* fills with how much a *Coat* fills;
# - look at the edge of an object: is the outline sharp, or does it fade over a few pixels?
#
# (The widget needs a running kernel.)

# %%
widgets.image_browser(x_train, y_train, class_names=CLASS_NAMES)

# %% [markdown]
# ## 4. Class balance
#
# How many images does each class have? Check this first in any
# classification dataset: if 90 % of the images were sneakers, a "model"
# that always answers *Sneaker* would be 90 % accurate and useless.
#
# ### Exercise 1 — count the classes (2 points)
#
# Write `class_counts`, which counts the labels of each class. A class that
# never occurs must still get its entry (a count of 0), so that entry `k`
# always belongs to class `k`.


# %% nbgrader={"grade": false, "grade_id": "class_counts", "locked": false, "schema_version": 3, "solution": true, "task": false}
def class_counts(y: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Count how many examples of each class a label array holds.

    Parameters
    ----------
    y : numpy.ndarray
        Integer labels, shape (n,), each in 0 .. num_classes - 1.
    num_classes : int
        How many classes there are.

    Returns
    -------
    numpy.ndarray
        Integer array of shape (num_classes,): entry k is the number of
        labels equal to k (0 for a class that does not occur).

    Hint: `np.bincount` does most of the work; read what its `minlength` does.
    """
    ### BEGIN SOLUTION
    return np.bincount(np.asarray(y, dtype=np.int64).ravel(), minlength=num_classes)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "class_counts_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check class_counts: an integer array with one entry per class, holding the right counts, for any num_classes."""
BALANCE = "reread '4. Class balance'"
counts = class_counts(y_train)
assert isinstance(counts, np.ndarray), (
    f"expected a NumPy array, got {type(counts).__name__}; {BALANCE}"
)
assert np.issubdtype(counts.dtype, np.integer), (
    f"counts are whole numbers: expected an integer dtype, got {counts.dtype}; {BALANCE}"
)
assert counts.shape == (10,), f"expected shape (10,), one count per class, got {counts.shape}"
assert int(counts.sum()) == len(y_train), (
    f"the counts should add up to the {len(y_train)} labels, they add up to {int(counts.sum())}"
)
small = class_counts(np.array([0, 2, 2, 9]))
assert isinstance(small, np.ndarray) and small.shape == (10,), (
    "class_counts(np.array([0, 2, 2, 9])) should have shape (10,): every class gets an entry, "
    f"entry k for class k; {BALANCE}"
)
assert small.tolist() == [1, 0, 2, 0, 0, 0, 0, 0, 0, 1], (
    f"class_counts(np.array([0, 2, 2, 9])) should be [1, 0, 2, 0, 0, 0, 0, 0, 0, 1], "
    f"got {small.tolist()}"
)
short = class_counts(np.array([1, 1, 3]))
assert isinstance(short, np.ndarray) and short.shape == (10,), (
    f"class_counts(np.array([1, 1, 3])) should still have shape (10,), got "
    f"{getattr(short, 'shape', None)}: classes 4 to 9 never occur but need a count of 0 "
    f"(hint: minlength); {BALANCE}"
)
twelve = class_counts(np.array([0, 2, 2, 9]), num_classes=12)
assert isinstance(twelve, np.ndarray) and twelve.shape == (12,), (
    f"class_counts(np.array([0, 2, 2, 9]), num_classes=12) should have shape (12,), got "
    f"{getattr(twelve, 'shape', None)}: use the num_classes argument, not the number 10; {BALANCE}"
)
print("class_counts: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(11)
labels = rng.integers(0, 7, size=500)
out = class_counts(labels, num_classes=9)
assert isinstance(out, np.ndarray), f"expected a NumPy array, got {type(out).__name__}"
assert out.shape == (9,), (
    f"class_counts(..., num_classes=9) should have shape (9,), got {out.shape}; {BALANCE}"
)
msg = f"500 random labels, num_classes=9: entry k must count the labels equal to k; {BALANCE}"
np.testing.assert_array_equal(out, [int(np.sum(labels == k)) for k in range(9)], err_msg=msg)
none = class_counts(np.array([], dtype=np.int64), num_classes=4)
assert isinstance(none, np.ndarray) and none.shape == (4,), (
    f"no labels at all, num_classes=4: expected four zeros; {BALANCE}"
)
msg = "no labels at all: every count should be 0"
np.testing.assert_array_equal(none, np.zeros(4, dtype=np.int64), err_msg=msg)
test_counts_check = class_counts(y_test)
assert isinstance(test_counts_check, np.ndarray) and test_counts_check.shape == (10,), (
    "the test labels: expected an array of shape (10,)"
)
msg = f"the counts of the test labels are wrong; {BALANCE}"
np.testing.assert_array_equal(test_counts_check, np.full(10, 1000), err_msg=msg)
unsorted = class_counts(np.array([3, 0, 3, 3, 1], dtype=np.uint8), num_classes=5)
assert isinstance(unsorted, np.ndarray) and unsorted.shape == (5,), (
    "uint8 labels, num_classes=5: expected an array of shape (5,)"
)
msg = f"unsorted uint8 labels: entry k must count the labels equal to k; {BALANCE}"
np.testing.assert_array_equal(unsorted, [1, 1, 0, 3, 0], err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# With `class_counts` working, count both sets. Before you look: do you
# expect every class to have the same number of images?

# %%
train_counts = class_counts(y_train)
test_counts = class_counts(y_test)
print(train_counts, test_counts)
plots.class_balance({"train": train_counts, "test": test_counts})

# %% [markdown]
# Fashion-MNIST is a perfectly **balanced dataset**: 6,000 training and 1,000
# test images per class. Two consequences you will use all course long:
#
# - guessing, or always answering the same class, is right 10 % of the time:
#   that is the **chance level** any model must beat;
# - **accuracy**, the share of correct predictions, is a fair one-number
#   summary. On unbalanced data it is not, and you would look at each class.

# %% [markdown]
# ## 5. Pixel intensities
#
# Guess first: what share of all training pixels is exactly 0, pure background?

# %%
float(np.mean(x_train == 0))

# %% [markdown]
# About half. The histograms below show how the intensities of each class's
# pixels are distributed (on a logarithmic axis, otherwise the spike at 0
# would flatten everything else).

# %%
plots.pixel_histograms(x_train, y_train)

# %% [markdown]
# What the histograms say:
#
# - every class has a spike at 0 (the background) and a broad spread of
#   fabric intensities, for most classes most often around 200–230;
# - *Sandal*, *Sneaker* and *Trouser* are about two-thirds background; *Pullover*,
#   *Coat* and *Shirt* fill most of the frame. Even "how much ink" is a clue.
#
# But a histogram forgets *where* each pixel is: shuffle an image's pixels
# and its histogram does not change, yet you could no longer recognise it.

# %% [markdown]
# ### Exercise 2 — scale the pixels (2 points)
#
# Networks learn in small steps (lesson 2 shows how) whose usual sizes
# suit inputs of about 1; raw values up to 255 make everything computed from
# them hundreds of times larger. So almost every image pipeline starts with
# **scaling**: the pixels become `float32` values in $[0, 1]$ (`float32` is
# the precision Keras computes in; `float64` would double the memory).
#
# There is a second reason to leave `uint8` behind: its arithmetic wraps
# around. What do you expect $200 + 100$ to be?

# %%
np.array([200], dtype=np.uint8) + np.array([100], dtype=np.uint8)

# %% [markdown]
# $300 - 256 = 44$: the result did not fit in a byte. Convert *before* you
# compute. Now write `normalize`: 0 must become 0.0, 255 must become 1.0, and
# everything in between scales linearly, **whatever the largest value in the
# array is** (an image with no dark pixel must not be stretched).


# %% nbgrader={"grade": false, "grade_id": "normalize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def normalize(x: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels (0 to 255) to float32 values in [0, 1].

    Parameters
    ----------
    x : numpy.ndarray
        uint8 array of any shape, for example (n, 28, 28).

    Returns
    -------
    numpy.ndarray
        A new float32 array of the same shape: value / 255. The input is
        left unchanged.
    """
    ### BEGIN SOLUTION
    return np.asarray(x).astype(np.float32) / np.float32(255)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "normalize_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check normalize: a float32 array of the same shape, 0 -> 0.0, 255 -> 1.0, linear between, whatever the image's largest value."""
SCALE = "reread 'Exercise 2 — scale the pixels (2 points)'"
out = normalize(x_train[:5])
assert isinstance(out, np.ndarray), f"expected a NumPy array, got {type(out).__name__}"
assert out.dtype == np.float32, (
    f"expected dtype float32, got {out.dtype} (hint: .astype(np.float32), then divide with /); "
    + SCALE
)
assert out.shape == (5, 28, 28), f"expected shape (5, 28, 28), the input's shape, got {out.shape}"
assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0, (
    f"values must lie in [0, 1], found {float(out.min())} to {float(out.max())}"
)
ramp = normalize(np.array([[0, 51, 102, 255]], dtype=np.uint8))
assert isinstance(ramp, np.ndarray) and ramp.shape == (1, 4) and ramp.dtype == np.float32, (
    "normalize(np.array([[0, 51, 102, 255]], dtype=np.uint8)) should be a float32 array of shape (1, 4)"
)
np.testing.assert_allclose(
    ramp, [[0.0, 0.2, 0.4, 1.0]], rtol=1e-6,
    err_msg=f"0, 51, 102, 255 should become 0.0, 0.2, 0.4, 1.0: divide by 255; {SCALE}",
)  # fmt: skip
faint = normalize(np.array([[0, 51, 102]], dtype=np.uint8))
assert isinstance(faint, np.ndarray) and faint.shape == (1, 3), (
    "normalize(np.array([[0, 51, 102]], dtype=np.uint8)) should be an array of shape (1, 3)"
)
np.testing.assert_allclose(
    faint, [[0.0, 0.2, 0.4]], rtol=1e-6,
    err_msg="an image with no pixel darker than 102 must not be stretched: 102 still becomes "
    f"0.4. Divide by 255, not by the image's own largest value; {SCALE}",
)  # fmt: skip
print("normalize: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(1)
faint = rng.integers(0, 101, size=(3, 7, 5), dtype=np.uint8)
faint_copy = faint.copy()
scaled = normalize(faint)
assert (
    isinstance(scaled, np.ndarray) and scaled.dtype == np.float32 and scaled.shape == (3, 7, 5)
), f"a uint8 array of shape (3, 7, 5): expected a float32 array of the same shape; {SCALE}"
msg = f"faint random images: the values are wrong. Divide by 255, not the max; {SCALE}"
np.testing.assert_allclose(scaled, faint / 255.0, rtol=1e-6, err_msg=msg)
np.testing.assert_array_equal(faint, faint_copy, err_msg="normalize must not change its input")
full_range = normalize(np.arange(256, dtype=np.uint8))
assert isinstance(full_range, np.ndarray) and full_range.dtype == np.float32, (
    "np.arange(256) as uint8: expected a float32 array"
)
assert full_range.shape == (256,), "np.arange(256) as uint8: the shape must be kept, (256,)"
assert float(full_range[0]) == 0.0 and float(full_range[-1]) == 1.0, (
    f"0 must become exactly 0.0 and 255 exactly 1.0; {SCALE}"
)
msg = f"every value from 0 to 255 must scale linearly to [0, 1]; {SCALE}"
np.testing.assert_allclose(full_range, np.arange(256) / 255.0, rtol=1e-6, err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# Scale the whole training set once. Floats take four times the memory of
# bytes: that is why datasets are stored as `uint8`.

# %%
x_train_f = normalize(x_train)
x_train_f.dtype, float(x_train_f.min()), float(x_train_f.max()), f"{x_train_f.nbytes / 1e6:.0f} MB"

# %% [markdown]
# ## 6. The average item of each class
#
# The **mean image** of class $k$ averages every pixel position over the
# $n_k$ training images of that class:
#
# $$\bar{x}_k[i, j] = \frac{1}{n_k} \sum_{m \,:\, y_m = k} x_m[i, j].$$
#
# It is the class's "template". What do you expect the mean *Trouser* to
# look like? And the mean *Sandal*, whose straps are in a different place in
# every photo?
#
# ### Exercise 3 — the mean image of a class (3 points)
#
# Write `mean_image`. Select the images whose label is `label` with a
# boolean mask: `y == 3` is an array of `True`/`False`, one per image, and
# `x[y == 3]` keeps only the images where it is `True`. Then average over
# the image axis. If no image has that
# label, raise a `ValueError` whose message names the label: averaging
# nothing would silently give `nan`.


# %% nbgrader={"grade": false, "grade_id": "mean_image", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mean_image(x: np.ndarray, y: np.ndarray, label: int) -> np.ndarray:
    """Average, pixel by pixel, the images of one class.

    Parameters
    ----------
    x : numpy.ndarray
        Images, shape (n, height, width), uint8 or float.
    y : numpy.ndarray
        Integer labels, shape (n,).
    label : int
        The class to average.

    Returns
    -------
    numpy.ndarray
        Float array of shape (height, width): the mean of the images whose
        label is `label`, in the units of `x`.

    Raises
    ------
    ValueError
        If no image has that label.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    mask = np.asarray(y) == label
    if not mask.any():
        raise ValueError(f"no image has label {label}: cannot average an empty class")
    return x[mask].mean(axis=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "mean_image_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Check mean_image: a float image of the right shape, the right average (no wrap-around, no rounding), and a ValueError naming an empty class."""
MEAN = "reread '6. The average item of each class'"
trouser = mean_image(x_train, y_train, 1)
assert isinstance(trouser, np.ndarray), f"expected a NumPy array, got {type(trouser).__name__}"
assert np.issubdtype(trouser.dtype, np.floating), (
    f"a mean is not a whole number: expected a float dtype, got {trouser.dtype}: divide with /, "
    f"not //; {MEAN}"
)
assert trouser.shape == (28, 28), (
    f"expected one image, shape (28, 28), got {trouser.shape} (hint: average over axis 0 only); "
    + MEAN
)
tiny_x = np.array([[[200, 2], [4, 6]], [[10, 10], [10, 10]], [[100, 4], [6, 9]]], dtype=np.uint8)
tiny_y = np.array([0, 1, 0])
tiny = mean_image(tiny_x, tiny_y, 0)
assert isinstance(tiny, np.ndarray) and tiny.shape == (2, 2), (
    f"mean_image of 2x2 images should have shape (2, 2), got {getattr(tiny, 'shape', None)}"
)
np.testing.assert_allclose(
    tiny, [[150, 3], [5, 7.5]],
    err_msg="the images of label 0 are the first and the last: their average is "
    "[[150, 3], [5, 7.5]]. uint8 sums wrap around at 256 (convert to float before you add), "
    f"and an average needs a true division (/, not //); {MEAN}",
)  # fmt: skip
try:
    mean_image(tiny_x, tiny_y, 5)
except ValueError as missing:
    assert "5" in str(missing), (
        f"the ValueError's message should name the missing label, 5; it says {str(missing)!r}; "
        + MEAN
    )
else:
    raise AssertionError(
        f"mean_image(x, y, 5) should raise ValueError: no image has label 5; {MEAN}"
    )
print("mean_image: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(3)
rx = rng.integers(0, 256, size=(40, 5, 3), dtype=np.uint8)
ry = rng.integers(0, 4, size=40)
for k in range(4):
    got = mean_image(rx, ry, k)
    assert isinstance(got, np.ndarray) and np.issubdtype(got.dtype, np.floating), (
        f"random uint8 images, label {k}: expected a float array"
    )
    assert got.shape == (5, 3), f"random 5x3 images: expected shape (5, 3), got {got.shape}"
    msg = f"random uint8 images, label {k}: the average is wrong; {MEAN}"
    want = rx[ry == k].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=msg)
big = np.full((3, 2, 2), 250, dtype=np.uint8)
got = mean_image(big, np.array([7, 7, 7]), 7)
assert isinstance(got, np.ndarray) and got.shape == (2, 2), (
    "three 2x2 images: expected shape (2, 2)"
)
msg = f"uint8 sums must not wrap around; {MEAN}"
np.testing.assert_allclose(got, np.full((2, 2), 250.0), err_msg=msg)
try:
    mean_image(rx, ry, 9)
except ValueError as error:
    assert "9" in str(error), "the ValueError's message should name the missing label"
else:
    raise AssertionError("mean_image should raise ValueError for a label with no images")
### END HIDDEN TESTS

# %% [markdown]
# The ten mean images, on one shared colour scale:

# %%
means = np.stack([mean_image(x_train_f, y_train, k) for k in range(10)])
plots.class_images(means, title="Mean image of each class")

# %% [markdown]
# The means are blurry silhouettes, sharp where the images agree (the gap
# between trouser legs, the rectangle of a bag) and faint where they do not
# (sandal straps, which sit somewhere different in every photo). The four
# tops differ mostly in their sleeves.
#
# The mean hides the spread. The **standard deviation** of each pixel over a
# class says where the class varies: dark where all its images agree, bright
# where they differ.

# %%
stds = np.stack([x_train_f[y_train == k].std(axis=0) for k in range(10)])
plots.class_images(stds, title="Standard deviation of each pixel, per class", cmap="magma")

# %% [markdown]
# The brightest bands trace where the outlines differ (sleeve lengths, heel
# heights, bag handles); the insides are bright too, because fabric comes
# light or dark, plain or printed. Where the spread is large, the mean
# describes no single image well.

# %% [markdown]
# ## 7. Which classes look alike?
#
# Flatten each mean image into a vector of 784 numbers: it becomes a point
# in a 784-dimensional space, and the **Euclidean distance** between two
# classes' means,
#
# $$d(a, b) = \sqrt{\sum_{i=1}^{784} (a_i - b_i)^2},$$
#
# measures how different the two classes look *on average*.
#
# ### Exercise 4 — distances between classes (3 points)
#
# Write `class_distances`, which returns the distance between every pair of
# mean images as a matrix. Try to do it without a Python loop: reshape the
# means to `(k, d)`; then `a[:, None, :] - a[None, :, :]` broadcasts to all
# $k \times k$ differences at once.


# %% nbgrader={"grade": false, "grade_id": "class_distances", "locked": false, "schema_version": 3, "solution": true, "task": false}
def class_distances(means: np.ndarray) -> np.ndarray:
    """Euclidean distance between every pair of class mean images.

    Parameters
    ----------
    means : numpy.ndarray
        One image per class, shape (k, height, width), or already flat, (k, d).

    Returns
    -------
    numpy.ndarray
        Float array of shape (k, k): entry [i, j] is the Euclidean distance
        between means[i] and means[j]. It is symmetric, with zeros on the
        diagonal.
    """
    ### BEGIN SOLUTION
    flat = np.asarray(means, dtype=np.float64).reshape(len(means), -1)
    differences = flat[:, None, :] - flat[None, :, :]
    return np.sqrt((differences**2).sum(axis=-1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "class_distances_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Check class_distances: a symmetric (k, k) float matrix of Euclidean distances, zero on the diagonal."""
ALIKE = "reread '7. Which classes look alike?'"
two = np.array([[[0.0, 0.0], [0.0, 0.0]], [[3.0, 4.0], [0.0, 0.0]]])
d_two = class_distances(two)
assert isinstance(d_two, np.ndarray), f"expected a NumPy array, got {type(d_two).__name__}"
assert np.issubdtype(d_two.dtype, np.floating), f"expected a float dtype, got {d_two.dtype}"
assert d_two.shape == (2, 2), (
    f"two classes should give a (2, 2) matrix, got shape {d_two.shape} "
    f"(hint: flatten each image first: means.reshape(len(means), -1)); {ALIKE}"
)
np.testing.assert_allclose(
    d_two, [[0.0, 5.0], [5.0, 0.0]], atol=1e-9,
    err_msg="the images differ by (3, 4, 0, 0): their distance is sqrt(9 + 16) = 5, "
    f"not the squared distance 25 or the sum of differences 7; the matrix holds every pair, "
    f"both [i, j] and [j, i]; {ALIKE}",
)  # fmt: skip
ten = np.random.default_rng(0).random((10, 28, 28))
d_means = class_distances(ten)
assert isinstance(d_means, np.ndarray) and d_means.shape == (10, 10), (
    f"ten images should give a (10, 10) matrix, got {getattr(d_means, 'shape', None)}"
)
np.testing.assert_allclose(
    d_means,
    d_means.T,
    atol=1e-6,
    err_msg=f"the matrix must be symmetric: fill in every pair [i, j], not only i < j; {ALIKE}",
)
np.testing.assert_allclose(np.diag(d_means), 0.0, atol=1e-6, err_msg="the diagonal must be 0")
print("class_distances: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(5)
pts = rng.normal(size=(6, 5, 3))
got = class_distances(pts)
assert isinstance(got, np.ndarray) and np.issubdtype(got.dtype, np.floating), (
    "six random 5x3 images: expected a float array"
)
assert got.shape == (6, 6), f"six images: expected shape (6, 6), got {got.shape}; {ALIKE}"
brute = np.array([[np.linalg.norm(pts[i] - pts[j]) for j in range(6)] for i in range(6)])
msg = f"six random images: some distances are not Euclidean distances; {ALIKE}"
np.testing.assert_allclose(got, brute, rtol=1e-5, atol=1e-6, err_msg=msg)
flat_pts = rng.normal(size=(4, 12)).astype(np.float32)
got = class_distances(flat_pts)
assert isinstance(got, np.ndarray) and got.shape == (4, 4), "flat (k, d) input should work too"
brute = np.array([[np.linalg.norm(flat_pts[i] - flat_pts[j]) for j in range(4)] for i in range(4)])
msg = f"means already flat, shape (4, 12), float32: the distances are wrong; {ALIKE}"
np.testing.assert_allclose(got, brute, rtol=1e-4, atol=1e-5, err_msg=msg)
assert bool(np.all(got >= 0)), "distances are never negative"
single = class_distances(np.ones((1, 3, 3)))
assert isinstance(single, np.ndarray) and single.shape == (1, 1), (
    "a single class should give a (1, 1) matrix"
)
msg = "a single class is at distance 0 from itself"
np.testing.assert_allclose(single, [[0.0]], atol=1e-9, err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# Here are all 45 distances as a heatmap. Before you look, go back to the
# pairs you wrote down in section 2.

# %%
distances = class_distances(means)
plots.distance_matrix(distances)

# %% [markdown]
# The five closest pairs, closest first:

# %%
pairs = [
    (round(float(distances[i, j]), 2), CLASS_NAMES[i], CLASS_NAMES[j])
    for i in range(10)
    for j in range(i + 1, 10)
]
sorted(pairs)[:5]

# %% [markdown]
# The closest pairs are *Pullover*–*Coat*,
# *Pullover*–*Shirt* and *Coat*–*Shirt*, then *T-shirt/top*–*Shirt* and
# *Sandal*–*Sneaker*: the tops crowd together, and *Shirt* is close to all
# three other tops. The footwear forms its own group, far from the tops.
#
# This is a **hypothesis** about the classifiers of the next lessons: *they
# will confuse the tops with each other, and Shirt most of all*. Lesson 4
# checks it. One caution: each class is summarised by a single point. Two
# classes can have close means and still be easy to separate if their
# images vary little, and the reverse.

# %% [markdown]
# ## 8. The CSV format
#
# Fashion-MNIST is also shared as CSV text files (Kaggle's
# `fashion-mnist_train.csv`, for example): one row per image, 785 columns, the **label first**, then
# `pixel1` ... `pixel784`, the image read row by row, left to right. CSV opens
# anywhere (a spreadsheet, pandas, R), at the cost of size and speed.
#
# Write five images to a CSV file in a fresh temporary folder, so that no
# file of yours can be overwritten:

# %%
scratch = tempfile.TemporaryDirectory(prefix="fmnist-lesson01-")
folder = Path(scratch.name)
csv_path = folder / "five_images.csv"
save_csv(csv_path, x_train[:5], y_train[:5])
lines = csv_path.read_text().splitlines()
len(lines), [line[:64] + " ..." for line in lines[:3]]

# %% [markdown]
# A header line, then one line per image. Which column holds the pixel in
# row $r$, column $c$? The rows come one after another, so it is column
# $1 + 28r + c$ (the label is column 0). Check it on the pixel in the middle
# of the first image:

# %%
header, first_row = lines[0].split(","), lines[1].split(",")
r, c = 14, 14
header[1 + 28 * r + c], first_row[1 + 28 * r + c], int(x_train[0, r, c])

# %% [markdown]
# `load_csv` reads such a file back into the same arrays that
# `load_fashion_mnist` gives. Do the images survive the trip exactly?

# %%
x_back, y_back = load_csv(csv_path)
x_back.shape, x_back.dtype, np.array_equal(x_back, x_train[:5]), np.array_equal(y_back, y_train[:5])

# %% [markdown]
# They do. The price of text: each pixel takes two to four characters (one
# to three digits and a comma) instead of one byte.

# %%
csv_bytes_per_image = (csv_path.stat().st_size - len(lines[0]) - 1) / 5
round(csv_bytes_per_image), x_train[0].nbytes

# %% [markdown]
# Clean up the temporary folder:

# %%
for path in folder.iterdir():
    path.unlink()
folder.rmdir()
folder.exists()

# %% [markdown]
# ## Summary
#
# - Fashion-MNIST's training and test sets hold 60,000 and 10,000 examples:
#   a $28 \times 28$ `uint8` image (0 = background, 255 = most ink) and a
#   label 0–9, named in `CLASS_NAMES`.
# - It is a balanced dataset: chance level is 10 % and accuracy is a fair measure.
# - About half the pixels are background; how much a class fills the frame
#   hints at the class, but histograms ignore *where* pixels are.
# - Scaling gives networks `float32` inputs in $[0, 1]$: convert from `uint8`
#   before any arithmetic, then divide by 255.
# - Mean and standard-deviation images summarise a class; the distances
#   between the mean images predict that the tops (*Shirt* above all) will be
#   confused, and *Sandal* with *Sneaker*.
# - CSV stores one image per row, label first, pixels row by row: portable,
#   and about three times larger than the bytes.
#
# Next, in lesson 2, you train your first model; in lesson 4 you build
# classifiers and test that prediction.

# %% [markdown]
# ## Further exercises
#
# These are not graded.
#
# 1. Compute the ten mean images of the **test** set and their distances to
#    the training means. Do the two sets look alike?
# 2. Count the non-zero pixels of every image (`(x_train > 0).sum(axis=(1, 2))`)
#    and plot a histogram per class. Which classes does this number separate?
# 3. Replace the Euclidean distance by the cosine distance
#    $1 - \frac{a \cdot b}{\lVert a \rVert \lVert b \rVert}$. Does the ranking of
#    look-alike pairs change?
# 4. Save all 60,000 training images as CSV in a temporary folder, and time
#    `load_csv` against `load_fashion_mnist`.
