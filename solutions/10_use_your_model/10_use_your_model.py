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
# # Lesson 10 — Use your model
#
# A model is only useful once it leaves the notebook it was trained in. In this
# lesson you point the CNN at images it has never seen: photos you bring
# yourself. You turn a photo into the kind of input the network was trained on,
# find out where the network still fails and why, and save it in a form that
# another program can load without your notebook.
#
# ## Learning objectives
#
# By the end of this lesson you can:
#
# - read a prediction as a ranking: the top 3 classes and their probabilities;
# - turn any photo of one garment into a Fashion-MNIST-style 28×28 input:
#   grey, inverted, cropped, centred, scaled to $[0, 1]$;
# - classify an image file in one call, and with a widget;
# - explain and measure why a model trained on Fashion-MNIST fails on real photos
#   (*distribution shift*: position, size, background, lighting);
# - export a model as a `.keras` file and as a TensorFlow SavedModel, and use the
#   export from a fresh Python process.
#
# ## New ideas
#
# - **top-k**: the k most probable classes of a prediction, with their probabilities.
# - **ink**: how far each pixel's grey level is from the background's, so the garment is bright and the background 0.
# - **distribution shift**: inputs that differ systematically from the training images, where a model often fails.
# - **standard error**: how much an accuracy measured on $n$ images wobbles by chance.
# - **SavedModel**: TensorFlow's export of a model as a function any TensorFlow program can run, without Keras.
#
# Estimated time: about 65 minutes (25 reading, 30 on the exercises, 10 running the examples).

# %%
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from fmnist_utils import models, photo, plots, widgets
from fmnist_utils.data import CLASS_NAMES, load_fashion_mnist
from fmnist_utils.environment import check_versions

check_versions()
keras.utils.set_random_seed(0)

# %% [markdown]
# ## The model you trained
#
# You do not retrain anything in this lesson. The course ships two trained
# networks, lesson 7's CNN and lesson 9's improved CNN, both trained on all
# 60,000 training images, so that everyone gets the same numbers.
# `models.best_reference()` names the one with the higher recorded test
# accuracy, and `models.load_reference(name)` loads it the way it was measured.
# For the improved CNN that is the average of lesson 9's end, built into one
# Keras model (`fmnist_utils.improved.mirror_average`): it asks its network about each image
# and its mirror image and averages the two answers. `model.summary()` below
# shows the flip, the network (one row, used on both images) and the average.
# (Your own model from lesson 7 or 9 loads with
# `keras.saving.load_model("your_file.keras")` and works the same way.)

# %%
best = models.best_reference()
print(best, f"(recorded test accuracy {models.reference_info(best)['test_accuracy']:.2%})")
model = models.load_reference(best)
model.summary()

# %% [markdown]
# The model takes a batch of images of shape `(n, 28, 28, 1)` with values in
# $[0, 1]$, and returns for each image ten probabilities that add up to 1.
# `models.prepare` turns the uint8 data set into that; `photo.to_model_input`
# adds the batch and channel axes to float images of shape `(28, 28)` or
# `(n, 28, 28)`, such as the ones you make from photos below.

# %%
(x_train, y_train), (x_test, y_test) = load_fashion_mnist()
x_test01 = x_test.astype(np.float32) / 255.0
probs_test = model.predict(models.prepare(x_test), batch_size=250, verbose=0)
test_accuracy = float(np.mean(probs_test.argmax(axis=1) == y_test))
probs_test.shape, round(test_accuracy, 4)

# %% [markdown]
# ## One prediction, read properly
#
# The highest probability is the prediction, but the runners-up say how sure the
# model is, and what it hesitates between: read the **top-k**, the `k` most
# probable classes. Here is one test image:

# %%
index = 12
plots.top_k_bars(
    probs_test[index], image=x_test01[index], title=f"true class: {CLASS_NAMES[y_test[index]]}"
)

# %% [markdown]
# ### Exercise 1 — `top_k` (2 points)
#
# Write `top_k(probs, k=3)`: the `k` most probable classes, most probable first,
# each as a pair `(class name, probability)`.
#
# Hints: `np.argsort` sorts ascending; `[::-1]` reverses. `CLASS_NAMES[i]` names
# label `i`. Return plain Python `float`s, not NumPy scalars.


# %% nbgrader={"grade": false, "grade_id": "top_k", "locked": false, "schema_version": 3, "solution": true, "task": false}
def top_k(probs: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
    """Return the k most probable classes as (class name, probability), most probable first.

    Parameters
    ----------
    probs : np.ndarray
        Probabilities of the 10 classes for one image, shape (10,) or (1, 10).
    k : int
        How many classes to return (1 to 10).

    Returns
    -------
    list of (str, float)
        k pairs; names from CLASS_NAMES, probabilities as Python floats.
    """
    ### BEGIN SOLUTION
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    order = np.argsort(probs, kind="stable")[::-1][:k]
    return [(CLASS_NAMES[int(i)], float(probs[i])) for i in order]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "top_k_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check top_k: a list of k (str, float) pairs, most probable first, for (10,) and (1, 10) inputs and any k."""
READ = "reread 'One prediction, read properly'"
example = np.array([0.01, 0.02, 0.6, 0.03, 0.2, 0.0, 0.1, 0.02, 0.01, 0.01])
result = top_k(example)
assert isinstance(result, list), f"expected a list, got {type(result).__name__}; {READ}"
assert len(result) == 3, f"expected 3 pairs for k=3, got {len(result)}"
for pair in result:
    assert isinstance(pair, tuple) and len(pair) == 2, (
        f"each item is a (name, probability) pair, got {pair!r}; {READ}"
    )
    assert isinstance(pair[0], str), (
        f"the first item of a pair is a class name (str), got {type(pair[0]).__name__}: "
        f"CLASS_NAMES[i] names label i; {READ}"
    )
    assert type(pair[1]) is float, (
        f"probabilities should be Python floats, got {type(pair[1]).__name__}: wrap them in "
        f"float(...); {READ}"
    )
names = [name for name, _ in result]
assert names == ["Pullover", "Coat", "Shirt"], (
    f"expected Pullover, Coat, Shirt (labels 2, 4, 6), got {names}: the most probable class "
    f"first (np.argsort sorts ascending); {READ}"
)
assert abs(result[0][1] - 0.6) < 1e-9, f"the top probability is 0.6, got {result[0][1]}"
assert len(top_k(example, k=1)) == 1, f"k=1 should give one pair: use the argument k; {READ}"
assert len(top_k(example, k=5)) == 5, f"k=5 should give five pairs: use the argument k; {READ}"
try:
    wide = [n for n, _ in top_k(example[None, :], k=2)]
except Exception as error:  # - any failure here has the same cause
    raise AssertionError(
        f"a (1, 10) input raised {type(error).__name__}: {error}. Flatten the probabilities to "
        f"shape (10,) first (reshape(-1)); {READ}"
    ) from None
assert wide == ["Pullover", "Coat"], (
    f"a (1, 10) input should work too: expected ['Pullover', 'Coat'], got {wide}; {READ}"
)
print("top_k: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(8)
for _ in range(20):
    p = rng.dirichlet(np.ones(10))
    kk = int(rng.integers(1, 11))
    got = top_k(p.astype(np.float32), k=kk)
    assert isinstance(got, list) and len(got) == kk, f"k={kk}: expected a list of {kk} pairs"
    want = np.argsort(p)[::-1][:kk]
    assert [str(n) for n, _ in got] == [CLASS_NAMES[i] for i in want], (
        f"random float32 probabilities, k={kk}: wrong classes or order (most probable first); "
        + READ
    )
    assert all(type(v) is float for _, v in got), "probabilities must be Python floats"
    msg = f"random probabilities, k={kk}: each class must come with its own probability"
    np.testing.assert_allclose([v for _, v in got], p[want], rtol=1e-6, err_msg=msg)
got = top_k(probs_test[index], k=10)
assert sorted(str(n) for n, _ in got) == sorted(CLASS_NAMES), "k=10 lists every class once"
### END HIDDEN TESTS

# %% [markdown]
# ## From a photo to 28×28
#
# A photo of a garment looks nothing like a Fashion-MNIST image. Here is one of
# the four sample photos that come with the course (the files are in
# `fmnist_utils/samples/`; two are test images printed on paper and
# photographed, so to speak, and two are drawings):

# %%
samples = photo.sample_paths()
sneaker = photo.load_image(samples["sneaker photo"])
list(samples), sneaker.size, sneaker.mode

# %% [markdown]
# Fashion-MNIST's authors made their 28×28 images from product photos on a white
# background in a fixed way (Xiao, Rasul and Vollgraf, 2017): they cropped the
# product to its bounding box, resized it so that its **longer side is 28
# pixels**, centred it on a 28×28 square, converted it to grey and **inverted**
# it, so that the garment is bright (high values) on a background of zeros.
# (The course's figures draw 0 as white, so the background looks white
# there; in the numbers, it is 0.) You can check the
# first claim on the training set: in nearly every image the garment touches two
# opposite edges.

# %%
garment = x_train > 0
height = garment.any(axis=2).sum(axis=1)
width = garment.any(axis=1).sum(axis=1)
float(np.mean(np.maximum(height, width) == 28))

# %% [markdown]
# To give the network an input it can read, you do the same to a photo. A photo's
# background is rarely pure white, so instead of inverting you measure the
# **ink**: how far each pixel's grey level is from the background's, which you
# estimate as the median of the border pixels. The background becomes 0, the
# garment bright, whatever its colour. Faint ink (shadows, grain, uneven light)
# would spoil the crop, so pixels below 20% of the strongest ink count as
# background. Resizing can overshoot a little below 0 next to sharp edges, so the
# resized square is clipped back to 0. The steps, with the helpers of
# `fmnist_utils.photo` (the figures draw larger values darker, so the "grey"
# panel looks like a negative: the light paper is drawn dark; nothing is
# inverted yet):

# %%
gray = photo.to_gray(sneaker)
strength = photo.ink(gray)
kept = np.where(strength >= 0.2 * strength.max(), strength, 0.0)
top, bottom, left, right = photo.bounding_box(kept > 0)
crop = kept[top:bottom, left:right]
square = np.clip(photo.fit_in_square(crop), 0, None)
plots.preprocessing_steps(
    {
        "photo": np.asarray(sneaker),
        "grey": gray,
        "ink": strength,
        "ink >= 20% of max": kept,
        "cropped": crop,
        "28 x 28, max 1": square / square.max(),
    }
)

# %% [markdown]
# ### Exercise 2 — `preprocess_photo` (4 points)
#
# Write `preprocess_photo(image)`, which turns a photo (a PIL image or a NumPy
# array) into a `(28, 28)` `float32` array in $[0, 1]$, following the steps
# above. The docstring says exactly what to do.
#
# Hints:
# - `photo.to_gray(image)` gives grey levels in $[0, 1]$ for any input; use it.
# - The border pixels: `np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])`.
# - Rows holding a garment pixel: `np.flatnonzero(mask.any(axis=1))`; the first
#   and the last of them bound the box.
# - To resize a float array with Pillow:
#   `Image.fromarray(crop.astype(np.float32)).resize((new_width, new_height), Image.Resampling.LANCZOS)`,
#   then `np.asarray(...)`. Note that Pillow sizes are `(width, height)`.


# %% nbgrader={"grade": false, "grade_id": "preprocess_photo", "locked": false, "schema_version": 3, "solution": true, "task": false}
def preprocess_photo(image: np.ndarray | Image.Image, threshold: float = 0.2) -> np.ndarray:
    """Turn a photo of one garment into a Fashion-MNIST-style (28, 28) float32 image.

    1. Grey levels in [0, 1]: photo.to_gray(image).
    2. Ink: abs(grey - background), where background is the median of the
       pixels on the image's border (first and last row, first and last column).
       The background becomes 0, the garment bright.
    3. Set to 0 every pixel whose ink is below threshold * (the largest ink).
    4. Crop to the bounding box of the pixels that are left (ink > 0).
    5. Resize the crop so that its longer side is 28 pixels, keeping the aspect
       ratio (the shorter side becomes round(28 * short / long), at least 1).
       Lanczos resizing overshoots a little next to sharp edges, down to values
       below 0: clip the resized crop to 0 or more (np.clip(..., 0, None)).
    6. Put it in the middle of a 28 x 28 array of zeros (if the margin is odd,
       the extra pixel goes at the bottom or on the right).
    7. Divide by the largest value, so the brightest pixel is 1.

    A blank image (no ink at all) gives a (28, 28) array of zeros.

    Parameters
    ----------
    image : np.ndarray or PIL.Image.Image
        The photo: a PIL image, or an array of shape (h, w), (h, w, 3) or (h, w, 4).
    threshold : float
        Fraction of the largest ink below which a pixel counts as background.

    Returns
    -------
    np.ndarray
        Shape (28, 28), dtype float32, values in [0, 1].
    """
    ### BEGIN SOLUTION
    gray = photo.to_gray(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    strength = np.abs(gray - np.median(border))
    peak = float(strength.max())
    if peak <= 0:
        return np.zeros((28, 28), dtype=np.float32)
    strength[strength < threshold * peak] = 0.0
    rows = np.flatnonzero(strength.any(axis=1))
    cols = np.flatnonzero(strength.any(axis=0))
    crop = strength[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    new_h = max(1, round(28 * h / max(h, w)))
    new_w = max(1, round(28 * w / max(h, w)))
    resized = Image.fromarray(crop.astype(np.float32)).resize(
        (new_w, new_h), Image.Resampling.LANCZOS
    )
    out = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    out[top : top + new_h, left : left + new_w] = np.clip(np.asarray(resized), 0, None)
    return (out / max(float(out.max()), 1e-12)).astype(np.float32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "preprocess_photo_tests", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check preprocess_photo: type, dtype, shape and range; white background to 0; threshold, crop, aspect ratio and centring; the clip on real photos."""
STEPS = "reread 'From a photo to 28×28' and the docstring's steps"


def _bright_box(image28):
    """Rows and columns (top, bottom, left, right; exclusive) of the pixels above 0.5."""
    mask = np.asarray(image28) > 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


page = np.full((200, 150, 3), 255, dtype=np.uint8)  # a white page, 200 high, 150 wide
page[20:100, 10:50] = (200, 30, 30)  # a red rectangle, 80 high and 40 wide, near the top left
page[180:183, 130:133] = 235  # a faint grey smudge, far below the threshold
out = preprocess_photo(page)
assert isinstance(out, np.ndarray), f"expected a NumPy array, got {type(out).__name__}"
assert out.dtype == np.float32, f"expected dtype float32, got {out.dtype}"
assert out.shape == (28, 28), f"expected shape (28, 28), got {out.shape}"
assert out.min() >= 0 and abs(float(out.max()) - 1) < 1e-5, (
    f"values should lie in [0, 1] with the brightest pixel at 1; got {out.min():.3f} to "
    f"{out.max():.3f}: divide by the largest value (step 7); {STEPS}"
)
assert float(out.min()) < 0.5, (
    "the whole 28 x 28 square is bright: the 80 x 40 rectangle should keep its aspect ratio, "
    f"28 x 14 (step 5), in the middle of a square of zeros (step 6); {STEPS}"
)
assert out[0, 0] == 0 and out[-1, -1] == 0, (
    "the corners should be 0 (black), like the white background: measure the ink, "
    f"abs(grey - background) (step 2), and put the crop in the middle of a square of zeros "
    f"(step 6); {STEPS}"
)
t, b, c0, c1 = _bright_box(out)
assert b - t == 28, (
    f"the rectangle is taller than wide, so it should fill all 28 rows; it fills {b - t}. The "
    f"faint smudge at the bottom right must not count: zero the weak ink (step 3) before you "
    f"crop (step 4); {STEPS}"
)
assert abs((c1 - c0) - 14) <= 1, (
    f"an 80 x 40 rectangle should become 28 x 14: width {c1 - c0} instead of 14; keep the "
    f"aspect ratio (step 5); {STEPS}"
)
assert abs((c0 + c1) / 2 - 14) <= 1, (
    f"the garment should be centred left to right; its columns run from {c0} to {c1 - 1} "
    f"(step 6); {STEPS}"
)
page_dark = 255 - page  # light garment on a dark background
out_dark = preprocess_photo(Image.fromarray(page_dark))
assert isinstance(out_dark, np.ndarray) and out_dark.shape == (28, 28), (
    "a PIL image should work too"
)
assert _bright_box(out_dark) == (t, b, c0, c1), (
    "a light garment on a dark background should give the same box: the ink is the distance "
    f"from the background's grey level, whichever is lighter (step 2); {STEPS}"
)
real = preprocess_photo(photo.load_image(samples["sneaker photo"]))
assert isinstance(real, np.ndarray) and float(real.min()) >= 0, (
    f"the sneaker photo gives values down to {float(np.min(real)):.3f}: Lanczos resizing "
    f"overshoots below 0 next to sharp edges; clip the resized crop to 0 or more (step 5); {STEPS}"
)
print("preprocess_photo: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(28)
for trial in range(25):
    H, W = (int(v) for v in rng.integers(60, 400, size=2))
    h = int(rng.integers(8, H - 4))
    w = int(rng.integers(8, W - 4))
    y0, x0 = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
    bg = rng.integers(150, 256, size=3)
    fg = np.clip(bg - rng.integers(90, 150, size=3), 0, 255)
    img = np.empty((H, W, 3), dtype=np.uint8)
    img[:] = bg
    img[y0 : y0 + h, x0 : x0 + w] = fg
    as_pil = bool(trial % 2)
    case = f"a {h} x {w} rectangle on a {H} x {W} {'PIL image' if as_pil else 'array'}"
    got = preprocess_photo(Image.fromarray(img) if as_pil else img)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (28, 28), (
        f"{case}: expected a float32 array of shape (28, 28)"
    )
    assert got.min() >= 0 and abs(float(got.max()) - 1) < 1e-5, (
        f"{case}: values should lie in [0, 1], the brightest at 1 (steps 5 and 7); {STEPS}"
    )
    t, b, c0, c1 = _bright_box(got)
    long_side, short_side = max(h, w), min(h, w)
    want_short = 28 * short_side / long_side
    got_long, got_short = (b - t, c1 - c0) if h >= w else (c1 - c0, b - t)
    assert got_long >= 27, (
        f"{case}: the longer side should fill 28 pixels, got {got_long} (steps 4 and 5); {STEPS}"
    )
    assert abs(got_short - want_short) <= 1.6, (
        f"{case}: the shorter side should keep the aspect ratio, got {got_short} pixels "
        f"(step 5); {STEPS}"
    )
    mass = got / got.sum()
    cy = float((mass.sum(axis=1) * np.arange(28)).sum())
    cx = float((mass.sum(axis=0) * np.arange(28)).sum())
    assert abs(cy - 13.5) <= 0.8 and abs(cx - 13.5) <= 0.8, (
        f"{case}: the garment is not centred in the 28 x 28 square (step 6); {STEPS}"
    )
    if want_short < 26:
        assert got[0, 0] == 0 and got[27, 27] == 0, (
            f"{case}: the background should be 0 (steps 2 and 6); {STEPS}"
        )
gray_img = np.full((50, 70), 0.8, dtype=np.float32)
gray_img[10:30, 5:65] = 0.1
got = preprocess_photo(gray_img)
assert got.shape == (28, 28) and got.dtype == np.float32, "a 2-D float array in [0, 1] should work"
t, b, c0, c1 = _bright_box(got)
assert c1 - c0 >= 27 and abs((b - t) - 28 * 20 / 60) <= 1.6, (
    f"a 2-D grey float image: wrong crop or aspect ratio (steps 4 and 5); {STEPS}"
)
blank = preprocess_photo(np.full((40, 30, 3), 255, dtype=np.uint8))
assert isinstance(blank, np.ndarray) and blank.shape == (28, 28) and blank.dtype == np.float32, (
    "a blank image: expected a float32 array of shape (28, 28)"
)
assert not np.any(blank), (
    "a blank image (no ink at all) should give all zeros, as the docstring says"
)
for name, path in photo.sample_paths().items():
    mine = preprocess_photo(photo.load_image(path))
    ref = photo.to_fashion_mnist(photo.load_image(path))
    corr = float(np.corrcoef(mine.ravel(), ref.ravel())[0, 1])
    assert corr > 0.95, (
        f"sample {name!r}: the result looks different from what the steps give; follow the "
        f"docstring's steps in order; {STEPS}"
    )
### END HIDDEN TESTS

# %% [markdown]
# Your function on the four samples: the 28×28 images the network will see.

# %%
processed = {name: preprocess_photo(photo.load_image(path)) for name, path in samples.items()}
plots.image_grid(
    np.stack(list(processed.values())), titles=list(processed), ncols=4, cmap="gray_r", size=2.0
)

# %% [markdown]
# ### Exercise 3 — `load_and_predict` (2 points)
#
# Put the pieces together: a function that takes an image file and a model, and
# returns the top-`k` classes. Open the file with `photo.load_image(path)` (it
# also turns phone photos upright), preprocess it, add the batch and channel
# axes, and call `model.predict(batch, verbose=0)`.


# %% nbgrader={"grade": false, "grade_id": "load_and_predict", "locked": false, "schema_version": 3, "solution": true, "task": false}
def load_and_predict(path: str | Path, model: keras.Model, k: int = 3) -> list[tuple[str, float]]:
    """Classify the image file at `path` with `model`; return the top k (class name, probability).

    The model gets one batch of shape (1, 28, 28, 1), dtype float32, made by
    preprocess_photo, through model.predict(batch, verbose=0).
    """
    ### BEGIN SOLUTION
    x = preprocess_photo(photo.load_image(path))
    probs = model.predict(x[None, :, :, None].astype(np.float32), verbose=0)
    return top_k(probs[0], k)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "load_and_predict_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check load_and_predict with a stand-in model that records what it receives: batch shape and dtype, the preprocessed photo, k, a phone photo turned upright."""
from fmnist_utils.standins import RecordingModel

PREDICT = "reread 'Exercise 3 — `load_and_predict` (2 points)'"
stand_in = RecordingModel([0.01, 0.02, 0.03, 0.04, 0.05, 0.12, 0.06, 0.5, 0.08, 0.09])
result = load_and_predict(samples["sneaker photo"], stand_in)
assert isinstance(result, list), f"expected a list, got {type(result).__name__}"
assert len(stand_in.seen) == 1, f"expected one call to model.predict, got {len(stand_in.seen)}"
batch = stand_in.seen[0]
assert batch.shape == (1, 28, 28, 1), (
    f"the model should get a batch of shape (1, 28, 28, 1), got {batch.shape}: add a batch "
    f"axis in front and a channel axis at the end; {PREDICT}"
)
assert batch.dtype == np.float32, f"the batch should be float32, got {batch.dtype}; {PREDICT}"
assert [n for n, _ in result] == ["Sneaker", "Sandal", "Ankle boot"], (
    f"top 3 of the stand-in's output: {result}"
)
np.testing.assert_allclose(
    batch[0, :, :, 0], preprocess_photo(photo.load_image(samples["sneaker photo"])), atol=1e-6,
    err_msg=f"the model should see preprocess_photo's output; {PREDICT}",
)  # fmt: skip
# a scratch folder, deleted when the notebook shuts down or restarts
phone_folder = tempfile.TemporaryDirectory(prefix="fmnist-lesson10-check-")
phone_dir = Path(phone_folder.name)
phone = np.full((60, 90, 3), 245, dtype=np.uint8)
phone[10:25, 10:80] = (30, 30, 120)  # a wide garment, stored sideways as phones do
exif = Image.Exif()
exif[0x0112] = 6  # EXIF orientation: turn 90 degrees to display
Image.fromarray(phone).save(phone_dir / "phone.jpg", quality=95, exif=exif)
phone_model = RecordingModel(stand_in.probs)
phone_top = load_and_predict(phone_dir / "phone.jpg", phone_model, k=5)
assert isinstance(phone_top, list) and len(phone_top) == 5, (
    f"load_and_predict(path, model, k=5) should give 5 pairs: pass k on to top_k; {PREDICT}"
)
np.testing.assert_allclose(
    phone_model.seen[0][0, :, :, 0], preprocess_photo(photo.load_image(phone_dir / "phone.jpg")),
    atol=1e-6,
    err_msg="a phone photo stored sideways (EXIF orientation) reached the model sideways: open "
    f"files with photo.load_image(path), which turns them upright; {PREDICT}",
)  # fmt: skip
print("load_and_predict: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(88)
with tempfile.TemporaryDirectory() as folder:
    img = np.full((90, 120, 3), 240, dtype=np.uint8)
    img[10:80, 50:75] = (20, 20, 90)
    path = Path(folder) / "my photo.jpg"
    Image.fromarray(img).save(path, quality=95)
    p = rng.dirichlet(np.ones(10))
    fake = RecordingModel(p)
    got = load_and_predict(str(path), fake, k=4)
    assert len(got) == 4 and len(fake.seen) == 1, (
        f"a str path and k=4: expected 4 pairs from one call to model.predict; {PREDICT}"
    )
    assert [n for n, _ in got] == [CLASS_NAMES[i] for i in np.argsort(p)[::-1][:4]], (
        f"the classes returned are not the model's top 4, most probable first; {PREDICT}"
    )
    want_input = preprocess_photo(photo.load_image(path))
    assert np.allclose(fake.seen[0][0, :, :, 0], want_input, atol=1e-6), (
        f"the model sees preprocess_photo's output; {PREDICT}"
    )
    assert fake.seen[0].dtype == np.float32, f"the batch should be float32; {PREDICT}"
### END HIDDEN TESTS

# %% [markdown]
# Now with the real model, on every sample:

# %%
for name, path in samples.items():
    print(
        f"{name:>18}: "
        + ", ".join(f"{label} {p:.0%}" for label, p in load_and_predict(path, model))
    )

# %% [markdown]
# ## Bring your own image
#
# Take a photo of one garment, lying flat on a plain, light surface (a bed
# sheet, a floor, a table), seen from the front or the side like the pictures in
# a shop, with some space around it. Upload it below, or pick a sample. The tool
# uses *your* `preprocess_photo`, so what you see in the middle is what your
# function makes of the photo.

# %%
tool = widgets.bring_your_own_image(model, preprocess=preprocess_photo)
tool.picker.value = "t-shirt drawing"
tool

# %% [markdown]
# The tool can also be driven from code, which is handy to check what it shows:

# %%
tool.predictions

# %% [markdown]
# ## Where the model fails, and why
#
# Try a few photos and you will find mistakes that never happen on the test set.
# The network learned from 60,000 images that all share the same *distribution*:
# centred, cropped tight, a background of zeros, the same lighting, the same poses. A
# photo that breaks any of these habits is **out of distribution**, and nothing
# in training told the network what to do with it. This is called **distribution
# shift**.
#
# You can measure it on the test set itself: change the test images in one way
# at a time, and see what happens to the accuracy. First, one of the changes as
# an exercise.
#
# ### Exercise 4 — `shift_images` (2 points)
#
# Write `shift_images(x, dx, dy)`, which moves every image of a batch `dx` pixels
# to the right and `dy` pixels down (negative values move left and up). Pixels
# that leave the image are dropped, and the uncovered area is 0 (unlike
# `np.roll`, nothing wraps around). A shift by the image's width or more leaves
# an empty (all-zero) image.


# %% nbgrader={"grade": false, "grade_id": "shift_images", "locked": false, "schema_version": 3, "solution": true, "task": false}
def shift_images(x: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Shift a batch of images (n, height, width) right by dx and down by dy, filling with 0.

    dx and dy may be any integers: negative values shift left and up, and a shift
    as large as the image or larger (abs(dx) >= width or abs(dy) >= height) moves
    everything out, leaving only zeros. Returns a new array of the same shape and
    dtype; x is not modified.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    out = np.zeros_like(x)
    height, width = x.shape[1], x.shape[2]
    if abs(dx) >= width or abs(dy) >= height:
        return out
    src_rows = slice(max(0, -dy), height - max(0, dy))
    dst_rows = slice(max(0, dy), height - max(0, -dy))
    src_cols = slice(max(0, -dx), width - max(0, dx))
    dst_cols = slice(max(0, dx), width - max(0, -dx))
    out[:, dst_rows, dst_cols] = x[:, src_rows, src_cols]
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "shift_images_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Check shift_images: same shape and dtype, no wrap-around, both directions, zero shift, shifts as large as the image, input untouched."""
SHIFT = "reread 'Where the model fails, and why'"
tiny = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3)
got = shift_images(tiny, 1, 0)
assert isinstance(got, np.ndarray), f"expected a NumPy array, got {type(got).__name__}"
assert got.dtype == tiny.dtype, (
    f"expected dtype {tiny.dtype}, the input's, got {got.dtype} (np.zeros_like keeps it); {SHIFT}"
)
assert got.shape == tiny.shape, f"expected shape {tiny.shape}, got {got.shape}"
np.testing.assert_array_equal(
    tiny[0],
    np.arange(1, 10).reshape(3, 3),
    err_msg=f"the input must not change: fill a new array (np.zeros_like); {SHIFT}",
)
np.testing.assert_array_equal(
    got[0],
    [[0, 1, 2], [0, 4, 5], [0, 7, 8]],
    err_msg="dx=1 moves everything one column right, 0 on the left: nothing wraps around "
    f"(unlike np.roll), and dx moves columns, dy rows; {SHIFT}",
)
np.testing.assert_array_equal(
    shift_images(tiny, 0, -1)[0],
    [[4, 5, 6], [7, 8, 9], [0, 0, 0]],
    err_msg=f"dy=-1 moves everything one row up; {SHIFT}",
)
np.testing.assert_array_equal(
    shift_images(tiny, 0, 0), tiny, err_msg=f"a zero shift changes nothing; {SHIFT}"
)
for dx, dy in [(3, 0), (0, -4)]:
    try:
        gone = shift_images(tiny, dx, dy)
    except Exception as error:  # - any failure here has the same cause
        raise AssertionError(
            f"shift_images(tiny, {dx}, {dy}) on a 3 x 3 image raised {type(error).__name__}: "
            f"{error}. A shift as large as the image or larger moves everything out and leaves "
            f"only zeros; {SHIFT}"
        ) from None
    np.testing.assert_array_equal(
        gone,
        np.zeros_like(tiny),
        err_msg=f"shift_images(tiny, {dx}, {dy}) on a 3 x 3 image should leave only zeros; {SHIFT}",
    )
print("shift_images: all visible checks passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(4)
batch = rng.integers(1, 256, size=(5, 28, 28), dtype=np.uint8)
kept = batch.copy()
for dx, dy in [(3, 2), (-4, 5), (0, -7), (27, 0), (-27, -27), (28, 3), (-30, 0), (2, -1)]:
    got = shift_images(batch, dx, dy)
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8 and got.shape == batch.shape, (
        f"uint8 images, dx={dx}, dy={dy}: expected a uint8 array of the input's shape"
    )
    want = np.zeros_like(batch)
    for r in range(28):
        for c in range(28):
            rr, cc = r - dy, c - dx
            if 0 <= rr < 28 and 0 <= cc < 28:
                want[:, r, c] = batch[:, rr, cc]
    msg = (
        f"28 x 28 images shifted by dx={dx}, dy={dy}: wrong pixels (what moves out is "
        f"dropped, the rest is 0); {SHIFT}"
    )
    np.testing.assert_array_equal(got, want, err_msg=msg)
np.testing.assert_array_equal(batch, kept, err_msg="the input must not change")
rect = rng.random((2, 5, 9)).astype(np.float32)
msg = f"images 5 high and 9 wide: height and width differ, use each for its axis; {SHIFT}"
np.testing.assert_array_equal(shift_images(rect, 2, 1)[:, 1:, 2:], rect[:, :-1, :-2], err_msg=msg)
### END HIDDEN TESTS

# %% [markdown]
# Now the experiment. Each changed test set mimics one way a photo differs from
# Fashion-MNIST; 2,000 test images are enough to see the effect. (An accuracy
# $p$ measured on $n$ images wobbles by chance: its **standard error**,
# $\sqrt{p(1 - p)/n}$, is never more than $\sqrt{0.25/2000}$, about one
# percentage point, for $n = 2{,}000$, so differences of many points are real.)
#
# **Predict** before you run it: which change hurts most?

# %%
x_eval, y_eval = x_test01[:2000], y_test[:2000]
# resizing can overshoot a little past 0 and 1 next to sharp edges: clip back to [0, 1]
half_size = np.stack([np.pad(np.clip(photo.fit_in_square(img, 14), 0, 1), 7) for img in x_eval])
conditions = {
    "original": x_eval,
    "3 px right": shift_images(x_eval, 3, 0),
    "6 px right, down": shift_images(x_eval, 6, 6),
    "half the size": half_size,
    "dim light": 0.5 * x_eval,
    "grey background": 0.3 + 0.7 * x_eval,
    "inverted": 1.0 - x_eval,
}
shift_accuracy = {}
for name, images in conditions.items():
    p = model.predict(photo.to_model_input(images), batch_size=250, verbose=0)
    shift_accuracy[name] = float(np.mean(p.argmax(axis=1) == y_eval))
plots.distribution_shift({name: images[1] for name, images in conditions.items()}, shift_accuracy)

# %% [markdown]
# How to read it:
#
# - **Position and size.** Convolutions are the same at every position, but the
#   dense layer at the end is not: it learned *where* the features of each class
#   usually are. A garment a few pixels off-centre, or half the size, lands on
#   weights that never saw it there. That is why your preprocessing crops and
#   centres: it moves every photo back to where the network expects it.
# - **Lighting.** A dimmer image scales every pixel. The network's answer
#   does not scale along with it: its biases and batch normalization's stored
#   means shift every value by a fixed amount (a ReLU alone would scale), so
#   confidence and accuracy drop. Dividing by
#   the largest value (step 7 of `preprocess_photo`) undoes it.
# - **Background and inversion.** The network never saw a background other
#   than zeros. A grey or white one looks like a huge garment. This is why step
#   2 measures ink against the background.
#
# Preprocessing removes the shifts you can name. It cannot remove the others:
# **pose** (a shirt photographed on a person, folded, or at an angle), **texture
# and clutter** (a patterned sofa behind the shirt), **other objects** (the ten
# classes are all the network knows). Whatever you show it, the softmax still
# spreads 100% over the ten classes, so the model answers confidently about
# things it has never seen. A black square with a bright disc, for example:

# %%
yy, xx = np.mgrid[0:28, 0:28]
disc = ((yy - 13.5) ** 2 + (xx - 13.5) ** 2 < 10**2).astype(np.float32)
top_k(model.predict(photo.to_model_input(disc), verbose=0)[0])

# %% [markdown]
# Real fixes need data: photos like the ones the model will see, labelled and
# added to training; augmentation that imitates the shift (lesson 9); or a model
# pre-trained on millions of varied photos and fine-tuned on yours.
#
# ## Save the model, and use it elsewhere
#
# Two formats, two uses:
#
# - **`.keras`** (`model.save`): the whole model, its architecture, weights and
#   optimizer state, for Keras. You load it to predict *or to continue training*.
# - **TensorFlow SavedModel** (`model.export`): a frozen inference function that
#   any TensorFlow program (TF Serving, TF.js converters, TFLite converters, C++)
#   can run, with no Python code of yours and no Keras.
#
# You write both into a new temporary folder, so nothing of yours is ever
# overwritten; the folder is deleted when you restart or shut down this notebook.
# To keep a copy, save it under a name of your own (and check first that the
# name is free: `Path("my_model.keras").exists()`).

# %%
scratch = tempfile.TemporaryDirectory(prefix="fmnist-lesson10-")
export_dir = Path(scratch.name)
keras_file = export_dir / "fashion_cnn.keras"
saved_model_dir = export_dir / "fashion_cnn_savedmodel"
model.save(keras_file)
model.export(saved_model_dir, verbose=False)
sorted(p.name for p in export_dir.iterdir())

# %% [markdown]
# To prove that the exports stand on their own, you load them in a *fresh*
# Python process, which knows nothing of this notebook: the processed samples go
# to a `.npy` file, a short script loads both exports and predicts, and prints
# the probabilities as JSON.

# %%
batch = photo.to_model_input(np.stack(list(processed.values())))
np.save(export_dir / "inputs.npy", batch)
script = textwrap.dedent(
    f"""
    import json, os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np, keras, tensorflow as tf
    x = np.load({str(export_dir / "inputs.npy")!r})
    exported = tf.saved_model.load({str(saved_model_dir)!r})  # keep it: it owns the weights
    served = exported.serve(tf.constant(x))
    reloaded = keras.saving.load_model({str(keras_file)!r})
    print(json.dumps({{"savedmodel": np.asarray(served).tolist(),
                      "keras": reloaded.predict(x, verbose=0).tolist()}}))
    """
)
done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
assert done.returncode == 0, done.stderr[-3000:]
print(script)

# %%
fresh = json.loads(done.stdout.strip().splitlines()[-1])
here = model.predict(batch, verbose=0)
for name in ("savedmodel", "keras"):
    np.testing.assert_allclose(np.array(fresh[name]), here, atol=1e-5)
{name: [top_k(p, 1)[0][0] for p in np.array(fresh[name])] for name in fresh}

# %% [markdown]
# Both exports give the same probabilities as the model in this notebook, to
# five decimals. The SavedModel's `serve` function is all a server needs.
#
# ## Summary
#
# - A prediction is a probability for every class; the top 3 show what the
#   model hesitates between.
# - Fashion-MNIST images are crops resized to 28 pixels on their longer side,
#   centred, inverted (bright garment on black) and scaled to $[0, 1]$; a photo
#   must go through the same steps before the network can read it.
# - A model fails on inputs unlike its training data (distribution shift):
#   position, size, lighting and background are fixed by preprocessing; pose,
#   clutter and unknown objects are not.
# - `model.save("….keras")` keeps everything for Keras; `model.export(…)` writes
#   a SavedModel that any TensorFlow program can serve; both reload in a fresh
#   process and give the same predictions.
#
# ## Further exercises
#
# 1. Photograph the same garment on three backgrounds (light, dark, patterned).
#    Where does `preprocess_photo` break? Improve it (hint: a larger
#    `threshold`, or a blur before measuring ink).
# 2. Augment the training data of lesson 9 with random shifts of up to 6 pixels
#    and random scaling, and repeat the distribution-shift experiment. Which
#    accuracies recover, and what does it cost on the original test set?
# 3. Convert the SavedModel to TensorFlow Lite
#    (`tf.lite.TFLiteConverter.from_saved_model`), and compare the file's size
#    and its predictions with the SavedModel's.
# 4. Add a "none of these" answer: reject a prediction whose top probability is
#    below a threshold. Choose the threshold on the test set so that 99% of the
#    test images are still answered, and try it on the disc above.
