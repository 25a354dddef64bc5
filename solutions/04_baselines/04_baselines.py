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
# # Lesson 4 — Baselines, and why pixels alone are not enough
#
# Before you build a convolutional network, you need to know what simple
# methods already achieve. You build three classifiers, from a ten-line NumPy
# method to a small dense network, measure them honestly, and then run an
# experiment that reveals what all of them ignore: *where* each pixel is.
#
# ## Learning objectives
#
# By the end of this lesson you can:
#
# - split data into training and validation sets, stratified by class, and say why the test set stays untouched;
# - measure accuracy, and read a confusion matrix to see *which* classes a model confuses;
# - write a nearest-centroid classifier in vectorised NumPy;
# - build, train and evaluate softmax regression and a dense network in Keras;
# - explain, from an experiment, why a dense network ignores the spatial structure of images, and why that motivates convolutions.
#
# ## New ideas
#
# - **baseline**: a simple method whose score a better model must beat.
# - **stratified split**: a split that gives every class the same share of validation.
# - **hidden layer**: units between the pixels and the logits, each with a **ReLU**.
# - **nearest centroid**: give an image the class of the closest mean image.
# - **confusion matrix**: a table of which classes are mistaken for which.
# - **spatial structure**: where pixels are, and which are neighbours.
#
# Estimated time: about 65 minutes (25 reading, 30 on the exercises, 11 running the examples, 1 waiting for the computer).

# %% [markdown]
# ## Setup

# %%
import time

import keras
import numpy as np

from fmnist_utils import fast, pipeline, plots
from fmnist_utils.data import CLASS_NAMES, load_fashion_mnist
from fmnist_utils.environment import check_versions

check_versions()
keras.utils.set_random_seed(0)

# %% [markdown]
# ## 1. Three sets of data
#
# Load the data as in lesson 2. The numbers quoted in this lesson are for the
# full data.

# %%
(x_train_all, y_train_all), (x_test, y_test) = load_fashion_mnist()
x_train_all, y_train_all = fast.training_data(x_train_all, y_train_all)
x_train_all.shape, x_test.shape

# %% [markdown]
# You are about to compare several models. Pick the best by test accuracy,
# and the test score becomes optimistic: it no longer measures *new* images.
# So every comparison uses a validation set (lesson 3), and the test set
# stays a held-out test set: untouched until the final model is measured
# on it, once.
#
# A **stratified split** gives every class the same share of validation
# images, so that the validation set is a faithful miniature of the data. A
# plain random split comes close by luck on 60,000 images; on small or
# unbalanced data it can leave a class nearly absent.
#
# ### Exercise 1 — a stratified split (2 points)
#
# Write `stratified_split`. For each class `k` with $n_k$ examples, pick
# `int(round(val_fraction * n_k))` of them at random for validation; the
# rest go to training. Use a `np.random.default_rng(seed)` generator (never
# the global `np.random` functions), so that the same seed gives the same
# split. Then shuffle each set, so that the classes are mixed rather than
# sorted.


# %% nbgrader={"grade": false, "grade_id": "stratified_split", "locked": false, "schema_version": 3, "solution": true, "task": false}
def stratified_split(
    x: np.ndarray, y: np.ndarray, val_fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split examples into a training and a validation set, class by class.

    Parameters
    ----------
    x : numpy.ndarray
        Examples, shape (n, ...); row i belongs with label y[i].
    y : numpy.ndarray
        Integer labels, shape (n,).
    val_fraction : float
        Share of each class that goes to validation, between 0 and 1.
    seed : int
        Seed of the random generator: the same seed gives the same split.

    Returns
    -------
    tuple of numpy.ndarray
        (x_train, y_train, x_val, y_val). Every example lands in exactly one
        of the two sets, each x row stays with its label, and both sets are
        shuffled. The validation set holds int(round(val_fraction * n_k))
        examples of each class k.

    Hint: `np.unique(y)` lists the classes, `np.flatnonzero(y == k)` gives
    the positions of class k, and `rng.permutation` shuffles them.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    train_parts, val_parts = [], []
    for label in np.unique(y):
        where = rng.permutation(np.flatnonzero(y == label))
        n_val = int(round(val_fraction * len(where)))
        val_parts.append(where[:n_val])
        train_parts.append(where[n_val:])
    train_index = rng.permutation(np.concatenate(train_parts))
    val_index = rng.permutation(np.concatenate(val_parts))
    return x[train_index], y[train_index], x[val_index], y[val_index]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "stratified_split_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check stratified_split: four arrays, the right number per class, pairs kept, nothing lost or repeated, shuffled, reproducible."""
SPLIT = "reread '1. Three sets of data'"
x_demo = np.arange(100).reshape(100, 1)  # each example holds its own position
y_demo = np.repeat(np.arange(4), 25)  # four classes of 25, sorted
parts = stratified_split(x_demo, y_demo, val_fraction=0.2, seed=0)
assert isinstance(parts, tuple) and len(parts) == 4, (
    "expected a tuple of four arrays (x_train, y_train, x_val, y_val)"
)
for name, part in zip(("x_train", "y_train", "x_val", "y_val"), parts, strict=False):
    assert isinstance(part, np.ndarray), (
        f"{name}: expected a NumPy array, got {type(part).__name__}"
    )
xt, yt, xv, yv = parts
assert xt.shape == (80, 1) and yt.shape == (80,), (
    f"expected 80 training examples (20 of each class), got x_train {xt.shape}, y_train {yt.shape}"
)
assert xv.shape == (20, 1) and yv.shape == (20,), (
    f"expected 20 validation examples (5 of each class), got x_val {xv.shape}, y_val {yv.shape}"
)
assert np.bincount(yv, minlength=4).tolist() == [5, 5, 5, 5], (
    f"the validation set should hold 5 of each class, it holds "
    f"{np.bincount(yv, minlength=4).tolist()}: pick the validation examples class by class; "
    + SPLIT
)
assert np.array_equal(y_demo[xt[:, 0]], yt) and np.array_equal(y_demo[xv[:, 0]], yv), (
    f"x and y rows must stay paired: index x and y with the same positions; {SPLIT}"
)
assert np.array_equal(np.sort(np.concatenate([xt[:, 0], xv[:, 0]])), np.arange(100)), (
    "every example must land in exactly one set: some are missing or repeated"
)
assert not np.array_equal(yt, np.sort(yt)), (
    f"shuffle the training set: it is still sorted by class; {SPLIT}"
)
again = stratified_split(x_demo, y_demo, val_fraction=0.2, seed=0)
assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True)), (
    "the same seed must give the same split: use np.random.default_rng(seed), never the "
    f"global np.random functions; {SPLIT}"
)
odd = np.bincount(stratified_split(x_demo, y_demo, val_fraction=0.15, seed=1)[3], minlength=4)
assert odd.tolist() == [4, 4, 4, 4], (
    f"val_fraction=0.15: 0.15 * 25 = 3.75 should give int(round(3.75)) = 4 validation examples "
    f"per class, got {odd.tolist()}: round before int(); {SPLIT}"
)
print("stratified_split: all visible checks passed")
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(42)
sizes = {2: 7, 5: 13, 9: 30}  # unbalanced classes, not numbered 0..k-1
y_h = rng_h.permutation(np.concatenate([np.full(n, k) for k, n in sizes.items()]))
x_h = np.stack([np.full((3, 2), i) for i in range(len(y_h))])  # images holding their position
parts_h = stratified_split(x_h, y_h, val_fraction=0.3, seed=7)
case = "unbalanced classes labelled 2, 5 and 9, images of shape (3, 2), val_fraction=0.3"
assert isinstance(parts_h, tuple) and len(parts_h) == 4, (
    f"{case}: expected a tuple of four arrays (x_train, y_train, x_val, y_val)"
)
assert all(isinstance(p, np.ndarray) for p in parts_h), f"{case}: expected four NumPy arrays"
xt_h, yt_h, xv_h, yv_h = parts_h
assert xt_h.shape[1:] == (3, 2) and xv_h.shape[1:] == (3, 2), (
    f"{case}: each example's own shape must be kept; {SPLIT}"
)
for k, n in sizes.items():
    assert int(np.sum(yv_h == k)) == int(round(0.3 * n)), (
        f"{case}: class {k} has a wrong number of validation examples. Use the labels that "
        f"occur (np.unique(y)) and int(round(val_fraction * n_k)); {SPLIT}"
    )
    assert int(np.sum(yt_h == k)) == n - int(round(0.3 * n)), (
        f"{case}: class {k} has a wrong number of training examples; {SPLIT}"
    )
assert np.array_equal(y_h[xt_h[:, 0, 0]], yt_h) and np.array_equal(y_h[xv_h[:, 0, 0]], yv_h), (
    f"{case}: x and y rows must stay paired; {SPLIT}"
)
every = np.sort(np.concatenate([xt_h[:, 0, 0], xv_h[:, 0, 0]]))
assert np.array_equal(every, np.arange(len(y_h))), (
    f"{case}: every example must land in exactly one set; {SPLIT}"
)
other = stratified_split(x_h, y_h, val_fraction=0.3, seed=8)
assert not np.array_equal(other[2], xv_h), "a different seed should give a different split"
np.random.seed(123)  # noqa: NPY002 -- on purpose: the split must not depend on it
first = stratified_split(x_h, y_h, val_fraction=0.3, seed=7)
np.random.seed(456)  # noqa: NPY002
second = stratified_split(x_h, y_h, val_fraction=0.3, seed=7)
assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True)), (
    "the split changes with the global np.random state: draw only from "
    f"np.random.default_rng(seed); {SPLIT}"
)
### END HIDDEN TESTS

# %% [markdown]
# Split off 10 % for validation, and scale the validation images to
# `float32` in $[0, 1]$. The training images stay `uint8` (0 to 255), four
# times smaller than a `float32` copy; each model below scales them as it
# reads them. `del` frees the unsplit arrays. The plot checks that every
# class has the same share in both sets.

# %%
x_train, y_train, x_val, y_val = stratified_split(
    x_train_all, y_train_all, val_fraction=0.1, seed=0
)
del x_train_all, y_train_all
x_val = x_val.astype(np.float32) / 255
print(x_train.dtype, len(x_train), x_val.dtype, len(x_val))
plots.class_balance(
    {"train": np.bincount(y_train, minlength=10), "validation": np.bincount(y_val, minlength=10)},
    normalize=True,
)

# %% [markdown]
# ## 2. Measuring a classifier
#
# Accuracy is the share of examples whose predicted class is the true class.
# Keras models output one score (a logit, lesson 2) per class; the prediction
# is the class with the highest score, its `argmax`.
#
# ### Exercise 2 — accuracy (2 points)
#
# Write `accuracy`. Its arguments may be arrays or lists. It accepts predicted
# classes, shape `(n,)`, or scores, shape `(n, num_classes)`; in the second
# case take the argmax of each row first. Return a plain Python `float`, and
# raise a `ValueError` when the two arguments hold different numbers of
# examples (a silent broadcast would give nonsense).


# %% nbgrader={"grade": false, "grade_id": "accuracy", "locked": false, "schema_version": 3, "solution": true, "task": false}
def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of examples whose predicted class is the true class.

    Parameters
    ----------
    y_true : array-like
        True labels, shape (n,).
    y_pred : array-like
        Predicted labels, shape (n,), or scores per class, shape
        (n, num_classes), whose row-wise argmax is the predicted label.

    Returns
    -------
    float
        A Python float in [0, 1].

    Raises
    ------
    ValueError
        If y_true and y_pred hold different numbers of examples.
    """
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2:
        y_pred = y_pred.argmax(axis=1)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} examples but y_pred has {len(y_pred)}")
    return float(np.mean(y_true == y_pred))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "accuracy_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check accuracy: a Python float, right for labels, lists and scores (argmax of each row), and a ValueError on mismatched lengths."""
MEASURE = "reread '2. Measuring a classifier'"
acc = accuracy(np.array([0, 1, 2, 3]), np.array([0, 1, 0, 3]))
assert isinstance(acc, float), (
    f"expected a Python float, got {type(acc).__name__} (hint: wrap the result in float(...)); "
    + MEASURE
)
assert abs(acc - 0.75) < 1e-9, (
    f"3 of 4 predictions are right: expected 0.75, got {acc}: the share of right ones, "
    f"a true division; {MEASURE}"
)
scores = np.array([[0.1, 2.0, -1.0], [3.0, 0.5, 0.2], [0.0, 4.0, 0.2]])
try:
    acc_scores = accuracy(np.array([1, 0, 1]), scores)
except Exception as error:  # - any failure here has the same cause
    raise AssertionError(
        f"accuracy(y_true, scores) raised {type(error).__name__}: {error}. With scores of shape "
        f"(n, num_classes), take the argmax of each row first; {MEASURE}"
    ) from None
assert isinstance(acc_scores, float), f"expected a Python float, got {type(acc_scores).__name__}"
assert abs(acc_scores - 1.0) < 1e-9, (
    f"with scores, the predicted class of each example is the argmax of its row (axis=1): "
    f"here all three are right, expected 1.0, got {acc_scores}; {MEASURE}"
)
try:
    acc_list = accuracy([1, 1, 0], [1, 0, 0])
except Exception as error:  # - any failure here has the same cause
    raise AssertionError(
        f"accuracy([1, 1, 0], [1, 0, 0]) raised {type(error).__name__}: {error}. Lists must work "
        f"too: turn both arguments into arrays with np.asarray first; {MEASURE}"
    ) from None
assert isinstance(acc_list, float) and abs(acc_list - 2 / 3) < 1e-9, (
    f"accuracy([1, 1, 0], [1, 0, 0]) should be 2/3, got {acc_list!r}"
)
try:
    accuracy(np.array([0, 1, 2]), np.array([0, 1]))
except ValueError:
    pass
else:
    raise AssertionError(
        "accuracy should raise ValueError when y_true and y_pred differ in length: compare "
        f"len(y_true) with len(y_pred) after the argmax; {MEASURE}"
    )
print("accuracy: all visible checks passed")
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(9)
t = rng_h.integers(0, 10, size=1000)
p = np.where(rng_h.random(1000) < 0.37, t, (t + 1) % 10)
got = accuracy(t, p)
assert isinstance(got, float), "1,000 labels: accuracy should return a Python float"
assert abs(got - float(np.mean(t == p))) < 1e-9, (
    f"1,000 random labels: the accuracy is not the share of matching labels; {MEASURE}"
)
logits = rng_h.normal(size=(500, 10)).astype(np.float32) - 5.0  # negative scores
labels = rng_h.integers(0, 10, size=500)
got = accuracy(labels, logits)
assert isinstance(got, float), "scores of shape (500, 10): accuracy should return a Python float"
assert abs(got - float(np.mean(logits.argmax(axis=1) == labels))) < 1e-9, (
    "scores of shape (500, 10), all negative: the predicted class is the argmax of each row, "
    f"whatever the sign of the scores; {MEASURE}"
)
got = accuracy([1, 1, 0], [1, 1, 0])
assert isinstance(got, float) and abs(got - 1.0) < 1e-12, "lists should work: use np.asarray"
got = accuracy(np.array([2, 2], dtype=np.uint8), np.array([0, 1]))
assert isinstance(got, float) and abs(got) < 1e-12, (
    "uint8 labels, no right prediction: the accuracy should be 0.0"
)
try:
    accuracy(np.zeros(4, dtype=int), np.zeros((5, 10)))
    mismatch_error = None
except ValueError as error:
    mismatch_error = error
assert mismatch_error is not None, (
    "4 labels and 5 rows of scores must raise ValueError (compare lengths after the argmax); "
    + MEASURE
)
### END HIDDEN TESTS

# %% [markdown]
# The simplest **baseline**, a method any real model must beat: always answer
# *T-shirt/top* (label 0). What accuracy do you expect on balanced data?

# %%
accuracy(y_val, np.zeros_like(y_val))

# %% [markdown]
# 10 %, chance level.
#
# ## 3. Nearest centroid: classify by the closest mean image
#
# In lesson 1 you computed the mean image of every class. Those ten means,
# or centroids, are already a classifier, the **nearest centroid**: give a
# new image the class of the centroid closest to it, in Euclidean distance.
# "Training" is computing ten averages.
#
# ### Exercise 3 — fit the centroids (2 points)
#
# Write `fit_centroids`: flatten each image to a vector of $d$ pixels, and
# average the vectors of each class. Return `float32`.


# %% nbgrader={"grade": false, "grade_id": "fit_centroids", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_centroids(x: np.ndarray, y: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Compute the centroid (mean flattened image) of every class.

    Parameters
    ----------
    x : numpy.ndarray
        Images, shape (n, height, width), or already flat, shape (n, d).
    y : numpy.ndarray
        Integer labels, shape (n,); every class 0 .. num_classes - 1 occurs.
    num_classes : int
        How many classes there are.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (num_classes, d), d = height * width: row k is
        the mean of the flattened images of class k.
    """
    ### BEGIN SOLUTION
    flat = np.asarray(x).reshape(len(x), -1)
    y = np.asarray(y)
    return np.stack([flat[y == k].mean(axis=0) for k in range(num_classes)]).astype(np.float32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "fit_centroids_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check fit_centroids: a float32 array with one flat row per class, each the mean of its class."""
CENTROIDS = "reread '3. Nearest centroid: classify by the closest mean image'"
tiny_x = np.array([[[0, 2]], [[10, 10]], [[4, 7]], [[1, 1]]], dtype=np.float32)  # four 1x2 images
tiny_y = np.array([0, 1, 0, 2])
tiny = fit_centroids(tiny_x, tiny_y, num_classes=3)
assert isinstance(tiny, np.ndarray), f"expected a NumPy array, got {type(tiny).__name__}"
assert tiny.dtype == np.float32, (
    f"expected dtype float32, got {tiny.dtype} (hint: .astype(np.float32)); {CENTROIDS}"
)
assert tiny.shape == (3, 2), (
    f"num_classes=3 and 1x2 images should give shape (3, 2), one flat row per class, got "
    f"{tiny.shape}; {CENTROIDS}"
)
np.testing.assert_allclose(
    tiny, [[2, 4.5], [10, 10], [1, 1]],
    err_msg="row 0 should average the images of class 0, (0, 2) and (4, 7), giving (2, 4.5): "
    f"the mean of each pixel over the class, with a true division; {CENTROIDS}",
)  # fmt: skip
real = fit_centroids(x_test[:2000], y_test[:2000])
assert isinstance(real, np.ndarray) and real.dtype == np.float32, "expected a float32 NumPy array"
assert real.shape == (10, 784), f"expected shape (10, 784) on the images, got {real.shape}"
print("fit_centroids: all visible checks passed")
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4)
xh = rng_h.integers(0, 256, size=(60, 5, 4)).astype(np.uint8)
yh = np.concatenate([np.arange(4), rng_h.integers(0, 4, size=56)])
got = fit_centroids(xh, yh, num_classes=4)
assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (4, 20), (
    f"uint8 images of shape (5, 4), num_classes=4: expected a float32 array of shape "
    f"(num_classes, 20); {CENTROIDS}"
)
expected = np.stack([xh.reshape(60, -1)[yh == k].astype(np.float64).mean(axis=0) for k in range(4)])
msg = f"uint8 images: the class means are wrong (no rounding, no overflow); {CENTROIDS}"
np.testing.assert_allclose(got, expected, rtol=1e-5, err_msg=msg)
flat_h = rng_h.normal(size=(30, 7))
yflat = np.arange(30) % 3
got = fit_centroids(flat_h, yflat, num_classes=3)
assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (3, 7), (
    "images already flat, shape (n, 7): expected a float32 array of shape (3, 7)"
)
means_h = np.stack([flat_h[yflat == k].mean(axis=0) for k in range(3)])
msg = f"images already flat: the class means are wrong; {CENTROIDS}"
np.testing.assert_allclose(got, means_h, rtol=1e-5, atol=1e-6, err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 — predict the nearest centroid (2 points)
#
# You need the distance from each of $n$ images to each of the $k$
# centroids, without a double Python loop.
#
# > **Notation.** For an image $x$ and a centroid $c$, both rows of 784
# > pixels: $x \cdot c = \sum_d x_d c_d$ is their dot product (multiply
# > pixel by pixel, add up), and $\lVert x - c \rVert^2 = \sum_d (x_d - c_d)^2$
# > is their squared distance (lesson 1's distance, squared).
#
# Expanding the square,
#
# $$\lVert x - c \rVert^2 = \lVert x \rVert^2 - 2\, x \cdot c + \lVert c \rVert^2,$$
#
# and the middle term for all pairs at once is one matrix product,
# `x @ centroids.T`, of shape `(n, k)`. The first term is the same for every
# class, so it does not change which centroid is closest (nor does the square
# root). Broadcasting `x[:, None, :] - centroids[None, :, :]` works too, with
# more memory.


# %% nbgrader={"grade": false, "grade_id": "predict_nearest_centroid", "locked": false, "schema_version": 3, "solution": true, "task": false}
def predict_nearest_centroid(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Predict, for each image, the class of the closest centroid.

    Parameters
    ----------
    x : numpy.ndarray
        Images, shape (n, height, width), or already flat, shape (n, d).
    centroids : numpy.ndarray
        One flat centroid per class, shape (k, d), as fit_centroids returns.

    Returns
    -------
    numpy.ndarray
        Integer array of shape (n,): the index (class) of the centroid with
        the smallest Euclidean distance to each image.
    """
    ### BEGIN SOLUTION
    flat = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    centroids = np.asarray(centroids, dtype=np.float32)
    # ||x - c||^2 without the ||x||^2 term, which is the same for every class
    scores = (centroids**2).sum(axis=1) - 2 * flat @ centroids.T
    return scores.argmin(axis=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "predict_nearest_centroid_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check predict_nearest_centroid: integer labels of shape (n,), the closest centroid in Euclidean distance."""
NEAREST = "reread 'Exercise 4 — predict the nearest centroid (2 points)'"
cents = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 10.0]], dtype=np.float32)
points = np.array([[1.0, 1.0], [9.0, 8.0], [4.0, 6.0], [1.0, 9.0]], dtype=np.float32)
pred = predict_nearest_centroid(points, cents)
assert isinstance(pred, np.ndarray), f"expected a NumPy array, got {type(pred).__name__}"
assert np.issubdtype(pred.dtype, np.integer), (
    f"predictions are class indices: expected an integer dtype, got {pred.dtype} (hint: argmin)"
)
assert pred.shape == (4,), (
    f"expected one prediction per point, shape (4,), got {pred.shape}: take the argmin over "
    f"the centroids, axis 1; {NEAREST}"
)
assert pred.tolist() == [0, 1, 2, 2], (
    f"expected [0, 1, 2, 2], got {pred.tolist()}: (4, 6) is closest to centroid 2 at (0, 10); "
    f"take the argmin over centroids (axis 1), of distances, not of dot products; {NEAREST}"
)
imgs = np.zeros((3, 2, 2), dtype=np.float32)
try:
    img_pred = predict_nearest_centroid(
        imgs, np.array([[1, 1, 1, 1], [0, 0, 0, 0.5]], dtype=np.float32)
    )
except Exception as error:
    raise AssertionError(
        f"images of shape (3, 2, 2) raised {type(error).__name__}: {error}. Flatten them to "
        f"shape (n, d) first, as fit_centroids does; {NEAREST}"
    ) from None
assert isinstance(img_pred, np.ndarray) and img_pred.shape == (3,), (
    "images of shape (n, height, width) must be flattened first: expected shape (3,)"
)
assert img_pred.tolist() == [1, 1, 1], f"expected [1, 1, 1], got {img_pred.tolist()}"
print("predict_nearest_centroid: all visible checks passed")
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(8)
cents_h = rng_h.normal(size=(5, 20)).astype(np.float32) * 3
pts_h = rng_h.normal(size=(300, 20)).astype(np.float32) * 3
got = predict_nearest_centroid(pts_h, cents_h)
assert (
    isinstance(got, np.ndarray) and np.issubdtype(got.dtype, np.integer) and got.shape == (300,)
), "300 points, 5 centroids: expected an integer array of shape (300,)"
brute = np.array([np.argmin([np.linalg.norm(p - c) for c in cents_h]) for p in pts_h])
assert np.mean(got == brute) > 0.99, (
    f"300 random points: the predictions differ from the nearest centroid in Euclidean "
    f"distance; {NEAREST}"
)
# unequal centroid norms: a dot-product argmax alone would fail here
cents_n = np.array([[1.0, 0.0], [5.0, 0.0]], dtype=np.float32)
got = predict_nearest_centroid(np.array([[2.0, 0.0], [4.0, 0.0]], dtype=np.float32), cents_n)
assert isinstance(got, np.ndarray) and got.tolist() == [0, 1], (
    "centroids of different lengths: the closest centroid is not the one with the largest "
    f"dot product; keep the ||c||^2 term; {NEAREST}"
)
imgs_h = rng_h.integers(0, 256, size=(50, 4, 3)).astype(np.float32)
cents_img = imgs_h[:6].reshape(6, -1)
got = predict_nearest_centroid(imgs_h[:6], cents_img)
assert isinstance(got, np.ndarray) and got.shape == (6,), (
    "4x3 images: expected one prediction per image"
)
assert got.tolist() == list(range(6)), (
    f"each image should be nearest to itself when the centroids are the images; {NEAREST}"
)
### END HIDDEN TESTS

# %% [markdown]
# Fit on the training set (its means are on the 0 to 255 scale: divide by
# 255) and measure on the validation set. How long will 54,000 images take?
# What accuracy?

# %%
start = time.perf_counter()
centroids = fit_centroids(x_train, y_train) / 255
val_pred = predict_nearest_centroid(x_val, centroids)
seconds = time.perf_counter() - start
results = {"nearest centroid": accuracy(y_val, val_pred)}
print(f"accuracy {results['nearest centroid']:.1%} in {seconds:.2f} s")
plots.class_images(centroids, title="The ten centroids")

# %% [markdown]
# About 68 % on the full data, typically in well under a second: far above
# chance, from ten averages (lesson 1's mean images, above).
#
# ### Which classes does it confuse?
#
# The **confusion matrix** shows where the errors go. Row $i$ is the true
# class, column $j$ the predicted one; each row is divided by its total, so
# the diagonal is the share of each class that is recognised (its recall)
# and every off-diagonal cell is a kind of mistake. Lesson 1's mean images
# predicted that the tops would be confused, *Shirt* most of all. Check:

# %%
plots.confusion_matrix(y_val, val_pred, title="Nearest centroid, validation set")

# %% [markdown]
# The prediction holds up: *Shirt* is the worst row by far, its images
# spread over the other tops, and even *Sandal* (faint images, below), and
# *Pullover* and *Coat* swap often. A few of the errors:

# %%
wrong = np.flatnonzero(val_pred != y_val)[:12]
titles = [
    f"{CLASS_NAMES[t]}\n→ {CLASS_NAMES[p]}"
    for t, p in zip(y_val[wrong], val_pred[wrong], strict=True)
]
plots.image_grid(x_val[wrong], titles=titles, ncols=6, size=1.6)

# %% [markdown]
# A faint image, such as a light-grey pullover, can land on *Sandal*, whose
# mean is faint too: nearest centroid weighs every pixel equally, so the
# amount of ink can outweigh the outline. A better model should *learn*
# which pixels matter, and how much.
#
# ## 4. Softmax regression
#
# Softmax regression is lesson 3's model: one logit per class, each a
# weighted sum of all 784 pixels, $XW + b$. In Keras, a `Flatten` layer lays
# each $28 \times 28$ image out as a row of 784 pixels, and one `Dense`
# layer with ten outputs computes the logits.

# %%
softmax_regression = keras.Sequential(
    [keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)],
    name="softmax_regression",
)
softmax_regression.summary()

# %% [markdown]
# $784 \times 10$ weights plus 10 biases: 7,850 parameters. Train it as in
# lesson 3 (the cross-entropy, five epochs of mini-batches of 128), but with
# the Adam optimizer, which lesson 3 names as the common alternative to plain
# gradient descent.
# The course's `pipeline.batches` feeds `fit`: every epoch it shuffles the
# training images, cuts them into mini-batches, and scales each batch to
# `float32` in $[0, 1]$ only when the model asks for it, so no scaled copy of
# the whole training set is made. (`channel_axis=False` keeps each batch's
# shape `(128, 28, 28)`; convolution layers, next lesson, take one more axis.)

# %%
softmax_regression.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
train_batches = pipeline.batches(x_train, y_train, batch_size=128, shuffle=True, channel_axis=False)
history = softmax_regression.fit(
    train_batches,
    epochs=fast.epochs(5),
    shuffle=False,  # the batches are already shuffled, in a new order every epoch
    validation_data=(x_val, y_val),
    verbose=2,
)
results["softmax regression"] = accuracy(y_val, softmax_regression.predict(x_val, verbose=0))
results

# %% [markdown]
# About 84 % on the full data: sixteen points above the centroids, because
# the weights are *learned* to separate the classes rather than averaged.
# Below, each class's weights as an image: red pixels raise that class's
# score, blue ones lower it.

# %%
weights = softmax_regression.layers[-1].get_weights()[0]  # shape (784, 10)
plots.class_images(
    weights.T, title="Softmax regression: weights per class", cmap="RdBu_r", center=True
)

# %% [markdown]
# On the full data the weights are templates *with contrast*: *Trouser*
# punishes ink in the gap between the legs. Still, one weighted sum per class
# draws straight (linear) boundaries between the classes: it cannot say "a
# sleeve here *and* no collar there".
#
# ## 5. A small dense network
#
# Add a **hidden layer**: 128 units between the pixels $x$ (a row of 784)
# and the logits. Each unit computes a weighted sum, as a logit does, then
# its **ReLU**, $\mathrm{relu}(a) = \max(0, a)$, keeps the positive part:
#
# $$h = \mathrm{relu}(x W_1 + b_1), \qquad z = h W_2 + b_2 ,$$
#
# with $W_1$ of $784 \times 128$ and $W_2$ of $128 \times 10$. The hidden
# units learn 128 features of their own, and thanks to the ReLU the logits
# are no longer linear in the pixels.
#
# ### Exercise 5 — build the dense network (2 points)
#
# Write `build_dense_model`, returning a `keras.Sequential` model made of,
# in order: `keras.Input(shape=(28, 28))`, a `Flatten` layer, a `Dense` layer
# of `hidden_units` units with ReLU activation, and a `Dense` layer of
# `num_classes` units with **no** activation (it outputs logits, like the
# softmax regression above). In Keras, `keras.layers.Dense(n, activation="relu")`
# is a `Dense` layer of `n` units whose outputs go through the ReLU. Do not
# compile it. How many parameters do you expect with the defaults? Work it out
# before you run the check.


# %% nbgrader={"grade": false, "grade_id": "build_dense_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_dense_model(hidden_units: int = 128, num_classes: int = 10) -> keras.Model:
    """Build the dense network: Flatten, Dense(hidden_units, relu), Dense(num_classes).

    Parameters
    ----------
    hidden_units : int
        Units of the hidden layer.
    num_classes : int
        Units of the output layer, one score (logit) per class.

    Returns
    -------
    keras.Model
        A new, uncompiled keras.Sequential model taking (28, 28) images and
        returning num_classes logits per image.
    """
    ### BEGIN SOLUTION
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(hidden_units, activation="relu"),
            keras.layers.Dense(num_classes),
        ],
        name="dense_network",
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "build_dense_model_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check build_dense_model: a Keras model with the specified layers, shapes, activations and parameter count, for the defaults and for other arguments."""
DENSE = "reread '5. A small dense network'"
model = build_dense_model()
assert isinstance(model, keras.Model), f"expected a Keras model, got {type(model).__name__}"
assert model.built, (
    "the model does not know its input shape yet: start the Sequential with keras.Input(shape=(28, 28))"
)
kinds = [type(layer).__name__ for layer in model.layers]
assert kinds == ["Flatten", "Dense", "Dense"], (
    f"expected the layers Flatten, Dense, Dense (keras.Input is not a layer), got {kinds}; {DENSE}"
)
assert tuple(model.input_shape) == (None, 28, 28), (
    f"expected input shape (None, 28, 28), got {model.input_shape}: start with keras.Input(shape=(28, 28))"
)
assert tuple(model.output_shape) == (None, 10), (
    f"expected output shape (None, 10), got {model.output_shape}"
)
hidden, output = model.layers[1], model.layers[2]
assert hidden.units == 128, f"the hidden layer should have 128 units, it has {hidden.units}"
assert hidden.activation.__name__ == "relu", (
    f"the hidden layer should use ReLU, it uses {hidden.activation.__name__}; {DENSE}"
)
assert output.activation.__name__ == "linear", (
    f"the output layer should have no activation (logits), it uses "
    f"{output.activation.__name__}; {DENSE}"
)
n_params = model.count_params()
assert n_params == 101_770, (
    f"expected 784*128 + 128 + 128*10 + 10 = 101,770 parameters, got {n_params:,}"
)
other = build_dense_model(hidden_units=32, num_classes=5)
assert isinstance(other, keras.Model) and len(other.layers) == 3, (
    "build_dense_model(hidden_units=32, num_classes=5) should build the same three layers"
)
assert other.layers[1].units == 32 and tuple(other.output_shape) == (None, 5), (
    f"build_dense_model(hidden_units=32, num_classes=5): expected a hidden layer of 32 units "
    f"and 5 outputs, got {other.layers[1].units} and {other.output_shape[-1]}. Use the "
    f"arguments, not the default numbers; {DENSE}"
)
print("build_dense_model: all visible checks passed")
### BEGIN HIDDEN TESTS
small = build_dense_model(hidden_units=7, num_classes=3)
case = "build_dense_model(hidden_units=7, num_classes=3)"
assert isinstance(small, keras.Model), f"{case}: expected a Keras model"
assert [type(layer).__name__ for layer in small.layers] == ["Flatten", "Dense", "Dense"], (
    f"{case}: expected the layers Flatten, Dense, Dense; {DENSE}"
)
assert tuple(small.output_shape) == (None, 3), f"{case}: num_classes must set the output size"
assert small.layers[1].units == 7, f"{case}: hidden_units must set the hidden layer's size"
assert small.count_params() == 784 * 7 + 7 + 7 * 3 + 3, (
    f"{case}: the number of parameters is wrong (weights and biases of both Dense layers)"
)
assert small.layers[1].activation.__name__ == "relu", f"{case}: the hidden layer uses ReLU"
assert small.layers[2].activation.__name__ == "linear", (
    f"{case}: the output layer has no activation"
)
out = np.asarray(small(np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)))
assert out.shape == (3, 3), f"{case}: three images should give three rows of 3 scores"
assert not np.allclose(out.sum(axis=1), 1.0), "the model must output logits, not probabilities"
assert build_dense_model() is not build_dense_model(), (
    "each call must build a new model: create the Sequential inside the function"
)
### END HIDDEN TESTS

# %% [markdown]
# Train it like the softmax regression, for ten epochs.

# %%
dense = build_dense_model()
dense.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
history = dense.fit(
    train_batches,
    epochs=fast.epochs(10),
    shuffle=False,
    validation_data=(x_val, y_val),
    verbose=2,
)
results["dense network"] = accuracy(y_val, dense.predict(x_val, verbose=0))
results

# %% [markdown]
# About 88 % on the full data. Where does it still go wrong? Compare with
# the nearest centroid's confusion matrix.

# %%
plots.confusion_matrix(
    y_val, dense.predict(x_val, verbose=0), title="Dense network, validation set"
)

# %% [markdown]
# The diagonal is higher, but the pattern is the same: *Shirt* is still the
# hardest class, confused with the other tops.
#
# ## 6. The shuffled-pixels experiment
#
# Pick **one** random permutation of the 784 pixel positions and apply it to
# every training and validation image. Each image becomes noise to your eye,
# yet no information is lost: the same pixel values, in a different but
# consistent order.

# %%
rng = np.random.default_rng(0)
permutation = rng.permutation(28 * 28)
x_train_perm = x_train.reshape(len(x_train), -1)[:, permutation].reshape(x_train.shape)
x_val_perm = x_val.reshape(len(x_val), -1)[:, permutation].reshape(x_val.shape)
shown = np.concatenate([x_val[:8], x_val_perm[:8]])
titles = [CLASS_NAMES[label] for label in y_val[:8]] + ["shuffled"] * 8
plots.image_grid(shown, titles=titles, ncols=8)

# %% [markdown]
# **Write down your prediction first.** After retraining on shuffled images,
# will each model's accuracy go down a lot, a little, or not at all?

# %%
centroids_perm = fit_centroids(x_train_perm, y_train) / 255
val_pred_perm = predict_nearest_centroid(x_val_perm, centroids_perm)
results["nearest centroid, shuffled"] = accuracy(y_val, val_pred_perm)
f"same prediction as before for {np.mean(val_pred_perm == val_pred):.2%} of the images"

# %% [markdown]
# The same predictions: a Euclidean distance is a sum over pixels, and a
# sum does not depend on the order of its terms (at most, floating-point
# rounding could tip a near tie). Now the two Keras models, each trained
# from scratch on the shuffled images:

# %%
softmax_perm = keras.Sequential(
    [keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)],
    name="softmax_regression_shuffled",
)
softmax_perm.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
perm_batches = pipeline.batches(
    x_train_perm, y_train, batch_size=128, shuffle=True, channel_axis=False
)
softmax_perm.fit(perm_batches, epochs=fast.epochs(5), shuffle=False, verbose=0)
results["softmax regression, shuffled"] = accuracy(
    y_val, softmax_perm.predict(x_val_perm, verbose=0)
)
dense_perm = build_dense_model()
dense_perm.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
dense_perm.fit(perm_batches, epochs=fast.epochs(10), shuffle=False, verbose=0)
results["dense network, shuffled"] = accuracy(y_val, dense_perm.predict(x_val_perm, verbose=0))
plots.accuracy_comparison(results)

# %% [markdown]
# On shuffled pixels the dense network and the softmax regression do as well
# as on the real images: on the full data the differences are typically
# training noise, a few tenths of a percent. None of these models cares
# where a pixel is. Why?
#
# A dense layer gives every pixel its own weight and treats the 784 inputs
# as an unordered list. Shuffle the inputs, and shuffling the rows of $W_1$
# the same way gives exactly the same network. So it ignores the image's
# **spatial structure**, where each pixel is and which pixels are
# neighbours: a collar it learns at one position teaches it nothing about
# the same collar two pixels further right. See the cost: shift every
# validation image by three pixels, and ask the dense network again.

# %%
x_val_shifted = np.roll(x_val, 3, axis=2)  # three pixels to the right
results_shift = {
    "dense network": results["dense network"],
    "dense network, images shifted 3 px": accuracy(y_val, dense.predict(x_val_shifted, verbose=0)),
}
plots.accuracy_comparison(results_shift, title="The same images, moved three pixels")

# %% [markdown]
# A shift you would hardly notice takes the dense network from about 88 % to
# somewhere around 20–25 % on the full data, not far above chance.
#
# Convolutional layers, from lesson 5 on, build the spatial structure in:
# each unit looks at a small neighbourhood, and the same small filter slides
# over the whole image. So a convolutional network *would* suffer on shuffled
# images.
#
# ## 7. The test set, once
#
# The dense network won on the validation set. Now, and only now, measure
# it on the held-out test set:

# %%
x_test = x_test.astype(np.float32) / 255
test_accuracy = accuracy(y_test, dense.predict(x_test, verbose=0))
f"dense network, test accuracy: {test_accuracy:.1%}"

# %% [markdown]
# About 88 % on the full data (a quick run gets much lower), close to the
# validation accuracy: the validation set did its job of predicting
# performance on new images. This is the number the CNN has to beat.

# %% [markdown]
# ## Summary
#
# - Model choices are made on a validation set from a **stratified split**;
#   the held-out test set is used once, at the end.
# - A **baseline** sets the score to beat: chance is 10 %. The **confusion
#   matrix** shows which classes are mistaken for which.
# - **Nearest centroid**, ten averages and one matrix product, reaches about 68 %;
#   softmax regression, learned templates, about 84 %; a dense network with
#   one hidden layer, about 88 %. All confuse the tops, *Shirt* most.
# - Shuffling the pixels with one fixed permutation does not hurt any of them:
#   they ignore the **spatial structure**, and a three-pixel shift hurts the
#   dense network badly. Convolutions (next lesson) use that structure.

# %% [markdown]
# ## Further exercises
#
# These are not graded.
#
# 1. Train the dense network with 32, 128 and 512 hidden units. Plot validation
#    accuracy against the number of parameters. Where does adding units stop paying?
# 2. Try k-nearest neighbours: predict the majority class of the 5 closest
#    training images (a subset of 5,000, scaled to `float32` first: `uint8`
#    differences wrap around below 0). How much better, and how much slower?
# 3. Plot the dense network's validation accuracy against shifts of 0 to 5
#    pixels. Then train it on training images randomly shifted by up to 3 pixels
#    with `np.roll`. Does it recover?
# 4. Is the shuffled dense network *exactly* as good? Train both versions with
#    three seeds each and compare the spread of their accuracies with the
#    difference between them.
