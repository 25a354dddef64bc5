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
# # Lesson 2 — Learning one weight
#
# In the next lessons you will call `model.fit` and watch a network get
# better, epoch after epoch. This lesson and the next open that box. Here you
# train a model that has just **one** weight, so that everything fits in one
# picture: you measure how wrong the model is with one number, find which
# way to move the weight to make that number smaller, and take small steps
# that way. Lesson 3 does the same for a model with 7,850 weights.
#
# ## Learning objectives
#
# By the end of this lesson you can:
#
# - turn a model's scores into probabilities with the softmax, and measure its error with the cross-entropy loss;
# - draw a loss as a curve over one weight, and explain why training looks for its lowest point;
# - estimate the slope of a curve from two nearby points, and say which way it points downhill;
# - write gradient descent for one weight: small steps against the slope;
# - tell a learning rate that is too small, about right, or too large from the steps it takes.
#
# ## New ideas
#
# - **softmax**: turns a model's scores for the classes (its logits) into probabilities that add up to 1.
# - **cross-entropy loss**: one number for how wrong the model is, minus the log of the right class's probability.
# - **loss curve**: the loss drawn as a function of a weight; training looks for its lowest point.
# - **slope**: how fast the curve rises where you stand; its sign says which way is downhill.
# - **gradient descent**: small steps against the slope, repeated.
# - **learning rate**: the number that sets the size of those steps.
#
# Estimated time: about 55 minutes (29 reading, 18 on the exercises, 10 running the examples).

# %% [markdown]
# ## Setup
#
# Run this cell first. It imports what the lesson uses, checks the library
# versions and fixes the random seed.

# %%
import keras
import numpy as np

from fmnist_utils import fast, plots
from fmnist_utils.data import CLASS_NAMES, load_fashion_mnist
from fmnist_utils.environment import check_versions

check_versions()
keras.utils.set_random_seed(0)

# %% [markdown]
# ## 1. Scores from distances: a model with one weight
#
# Load the training images as in lesson 1 (this lesson never looks at the
# test set), flatten each $28 \times 28$ image into a row of 784 numbers,
# and scale the pixels to $[0, 1]$.
#
# `fast.training_data` returns all the images. A course can also be set up for a
# *quick run*, where `fast.training_data` keeps 200 images per class (and
# `fast.epochs`, in later lessons, trains for fewer passes): every lesson then
# runs in about a minute, and the accuracies you see are lower than the ones the
# lessons quote, which are for all the images.

# %%
(x_images, y_train), _ = load_fashion_mnist()
x_images, y_train = fast.training_data(x_images, y_train)
x_train = x_images.reshape(len(x_images), -1).astype(np.float32) / 255
del x_images  # the uint8 copy is no longer needed
x_train.shape

# %% [markdown]
# In lesson 1 you drew each class's **average image**. Here they are again:
# one row of 784 numbers per class.

# %%
averages = np.stack([x_train[y_train == k].mean(axis=0) for k in range(10)])
plots.class_images(averages, title="The average image of each class")

# %% [markdown]
# A simple way to classify an image: find the average image it is closest
# to. Measure "closest" with the **mean squared difference**: subtract the
# two images pixel by pixel, square the 784 differences, and average them.
# It is 0 for identical images and grows as they differ. Every image gets
# ten such distances, one per class:

# %%
distances = np.stack(
    [((x_train - average) ** 2).mean(axis=1) for average in averages], axis=1
).astype(np.float64)
distances.shape, distances[0].round(3), CLASS_NAMES[y_train[0]]

# %% [markdown]
# A classifier gives each image one **score** per class, and predicts the
# class with the highest score. Scores like these, raw numbers of any size
# and sign, are called **logits**. Turn the distances into logits with one
# number $s$:
#
# > **Notation.** For one image, $D_k$ is its distance to the average image
# > of class $k$ (for $k = 0, \dots, 9$), $s$ is the model's one **weight**
# > (a number training will choose), and $z_k$ is the image's logit for
# > class $k$. A small distance should give a high score, hence the minus sign.
#
# $$z_k = -s \, D_k$$
#
# For any $s > 0$ the highest logit is the smallest distance, so every
# $s > 0$ predicts the same classes, with the same accuracy:

# %%
for s in (1.0, 50.0):
    logits = -s * distances
    print(f"s = {s}: accuracy {np.mean(logits.argmax(axis=1) == y_train):.3f}")

# %% [markdown]
# So what is $s$ for? It decides how **sure** the model is. With $s = 0$
# all ten logits are 0 and the model has no preference; the larger $s$, the
# further apart the logits, and the more the model trusts its nearest
# average image. To see that, and to choose $s$, you need probabilities.
#
# ## 2. Probabilities: the softmax
#
# The **softmax** turns the ten logits of an image into ten probabilities,
#
# $$p_k = \frac{e^{z_k}}{\sum_{j=0}^{9} e^{z_j}} ,$$
#
# where $e^{z}$ is the exponential (`np.exp`), always positive, and
# $\sum_{j=0}^{9}$ means "add up over $j = 0, 1, \dots, 9$". Each $p_k$ is
# positive, the ten of them add up to 1, and a higher logit gives a higher
# probability. Here is the first training image's, for three values of $s$:

# %%
for s in (0.0, 10.0, 60.0):
    z = -s * distances[0]
    p = np.exp(z) / np.exp(z).sum()
    print(f"s = {s:>4}: {p.round(2)}")

# %% [markdown]
# At $s = 0$ every class gets 0.1. As $s$ grows, the probability piles up
# on the classes whose average image is nearest. That is good when the
# nearest class is the right one, and bad when it is not: the model becomes
# sure of its mistakes too. The best $s$ is a compromise, and the next
# section gives it a number.
#
# ## 3. A loss: one number for how wrong
#
# To choose a weight you need to measure how wrong the model is, as **one
# number** that is small when the predictions are good: the **loss**.
# Accuracy is a poor loss: here it is the same for every $s > 0$, and in
# general it only changes when a prediction flips, so it cannot tell you
# which way to move a weight.
#
# The **cross-entropy loss** of one image whose true label is $y$ is
#
# $$\ell = -\log p_y ,$$
#
# minus the (natural) log of the probability the model gives to the *right*
# class: 0 when the model is sure and right ($p_y = 1$), large when it gives
# the right class little probability. The loss of a batch of $n$ images is
# the **mean** of their $\ell$, so that it does not depend on the batch size.
#
# **A worked example.** One image with logits $(2, 1, 0)$ for three classes,
# true label 1:
#
# - $e^2 = 7.389$, $e^1 = 2.718$, $e^0 = 1$, which add up to $11.107$;
# - $p_1 = 2.718 / 11.107 = 0.2447$;
# - $\ell = -\log 0.2447 = 1.4076$.
#
# A second image with logits $(0, 0, 3)$ and label 2 has $\ell = 0.0949$, so
# the batch of both has loss $(1.4076 + 0.0949)/2 = 0.7513$.

# %%
example = np.array([2.0, 1.0, 0.0])
p = np.exp(example) / np.exp(example).sum()
p.round(4), float(-np.log(p[1]))

# %% [markdown]
# One practical problem: $e^{z}$ overflows a float for logits in the
# hundreds, and the formula then computes infinity divided by infinity.

# %%
big = np.array([1000.0, 0.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(big) / np.exp(big).sum()
naive

# %% [markdown]
# The cure: subtract the row's largest logit $m$ from every logit first.
# The softmax does not change (the factor $e^{-m}$ cancels above and below),
# and the largest exponent becomes $e^0 = 1$. The log then simplifies:
#
# $$\log p_y = (z_y - m) - \log \sum_j e^{z_j - m} .$$
#
# ### Exercise 1 — the cross-entropy loss (2 points)
#
# Write `softmax_cross_entropy`: the mean cross-entropy of a batch, from its
# logits (one row per image) and integer labels, computed in this stable
# way. It must:
#
# - return a plain Python `float`, the **mean** over the batch (the worked example above gives 1.4076 for the first image alone and 0.7513 for both);
# - use the probability of the **true** label, with the minus sign;
# - work for any number of classes (the number of columns), and for a batch of one image;
# - stay finite when logits are in the thousands, also when rows differ from each other by thousands (subtract each **row's** own maximum);
# - accept lists as well as arrays, and labels of any integer type.


# %% nbgrader={"grade": false, "grade_id": "softmax_cross_entropy", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy loss of a batch, computed from its logits.

    Parameters
    ----------
    logits : array-like
        Scores, shape (n, num_classes): row i holds example i's logits.
    labels : array-like
        Integer labels, shape (n,), each in 0 .. num_classes - 1.

    Returns
    -------
    float
        The mean over the n examples of -log(softmax(logits[i])[labels[i]]),
        a Python float; finite even for logits in the thousands.
    """
    ### BEGIN SOLUTION
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "softmax_cross_entropy_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check softmax_cross_entropy: a Python float, log(k) for equal logits, the true class's probability, the mean, large logits, Keras' value."""
LOSS = "reread '3. A loss: one number for how wrong'"
equal = softmax_cross_entropy(np.zeros((1, 3)), np.array([2]))
assert isinstance(equal, float), (
    f"expected a Python float, got {type(equal).__name__}: average the losses of the examples "
    f"and wrap the result in float(...); {LOSS}"
)
assert abs(equal - np.log(3)) < 1e-6, (
    f"with three equal logits every class has probability 1/3, so the loss is "
    f"-log(1/3) = log(3) = 1.0986, got {equal:.4f}: take the softmax across each row "
    f"(axis=1), and -log of it; {LOSS}"
)
demo_logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
one = softmax_cross_entropy(demo_logits[:1], np.array([1]))
assert abs(one - 1.4076) < 1e-3, (
    f"one image with logits (2, 1, 0) and true label 1: p_1 = e^1 / (e^2 + e^1 + e^0) = 0.2447, "
    f"so the loss is -log(0.2447) = 1.4076, got {one:.4f}. Use the probability of the TRUE "
    f"label (not of the predicted class), with a minus sign; {LOSS}"
)
two = softmax_cross_entropy(demo_logits, np.array([1, 2]))
assert abs(two - (1.4076 + 0.0949) / 2) < 1e-3, (
    f"two images with losses 1.4076 and 0.0949: expected their mean, 0.7513, got {two:.4f}. "
    f"The loss of a batch is the mean, not the sum; {LOSS}"
)
with np.errstate(all="ignore"):
    huge = softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]))
assert np.isfinite(huge) and abs(huge - 1000.0) < 1e-6, (
    f"logits (1000, 0, -1000), true label 1: the loss should be 1000, got {huge}: np.exp "
    f"overflows for large logits; subtract each row's largest logit first; {LOSS}"
)
x_check = x_train[:64]
random_logits = x_check @ np.random.default_rng(1).normal(0, 0.1, size=(784, 10))
keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
expected = float(keras_loss(y_train[:64], random_logits))
mine = softmax_cross_entropy(random_logits, y_train[:64])
assert abs(mine - expected) <= 1e-6 * max(1.0, abs(expected)), (
    f"on 64 training images Keras' cross-entropy is {expected:.6f}, yours {mine:.6f}; {LOSS}"
)
print("softmax_cross_entropy: all visible checks passed")
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5)
z_h = rng_h.normal(size=(50, 7)) * 3
y_h = rng_h.integers(0, 7, size=50).astype(np.uint8)
z_shift = z_h - z_h.max(axis=1, keepdims=True)
ref = -np.mean(z_shift[np.arange(50), y_h] - np.log(np.exp(z_shift).sum(axis=1)))
got = softmax_cross_entropy(z_h, y_h)
assert isinstance(got, float), "50 examples of 7 classes: expected a Python float"
assert abs(got - ref) < 1e-6, (
    f"50 examples of 7 classes, uint8 labels: the loss is wrong; the number of classes is the "
    f"number of columns; {LOSS}"
)
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    apart = softmax_cross_entropy(np.array([[1000.0, 0.0], [-1000.0, -1003.0]]), np.array([1, 0]))
assert np.isfinite(apart) and abs(apart - (1000.0 + np.log1p(np.exp(-3.0))) / 2) < 1e-6, (
    f"two rows whose logits differ by thousands from each other: the loss is not finite or "
    f"wrong. Subtract each row's own largest logit (max over axis=1, keepdims=True), not the "
    f"largest of the whole batch; {LOSS}"
)
listed = softmax_cross_entropy([[0.0, 1.0], [2.0, 0.0]], [1, 0])
expected_listed = (np.log1p(np.exp(-1.0)) + np.log1p(np.exp(-2.0))) / 2
assert isinstance(listed, float) and abs(listed - expected_listed) < 1e-6, (
    f"lists of logits and labels should work too: turn them into arrays first; {LOSS}"
)
single = softmax_cross_entropy(np.array([[0.5, -0.5, 2.0, 0.0]]), np.array([2]))
assert abs(single - (np.log(np.exp([0.5, -0.5, 2.0, 0.0]).sum()) - 2.0)) < 1e-6, (
    f"a batch of one example with four classes: the loss is wrong; {LOSS}"
)
### END HIDDEN TESTS

# %% [markdown]
# Your loss agrees with the one Keras uses when it trains (to within
# $10^{-6}$, the rounding of 32-bit floats). With $s = 0$ every class gets
# $p = 1/10$, so the loss is $-\log(1/10) = \log 10 \approx 2.303$, whatever
# the images:

# %%
softmax_cross_entropy(-0.0 * distances, y_train), float(np.log(10))

# %% [markdown]
# ## 4. One weight, one curve
#
# The loss over the training images depends only on $s$: call it $L(s)$. A
# function of one number can be drawn as a curve, here the **loss curve**.
# Write it as a Python function, and draw it for $s$ from 0 to 150:


# %%
def loss_at(s: float) -> float:
    """The cross-entropy over the training images when the model's weight is s."""
    return softmax_cross_entropy(-s * distances, y_train)


plots.descent_paths(
    loss_at, span=(0, 150), xlabel="weight s", title="The loss for every value of s"
)

# %% [markdown]
# The curve starts at $\log 10$ for $s = 0$, falls to a lowest point, and
# rises again: a small $s$ makes the model too unsure, even when its nearest
# average image is right; a large $s$ makes it too sure, also of its
# mistakes. **Training** means finding the $s$ at the bottom of this curve.
# Trying 151 values, as the picture did, finds it roughly:

# %%
tried = np.arange(0, 151)
tried_losses = [loss_at(s) for s in tried]
best_tried = int(tried[np.argmin(tried_losses)])
best_tried, min(tried_losses)

# %% [markdown]
# Trying values works for one weight. It cannot work for a network with
# thousands of weights: ten values for each of 10 weights is already
# $10^{10}$ combinations. What scales is to stand somewhere, find which way
# is downhill, and take a small step that way, again and again. "Which way
# is downhill" is the **slope** of the curve.
#
# ## 5. The slope: which way is downhill
#
# > **Notation.** The **slope** of $L$ at $s$ is written $\frac{dL}{ds}$
# > (read "d L by d s"; it is also called the **derivative**). It is how much
# > $L$ changes per unit of change in $s$, for a tiny change. A negative
# > slope means the loss falls as $s$ grows: downhill is to the right. A
# > positive slope means downhill is to the left. At the bottom the slope
# > is 0.
#
# You can **estimate** the slope at $s$ from two nearby points, a small
# distance $h$ to either side: the rise of the curve between them divided
# by the run $2h$,
#
# $$\frac{dL}{ds} \approx \frac{L(s + h) - L(s - h)}{2h} .$$
#
# **A worked example.** Take $f(s) = (s - 3)^2$, whose bottom is at
# $s = 3$, and estimate its slope at $s = 1$ with $h = 0.001$:
#
# - $f(1.001) = (-1.999)^2 = 3.996001$ and $f(0.999) = (-2.001)^2 = 4.004001$;
# - the rise is $3.996001 - 4.004001 = -0.008$, the run $2h = 0.002$;
# - the slope is $-0.008 / 0.002 = -4$: negative, so downhill is to the right, towards 3.
#
# (If you know derivatives from school: $2(s - 3) = -4$ at $s = 1$. The
# estimate is exact here because $f$ is a parabola.)


# %%
def f(s):
    """The worked example's curve."""
    return (s - 3) ** 2


(f(1.001) - f(0.999)) / (2 * 0.001)

# %% [markdown]
# Why one point on each side, and not just $L(s + h) - L(s)$ over $h$? The
# two-sided estimate is much closer for the same $h$. For $g(s) = s^3$ at
# $s = 1$, whose exact slope is 3, with $h = 0.1$: the two-sided estimate is
# $(1.331 - 0.729) / 0.2 = 3.01$, the one-sided one $(1.331 - 1)/0.1 = 3.31$.
#
# ### Exercise 2 — the slope of a curve (2 points)
#
# Write `slope(f, s, h=1e-3)`: the two-sided estimate of the slope of the
# function `f` at the number `s`, $\frac{f(s + h) - f(s - h)}{2h}$. It must:
#
# - return a plain Python `float`;
# - give $-4$, $0$ and $4$ for $(s - 3)^2$ at $s = 1$, $3$ and $5$ (as in the worked example);
# - be two-sided: for $s^3$ at $s = 1$ with `h=0.1` it gives 3.01, not 3.31 or 2.71;
# - use the `h` it is given: for $s^3$ at $s = 1$ with `h=0.5` it gives 3.25;
# - work for any function of one number, such as `np.sin` or your `loss_at`.


# %% nbgrader={"grade": false, "grade_id": "slope", "locked": false, "schema_version": 3, "solution": true, "task": false}
def slope(f, s: float, h: float = 1e-3) -> float:
    """Estimate the slope of f at s from one point on each side.

    Parameters
    ----------
    f : callable
        A function of one number that returns a number.
    s : float
        Where to estimate the slope.
    h : float, optional
        How far to each side of s to look.

    Returns
    -------
    float
        (f(s + h) - f(s - h)) / (2 h), a Python float.
    """
    ### BEGIN SOLUTION
    return float((f(s + h) - f(s - h)) / (2 * h))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "slope_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check slope: a Python float, the parabola's slopes left of, at and right of its bottom, two-sided, the h it is given."""
SLOPE = "reread '5. The slope: which way is downhill'"
parabola = np.poly1d([1.0, -6.0, 9.0])  # (s - 3)**2, as a NumPy polynomial
cubic = np.poly1d([1.0, 0.0, 0.0, 0.0])  # s**3
left = slope(parabola, 1.0)
assert isinstance(left, float), (
    f"expected a Python float, got {type(left).__name__}: wrap the result in float(...); {SLOPE}"
)
assert abs(left - -4.0) < 1e-6, (
    f"(s - 3)**2 at s = 1: the worked example gives a slope of -4, got {left:.4f}. Divide the "
    f"rise f(s + h) - f(s - h) by the run 2 * h; {SLOPE}"
)
assert abs(slope(parabola, 3.0)) < 1e-6, (
    f"(s - 3)**2 at its bottom, s = 3: the slope should be 0; {SLOPE}"
)
right = slope(parabola, 5.0)
assert abs(right - 4.0) < 1e-6, (
    f"(s - 3)**2 at s = 5, right of the bottom: the slope should be +4 (downhill is to the "
    f"left), got {right:.4f}. Subtract f(s - h) from f(s + h), in that order; {SLOPE}"
)
cube = slope(cubic, 1.0, h=0.1)
assert abs(cube - 3.31) > 1e-3 and abs(cube - 2.71) > 1e-3, (
    f"s**3 at s = 1 with h=0.1: you got {cube:.4f}, the one-sided estimate. Look at one point on "
    f"EACH side, s + h and s - h, and divide by 2 * h; {SLOPE}"
)
assert abs(cube - 3.01) < 1e-9, (
    f"s**3 at s = 1 with h=0.1: the two-sided estimate is (1.331 - 0.729) / 0.2 = 3.01, got "
    f"{cube:.4f}. Use the h passed in, not a fixed number; {SLOPE}"
)
wide = slope(cubic, 1.0, h=0.5)
assert abs(wide - 3.25) < 1e-9, (
    f"s**3 at s = 1 with h=0.5: expected (1.5**3 - 0.5**3) / 1 = 3.25, got {wide:.4f}. Use the h "
    f"passed in, not a fixed number; {SLOPE}"
)
print("slope: all visible checks passed")
### BEGIN HIDDEN TESTS
at_zero = slope(np.sin, 0.0)
assert isinstance(at_zero, float) and abs(at_zero - 1.0) < 1e-6, (
    f"np.sin at 0: the slope should be about 1 (and a Python float); {SLOPE}"
)
at_top = slope(np.sin, np.pi / 2, h=1e-4)
assert abs(at_top) < 1e-6, f"np.sin at pi / 2, its highest point: the slope should be 0; {SLOPE}"
steep = slope(np.poly1d([5.0, -2.0]), -7.0, h=2.0)
assert abs(steep - 5.0) < 1e-9, f"the straight line 5 s - 2 has slope 5 everywhere; {SLOPE}"
loss_slope = slope(loss_at, 20.0)
expected = (loss_at(20.0 + 1e-3) - loss_at(20.0 - 1e-3)) / 2e-3
assert abs(loss_slope - expected) < 1e-9, (
    f"the loss curve at s = 20, default h: the slope is wrong; {SLOPE}"
)
### END HIDDEN TESTS

# %% [markdown]
# Now the loss curve's slope, left of its bottom, near it, and right of it:

# %%
{s: round(slope(loss_at, s), 4) for s in (20.0, float(best_tried), 120.0)}

# %% [markdown]
# Negative on the left (move right), close to 0 near the bottom, positive on
# the right (move left): the slope always points uphill, so **minus** the
# slope points downhill.
#
# ## 6. Gradient descent: small steps downhill
#
# **Gradient descent** repeats one move: estimate the slope where you stand,
# and step against it, by an amount proportional to it,
#
# > **Notation.** $\eta$ (the Greek letter eta) is the **learning rate**, a
# > positive number that sets the size of the steps. The arrow $\leftarrow$
# > means "replace by": the new $s$ is computed from the old one.
#
# $$s \leftarrow s - \eta \, \frac{dL}{ds} .$$
#
# Where the curve is steep the steps are long, and near the bottom, where
# the slope is close to 0, they get short. The slope only describes the
# curve right where you stand, so the steps must stay small enough for that
# description to hold.
#
# **A worked example.** On $f(s) = (s - 3)^2$, start at $s = 0$ with
# $\eta = 0.25$:
#
# | step | $s$ | slope $2(s - 3)$ | new $s = s - 0.25 \times \text{slope}$ |
# |---|---|---|---|
# | 1 | 0 | $-6$ | $0 + 1.5 = 1.5$ |
# | 2 | 1.5 | $-3$ | $1.5 + 0.75 = 2.25$ |
# | 3 | 2.25 | $-1.5$ | $2.25 + 0.375 = 2.625$ |
#
# Each step halves the distance to the bottom at 3.
#
# ### Exercise 3 — gradient descent on one weight (2 points)
#
# Write `descend(f, start, learning_rate, steps)`: run `steps` steps of
# gradient descent on the function `f`, starting at `start`, each step
# using your `slope` (with its default `h`). Return the list of all the
# positions, the start first, so `steps + 1` Python floats. It must:
#
# - give `[0.0, 1.5, 2.25, 2.625]` for the worked example (`steps=3`);
# - return just `[start]` for `steps=0`, and stay put for a learning rate of 0;
# - step against the slope: for $(s - 3)^2$ from $s = 6$ it moves left;
# - take every step even when they grow: with a learning rate of 1.5 on $(s - 3)^2$ from 0, the positions are $0, 9, -9, 27$.


# %% nbgrader={"grade": false, "grade_id": "descend", "locked": false, "schema_version": 3, "solution": true, "task": false}
def descend(f, start: float, learning_rate: float, steps: int) -> list[float]:
    """Gradient descent on a function of one number.

    Parameters
    ----------
    f : callable
        The function to make small, of one number.
    start : float
        Where to start.
    learning_rate : float
        The step size, eta: each step moves by -learning_rate * slope.
    steps : int
        How many steps to take.

    Returns
    -------
    list of float
        The positions, start first: steps + 1 Python floats.
    """
    ### BEGIN SOLUTION
    positions = [float(start)]
    for _ in range(steps):
        positions.append(positions[-1] - learning_rate * slope(f, positions[-1]))
    return positions
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "descend_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check descend: a list of steps + 1 floats starting at the start, the worked example's steps, against the slope, zero steps and rate."""
DESCEND = "reread '6. Gradient descent: small steps downhill'"
parabola = np.poly1d([1.0, -6.0, 9.0])  # (s - 3)**2, as a NumPy polynomial
path = descend(parabola, 0.0, 0.25, 3)
assert isinstance(path, list) and all(isinstance(v, float) for v in path), (
    f"expected a list of Python floats, got {type(path).__name__}; {DESCEND}"
)
assert len(path) == 4, (
    f"3 steps give 4 positions (the start, then one after each step), got {len(path)}; {DESCEND}"
)
assert path[0] == 0.0, f"the list starts with the start, 0.0, got {path[0]}; {DESCEND}"
assert abs(path[1] - -1.5) > 1e-6, (
    f"the first step went uphill, to -1.5: step AGAINST the slope, s - learning_rate * slope; "
    f"{DESCEND}"
)
np.testing.assert_allclose(
    path, [0.0, 1.5, 2.25, 2.625], atol=1e-6,
    err_msg=f"(s - 3)**2 from 0 with learning rate 0.25: the worked example's positions are "
    f"0, 1.5, 2.25, 2.625. Each step starts where the last one ended; {DESCEND}",
)  # fmt: skip
assert descend(parabola, 6.0, 0.25, 1)[1] < 6.0, (
    f"(s - 3)**2 from 6, right of the bottom: the step should move left; {DESCEND}"
)
assert descend(parabola, 0.5, 0.25, 0) == [0.5], f"steps=0 returns just [start]; {DESCEND}"
print("descend: all visible checks passed")
### BEGIN HIDDEN TESTS
assert np.allclose(descend(parabola, 0.0, 1.5, 3), [0.0, 9.0, -9.0, 27.0], atol=1e-6), (
    f"(s - 3)**2 from 0 with learning rate 1.5: expected 0, 9, -9, 27. Take every step, even "
    f"when they grow; {DESCEND}"
)
still = descend(parabola, 1.0, 0.0, 4)
assert still == [1.0] * 5, f"learning rate 0 must stay at the start: got {still}; {DESCEND}"
other = descend(np.poly1d([2.0, 4.0, 2.0]), 3.0, 0.1, 5)  # 2 (s + 1)**2
expected, s = [3.0], 3.0
for _ in range(5):
    s = s - 0.1 * 4 * (s + 1)
    expected.append(s)
assert np.allclose(other, expected, atol=1e-6), (
    f"2 (s + 1)**2 from 3 with learning rate 0.1, 5 steps: the positions are wrong; {DESCEND}"
)
### END HIDDEN TESTS

# %% [markdown]
# Now train the model: start at $s = 0$ and take 10 steps on the loss
# curve. The slopes here are small (about $-0.07$ at $s = 0$: the curve is
# gently sloped), so a useful learning rate is large; try 1,000. What a
# good learning rate is depends on the problem, which is why you will
# choose it again for every model.

# %%
trained = descend(loss_at, 0.0, 1000.0, 10)
plots.descent_paths(
    loss_at, {"learning rate 1000": trained}, span=(0, 150), xlabel="weight s",
    title="Gradient descent on one weight",
)  # fmt: skip

# %%
trained[-1], loss_at(trained[-1]), best_tried

# %% [markdown]
# Ten steps, and $s$ is at the bottom that trying 151 values found, to
# within a step of the grid. You have trained a model: measured its error,
# found which way is downhill, and walked there.
#
# ## 7. The learning rate, made visible
#
# How large should the steps be? Here are three learning rates, each for 15
# steps from $s = 0$, drawn on the same curve (positions beyond either
# edge are drawn at that edge, and counted):

# %%
rates = (100.0, 1000.0, 30000.0)
runs = {f"learning rate {rate:g}": descend(loss_at, 0.0, rate, 15) for rate in rates}
plots.descent_paths(loss_at, runs, span=(0, 400), xlabel="weight s")

# %%
for name, path in runs.items():
    print(f"{name:>20}: {[round(s) for s in path]}")

# %% [markdown]
# - **Too small** (100): every step goes the right way, but they are so
#   short that 15 of them get only part of the way to the bottom; training
#   would need many more.
# - **About right** (1,000): the first step lands near the bottom, and the
#   next ones settle there.
# - **Too large** (30,000): the first step jumps far past the bottom, to
#   where the loss is higher than at the start. The steps walk back, and
#   near the bottom they jump from one side to the other instead of
#   settling. With a steeper curve the jumps would grow each time, and
#   training **diverges**.
#
# The same three behaviours, with the same names, are what you will look
# for in the loss curves of every network in this course.

# %% [markdown]
# ## Summary
#
# - A classifier gives each image one **logit** per class; the **softmax** turns them into probabilities that add up to 1.
# - The **cross-entropy loss** $-\log p_y$, averaged over the images, measures how wrong a model is in one number; it can change when the accuracy does not.
# - A model's **weight** is a number training chooses; the loss as a function of one weight is a curve, and training looks for its bottom.
# - The **slope** $\frac{dL}{ds}$ says which way is uphill; two nearby points estimate it.
# - **Gradient descent** takes small steps against the slope, $s \leftarrow s - \eta \frac{dL}{ds}$; the **learning rate** $\eta$ must be neither too small nor too large.

# %% [markdown]
# ## Further exercises
#
# These are not graded.
#
# 1. Estimate the loss curve's slope at $s = 20$ with $h$ = 10, 1, 0.001 and
#    $10^{-12}$. Which estimates agree? What goes wrong with the largest $h$,
#    and with the smallest (print `loss_at(20 + 1e-12) - loss_at(20)`)?
# 2. Find the largest learning rate for which 10 steps from $s = 0$ still end
#    within 2 of `best_tried`. Is it closer to 1,000 or to 30,000?
# 3. Use your own distance: the mean **absolute** difference instead of the
#    squared one. Draw its loss curve. Is the lowest loss lower?
