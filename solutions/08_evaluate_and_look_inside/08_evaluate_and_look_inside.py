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
# # Lesson 8 — Evaluate and look inside
#
# One accuracy figure hides almost everything: *which* clothes does the network
# get wrong, how sure is it when it is wrong, and what does it look at? This lesson
# takes the CNN of lesson 7 apart after training. You measure it class by class,
# find the pairs of classes it confuses and its most confident mistakes, then open
# it up: the filters it learned in its first layer (next to the ones you made by
# hand in lesson 5), the feature maps of one image, and a saliency map of the pixels
# its decision depends on. You do not need to train anything: the course ships a
# network trained with lesson 7's recipe on all 60,000 training images.
#
# ## Learning objectives
#
# By the end of this lesson you can:
#
# - turn a network's probabilities into predictions, and show them with the images;
# - read a confusion matrix, and compute precision and recall for every class;
# - find the classes a model confuses most, and its most confident mistakes;
# - explain why Shirt, T-shirt/top, Pullover and Coat are hard to tell apart;
# - draw a CNN's learned filters and feature maps, and compare them with
#   hand-made kernels;
# - compute a saliency map with `tf.GradientTape`.
#
# ## New ideas
#
# - **confidence**: the probability of the predicted class.
# - **precision**: of the images predicted as a class, the share that really are.
# - **recall**: of the images of a class, the share predicted as it.
# - **cosine similarity**: how alike two patterns are, whatever their scale.
# - **sub-model**: a `keras.Model` that stops at an inner layer, to see its output.
# - **saliency map**: how much a class's probability reacts to each pixel.
#
# Estimated time: about 65 minutes (22 reading, 30 on the exercises, 12 running the examples).

# %%
import keras
import numpy as np
import tensorflow as tf

from fmnist_utils import filters, models, plots
from fmnist_utils.data import CLASS_NAMES, load_fashion_mnist
from fmnist_utils.environment import check_versions

check_versions()
keras.utils.set_random_seed(0)

# %% [markdown]
# ## The trained network
#
# `models.load_reference()` builds lesson 7's network and loads the shipped
# weights. The test set is all this lesson needs.

# %%
(_, _), (x_test, y_test) = load_fashion_mnist()
model = models.load_reference()
model.summary()

# %% [markdown]
# The network takes images prepared as in lesson 7 (`models.prepare` does what your
# `to_model_input` did) and returns 10 probabilities per image. All 10,000 test
# images take a few seconds:

# %%
x_test_in = models.prepare(x_test)
probs = model.predict(x_test_in, batch_size=250, verbose=0)
probs.shape, probs[0].round(3)

# %% [markdown]
# The predicted class is the most probable one; its probability is the network's
# **confidence**.

# %%
y_pred = probs.argmax(axis=1)
confidence = probs.max(axis=1)
accuracy = float(np.mean(y_pred == y_test))
f"test accuracy {accuracy:.2%} (measured when the weights were made: {models.reference_info()['test_accuracy']:.2%})"

# %% [markdown]
# ## Predictions, image by image
#
# Each image below sits next to its 10 probabilities (classes 0–9 in label order,
# `CLASS_NAMES`). Right predictions are blue; for wrong ones the predicted class is
# red and the true class green.

# %%
plots.prediction_grid(x_test[:15], probs[:15], y_test[:15])

# %% [markdown]
# Most predictions are near 100 % sure and right. Look at the wrong or unsure
# ones: where does the probability go?
#
# ## Which classes get confused
#
# The confusion matrix of lesson 4: row = true class, column = predicted class,
# each row divided by its total, so the diagonal is the share of each class that
# is recognised.

# %%
plots.confusion_matrix(y_test, y_pred)

# %% [markdown]
# Two numbers summarize each class $c$:
#
# - **precision**: of the images *predicted* $c$, the share that really are $c$:
#   $\dfrac{\text{TP}_c}{\text{TP}_c + \text{FP}_c}$ — "when it says Shirt, can I
#   believe it?"
# - **recall**: of the images that really are $c$, the share predicted $c$:
#   $\dfrac{\text{TP}_c}{\text{TP}_c + \text{FN}_c}$ — "how many shirts does it find?"
#
# (TP: true positives, FP: false positives, FN: false negatives.) A class that is
# never predicted has no precision to speak of; the usual convention, which
# scikit-learn follows too, is to report 0 rather than divide by zero.
#
# ### Exercise 1 — `per_class_metrics` (3 points)
#
# Hint: `np.bincount(labels, minlength=n_classes)` counts each class; the true
# positives of each class are the count of `y_true[y_true == y_pred]`.


# %% nbgrader={"grade": false, "grade_id": "per_class_metrics", "locked": false, "schema_version": 3, "solution": true, "task": false}
def per_class_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Return (precision, recall) per class, two float64 arrays of shape (n_classes,).

    y_true and y_pred are integer labels in 0..n_classes-1, shape (n,).
    Convention: precision is 0.0 for a class that is never predicted, and
    recall is 0.0 for a class absent from y_true (never NaN).
    """
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    hits = np.bincount(y_true[y_true == y_pred], minlength=n_classes).astype(np.float64)
    predicted = np.bincount(y_pred, minlength=n_classes).astype(np.float64)
    actual = np.bincount(y_true, minlength=n_classes).astype(np.float64)
    precision = np.divide(hits, predicted, out=np.zeros(n_classes), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros(n_classes), where=actual > 0)
    return precision, recall
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "per_class_metrics_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Check per_class_metrics: two float arrays of shape (n_classes,), a worked example, the zero convention."""
METRICS = "reread 'Which classes get confused'"
result = per_class_metrics(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), n_classes=3)
assert isinstance(result, tuple) and len(result) == 2, "expected a tuple (precision, recall)"
precision, recall = result
for name, values in (("precision", precision), ("recall", recall)):
    assert isinstance(values, np.ndarray), (
        f"{name}: expected a NumPy array, got {type(values).__name__}"
    )
    assert values.dtype == np.float64, (
        f"{name}: expected dtype float64, got {values.dtype}: a share is not a whole number; "
        + METRICS
    )
    assert values.shape == (3,), (
        f"{name}: expected shape (3,), one value per class (n_classes=3); got {values.shape}; "
        + METRICS
    )
assert not np.isnan(precision).any(), (
    f"class 2 is never predicted: its precision should be 0.0, not NaN; got {precision}; {METRICS}"
)
np.testing.assert_allclose(
    precision, [1.0, 1 / 3, 0.0],
    err_msg="precision of y_true [0, 0, 1, 2], y_pred [0, 1, 1, 1]: of the images *predicted* "
    f"c, the share that really are c; {METRICS}",
)  # fmt: skip
np.testing.assert_allclose(
    recall, [0.5, 1.0, 0.0],
    err_msg="recall of y_true [0, 0, 1, 2], y_pred [0, 1, 1, 1]: of the images that really "
    f"are c, the share predicted c; {METRICS}",
)  # fmt: skip
print("per_class_metrics: all visible checks passed")
### BEGIN HIDDEN TESTS
hidden_rng = np.random.default_rng(61)
for n_classes, n in [(10, 500), (4, 37), (7, 1)]:
    case = f"{n} random labels, n_classes={n_classes}"
    t = hidden_rng.integers(0, n_classes, size=n)
    p = hidden_rng.integers(0, n_classes, size=n)
    got_p, got_r = per_class_metrics(t, p, n_classes=n_classes)
    assert isinstance(got_p, np.ndarray) and isinstance(got_r, np.ndarray), (
        f"{case}: expected two NumPy arrays"
    )
    assert got_p.shape == (n_classes,) and got_r.shape == (n_classes,), (
        f"{case}: expected one value per class; {METRICS}"
    )
    for c in range(n_classes):
        tp = np.sum((t == c) & (p == c))
        want_p = tp / np.sum(p == c) if np.sum(p == c) else 0.0
        want_r = tp / np.sum(t == c) if np.sum(t == c) else 0.0
        assert abs(float(got_p[c]) - want_p) < 1e-12, f"{case}: wrong precision of class {c}"
        assert abs(float(got_r[c]) - want_r) < 1e-12, f"{case}: wrong recall of class {c}"
none_p, none_r = per_class_metrics(np.array([1, 1, 1]), np.array([2, 2, 2]), n_classes=4)
assert (
    isinstance(none_p, np.ndarray) and not np.isnan(none_p).any() and not np.isnan(none_r).any()
), f"no right prediction at all: precision and recall should be 0.0, never NaN; {METRICS}"
np.testing.assert_array_equal(none_p, np.zeros(4), err_msg="no right prediction: precision 0")
np.testing.assert_array_equal(none_r, np.zeros(4), err_msg="no right prediction: recall 0")
real_p, real_r = per_class_metrics(y_test, y_pred)
assert isinstance(real_p, np.ndarray) and real_p.shape == (10,), (
    "the test set: expected ten precisions"
)
assert (
    abs(float(np.dot(real_r, np.bincount(y_test, minlength=10))) / len(y_test) - accuracy) < 1e-9
), f"on the test set the recalls do not add up to the accuracy; {METRICS}"
### END HIDDEN TESTS

# %% [markdown]
# The ten classes, worst at a glance:

# %%
precision, recall = per_class_metrics(y_test, y_pred)
plots.class_metrics({"precision": precision, "recall": recall})

# %% [markdown]
# Trousers, bags, sandals, sneakers and ankle boots are recognised almost always.
# Shirt is the weak class by far, then T-shirt/top, Pullover and Coat.
#
# ### Exercise 2 — `most_confused_pairs` (2 points)
#
# List the off-diagonal cells of the confusion matrix with the most images: the
# (true class, predicted class) pairs the network gets wrong most often.


# %% nbgrader={"grade": false, "grade_id": "most_confused_pairs", "locked": false, "schema_version": 3, "solution": true, "task": false}
def most_confused_pairs(
    y_true: np.ndarray, y_pred: np.ndarray, k: int = 3, n_classes: int = 10
) -> list[tuple[int, int, int]]:
    """Return the k most frequent mistakes as (true class, predicted class, count) tuples.

    Only pairs with true != predicted and count > 0; sorted by count, largest
    first, ties by (true, predicted) ascending. Fewer than k if there are fewer
    such pairs. All three numbers are plain Python ints.
    """
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    counts = counts.reshape(n_classes, n_classes)
    pairs = [
        (int(t), int(p), int(counts[t, p]))
        for t in range(n_classes)
        for p in range(n_classes)
        if t != p and counts[t, p] > 0
    ]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs[:k]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "most_confused_pairs_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check most_confused_pairs: a list of int triples, off-diagonal only, sorted, at most k."""
CONFUSED = "reread 'Which classes get confused'"
pairs = most_confused_pairs(
    np.array([0, 0, 0, 1, 1, 2, 2]), np.array([1, 1, 0, 0, 1, 2, 0]), k=5, n_classes=3
)
assert isinstance(pairs, list), f"expected a list, got {type(pairs).__name__}"
assert all(isinstance(pair, tuple) and len(pair) == 3 for pair in pairs), (
    f"expected (true, predicted, count) tuples, got {pairs}"
)
assert all(type(value) is int for pair in pairs for value in pair), (
    f"expected plain Python ints (use int(...)), got "
    f"{[tuple(type(v).__name__ for v in pair) for pair in pairs]}; {CONFUSED}"
)
assert [tuple(pair) for pair in pairs] == [(0, 1, 2), (1, 0, 1), (2, 0, 1)], (
    f"expected [(0, 1, 2), (1, 0, 1), (2, 0, 1)]: 0 taken for 1 twice, then the ties in "
    f"order; got {pairs}. Leave out the diagonal and the pairs never confused, largest count "
    f"first, ties by (true, predicted); {CONFUSED}"
)
one = most_confused_pairs(
    np.array([0, 0, 0, 1, 1, 2, 2]), np.array([1, 1, 0, 0, 1, 2, 0]), k=1, n_classes=3
)
assert isinstance(one, list) and len(one) == 1, (
    f"k=1 should give one pair, got {one}: return at most k; {CONFUSED}"
)
print("most_confused_pairs: all visible checks passed")
### BEGIN HIDDEN TESTS
hidden_rng = np.random.default_rng(62)
for n_classes, n, k in [(10, 2000, 6), (5, 60, 3), (3, 9, 10)]:
    t = hidden_rng.integers(0, n_classes, size=n)
    p = np.where(hidden_rng.random(n) < 0.6, t, hidden_rng.integers(0, n_classes, size=n))
    got = most_confused_pairs(t, p, k=k, n_classes=n_classes)
    table = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(table, (t, p), 1)
    want = sorted(
        (
            (a, b, int(table[a, b]))
            for a in range(n_classes)
            for b in range(n_classes)
            if a != b and table[a, b]
        ),
        key=lambda q: (-q[2], q[0], q[1]),
    )[:k]
    assert isinstance(got, list) and [tuple(int(v) for v in q) for q in got] == want, (
        f"{n} random labels, n_classes={n_classes}, k={k}: the pairs, their counts or their "
        f"order are wrong; {CONFUSED}"
    )
assert most_confused_pairs(np.array([1, 2, 3]), np.array([1, 2, 3]), k=3, n_classes=4) == [], (
    "no mistake at all should give an empty list"
)
real = most_confused_pairs(y_test, y_pred, k=1)
assert isinstance(real, list) and len(real) == 1 and real[0][0] != real[0][1], (
    "on the test set, k=1 should give one pair of different classes"
)
### END HIDDEN TESTS

# %% [markdown]
# The network's five most frequent mistakes, by name:

# %%
[(CLASS_NAMES[t], CLASS_NAMES[p], n) for t, p, n in most_confused_pairs(y_test, y_pred, k=5)]

# %% [markdown]
# ## Why these classes?
#
# Almost all the top mistakes involve the four upper-body garments: Shirt,
# T-shirt/top, Pullover and Coat. Here are test images of each, as the network sees
# them (28×28 pixels, gray):

# %%
upper_body = [0, 2, 4, 6]  # T-shirt/top, Pullover, Coat, Shirt
picks = np.concatenate([np.flatnonzero(y_test == c)[:6] for c in upper_body])
plots.image_grid(x_test[picks], y_test[picks], ncols=6)

# %% [markdown]
# What separates them is small: sleeve length (a T-shirt's short sleeves are 2–3
# pixels long here), a collar or a row of buttons (a few pixels of slightly
# different gray), a zip, the fabric's texture — and at 28×28 pixels much of that
# is blurred away. Colour, which would help a person, is gone. The silhouettes
# overlap: a long-sleeved shirt and a pullover have nearly the same outline, and so
# do a shirt and a T-shirt when the sleeves are short. Some labels are simply
# debatable: is a buttoned top with short sleeves a "Shirt" or a "T-shirt/top"? No
# network can beat labels that disagree with each other, so on these classes even
# very large models stay well below 100 %.
#
# ## The most confident mistakes
#
# A mistake made at 55 % confidence is an honest doubt; one made at 99.9 % is worth
# a look: it shows what the network has got wrong about a class, or a label that is
# wrong.
#
# ### Exercise 3 — `most_confident_mistakes` (2 points)


# %% nbgrader={"grade": false, "grade_id": "most_confident_mistakes", "locked": false, "schema_version": 3, "solution": true, "task": false}
def most_confident_mistakes(probs: np.ndarray, y_true: np.ndarray, k: int) -> np.ndarray:
    """Return the indices of the k wrong predictions made with the highest confidence.

    probs has shape (n, n_classes); the prediction is the argmax of a row and the
    confidence its max. Returns an int64 array of indices into probs (not into
    the mistakes only), most confident first; ties keep index order. Fewer than
    k if there are fewer mistakes; empty if there are none.
    """
    ### BEGIN SOLUTION
    probs = np.asarray(probs)
    y_true = np.asarray(y_true).ravel()
    wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)
    order = np.argsort(-probs[wrong].max(axis=1), kind="stable")
    return wrong[order][:k].astype(np.int64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "most_confident_mistakes_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check most_confident_mistakes: int indices into probs, wrong predictions only, most confident first."""
CONFIDENT = "reread 'The most confident mistakes'"
toy_probs = np.array(
    [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1], [0.05, 0.0, 0.95]]
)
toy_true = np.array([0, 0, 1, 1, 2])  # rows 1, 2 and 3 are wrong
found = most_confident_mistakes(toy_probs, toy_true, k=2)
assert isinstance(found, np.ndarray), f"expected a NumPy array, got {type(found).__name__}"
assert np.issubdtype(found.dtype, np.integer), f"expected integer indices, got dtype {found.dtype}"
assert found.shape == (2,), f"expected shape (2,) for k=2, got {found.shape}; {CONFIDENT}"
assert found.tolist() == [2, 1], (
    f"the wrong rows are 1 (confidence 0.7), 2 (0.8) and 3 (0.6): expected [2, 1], got "
    f"{found.tolist()}. Only wrong predictions; the confidence is the row's max; return "
    f"indices into probs, most confident first; {CONFIDENT}"
)
print("most_confident_mistakes: all visible checks passed")
### BEGIN HIDDEN TESTS
hidden_rng = np.random.default_rng(63)
for n, classes, k in [(300, 10, 12), (50, 4, 100), (7, 3, 3)]:
    case = f"{n} random rows of {classes} probabilities, k={k}"
    raw = hidden_rng.random((n, classes))
    p = raw / raw.sum(axis=1, keepdims=True)
    t = hidden_rng.integers(0, classes, size=n)
    got = most_confident_mistakes(p, t, k)
    wrong = np.flatnonzero(p.argmax(axis=1) != t)
    want = wrong[np.argsort(-p[wrong].max(axis=1), kind="stable")][:k]
    assert isinstance(got, np.ndarray) and np.issubdtype(got.dtype, np.integer), (
        f"{case}: expected an integer NumPy array"
    )
    assert got.shape == want.shape, (
        f"{case}: wrong number of indices (at most k, fewer if there are fewer mistakes); "
        + CONFIDENT
    )
    np.testing.assert_array_equal(got, want, err_msg=f"{case}: wrong indices or order; {CONFIDENT}")
right = most_confident_mistakes(toy_probs[[0, 4]], np.array([0, 2]), k=3)
assert isinstance(right, np.ndarray) and right.shape == (0,), (
    "no wrong prediction: expected an empty array"
)
ties = most_confident_mistakes(
    np.array([[0.5, 0.5, 0.0]] * 3 + [[0.2, 0.8, 0.0]]), np.array([2, 2, 2, 0]), k=4
)
assert isinstance(ties, np.ndarray) and ties.tolist() == [3, 0, 1, 2], (
    f"equal confidences should keep index order (a stable sort); {CONFIDENT}"
)
real = most_confident_mistakes(probs, y_test, 5)
assert (
    isinstance(real, np.ndarray) and real.shape == (5,) and np.all(y_pred[real] != y_test[real])
), "on the test set, k=5 should give five wrong predictions"
### END HIDDEN TESTS

# %% [markdown]
# The twelve most confident mistakes of the network on the test set:

# %%
mistakes = most_confident_mistakes(probs, y_test, 12)
plots.prediction_grid(x_test[mistakes], probs[mistakes], y_test[mistakes], ncols=4)

# %% [markdown]
# Look at each one and decide: is the network wrong, or the label? Several are
# garments a person would also hesitate over, and a few labels look plainly wrong.
# Every real data set has some; a network that is "confidently wrong" on them may
# in fact be right.
#
# ## Inside: the filters of the first layer
#
# The first `Conv2D` layer holds 32 kernels of 3×3 weights (plus one bias each),
# learned from the data. In lesson 5 you made kernels by hand. Here are yours
# (`fmnist_utils.filters`), then the network's, drawn the same way: red positive,
# blue negative, white zero.

# %%
plots.filters(filters.kernel_stack(), titles=[n for n in filters.KERNELS if n != "identity"])

# %%
learned, biases = model.get_layer("conv1").get_weights()
learned.shape, biases.shape

# %%
plots.filters(learned)

# %% [markdown]
# Many learned kernels are edge detectors — a red side and a blue side, like
# `VERTICAL_EDGE` and `HORIZONTAL_EDGE`, at various angles — and some respond to
# bright or dark blobs. Nobody told the network about edges: it found them useful
# for telling clothes apart. To compare shapes, whatever the scale, measure the
# **cosine similarity** between each hand-made kernel and each learned one: the
# dot product of their 9 weights, each kernel first scaled to length 1 (1: the same
# pattern, −1: the same pattern inverted, 0: unrelated). Keep the closest learned
# kernel for each:

# %%
flat_learned = learned[:, :, 0, :].reshape(9, -1)
flat_learned = flat_learned / np.linalg.norm(flat_learned, axis=0)
closest = {}
for name in ("vertical edge", "horizontal edge", "sharpen", "blur"):
    hand = filters.KERNELS[name].ravel() / np.linalg.norm(filters.KERNELS[name])
    similarity = hand @ flat_learned
    best = int(np.argmax(np.abs(similarity)))
    closest[name] = (best, round(float(similarity[best]), 2))
closest

# %% [markdown]
# Your edge kernels have close learned cousins: a similarity of about ±0.9 (the
# sign only swaps red and blue). Sharpen and blur match more loosely: the network
# found no use for an exact copy of them, though some learned kernels lean that way.
#
# ## Inside: the feature maps of one image
#
# A feature map is what one kernel makes of the image (lesson 5), after the bias and
# the ReLU. A **sub-model** shows them: a `keras.Model` from the network's input to
# an inner layer's output. Give it the input tensor itself, `model.inputs[0]`:
# `model.inputs` is a list, and a model built on a list expects a list when called.

# %%
image_index = 0
image = x_test[image_index]
first_layer = keras.Model(model.inputs[0], model.get_layer("conv1").output)
maps = keras.ops.convert_to_numpy(first_layer(x_test_in[image_index : image_index + 1]))
maps.shape

# %%
plots.feature_maps(maps[0], title=f"conv1: 32 feature maps of a {CLASS_NAMES[y_test[image_index]]}")

# %% [markdown]
# Your hand-made kernels on the same image, for comparison (`filters.filter_image`
# from lesson 5):

# %%
plots.filter_gallery(
    image / 255.0,
    {
        name: filters.filter_image(image / 255.0, kernel)
        for name, kernel in filters.KERNELS.items()
        if name != "identity"
    },
    {name: kernel for name, kernel in filters.KERNELS.items() if name != "identity"},
)

# %% [markdown]
# Several learned maps look like your edge maps, with the negative half cut off by
# the ReLU. One layer deeper, after pooling, the 64 maps of `conv2` are 11×11 and
# harder to name: each combines 32 first-layer maps over an 8×8 patch of the image
# (lesson 6's receptive-field rule: 3, then 4 after the pooling, then 4 + 2 × 2),
# and can answer to larger parts, such as a collar, a sole or a sleeve.

# %%
second_layer = keras.Model(model.inputs[0], model.get_layer("conv2").output)
maps2 = keras.ops.convert_to_numpy(second_layer(x_test_in[image_index : image_index + 1]))
plots.feature_maps(maps2[0], ncols=16, size=0.8, title="conv2: 64 feature maps, 11×11")

# %% [markdown]
# ## Saliency: which pixels does the decision depend on?
#
# A **saliency map** asks: if a pixel changed a little, how much would the score
# of a class change? Here the score is the class's probability (the network
# ends with its softmax), so that is the gradient of the probability with respect
# to the input pixels, one number per pixel; its absolute value is the saliency.
# As in lesson 3, a `tf.GradientTape` computes the gradient: it records the
# operations run inside its `with` block, then differentiates through them.
#
# ```python
# x = tf.convert_to_tensor(batch_of_one_image)        # shape (1, 28, 28, 1), float32
# with tf.GradientTape() as tape:
#     tape.watch(x)                                   # x is not a weight: watch it
#     score = model(x, training=False)[0, label]      # the probability of `label`
# gradient = tape.gradient(score, x)                  # same shape as x
# ```
#
# `training=False` keeps dropout off, so the map does not change from run to run.
#
# ### Exercise 4 — `saliency_map` (3 points)


# %% nbgrader={"grade": false, "grade_id": "saliency_map", "locked": false, "schema_version": 3, "solution": true, "task": false}
def saliency_map(model: keras.Model, image: np.ndarray, label: int) -> np.ndarray:
    """Return |d probability[label] / d pixel| for one prepared image.

    image: float32 in [0, 1], shape (28, 28, 1) or (28, 28). model takes a batch
    (n, 28, 28, 1) and returns probabilities (n, n_classes); run it with
    training=False. Returns a float32 NumPy array of shape (28, 28), >= 0.
    """
    ### BEGIN SOLUTION
    x = tf.convert_to_tensor(np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = model(x, training=False)[0, int(label)]
    gradient = tape.gradient(score, x)
    return np.abs(gradient.numpy()[0, :, :, 0]).astype(np.float32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "saliency_map_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Check saliency_map: a float (28, 28) array, non-negative, not all zero, different for another class, the same at every run, for both input shapes."""
SALIENCY = "reread 'Saliency: which pixels does the decision depend on?'"
sal = saliency_map(model, x_test_in[0], int(y_test[0]))
assert isinstance(sal, np.ndarray), (
    f"expected a NumPy array (use .numpy()), got {type(sal).__name__}; {SALIENCY}"
)
assert np.issubdtype(sal.dtype, np.floating), f"expected a float dtype, got {sal.dtype}"
assert sal.shape == (28, 28), (
    f"expected shape (28, 28), one value per pixel; got {sal.shape}: drop the batch and channel "
    f"axes; {SALIENCY}"
)
assert np.all(np.isfinite(sal)), "the saliency map holds NaN or infinite values"
assert float(sal.min()) >= 0.0, (
    f"saliency is an absolute value: expected >= 0, found {float(sal.min())}; {SALIENCY}"
)
assert float(sal.max()) > 0.0, (
    f"the saliency map is all zeros: is the gradient taken with respect to the image? {SALIENCY}"
)
other_label = (int(y_test[0]) + 1) % 10
other = saliency_map(model, x_test_in[0], other_label)
assert isinstance(other, np.ndarray) and other.shape == (28, 28), (
    "saliency_map(..., other label): shape"
)
assert not np.allclose(sal, other), (
    f"the maps for two different classes are the same: use the probability of `label`; {SALIENCY}"
)
again = saliency_map(model, x_test_in[0], int(y_test[0]))
assert np.allclose(sal, again), (
    f"two runs on the same image give different maps: run the model with training=False, so "
    f"dropout stays off; {SALIENCY}"
)
try:
    flat = saliency_map(model, x_test_in[0, :, :, 0], int(y_test[0]))
except Exception as error:  # - any failure here has the same cause
    raise AssertionError(
        f"an image of shape (28, 28) raised {type(error).__name__}: {error}. Reshape the image "
        f"to a batch of one, (1, 28, 28, 1), whatever its shape; {SALIENCY}"
    ) from None
assert isinstance(flat, np.ndarray) and np.allclose(flat, sal), (
    f"an image of shape (28, 28) should give the same map as shape (28, 28, 1); {SALIENCY}"
)
print("saliency_map: all visible checks passed")


### BEGIN HIDDEN TESTS
def _reference_saliency(net, img, lab):
    xx = tf.convert_to_tensor(np.asarray(img, dtype=np.float32).reshape(1, 28, 28, 1))
    with tf.GradientTape() as tape:
        tape.watch(xx)
        out = net(xx, training=False)[0, lab]
    return np.abs(tape.gradient(out, xx).numpy()[0, :, :, 0])


for index, lab in [(0, int(y_test[0])), (1, 3), (17, 8)]:
    got = saliency_map(model, x_test_in[index], lab)
    assert isinstance(got, np.ndarray) and got.shape == (28, 28), (
        f"test image {index}, label {lab}: expected a (28, 28) array"
    )
    msg = (
        f"test image {index}, label {lab}: the map is not |d probability[label] / d "
        f"pixel|; {SALIENCY}"
    )
    np.testing.assert_allclose(
        got, _reference_saliency(model, x_test_in[index], lab), rtol=1e-4, atol=1e-7, err_msg=msg
    )
flat_input = saliency_map(model, x_test_in[2, :, :, 0], 1)
assert isinstance(flat_input, np.ndarray) and flat_input.shape == (28, 28), (
    "an image of shape (28, 28): expected a (28, 28) array"
)
msg = f"an image of shape (28, 28): the map is wrong; {SALIENCY}"
np.testing.assert_allclose(
    flat_input, _reference_saliency(model, x_test_in[2], 1), rtol=1e-4, atol=1e-7, err_msg=msg
)
# a linear softmax model: the gradient is known in closed form
weights = np.random.default_rng(64).normal(size=(784, 3)).astype(np.float32)
linear = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax", use_bias=False),
    ]
)
linear.layers[-1].set_weights([weights])
img = np.random.default_rng(65).random((28, 28, 1)).astype(np.float32) * 0.01
prob = keras.ops.convert_to_numpy(linear(img[None]))[0]
want = np.abs(prob[1] * (weights[:, 1] - weights @ prob)).reshape(28, 28)
got = saliency_map(linear, img, 1)
assert isinstance(got, np.ndarray) and got.shape == (28, 28), (
    "another model with three classes: expected a (28, 28) array"
)
msg = (
    "another model, with three classes: the map is not the gradient of the given "
    f"model's probability for `label`; {SALIENCY}"
)
np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-6, err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# Six test images, each with the saliency of its true class. Dark pixels are those
# the decision is most sensitive to:

# %%
chosen = [0, 1, 2, 3, 4, 5]
saliencies = np.stack([saliency_map(model, x_test_in[i], int(y_test[i])) for i in chosen])
plots.saliency(x_test[chosen], saliencies, titles=[CLASS_NAMES[y_test[i]] for i in chosen])

# %% [markdown]
# Look for the darkest pixels. For the ankle boot they lie on the sole and the heel;
# for the trousers, between and beside the legs, where ink would turn a trouser
# into something else; for the tops, in the body and at the neckline. The maps are
# noisy: when the network is nearly 100 % sure, its probability hardly moves
# whatever one pixel does (the softmax is saturated), so the gradient is small and
# ragged. Less certain images give clearer maps. For a shirt, compare the saliency
# of each of the four confusable classes: the network weighs different evidence
# for each.

# %%
shirt = int(np.flatnonzero(y_test == 6)[0])
plots.saliency(
    np.repeat(x_test[shirt : shirt + 1], 4, axis=0),
    np.stack([saliency_map(model, x_test_in[shirt], c) for c in upper_body]),
    titles=[f"{CLASS_NAMES[c]}: {probs[shirt, c]:.0%}" for c in upper_body],
)

# %% [markdown]
# A gradient is a *local* explanation: it says how the score would react to tiny
# changes, not why the network decided. Saliency maps are noisy, and a pixel can
# matter a great deal without the gradient showing it (a ReLU whose input is
# negative passes no gradient at all). Treat them as a hint of where to look, not as proof.
#
# ## Summary
#
# - A classifier's probabilities give a prediction (the argmax) and a confidence
#   (the max); showing them next to the images makes mistakes concrete.
# - Precision and recall per class, and the confusion matrix, show *where* the
#   accuracy is lost: for this CNN, among Shirt, T-shirt/top, Pullover and Coat.
# - Those four classes differ by a few pixels of sleeve, collar or texture at
#   28×28 in gray, and some of their labels are debatable.
# - The most confident mistakes are worth reading one by one: some reveal a
#   weakness, some a wrong label.
# - The first layer learns edge and blob detectors much like lesson 5's hand-made
#   kernels; deeper feature maps respond to garment parts.
# - A saliency map, the absolute gradient of a class probability with respect to
#   the pixels (`tf.GradientTape`), shows which pixels a decision is sensitive to.
#
# ## Further exercises
#
# 1. Plot the distribution of the confidence for right and for wrong predictions
#    (`confidence[y_pred == y_test]` and `confidence[y_pred != y_test]`). Would
#    refusing to answer below 80 % confidence be worth it?
# 2. The F1 score is the harmonic mean of precision and recall. Compute it per class
#    from your `per_class_metrics` and rank the classes by it.
# 3. Look for the learned kernel closest to your `SHARPEN` kernel and show its
#    feature map next to `filters.filter_image(image, filters.SHARPEN)`.
# 4. *SmoothGrad*: average the saliency maps of 20 copies of an image with a little
#    Gaussian noise added. Is the map clearer?
