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
# # Lesson 3 — Learning all the weights
#
# In lesson 2 you trained a model with one weight: a loss curve, its slope,
# and small steps downhill. A real network has thousands of weights, and
# the same ideas carry over with one change: instead of one slope there is
# one per weight, computed for all of them at once. You train softmax
# regression, the simplest neural network, in NumPy, and check that Keras'
# `fit` takes exactly your steps.
#
# ## Learning objectives
#
# By the end of this lesson you can:
#
# - write a dense layer as a matrix product, $XW + b$, and read the shapes involved;
# - follow the derivation of the gradient of the cross-entropy for softmax regression, compute it, and check it against TensorFlow's automatic one;
# - write a gradient-descent training loop with mini-batches and epochs, and read its loss and accuracy curves;
# - explain that `model.fit` runs this loop for you, with an optimizer that turns each gradient into a step.
#
# ## New ideas
#
# - **dense layer**: every output is a weighted sum of all the inputs, plus a bias; for a batch, one matrix product $XW + b$.
# - **gradient**: one slope per weight, all computed at once.
# - **chain rule**: the slope through several steps is the product of the steps' slopes.
# - **mini-batch**: a small random group of images; each training step uses one.
# - **epoch**: one pass over the whole training set, batch after batch.
# - **optimizer**: the rule that turns a gradient into a step; `fit` runs the loop with it.
#
# Estimated time: about 65 minutes (32 reading, 24 on the exercises, 9 running the examples).

# %% [markdown]
# ## Setup
#
# Run this cell first. It imports what the lesson uses, checks the library
# versions and fixes the random seed.

# %%
import time

import keras
import numpy as np
import tensorflow as tf

from fmnist_utils import fast, plots
from fmnist_utils.data import load_fashion_mnist
from fmnist_utils.environment import check_versions
from fmnist_utils.rate_explorer import learning_rate_explorer

check_versions()
keras.utils.set_random_seed(0)

# %% [markdown]
# ## 1. The model: ten weighted sums
#
# Load the training images as in lesson 2, flattened and scaled to
# $[0, 1]$. Then set a random tenth aside as a **validation set**: images
# the model does not train on, to see how it does on images it has not seen.

# %%
(x_images, y_all), _ = load_fashion_mnist()
x_images, y_all = fast.training_data(x_images, y_all)
x_all = x_images.reshape(len(x_images), -1).astype(np.float32) / 255
del x_images  # the uint8 copy is no longer needed
order = np.random.default_rng(0).permutation(len(x_all))
n_val = len(x_all) // 10
x_val, y_val = x_all[order[:n_val]], y_all[order[:n_val]]
x_train, y_train = x_all[order[n_val:]], y_all[order[n_val:]]
del x_all
x_train.shape, x_val.shape

# %% [markdown]
# Lesson 2's model computed each logit from a distance to an average image,
# with one weight. **Softmax regression** lets training choose the logits
# freely: each class's logit is a weighted sum of all the pixels, with
# its own weight for every pixel, plus a constant.
#
# > **Notation.** For one image, $x_d$ is pixel $d$ ($d = 1, \dots, 784$).
# > $W_{dk}$ is the **weight** that pixel $d$ contributes to class $k$'s
# > logit, and $b_k$ is class $k$'s **bias**, a constant. $z_k$ is the
# > image's logit for class $k$, as in lesson 2. $\sum_{d=1}^{784}$ means
# > "add up over $d = 1, 2, \dots, 784$".
#
# $$z_k = \sum_{d=1}^{784} x_d W_{dk} + b_k .$$
#
# The weights form a $784 \times 10$ matrix $W$ (one column per class) and
# the biases a row $b$ of 10 numbers: 7,850 numbers for training to choose.
#
# > **Notation.** Stack a batch of $n$ images as the rows of a matrix $X$
# > ($n \times 784$). The **matrix product** $XW$ (`X @ W` in NumPy) is the
# > $n \times 10$ matrix whose row $i$, column $k$ is
# > $\sum_d X_{id} W_{dk}$: the weighted sums above, for every image and
# > class at once. So all the logits of a batch are one line, $Z = XW + b$,
# > with $b$ added to every row.
#
# This is a **dense layer**: every output is a weighted sum of all the
# inputs, plus a bias. The course writes it this way, images as rows, in
# every lesson. Start with every weight and bias at zero, and look at the
# logits of three images and the accuracy on the validation set:

# %%
weights = np.zeros((784, 10), dtype=np.float32)
bias = np.zeros(10, dtype=np.float32)
print(x_train[:3] @ weights + bias)
float(np.mean((x_val @ weights + bias).argmax(axis=1) == y_val))

# %% [markdown]
# Every logit is 0: the model has no preference, and its accuracy is
# chance, about 10 %. The loss is lesson 2's cross-entropy. Keras computes
# the same number (you checked your own against it), so this lesson uses
# Keras' version, wrapped to return a Python float. `from_logits=True` tells Keras that it receives
# logits, and must apply the softmax itself.

# %%
keras_cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def mean_loss(logits: np.ndarray, labels: np.ndarray) -> float:
    """The mean cross-entropy of a batch, from its logits and integer labels."""
    return float(keras_cross_entropy(labels, logits))


mean_loss(x_train @ weights + bias, y_train), float(np.log(10))

# %% [markdown]
# ## 2. The gradient: a slope for every weight
#
# The loss is now a function of 7,850 numbers, a landscape over them, and
# training still means walking downhill. For each weight there is a slope:
# how fast the loss changes when that one weight changes a little, every
# other number held fixed.
#
# > **Notation.** That slope is the **partial derivative**
# > $\frac{\partial L}{\partial W_{dk}}$; the curly $\partial$ says "with all
# > the other numbers held fixed". The **gradient** $\nabla_W L$ (read
# > "grad W of L") is the matrix of all of them, the same shape as $W$, and
# > $\nabla_b L$ holds the ten for the biases. $L$ is the mean loss of a
# > batch and $\ell$ the loss of one image.
#
# Lesson 2's estimate from two nearby points would work for each weight,
# but it needs two loss evaluations per weight: 15,700 for one step. Time
# one evaluation on a batch of 128 images:

# %%
x_batch, y_batch = x_train[:128], y_train[:128]
started = time.perf_counter()
for _ in range(20):
    mean_loss(x_batch @ weights + bias, y_batch)
one_loss = (time.perf_counter() - started) / 20
f"one loss: {one_loss * 1000:.2f} ms, so 15,700 of them: {15_700 * one_loss:.0f} s per step"

# %% [markdown]
# Far too slow for thousands of steps. For softmax regression the gradient
# can instead be worked out once, as a formula, in two steps.
#
# > **Notation.** Write the labels **one-hot**: label 3 becomes the row
# > $(0, 0, 0, 1, 0, 0, 0, 0, 0, 0)$, 1 at the true class and 0 elsewhere.
# > For a batch, $Y$ stacks these rows ($n \times 10$), and $P$ stacks the
# > softmax probabilities of every image ($n \times 10$). $X^\top$ is the
# > **transpose** of $X$ (`X.T`): its rows become columns, so it is
# > $784 \times n$.
#
# **Step 1, the logits.** One image's loss, written out with the softmax,
# is $\ell = -z_y + \log \sum_j e^{z_j}$. Its slope with respect to the
# logit $z_k$ is $-1$ if $k = y$ (from the first term) plus
# $e^{z_k} / \sum_j e^{z_j} = p_k$ (from the second: the slope of $\log u$
# is $1/u$ and that of $e^{z}$ is $e^{z}$, multiplied by the chain rule
# below):
#
# $$\frac{\partial \ell}{\partial z_k} = p_k - Y_k ,$$
#
# the predicted probabilities minus the one-hot label: negative for the
# true class (raise that logit), positive for the others (lower them), and
# small when the prediction is already right.
#
# **Step 2, the weights.** The batch loss is the mean over $n$ images, so
# for image $i$ the slope with respect to its logits is the row
# $G_i = (P_i - Y_i) / n$. The logit $z_{ik}$ depends on the weight $W_{dk}$
# through the term $x_{id} W_{dk}$, whose slope is $x_{id}$. The **chain
# rule** says that the slope through several steps is the product of the
# steps' slopes; adding up over every image the weight affects,
#
# $$\frac{\partial L}{\partial W_{dk}} = \sum_{i=1}^{n} x_{id}\, G_{ik},
# \qquad \frac{\partial L}{\partial b_k} = \sum_{i=1}^{n} G_{ik},$$
#
# or, for all weights at once, $\nabla_W L = X^\top G$ (shape
# $784 \times 10$, like $W$) and $\nabla_b L$ = the column sums of $G$
# (shape 10, like $b$), with $G = (P - Y)/n$.
#
# **A worked example.** Two images of 3 pixels, two classes, all weights
# and biases zero:
#
# $$X = \begin{pmatrix} 1 & 0 & 2 \\ 0 & 1 & 1 \end{pmatrix}, \qquad
# \text{labels } (0, 1), \qquad
# Y = \begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}.$$
#
# - All logits are 0, so every probability is $1/2$: $P = \begin{pmatrix} 0.5 & 0.5 \\ 0.5 & 0.5 \end{pmatrix}$.
# - $G = (P - Y)/2 = \begin{pmatrix} -0.25 & 0.25 \\ 0.25 & -0.25 \end{pmatrix}$.
# - $\nabla_W L = X^\top G$: row $d$ is pixel $d$'s values times $G$'s columns, added over the two images. Pixel 1 is $(1, 0)$, so its row is $1 \cdot (-0.25, 0.25) + 0 \cdot (0.25, -0.25) = (-0.25, 0.25)$; pixel 2 gives $(0.25, -0.25)$, pixel 3 gives $2 \cdot (-0.25, 0.25) + 1 \cdot (0.25, -0.25) = (-0.25, 0.25)$.
# - $\nabla_b L$ = the column sums of $G$ = $(0, 0)$.
#
# Pixel 1 is lit only in the class-0 image, so its class-0 weight has a
# negative slope: raising it lowers the loss. The same in NumPy, with the
# slope of one weight estimated as in lesson 2 for comparison:

# %%
x_tiny = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
y_tiny = np.array([0, 1])
p_tiny = np.full((2, 2), 0.5)  # all logits 0
g_tiny = (p_tiny - np.eye(2)[y_tiny]) / 2
print(x_tiny.T @ g_tiny, g_tiny.sum(axis=0))
h = 1e-3
nudged = np.zeros((3, 2))
nudged[0, 0] = h  # only the weight of pixel 1 for class 0 moves
estimate = (mean_loss(x_tiny @ nudged, y_tiny) - mean_loss(x_tiny @ -nudged, y_tiny)) / (2 * h)
f"pixel 1, class 0: estimated from two nearby points {estimate:.3f}"

# %% [markdown]
# ### Exercise 1 — the gradient (3 points)
#
# Write `gradients`, returning the gradient of the mean cross-entropy with
# respect to the weights and to the biases, as derived above. It must:
#
# - return a tuple of two arrays, shaped like the weights and like the biases (the worked example gives the $3 \times 2$ and 2 numbers above);
# - divide by the number of images $n$ (the loss is a mean), and use $P - Y$, not $Y - P$;
# - work for any number of images (also one), pixels and classes: take them from the shapes;
# - compute $P$ the stable way, as in lesson 2, subtracting each row's largest logit, so that the result stays finite when logits are in the thousands.


# %% nbgrader={"grade": false, "grade_id": "gradients", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradients(
    weights: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the mean cross-entropy of softmax regression.

    Parameters
    ----------
    weights : numpy.ndarray
        Weights, shape (d, num_classes).
    bias : numpy.ndarray
        Biases, shape (num_classes,).
    x : numpy.ndarray
        A batch of flat images, shape (n, d).
    y : numpy.ndarray
        Their integer labels, shape (n,).

    Returns
    -------
    tuple of numpy.ndarray
        (d_weights, d_bias): the derivatives of the mean loss with respect to
        every weight, shape (d, num_classes), and every bias, shape (num_classes,).
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    z = x @ weights + bias
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    g = p / len(y)
    return x.T @ g, g.sum(axis=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gradients_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Check gradients: two arrays shaped like the weights and biases, equal to TensorFlow's automatic gradient (mean, sign, bias), on small and real data."""
GRAD = "reread '2. The gradient: a slope for every weight'"


def tape_gradients(w, b, xb, yb):
    """The gradient TensorFlow computes by automatic differentiation."""
    w_var, b_var = tf.Variable(w, dtype=tf.float64), tf.Variable(b, dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            yb, tf.constant(xb, tf.float64) @ w_var + b_var
        )
    return [g.numpy() for g in tape.gradient(loss, [w_var, b_var])]


rng_v = np.random.default_rng(2)
w_small, b_small = rng_v.normal(size=(3, 5)), rng_v.normal(size=5)
x_small, y_small = rng_v.normal(size=(4, 3)), np.array([4, 0, 2, 0])
result = gradients(w_small, b_small, x_small, y_small)
assert isinstance(result, tuple) and len(result) == 2, (
    "expected a tuple of two arrays, (d_weights, d_bias)"
)
d_w, d_b = (np.asarray(part) for part in result)
assert d_w.shape == (3, 5) and d_b.shape == (5,), (
    f"4 images of 3 pixels, 5 classes: expected d_weights of shape (3, 5) like the weights and "
    f"d_bias of shape (5,) like the biases, got {d_w.shape} and {d_b.shape}. d_weights is "
    f"X.T @ G, d_bias the sum of G over the images (axis=0); {GRAD}"
)
tape_w, tape_b = tape_gradients(w_small, b_small, x_small, y_small)
if np.allclose(d_w, 4 * tape_w, atol=1e-8):
    raise AssertionError(
        f"your d_weights are 4 times too large on a batch of 4 images: the loss is the MEAN over "
        f"the images, so divide P - Y by n; {GRAD}"
    )
if np.allclose(d_w, -tape_w, atol=1e-8):
    raise AssertionError(
        f"your d_weights have the wrong sign: the derivative with respect to the logits is "
        f"P - Y (probabilities minus one-hot), not Y - P; {GRAD}"
    )
np.testing.assert_allclose(
    d_w, tape_w, atol=1e-5,
    err_msg=f"d_weights differ from TensorFlow's gradient: compute G = (P - Y) / n with the "
    f"softmax of each row and the one-hot labels, then X.T @ G; {GRAD}",
)  # fmt: skip
np.testing.assert_allclose(
    d_b, tape_b, atol=1e-5,
    err_msg=f"d_bias differs from TensorFlow's gradient: it is the sum of G = (P - Y) / n over "
    f"the images (axis=0); {GRAD}",
)  # fmt: skip
w_real = np.random.default_rng(3).normal(0, 0.01, size=(784, 10)).astype(np.float32)
d_w, d_b = gradients(w_real, np.zeros(10, np.float32), x_val[:32], y_val[:32])
tape_w, tape_b = tape_gradients(w_real, np.zeros(10), x_val[:32], y_val[:32])
np.testing.assert_allclose(
    np.asarray(d_w), tape_w, atol=1e-5,
    err_msg=f"on 32 Fashion-MNIST images, d_weights differ from TensorFlow's gradient; {GRAD}",
)  # fmt: skip
print("gradients: all visible checks passed")
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(11)
w_h, b_h = rng_h.normal(size=(6, 4)), rng_h.normal(size=4)
x_h, y_h = rng_h.normal(size=(9, 6)), rng_h.integers(0, 4, size=9)
got = gradients(w_h, b_h, x_h, y_h)
assert isinstance(got, tuple) and len(got) == 2, "9 images of 6 pixels: expected two arrays"
ref_w, ref_b = tape_gradients(w_h, b_h, x_h, y_h)
case = "9 images of 6 pixels, 4 classes"
msg = f"{case}: d_weights are wrong; {GRAD}"
np.testing.assert_allclose(np.asarray(got[0]), ref_w, atol=1e-6, err_msg=msg)
msg = f"{case}: d_bias is wrong; {GRAD}"
np.testing.assert_allclose(np.asarray(got[1]), ref_b, atol=1e-6, err_msg=msg)
with np.errstate(all="ignore"):
    big_w = gradients(w_h * 1000, b_h, x_h, y_h)
assert all(np.isfinite(np.asarray(part)).all() for part in big_w), (
    f"{case}, weights 1000 times larger (logits in the thousands): the gradient is not finite; "
    f"subtract each row's largest logit before np.exp; {GRAD}"
)
ref_big_w, _ = tape_gradients(w_h * 1000, b_h, x_h, y_h)
msg = f"{case}, logits in the thousands: d_weights are wrong; {GRAD}"
np.testing.assert_allclose(np.asarray(big_w[0]), ref_big_w, atol=1e-5, err_msg=msg)
one_w, one_b = gradients(w_h, b_h, x_h[:1], y_h[:1])
ref_w, ref_b = tape_gradients(w_h, b_h, x_h[:1], y_h[:1])
msg = f"a batch of one image: d_weights are wrong; {GRAD}"
np.testing.assert_allclose(np.asarray(one_w), ref_w, atol=1e-6, err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# TensorFlow computes gradients automatically: `tf.GradientTape` records
# every operation on the weights, then applies the chain rule backwards
# through them. Keras trains this way. Compare its gradient with yours on a
# batch of real images, with small random weights:

# %%
x_batch, y_batch = x_train[:64], y_train[:64]
w_random = np.random.default_rng(0).normal(0, 0.01, size=(784, 10)).astype(np.float32)
w_var, b_var = tf.Variable(w_random), tf.Variable(bias)
with tf.GradientTape() as tape:
    batch_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        y_batch, x_batch @ w_var + b_var
    )
auto_w, auto_b = tape.gradient(batch_loss, [w_var, b_var])
mine_w, mine_b = gradients(w_random, bias, x_batch, y_batch)
float(np.abs(mine_w - auto_w.numpy()).max()), float(np.abs(mine_b - auto_b.numpy()).max())

# %% [markdown]
# The largest differences are below $10^{-5}$: float rounding. The gradient
# has one number per weight, so each class's column can be drawn as an
# image. Here is the **negative** gradient at zero weights, the direction
# of steepest descent: red pixels are weights that should grow, blue ones
# weights that should shrink.

# %%
d_weights, d_bias = gradients(weights, bias, x_train[:512], y_train[:512])
plots.class_images(
    -d_weights.T, title="Downhill direction for each class's weights", cmap="RdBu_r", center=True
)

# %% [markdown]
# At zero weights every $p_k = 0.1$, so when each class makes up about a
# tenth of the batch, class $k$'s picture is a tenth of (the mean image of
# class $k$ minus the mean image of the batch): the first step pushes each
# class's weights towards what its own images look like, and away from the
# others.
#
# ## 3. Gradient descent on every weight
#
# Lesson 2's step, $s \leftarrow s - \eta \frac{dL}{ds}$, becomes one step
# for every weight, each against its own slope, with the same learning rate
# $\eta$:
#
# $$W \leftarrow W - \eta \, \nabla_W L, \qquad b \leftarrow b - \eta \, \nabla_b L .$$
#
# As in lesson 2, the step must stay small, because the gradient only
# describes the landscape where you stand; section 5 shows what happens
# otherwise.
#
# ### Exercise 2 — one step (2 points)
#
# Write `sgd_step`: one gradient-descent step on a batch, using your
# `gradients`. It must:
#
# - return **new** arrays, shaped like the ones passed in, and leave those unchanged (write `weights - ...`, not `weights -= ...`, which would change the caller's array too);
# - step against the gradient, scaled by the learning rate, for the weights **and** the biases;
# - return the same values for a learning rate of 0, and work for any number of pixels and classes.


# %% nbgrader={"grade": false, "grade_id": "sgd_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sgd_step(
    weights: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray, learning_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """One step of gradient descent for softmax regression on one batch.

    Parameters
    ----------
    weights, bias : numpy.ndarray
        The current weights, shape (d, num_classes), and biases, shape (num_classes,).
    x, y : numpy.ndarray
        The batch: flat images, shape (n, d), and integer labels, shape (n,).
    learning_rate : float
        The step size, eta.

    Returns
    -------
    tuple of numpy.ndarray
        (new_weights, new_bias), new arrays: each parameter minus learning_rate
        times its gradient. The arrays passed in are left unchanged.
    """
    ### BEGIN SOLUTION
    d_weights, d_bias = gradients(weights, bias, x, y)
    return weights - learning_rate * d_weights, bias - learning_rate * d_bias
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sgd_step_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check sgd_step: new arrays of the right shapes, the inputs unchanged, a step against the gradient of both weights and biases, scaled by the learning rate."""
STEP = "reread '3. Gradient descent on every weight'"
rng_v = np.random.default_rng(4)
w0, b0 = rng_v.normal(size=(3, 4)), rng_v.normal(size=4)
x0, y0 = rng_v.normal(size=(5, 3)), np.array([0, 3, 3, 1, 2])
w_before, b_before = w0.copy(), b0.copy()
result = sgd_step(w0, b0, x0, y0, learning_rate=0.5)
assert isinstance(result, tuple) and len(result) == 2, (
    "expected a tuple of two arrays, (new_weights, new_bias)"
)
w1, b1 = (np.asarray(part) for part in result)
assert w1.shape == (3, 4) and b1.shape == (4,), (
    f"expected new weights of shape (3, 4) and new biases of shape (4,), got {w1.shape} and "
    f"{b1.shape}; {STEP}"
)
assert np.array_equal(w0, w_before) and np.array_equal(b0, b_before), (
    f"sgd_step changed the arrays passed in: compute new ones with weights - learning_rate * "
    f"d_weights instead of -=, which overwrites the caller's weights; {STEP}"
)
g_w, g_b = gradients(w_before, b_before, x0, y0)
moved_w, moved_b = w1 - w_before, b1 - b_before
assert not np.allclose(moved_w, 0), f"the weights did not move: take the step; {STEP}"
assert not np.allclose(moved_w, 0.5 * np.asarray(g_w)), (
    f"the weights moved uphill: the step goes AGAINST the gradient (minus); {STEP}"
)
np.testing.assert_allclose(
    moved_w, -0.5 * np.asarray(g_w), atol=1e-6,
    err_msg=f"with learning_rate=0.5 the weights should move by -0.5 times their gradient: "
    f"multiply the gradient by the learning rate; {STEP}",
)  # fmt: skip
np.testing.assert_allclose(
    moved_b, -0.5 * np.asarray(g_b), atol=1e-6,
    err_msg=f"the biases should take the same kind of step as the weights, with their own "
    f"gradient (d_bias); {STEP}",
)  # fmt: skip
print("sgd_step: all visible checks passed")
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(12)
w_h, b_h = rng_h.normal(size=(7, 3)), rng_h.normal(size=3)
x_h, y_h = rng_h.normal(size=(10, 7)), rng_h.integers(0, 3, size=10)
same_w, same_b = sgd_step(w_h, b_h, x_h, y_h, learning_rate=0.0)
msg = f"learning_rate=0 must leave the weights as they are; {STEP}"
np.testing.assert_allclose(np.asarray(same_w), w_h, atol=1e-12, err_msg=msg)
msg = f"learning_rate=0 must leave the biases as they are; {STEP}"
np.testing.assert_allclose(np.asarray(same_b), b_h, atol=1e-12, err_msg=msg)
g_w, g_b = gradients(w_h, b_h, x_h, y_h)
new_w, new_b = sgd_step(w_h, b_h, x_h, y_h, learning_rate=3.0)
msg = f"learning_rate=3 with 7 pixels and 3 classes: the new weights are wrong; {STEP}"
np.testing.assert_allclose(np.asarray(new_w), w_h - 3.0 * np.asarray(g_w), atol=1e-6, err_msg=msg)
msg = f"learning_rate=3 with 7 pixels and 3 classes: the new biases are wrong; {STEP}"
np.testing.assert_allclose(np.asarray(new_b), b_h - 3.0 * np.asarray(g_b), atol=1e-6, err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# One step on a batch of 64 images, and the loss on that batch before and
# after:

# %%
x_batch, y_batch = x_train[:64], y_train[:64]
stepped_w, stepped_b = sgd_step(weights, bias, x_batch, y_batch, learning_rate=0.1)
before = mean_loss(x_batch @ weights + bias, y_batch)
after = mean_loss(x_batch @ stepped_w + stepped_b, y_batch)
before, after

# %% [markdown]
# Downhill. Training is this step, repeated thousands of times.
#
# ## 4. Mini-batches and epochs
#
# A gradient over all 54,000 training images would cost a pass over all of
# them for every step. Instead, each step uses a **mini-batch**: a small
# random group of images (here 128). Its gradient is a noisy estimate of
# the full one at a fraction of the cost, so you get hundreds of steps for
# the price of one. This is **stochastic gradient descent** (SGD),
# "stochastic" for the random batches.
#
# To use every image equally, shuffle the training set, cut it into
# consecutive mini-batches, and take one step per batch. One such pass over
# the training set is an **epoch**; training runs several, with a new
# shuffle each time.
#
# ### Exercise 3 — one epoch (3 points)
#
# Write `train_epoch`, one epoch of mini-batch gradient descent:
#
# 1. draw the order of the examples with **one** call, `rng.permutation(len(x))`,
#    using the generator `rng` passed in (so the same seed gives the same epoch);
# 2. cut that order into consecutive batches of `batch_size` examples; the last
#    batch holds what is left, and may be smaller (10 examples in batches of 4
#    make batches of 4, 4 and 2);
# 3. for each batch, first record the batch's loss with the current weights
#    (`mean_loss`, a Python float), then take one `sgd_step`.
#
# Return the final weights and biases, and the list of the recorded losses,
# one per batch. Leave the arrays passed in unchanged. A `batch_size` larger
# than the data gives one batch that holds everything.


# %% nbgrader={"grade": false, "grade_id": "train_epoch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_epoch(
    weights: np.ndarray,
    bias: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    learning_rate: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Train softmax regression for one epoch of mini-batch gradient descent.

    Parameters
    ----------
    weights, bias : numpy.ndarray
        The starting weights, shape (d, num_classes), and biases, shape (num_classes,).
    x, y : numpy.ndarray
        The training set: flat images, shape (n, d), and integer labels, shape (n,).
    batch_size : int
        Examples per mini-batch; the last batch may be smaller.
    learning_rate : float
        The step size of every sgd_step.
    rng : numpy.random.Generator
        Draws the order of the examples, with one rng.permutation(len(x)) call.

    Returns
    -------
    tuple
        (weights, bias, losses): the weights and biases after the epoch, and a
        list of Python floats, each batch's loss just before its step.
    """
    ### BEGIN SOLUTION
    order = rng.permutation(len(x))
    losses = []
    for start in range(0, len(x), batch_size):
        batch = order[start : start + batch_size]
        x_batch, y_batch = x[batch], y[batch]
        losses.append(mean_loss(x_batch @ weights + bias, y_batch))
        weights, bias = sgd_step(weights, bias, x_batch, y_batch, learning_rate)
    return weights, bias, losses
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "train_epoch_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Check train_epoch: one loss per mini-batch (the last one smaller), every example used, shuffled with the given generator, reproducible, the loss going down."""
EPOCH = "reread '4. Mini-batches and epochs'"
x_ten = np.eye(10)  # example i lights up pixel i only: its weights move only when it is used
y_ten = np.arange(10) % 3
w_zero, b_zero = np.zeros((10, 3)), np.zeros(3)
result = train_epoch(w_zero, b_zero, x_ten, y_ten, 4, 1.0, np.random.default_rng(0))
assert isinstance(result, tuple) and len(result) == 3, (
    "expected a tuple of three things, (weights, bias, losses)"
)
w_end, b_end, losses = result
assert isinstance(losses, list) and all(isinstance(v, float) for v in losses), (
    f"losses should be a list of Python floats (mean_loss returns one per batch); {EPOCH}"
)
assert len(losses) == 3, (
    f"10 examples in batches of 4 make 3 batches (4, 4 and the 2 left over), so 3 losses, got "
    f"{len(losses)}: loop over range(0, len(x), batch_size) and keep the smaller last batch; {EPOCH}"
)
assert np.array_equal(w_zero, np.zeros((10, 3))), (
    f"train_epoch changed the weights passed in: let sgd_step return new arrays; {EPOCH}"
)
w_end = np.asarray(w_end)
assert w_end.shape == (10, 3), f"expected final weights of shape (10, 3), got {w_end.shape}"
unused = [i for i in range(10) if np.allclose(w_end[i], 0)]
assert not unused, (
    f"examples {unused} were never used in this epoch (their weights did not move): every "
    f"example belongs to exactly one batch; {EPOCH}"
)
seeds = [train_epoch(w_zero, b_zero, x_ten, y_ten, 4, 1.0, np.random.default_rng(s))[2]
         for s in (0, 0, 1, 2)]  # fmt: skip
assert seeds[0] == seeds[1], (
    f"the same seed gave different epochs: draw the order only from the rng passed in; {EPOCH}"
)
assert seeds[0] != seeds[2] or seeds[0] != seeds[3], (
    f"different generators gave the same batches: shuffle with rng.permutation(len(x)) at the "
    f"start of the epoch, using the rng passed in; {EPOCH}"
)
x_sub, y_sub = x_train[:1000], y_train[:1000]
_, _, real_losses = train_epoch(weights, bias, x_sub, y_sub, 50, 0.1, np.random.default_rng(0))
assert len(real_losses) == 20, "1,000 images in batches of 50: expected 20 losses"
assert abs(real_losses[0] - np.log(10)) < 1e-4, (
    f"the first loss should be measured before the first step, at zero weights: log(10) = "
    f"2.3026, got {real_losses[0]:.4f}; {EPOCH}"
)
assert np.mean(real_losses[-5:]) < np.mean(real_losses[:5]), (
    f"on 1,000 Fashion-MNIST images the loss did not go down during the epoch: take a step "
    f"after every batch, and keep the new weights; {EPOCH}"
)
print("train_epoch: all visible checks passed")
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(21)
x_h, y_h = rng_h.normal(size=(23, 5)), rng_h.integers(0, 4, size=23)
w_h, b_h = rng_h.normal(size=(5, 4)) * 0.1, np.zeros(4)
got_w, got_b, got_losses = train_epoch(w_h, b_h, x_h, y_h, 5, 0.3, np.random.default_rng(8))
ref_order = np.random.default_rng(8).permutation(23)
ref_w, ref_b, ref_losses = w_h.copy(), b_h.copy(), []
for start in range(0, 23, 5):
    idx = ref_order[start : start + 5]
    z = x_h[idx] @ ref_w + ref_b
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    ref_losses.append(float(-np.log(p[np.arange(len(idx)), y_h[idx]]).mean()))
    p[np.arange(len(idx)), y_h[idx]] -= 1
    ref_w, ref_b = ref_w - 0.3 * x_h[idx].T @ p / len(idx), ref_b - 0.3 * p.mean(axis=0)
case = "23 examples in batches of 5, learning_rate=0.3, order from rng.permutation(23)"
assert isinstance(got_losses, list) and len(got_losses) == 5, f"{case}: expected 5 losses; {EPOCH}"
np.testing.assert_allclose(
    got_losses, ref_losses, atol=1e-5,
    err_msg=f"{case}: the losses differ. Record each batch's loss BEFORE its step, on that "
    f"batch only, with the order of one rng.permutation(len(x)) call; {EPOCH}",
)  # fmt: skip
np.testing.assert_allclose(
    np.asarray(got_w), ref_w, atol=1e-6, err_msg=f"{case}: the final weights differ; {EPOCH}"
)
np.testing.assert_allclose(
    np.asarray(got_b), ref_b, atol=1e-6, err_msg=f"{case}: the final biases differ; {EPOCH}"
)
_, _, whole = train_epoch(w_h, b_h, x_h, y_h, 100, 0.3, np.random.default_rng(8))
assert len(whole) == 1, f"a batch_size larger than the data gives one batch of everything; {EPOCH}"
### END HIDDEN TESTS

# %% [markdown]
# Now train for a few epochs. After each, measure the loss and the accuracy
# on the training and validation sets, kept in a dictionary of lists, the
# form of the history Keras' `fit` returns, so the curve plot can draw it.

# %%
learning_rate, batch_size = 0.1, 128
rng = np.random.default_rng(0)
w, b = weights, bias
history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
for _ in range(fast.epochs(5)):
    w, b, batch_losses = train_epoch(w, b, x_train, y_train, batch_size, learning_rate, rng)
    for prefix, xs, ys in (("", x_train, y_train), ("val_", x_val, y_val)):
        scores = xs @ w + b
        history[prefix + "loss"].append(mean_loss(scores, ys))
        history[prefix + "accuracy"].append(float(np.mean(scores.argmax(axis=1) == ys)))
{key: round(values[-1], 3) for key, values in history.items()}

# %%
plots.learning_curves(history)

# %% [markdown]
# The loss falls and the accuracy rises, fast in the first epoch and slowly
# after. Within an epoch, the loss of each mini-batch is noisy, because every
# batch holds different images; here is the last epoch, step by step:

# %%
plots.step_losses({"last epoch": batch_losses}, title="Loss of each mini-batch")

# %% [markdown]
# ## 5. The learning rate, again
#
# The learning rate matters as much with 7,850 weights as with one, but its
# good values here are thousands of times smaller than lesson 2's: a step
# here changes the weights of all 784 pixels at once, so the logits, and
# the loss, change much faster. Move the slider: each time, the tool
# retrains softmax regression from zero weights for 60 steps on the same
# mini-batches of 64 images, with `mean_loss` and your `gradients`, and
# redraws the loss after every step. Try 0.001, 0.1, and rates from 1 up.

# %%
learning_rate_explorer(
    x_train[:2000], y_train[:2000], loss=mean_loss, gradients=gradients, start=0.001
)

# %% [markdown]
# - **Too small**: the loss barely moves; every step is correct but tiny,
#   and training would need far more of them.
# - **About right**: the loss falls quickly, then more slowly as it nears the
#   bottom of the valley.
# - **Too large**: each step jumps past the bottom of the valley, higher up
#   the other side; the loss jumps around or grows, and training
#   **diverges**.
#
# Three runs side by side, drawn from the loss lists the tool keeps:

# %%
explorer = learning_rate_explorer(
    x_train[:2000], y_train[:2000], loss=mean_loss, gradients=gradients
)
plots.step_losses(
    {f"learning rate {rate}": explorer.run(rate) for rate in (0.001, 0.1, 3.0)},
    start=float(np.log(10)),
    title="Three learning rates, the same mini-batches",
)

# %% [markdown]
# ## 6. `fit` is this loop, automated
#
# Keras' `model.fit` runs exactly this loop: shuffle, cut into mini-batches,
# and for each batch compute the loss, its gradient (by automatic
# differentiation) and a step. The rule that turns a gradient into a step is
# the **optimizer**; yours is `keras.optimizers.SGD`. Check it: give a Keras
# softmax regression the weights your loop reached, let `fit` take one step
# on one batch, and take the same step with your `sgd_step`.

# %%
model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10)])
model.set_weights([w.astype(np.float32), b.astype(np.float32)])
model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)
x_batch, y_batch = x_train[:128], y_train[:128]
model.fit(x_batch, y_batch, batch_size=128, epochs=1, shuffle=False, verbose=0)
keras_w, keras_b = model.get_weights()
my_w, my_b = sgd_step(w, b, x_batch, y_batch, learning_rate)
difference = max(float(np.abs(keras_w - my_w).max()), float(np.abs(keras_b - my_b).max()))
f"largest difference between fit's step and yours: {difference:.1e}", difference < 1e-5

# %% [markdown]
# The same step, to float rounding. From now on the course lets `fit` run
# the loop: `epochs=` sets the number of epochs, `batch_size=` the
# mini-batch size, and the optimizer the step. The next lessons use
# **Adam**, a gradient-descent step that adapts its size to each weight
# (see "Going further" below).

# %% [markdown]
# ## Summary
#
# - A **dense layer** computes every logit of a batch at once as $Z = XW + b$: images as rows, one weight per pixel and class.
# - The **gradient** holds one slope per weight; for softmax regression the **chain rule** gives $X^\top (P - Y)/n$, where $Y$ is the one-hot labels, and it matches TensorFlow's automatic gradient.
# - Gradient descent steps every weight against its own slope; **mini-batches** make each step cheap, and an **epoch** is one pass over the training set.
# - `model.fit` runs this same loop; its **optimizer** turns each gradient into a step.

# %% [markdown]
# ## Further exercises
#
# These are not graded.
#
# 1. Train your loop with batch sizes 8, 128 and 2,048 for the same number of
#    epochs. Compare the curves and the time each takes (`time.perf_counter()`).
#    Which learns most per epoch, and which per second?
# 2. Add **momentum** to your step: keep a velocity $v \leftarrow 0.9\,v + \nabla L$ for
#    the weights and step by $-\eta v$. Does it reach a lower loss in two epochs?
# 3. Check your `gradients` on a few weights with lesson 2's `slope` idea:
#    change one weight by $\pm 10^{-3}$ and divide the change of the loss by
#    $2 \cdot 10^{-3}$.
#
# ### Going further
#
# - **Backpropagation.** A network with a hidden layer,
#   $Z = \mathrm{relu}(XW_1 + b_1)\,W_2 + b_2$ with $\mathrm{relu}(a) = \max(0, a)$,
#   needs the chain rule once per layer. Backpropagation applies it backwards,
#   layer by layer: each layer turns the gradient with respect to its output into
#   the gradients of its own weights, and passes the gradient with respect to its
#   input to the layer before. This is how Keras gets every weight's gradient.
# - **Adam**, the optimizer most networks use: for each weight it keeps running
#   averages of its recent gradients and of their squares, and steps by the first
#   divided by the square root of the second, so every weight moves by about the
#   learning rate, whatever the size of its gradient. To compare it with SGD, train
#   the Keras model above for a few epochs with `keras.optimizers.Adam(learning_rate=0.001)`
#   and with `keras.optimizers.SGD(learning_rate=0.1)`.
