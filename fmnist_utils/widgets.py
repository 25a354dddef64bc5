"""The interactive tools of the lessons, built with ipywidgets, written once.

Each function returns a widget (display it as a cell's last expression);
nothing is displayed at import. The functions are grouped by lesson.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np

# --- Lesson 1: image browser ---------------------------------------------------


def _png(image: np.ndarray, scale: int) -> bytes:
    """Encode a uint8 image as PNG bytes, ink dark on white, enlarged ``scale`` times."""
    from PIL import Image

    picture = Image.fromarray(255 - image)
    picture = picture.resize(
        (image.shape[1] * scale, image.shape[0] * scale), Image.Resampling.NEAREST
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _pixel_table(image: np.ndarray) -> str:
    """Render a uint8 image's values as an HTML table, each cell shaded like its pixel."""
    rows = []
    for row in image:
        cells = "".join(
            f'<td style="background:rgb({255 - v},{255 - v},{255 - v});'
            f'color:{"white" if v > 127 else "black"}">{v}</td>'
            for v in row.tolist()
        )
        rows.append(f"<tr>{cells}</tr>")
    style = (
        "border-collapse:collapse;font:9px monospace;text-align:right;"
        "line-height:11px;table-layout:fixed"
    )
    return f'<table class="fmnist-pixels" style="{style}">{"".join(rows)}</table>'


class ImageBrowser(widgets.VBox):
    """Browse labelled images: pick a class, slide through its images.

    Shows the image, its label and its pixel values. The parts are
    attributes, so code (and tests) can drive the browser:
    ``class_dropdown`` ("Class"), ``index_slider`` ("Index", the position
    among the images of that class), ``image`` (an ``ipywidgets.Image``
    holding a PNG), ``caption`` and ``pixels`` (``ipywidgets.HTML``).

    Parameters
    ----------
    x : numpy.ndarray
        Images, shape ``(n, height, width)``, uint8 (0-255) or float in [0, 1].
    y : numpy.ndarray
        Integer labels, shape ``(n,)``.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    scale : int, optional
        How many screen pixels show one image pixel.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        class_names: Sequence[str] | None = None,
        scale: int = 8,
    ) -> None:
        x = np.asarray(x)
        y = np.asarray(y)
        if x.ndim != 3:
            raise ValueError(f"x must have shape (n, height, width), got {x.shape}")
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} images but y has {len(y)} labels; they must match")
        if len(x) == 0:
            raise ValueError("there are no images to browse")
        if x.dtype != np.uint8:
            x = np.clip(np.rint(np.asarray(x, dtype=float) * 255), 0, 255).astype(np.uint8)
        if class_names is None:
            from fmnist_utils.data import CLASS_NAMES

            class_names = CLASS_NAMES
        self._x = x
        self._y = y
        self._scale = scale
        self.class_names = list(class_names)
        labels = [int(label) for label in np.unique(y)]
        self._where = {label: np.flatnonzero(y == label) for label in labels}
        self.class_dropdown = widgets.Dropdown(
            options=[(f"{label}: {self.class_names[label]}", label) for label in labels],
            value=labels[0],
            description="Class",
        )
        self.index_slider = widgets.IntSlider(
            value=0,
            min=0,
            max=len(self._where[labels[0]]) - 1,
            description="Index",
            continuous_update=True,
        )
        self.image = widgets.Image(format="png", layout=widgets.Layout(border="1px solid #ccc"))
        self.caption = widgets.HTML()
        self.pixels = widgets.HTML()
        self.class_dropdown.observe(self._class_changed, names="value")
        self.index_slider.observe(self._index_changed, names="value")
        controls = widgets.HBox([self.class_dropdown, self.index_slider])
        picture = widgets.VBox([self.image, self.caption])
        values = widgets.VBox(
            [widgets.HTML("<b>Pixel values</b> (0 = background, 255 = darkest ink)"), self.pixels]
        )
        super().__init__([controls, widgets.HBox([picture, values])])
        self._show()

    @property
    def position(self) -> int:
        """The shown image's position in ``x`` (and ``y``)."""
        return int(self._where[self.class_dropdown.value][self.index_slider.value])

    def _class_changed(self, change: dict) -> None:
        count = len(self._where[change["new"]])
        # shrinking max may move the value, firing _index_changed: show once, at the end
        with self.index_slider.hold_trait_notifications():
            self.index_slider.value = min(self.index_slider.value, count - 1)
            self.index_slider.max = count - 1
        self._show()

    def _index_changed(self, change: dict) -> None:
        self._show()

    def _show(self) -> None:
        image = self._x[self.position]
        label = int(self._y[self.position])
        count = len(self._where[self.class_dropdown.value])
        self.image.value = _png(image, self._scale)
        self.caption.value = (
            f"<b>{html.escape(self.class_names[label])}</b> (label {label})<br>"
            f"image {self.index_slider.value + 1} of {count} in this class, "
            f"<code>x[{self.position}]</code>"
        )
        self.pixels.value = _pixel_table(image)


def image_browser(
    x: np.ndarray,
    y: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    scale: int = 8,
) -> ImageBrowser:
    """Make a widget to browse images by class, with their labels and pixel values.

    Parameters
    ----------
    x : numpy.ndarray
        Images, shape ``(n, height, width)``, uint8 (0-255) or float in [0, 1].
    y : numpy.ndarray
        Integer labels, shape ``(n,)``.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    scale : int, optional
        How many screen pixels show one image pixel.

    Returns
    -------
    ImageBrowser
        The widget (an ``ipywidgets.VBox``): a "Class" dropdown, an "Index"
        slider, the image, its label, and a table of its pixel values.
    """
    return ImageBrowser(x, y, class_names=class_names, scale=scale)


# --- Lesson 3: kernel editor -----------------------------------------------------


# --- Lesson 8: bring your own image --------------------------------------------
