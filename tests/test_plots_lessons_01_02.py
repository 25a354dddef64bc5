"""The figures of lessons 1 and 2: they draw what they are given, and refuse bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from fmnist_utils import plots  # noqa: E402
from fmnist_utils.data import CLASS_NAMES  # noqa: E402

NAMES = ["zero", "one", "two"]


@pytest.fixture(autouse=True)
def _no_figures_left_open():
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a plot helper left a figure open in pyplot"


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _tick_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels()]


# --- shared helpers: shown once in a notebook ------------------------------------------


def test_shared_helpers_do_not_stay_open_in_pyplot() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    y = np.repeat(np.arange(3), 10)
    for fig in (
        plots.image_grid(x[:4], y[:4], class_names=NAMES),
        plots.examples_per_class(x, y, per_class=2, class_names=NAMES),
    ):
        assert isinstance(fig, Figure)
    # the autouse fixture checks that nothing is left open (else Jupyter shows it twice)


# --- lesson 1 ---------------------------------------------------------------------------


def test_pixel_values_writes_every_value_in_its_cell() -> None:
    image = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    fig = plots.pixel_values(image, title="demo")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), image)
    texts = ax.texts
    assert len(texts) == 12
    by_position = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in texts}
    assert by_position[(2, 3)].get_text() == "220"
    assert by_position[(0, 1)].get_text() == "20"
    # dark cells get white text, light cells black text
    assert by_position[(2, 3)].get_color() == "white"
    assert by_position[(0, 0)].get_color() == "black"
    assert ax.get_title() == "demo"


def test_pixel_values_without_numbers_and_for_floats() -> None:
    fig = plots.pixel_values(np.zeros((28, 28), dtype=np.uint8), annotate=False)
    assert len(fig.axes[0].texts) == 0
    fig = plots.pixel_values(np.array([[0.0, 0.5], [1.0, 0.25]]))
    assert sorted(_texts(fig)) == ["0.0", "0.2", "0.5", "1.0"]


def test_pixel_values_rejects_a_stack_of_images() -> None:
    with pytest.raises(ValueError, match=r"\(height, width\)"):
        plots.pixel_values(np.zeros((2, 28, 28), dtype=np.uint8))


def test_class_balance_draws_one_bar_per_class_and_split() -> None:
    counts = np.array([5, 10, 15])
    fig = plots.class_balance(counts, class_names=NAMES)
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [5, 10, 15]
    assert _tick_labels(ax) == NAMES
    assert ax.get_legend() is None, "one unnamed split needs no legend"
    assert ax.get_ylabel() == "examples"


def test_class_balance_grouped_and_normalized() -> None:
    fig = plots.class_balance(
        {"train": np.array([30, 60, 10]), "test": np.array([1, 2, 1])},
        class_names=NAMES,
        normalize=True,
    )
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, [0.3, 0.6, 0.1, 0.25, 0.5, 0.25])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert ax.get_ylabel() == "share of examples"


def test_class_balance_uses_fashion_mnist_names_by_default() -> None:
    fig = plots.class_balance(np.full(10, 6000))
    assert _tick_labels(fig.axes[0]) == list(CLASS_NAMES)


def test_class_balance_rejects_splits_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="one count per class"):
        plots.class_balance({"a": np.ones(3), "b": np.ones(4)})


def test_pixel_histograms_one_panel_per_class_with_share_of_zeros() -> None:
    x = np.zeros((4, 2, 2), dtype=np.uint8)
    x[2:] = 255  # class 1 is all ink, class 0 all background
    y = np.array([0, 0, 1, 1])
    fig = plots.pixel_histograms(x, y, class_names=NAMES, bins=4)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(visible) == 2
    assert "100% of pixels are 0" in visible[0].get_title()
    assert "0% of pixels are 0" in visible[1].get_title()
    assert visible[0].get_title().startswith("zero")
    # the share of pixels per bin: all of class 0 in the first bin, of class 1 in the last
    values0 = visible[0].patches[0].get_data().values
    values1 = visible[1].patches[0].get_data().values
    np.testing.assert_allclose(values0, [1, 0, 0, 0])
    np.testing.assert_allclose(values1, [0, 0, 0, 1])


def test_pixel_histograms_rejects_mismatched_labels() -> None:
    with pytest.raises(ValueError, match="labels"):
        plots.pixel_histograms(np.zeros((3, 2, 2), dtype=np.uint8), np.zeros(2, dtype=int))


def test_class_images_share_one_scale() -> None:
    images = np.stack([np.full((4, 4), v, dtype=float) for v in (0.0, 0.5, 2.0)])
    fig = plots.class_images(images, class_names=NAMES, title="means")
    shown = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(shown) == 3
    assert {im.get_clim() for im in shown} == {(0.0, 2.0)}
    assert [ax.get_title() for ax in fig.axes if ax.images] == NAMES
    assert fig._suptitle.get_text() == "means"
    assert len(fig.axes) == 4, "three images and one colour bar"


def test_class_images_accepts_flat_rows_and_centres() -> None:
    flat = np.array([[-1.0, 0, 0, 3], [0, 1, 0, 0]])
    fig = plots.class_images(flat, class_names=NAMES, center=True, colorbar=False)
    shown = [ax.images[0] for ax in fig.axes if ax.images]
    assert shown[0].get_array().shape == (2, 2)
    assert shown[0].get_clim() == (-3.0, 3.0)
    assert len(fig.axes) == 2


def test_class_images_rejects_non_square_flat_images() -> None:
    with pytest.raises(ValueError, match="square"):
        plots.class_images(np.zeros((3, 5)))


def test_distance_matrix_annotates_every_cell() -> None:
    d = np.array([[0.0, 1.25, 3.0], [1.25, 0.0, 2.0], [3.0, 2.0, 0.0]])
    fig = plots.distance_matrix(d, class_names=NAMES)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), d)
    assert len(ax.texts) == 9
    assert sorted({t.get_text() for t in ax.texts}) == ["0.0", "1.2", "2.0", "3.0"]
    assert _tick_labels(ax) == NAMES


def test_distance_matrix_rejects_non_square() -> None:
    with pytest.raises(ValueError, match="square"):
        plots.distance_matrix(np.zeros((2, 3)))


# --- lesson 2 ---------------------------------------------------------------------------


def test_confusion_matrix_counts_rows_as_true_classes() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 0])
    fig = plots.confusion_matrix(y_true, y_pred, class_names=NAMES, normalize=False)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), [[2, 1, 0], [0, 2, 0], [1, 0, 0]])
    assert ax.get_title() == "accuracy 66.7%"
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "2" in _texts(fig)


def test_confusion_matrix_normalizes_rows_and_accepts_scores() -> None:
    y_true = np.array([0, 0, 0, 0, 1, 2])
    scores = np.eye(3)[[0, 0, 0, 1, 1, 2]] * 5.0 - 1.0  # logits whose argmax is the prediction
    fig = plots.confusion_matrix(y_true, scores, class_names=NAMES, title="demo")
    matrix = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(matrix, [[0.75, 0.25, 0], [0, 1, 0], [0, 0, 1]])
    assert fig.axes[0].get_title() == "demo"
    assert "0.75" in _texts(fig)


def test_confusion_matrix_keeps_an_absent_class_at_zero() -> None:
    fig = plots.confusion_matrix(np.array([0, 1]), np.array([0, 1]), class_names=NAMES)
    matrix = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(matrix[2], 0.0)


def test_confusion_matrix_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        plots.confusion_matrix(np.array([0, 1]), np.array([0]), class_names=NAMES)
    with pytest.raises(ValueError, match="0..2"):
        plots.confusion_matrix(np.array([0, 3]), np.array([0, 1]), class_names=NAMES)


def test_accuracy_comparison_labels_bars_in_order() -> None:
    results = {"a": 0.5, "b": 0.875}
    fig = plots.accuracy_comparison(results, title="demo")
    ax = fig.axes[0]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [0.5, 0.875]
    labels = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert labels["a"] > labels["b"], "the first model is drawn on top"
    assert _texts(fig) == ["50.0%", "87.5%"]
    assert ax.get_title() == "demo"
    assert ax.get_legend() is not None, "the chance line is labelled"


def test_accuracy_comparison_without_chance_line_and_bad_values() -> None:
    fig = plots.accuracy_comparison({"a": 0.2}, chance=None)
    assert fig.axes[0].get_legend() is None
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plots.accuracy_comparison({"a": 87.0})
