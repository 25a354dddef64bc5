"""Every figure: made by the one figure helper, in constrained layout and the course style."""

from __future__ import annotations

import ast
import fnmatch
import inspect
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.font_manager import font_scalings
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text

from fmnist_utils import plots
from fmnist_utils.plots import base

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fmnist_utils" / "plots"
STYLE = matplotlib.rc_params_from_file(str(base.STYLE), use_default_template=False)

_rng = np.random.default_rng(0)
_x = _rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
_y = np.repeat(np.arange(3), 10)
_img = _rng.random((12, 12))
_probs = _rng.dirichlet(np.ones(10), size=4)
_history = {
    "loss": [0.9, 0.5],
    "val_loss": [0.7, 0.6],
    "accuracy": [0.6, 0.8],
    "val_accuracy": [0.6, 0.7],
}
NAMES = ["zero", "one", "two"]

# One small call of every figure function.
CALLS: dict[str, Callable[[], object]] = {
    "image_grid": lambda: plots.image_grid(_x[:5], _y[:5], class_names=NAMES),
    "examples_per_class": lambda: plots.examples_per_class(_x, _y, per_class=3, class_names=NAMES),
    "pixel_values": lambda: plots.pixel_values(_x[0], title="one image"),
    "class_balance": lambda: plots.class_balance(
        {"a": [3, 4, 5], "b": [1, 2, 3]}, class_names=NAMES
    ),
    "pixel_histograms": lambda: plots.pixel_histograms(_x, _y, class_names=NAMES),
    "class_images": lambda: plots.class_images(_x[:3], class_names=NAMES, title="t"),
    "distance_matrix": lambda: plots.distance_matrix(np.ones((3, 3)), class_names=NAMES),
    "confusion_matrix": lambda: plots.confusion_matrix(_y, _y[::-1], class_names=NAMES),
    "accuracy_comparison": lambda: plots.accuracy_comparison({"a": 0.5, "b": 0.8}),
    "convolution_step": lambda: plots.convolution_step(_img, np.eye(3), 1, 1),
    "filter_gallery": lambda: plots.filter_gallery(_img, {"k": _img - 0.5}, {"k": np.eye(3)}),
    "feature_map_row": lambda: plots.feature_map_row(np.stack([_img, -_img], axis=-1)),
    "pooling_grid": lambda: plots.pooling_grid(
        np.arange(16).reshape(4, 4), {"max": np.ones((2, 2))}
    ),
    "receptive_field_diagram": lambda: plots.receptive_field_diagram([("conv", 3, 1)], n_input=8),
    "shift_tolerance": lambda: plots.shift_tolerance([0, 1], {"pixels": [0, 0.5]}),
    "layer_sizes": lambda: plots.layer_sizes(["in", "conv"], [(28, 28, 1), (26, 26, 8)], [0, 80]),
    "learning_curves": lambda: plots.learning_curves(_history),
    "prediction_grid": lambda: plots.prediction_grid(_x[:4], _probs, np.array([0, 1, 2, 3])),
    "class_metrics": lambda: plots.class_metrics({"recall": np.linspace(0.5, 1, 10)}),
    "filters": lambda: plots.filters(_rng.normal(size=(3, 3, 1, 4))),
    "feature_maps": lambda: plots.feature_maps(_rng.random((6, 6, 4))),
    "saliency": lambda: plots.saliency(_x[:2] / 255, _rng.random((2, 28, 28)), titles=["a", "b"]),
    "overfitting_curves": lambda: plots.overfitting_curves(_history, title="t"),
    "compare_curves": lambda: plots.compare_curves({"a": _history, "b": _history}, title="t"),
    "augmentation_gallery": lambda: plots.augmentation_gallery(
        {"flip": _x[:3] / 255}, sensible={"flip": True}
    ),
    "learning_rate_schedule": lambda: plots.learning_rate_schedule(
        lambda s: 0.1 / (1 + s), 20, title="t"
    ),
    "experiment_results": lambda: plots.experiment_results(
        [{"variant": "a", "val_accuracy": 0.8, "train_accuracy": 0.9, "seconds": 3}], title="t"
    ),
    "top_k_bars": lambda: plots.top_k_bars(_probs[0], image=_x[0] / 255, title="t"),
    "preprocessing_steps": lambda: plots.preprocessing_steps(
        {"rgb": _rng.random((8, 8, 3)), "grey": _img}
    ),
    "backprop_diagram": lambda: plots.backprop_diagram({"X": (32, 784), "W1": (784, 16)}),
    "descent_paths": lambda: plots.descent_paths(
        lambda s: (s - 3) ** 2, {"a": [0, 1.5, 2.25], "b": [0, 9, -9]}, span=(0, 6), title="t"
    ),
    "step_losses": lambda: plots.step_losses({"a": [2.3, 1.0], "b": [2.3, 9.0]}, start=2.3),
    "distribution_shift": lambda: plots.distribution_shift(
        {"a": _x[0] / 255, "b": _x[1] / 255}, {"a": 0.9}
    ),
}


def _style_sizes() -> set[float]:
    """Every font size the style's relative names give, in points."""
    base_size = float(STYLE["font.size"])
    return {round(base_size * scale, 3) for scale in font_scalings.values() if scale is not None}


def test_every_figure_function_is_exported_and_called_here() -> None:
    public = {
        name
        for module in (
            plots.charts,
            plots.curves,
            plots.diagrams,
            plots.images,
            plots.internals,
            plots.matrices,
        )
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
        and inspect.signature(value).return_annotation == "Figure"
    }
    assert public == set(plots.__all__), "every figure function is re-exported by plots"
    assert set(CALLS) == public, "every figure function is checked below"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_figure_is_constrained_in_course_style_and_closed(name: str) -> None:
    before = dict(matplotlib.rcParams)
    open_figures = plt.get_fignums()
    fig = CALLS[name]()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert plt.get_fignums() == open_figures, f"{name} left its figure open in pyplot"
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine), f"{name} is not in constrained layout"
    assert engine.get()["h_pad"] == STYLE["figure.constrained_layout.h_pad"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "constrained layout not applied"
        fig.canvas.draw()
    sizes = {
        round(text.get_fontsize(), 3)
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text()
    }
    assert sizes, f"{name} wrote no text"
    assert sizes <= _style_sizes(), f"{name} uses font sizes outside the style: {sizes}"
    assert dict(matplotlib.rcParams) == before, f"{name} changed the learner's rcParams"


def test_images_use_the_styles_colour_map() -> None:
    fig = plots.image_grid(_x[:2])
    assert fig.axes[0].images[0].get_cmap().name == STYLE["image.cmap"] == "gray_r"
    fig = plots.feature_maps(_rng.random((6, 6, 2)))  # no colour map named: the style's
    assert fig.axes[0].images[0].get_cmap().name == "gray_r"


def test_importing_plots_changes_no_rcparams() -> None:
    code = (
        "import matplotlib as mpl; before = dict(mpl.rcParams); "
        "import fmnist_utils.plots; assert dict(mpl.rcParams) == before"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_no_module_sets_sizes_or_layout_by_hand() -> None:
    """Sizes come from the style, layout from constrained layout, figures from one helper."""
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 6
    for path in modules:
        source = path.read_text(encoding="utf-8")
        for banned in ("fontsize=", "tight_layout(", "subplots_adjust(", "plt.subplots("):
            assert banned not in source, f"{path.name} contains {banned!r}"
        if path.name != "base.py":
            assert "plt.figure(" not in source, f"{path.name} makes a figure without course_figure"
        lines = len(source.splitlines())
        assert lines < 600, f"{path.name} has {lines} lines; split it by kind of figure"


def test_no_import_below_the_top_of_a_module() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        body = [node for node in tree.body if not isinstance(node, ast.Expr)]
        seen_code = False
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                assert not seen_code, f"{path.name}:{node.lineno} imports below the top"
            else:
                seen_code = True


def test_style_sheet_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["fmnist_utils"]
    relative = base.STYLE.relative_to(ROOT / "fmnist_utils").as_posix()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), patterns
