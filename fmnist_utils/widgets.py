"""The interactive tools of the lessons, built with ipywidgets, written once.

Every tool is an ipywidgets box (a ``VBox`` or ``HBox`` subclass) whose parts
are attributes, so code and tests can drive it; display it as a cell's last
expression. Nothing is displayed at import. Every picture a tool shows is
encoded by the one PNG encoder, :func:`png_bytes`. The tools are grouped by lesson.
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np

from fmnist_utils.filters import KERNELS, filter_image


def png_bytes(picture: Any, *, scale: int = 1, max_side: int | None = None) -> bytes:
    """Encode an image as PNG bytes: the one encoder of every widget here.

    Parameters
    ----------
    picture : PIL.Image.Image or numpy.ndarray
        A PIL image, or an array: uint8 as is, floats in [0, 1] scaled to
        0-255; 2-D for grey (0 black), ``(h, w, 3)`` for RGB.
    scale : int, optional
        Each pixel becomes a ``scale`` x ``scale`` block (no smoothing).
    max_side : int, optional
        Shrink the result to fit in a ``max_side`` square.

    Returns
    -------
    bytes
        The PNG file's bytes.
    """
    from PIL import Image

    if not isinstance(picture, Image.Image):
        pixels = np.asarray(picture)
        if pixels.dtype != np.uint8:
            pixels = (np.clip(pixels.astype(np.float32), 0, 1) * 255).round().astype(np.uint8)
        picture = Image.fromarray(pixels)
    if scale != 1:
        size = (picture.width * scale, picture.height * scale)
        picture = picture.resize(size, Image.Resampling.NEAREST)
    if max_side is not None and max(picture.size) > max_side:
        picture = picture.copy()
        picture.thumbnail((max_side, max_side))
    if picture.mode not in ("L", "RGB"):
        picture = picture.convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


# --- Lesson 1: image browser ---------------------------------------------------


def _pixel_table(image: np.ndarray) -> str:
    """Render a uint8 image's values as an HTML table, each cell shaded like its pixel."""
    rows = []
    for row in image:
        cells = "".join(
            f'<td style="width:18px;min-width:18px;padding:0 1px;'
            f"background:rgb({255 - v},{255 - v},{255 - v});"
            f'color:{"white" if v > 127 else "black"}">{v}</td>'
            for v in row.tolist()
        )
        rows.append(f"<tr>{cells}</tr>")
    style = "border-collapse:collapse;font:9px monospace;text-align:right;line-height:11px"
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
        self.image.value = png_bytes(255 - image, scale=self._scale)
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
    """Make a widget to browse images by class; see :class:`ImageBrowser`.

    Parameters
    ----------
    x, y : numpy.ndarray
        The images and their integer labels, as for :class:`ImageBrowser`.
    class_names, scale : optional
        The names per label and the screen pixels per image pixel, as for
        :class:`ImageBrowser`.

    Returns
    -------
    ImageBrowser
        The widget (an ``ipywidgets.VBox``): a "Class" dropdown, an "Index"
        slider, the image, its label, and a table of its pixel values.
    """
    return ImageBrowser(x, y, class_names=class_names, scale=scale)


# --- Lesson 5: kernel editor -----------------------------------------------------

EDITOR_SCALE = 6
"""Screen pixels per image pixel in the kernel editor."""


def map_to_png(values: np.ndarray, scale: int = EDITOR_SCALE) -> bytes:
    """Encode a 2-D map as PNG bytes, coloured like ``fmnist_utils.plots.filter_gallery``.

    Parameters
    ----------
    values : numpy.ndarray
        The 2-D map. Signed maps are red (positive) and blue (negative) around
        a white 0; non-negative maps dark on white.
    scale : int, optional
        Each value becomes a ``scale`` x ``scale`` block of pixels.

    Returns
    -------
    bytes
        The PNG file's bytes.
    """
    from matplotlib import colormaps

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D, got shape {values.shape}")
    peak = float(np.abs(values).max()) or 1.0
    if values.min() < 0:
        rgba = colormaps["RdBu_r"]((values / peak + 1) / 2)
    else:
        rgba = colormaps["gray_r"](values / peak)
    return png_bytes(rgba[..., :3], scale=scale)


class KernelEditor(widgets.HBox):
    """Edit a 3x3 kernel and watch the filtered image change.

    The editor is an ``ipywidgets.HBox``: display it as a cell's last
    expression. Its parts are attributes, so code (and tests) can drive it:

    - ``cells``: the nine ``FloatText`` boxes, row by row (``cells[3 * i + j]``
      holds ``kernel[i, j]``);
    - ``preset``: a ``Dropdown`` of named kernels; choosing one fills the boxes
      (it shows no name once the boxes hold a kernel of your own);
    - ``original`` and ``output``: ``Image`` widgets holding PNG bytes of the
      image and of the filtered image;
    - ``status``: an ``HTML`` line with the kernel's sum and the output's range.

    Parameters
    ----------
    image : numpy.ndarray
        The 2-D image to filter.
    conv : callable, optional
        ``conv(image, kernel)`` returning the filtered 2-D image (default:
        :func:`fmnist_utils.filters.filter_image`). Pass your own function.
    presets : dict of str to numpy.ndarray, optional
        Named 3x3 kernels (default: :data:`fmnist_utils.filters.KERNELS`).
    start : str, optional
        The preset shown first.
    scale : int, optional
        Screen pixels per image pixel.
    """

    def __init__(
        self,
        image: np.ndarray,
        *,
        conv: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
        presets: dict[str, np.ndarray] | None = None,
        start: str = "vertical edge",
        scale: int = EDITOR_SCALE,
    ) -> None:
        self.image = np.asarray(image, dtype=np.float32)
        if self.image.ndim != 2:
            raise ValueError(f"image must be 2-D, got shape {self.image.shape}")
        self.conv = filter_image if conv is None else conv
        self.presets = {
            name: np.asarray(k, dtype=np.float32) for name, k in (presets or KERNELS).items()
        }
        for name, kernel in self.presets.items():
            if kernel.shape != (3, 3):
                raise ValueError(f"preset {name!r} must be 3x3, got shape {kernel.shape}")
        if start not in self.presets:
            raise ValueError(f"start={start!r} is not a preset; choose from {list(self.presets)}")
        self.scale = scale
        self.filtered: np.ndarray | None = None  # the last filtered image
        self._filling = False

        box = widgets.Layout(width="72px")
        self.cells = [widgets.FloatText(value=0.0, step=0.1, layout=box) for _ in range(9)]
        grid = widgets.GridBox(
            self.cells, layout=widgets.Layout(grid_template_columns="repeat(3, 76px)")
        )
        self.preset = widgets.Dropdown(
            options=list(self.presets),
            value=None,
            description="preset",
            layout=widgets.Layout(width="240px"),
        )
        self.original = widgets.Image(value=map_to_png(self.image, scale), format="png")
        self.output = widgets.Image(format="png")
        self.status = widgets.HTML()
        controls = widgets.VBox(
            [self.preset, widgets.Label("kernel (edit any box, then Enter)"), grid, self.status]
        )
        spaced = widgets.Layout(margin="0 0 0 16px")
        super().__init__(
            [
                controls,
                widgets.VBox([widgets.Label("original"), self.original], layout=spaced),
                widgets.VBox([widgets.Label("filtered"), self.output], layout=spaced),
            ],
            layout=widgets.Layout(align_items="flex-start"),
        )
        for cell in self.cells:
            cell.observe(self._on_cell, names="value")
        self.preset.observe(self._on_preset, names="value")
        self.preset.value = start

    @property
    def kernel(self) -> np.ndarray:
        """The kernel in the boxes, a new ``float32`` array of shape ``(3, 3)``."""
        return np.array([cell.value for cell in self.cells], dtype=np.float32).reshape(3, 3)

    def set_kernel(self, kernel: np.ndarray) -> None:
        """Fill the nine boxes with ``kernel`` and redraw once.

        Parameters
        ----------
        kernel : numpy.ndarray
            A 3x3 kernel.
        """
        kernel = np.asarray(kernel, dtype=np.float64)
        if kernel.shape != (3, 3):
            raise ValueError(f"the editor holds 3x3 kernels, got shape {kernel.shape}")
        self._filling = True
        try:
            for cell, value in zip(self.cells, kernel.ravel(), strict=True):
                cell.value = round(float(value), 4)
        finally:
            self._filling = False
        self.update()

    def update(self) -> None:
        """Filter the image with the current kernel and show the result."""
        kernel = self.kernel
        try:
            filtered = np.asarray(self.conv(self.image, kernel), dtype=np.float64)
        except Exception as error:  # show the learner's error instead of failing silently
            self.status.value = f"<b style='color:#b00'>{type(error).__name__}: {error}</b>"
            return
        self.filtered = filtered
        self.output.value = map_to_png(filtered, self.scale)
        self.status.value = (
            f"sum of weights {float(kernel.sum()):.3g}; "
            f"output from {filtered.min():.3g} to {filtered.max():.3g}"
        )

    def _on_cell(self, change: dict) -> None:
        if self._filling:
            return
        if self.preset.value is not None and not np.allclose(
            self.kernel, self.presets[self.preset.value], atol=1e-4
        ):
            self.preset.value = None
        self.update()

    def _on_preset(self, change: dict) -> None:
        if change["new"] is not None:
            self.set_kernel(self.presets[change["new"]])


def kernel_editor(image: np.ndarray, **options) -> KernelEditor:
    """Open a 3x3 kernel editor on an image; see :class:`KernelEditor`.

    Parameters
    ----------
    image : numpy.ndarray
        The 2-D image to filter.
    **options
        ``conv``, ``presets``, ``start`` and ``scale``, as for :class:`KernelEditor`.

    Returns
    -------
    KernelEditor
        The editor; display it as a cell's last expression.
    """
    return KernelEditor(image, **options)


# --- Lesson 10: bring your own image --------------------------------------------

PREVIEW_SCALE = 6
"""Screen pixels per model-input pixel in the photo classifier."""


class PhotoClassifier(widgets.VBox):
    """Classify a photo of your own, or a shipped sample, with a trained model.

    The tool is an ``ipywidgets.VBox``: display it as a cell's last
    expression. Its parts are attributes, so code (and tests) can drive it:

    - ``upload``: a ``FileUpload`` for one image file (PNG, JPEG, ...);
    - ``picker``: a ``Dropdown`` of the sample photos in ``fmnist_utils/samples/``;
    - ``original`` and ``processed``: ``Image`` widgets with the photo and the
      28x28 input the model sees;
    - ``result``: an ``HTML`` table of the top ``k`` classes and their probabilities.

    After each photo, ``predictions`` holds the top ``k`` as ``(class name,
    probability)`` pairs, most probable first, and ``model_input`` the 28x28 array.

    Parameters
    ----------
    model : keras.Model or callable
        Maps a batch of shape ``(n, 28, 28, 1)`` (values in [0, 1]) to
        probabilities of shape ``(n, 10)``.
    preprocess : callable, optional
        Turns a PIL image into a ``(28, 28)`` float array in [0, 1] (default:
        :func:`fmnist_utils.photo.to_fashion_mnist`). Pass your own function.
    samples : dict of str to path, optional
        Named sample images (default: :func:`fmnist_utils.photo.sample_paths`).
    k : int, optional
        How many classes to list.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    """

    def __init__(
        self,
        model: Any,
        *,
        preprocess: Callable[[Any], np.ndarray] | None = None,
        samples: dict[str, str | os.PathLike[str]] | None = None,
        k: int = 3,
        class_names: Any = None,
    ) -> None:
        from fmnist_utils import photo
        from fmnist_utils.data import CLASS_NAMES

        self.model = model
        self.preprocess = photo.to_fashion_mnist if preprocess is None else preprocess
        self.samples = {name: Path(p) for name, p in (samples or photo.sample_paths()).items()}
        self.k = k
        self.class_names = list(CLASS_NAMES if class_names is None else class_names)
        self.predictions: list[tuple[str, float]] = []
        self.model_input: np.ndarray | None = None

        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload")
        self.picker = widgets.Dropdown(
            options=list(self.samples), value=None, description="or a sample"
        )
        self.original = widgets.Image(format="png", layout=widgets.Layout(max_width="220px"))
        self.processed = widgets.Image(format="png")
        self.result = widgets.HTML("Upload a photo of one garment, or pick a sample.")
        pane = widgets.Layout(margin="0 16px 0 0")
        super().__init__(
            [
                widgets.HBox([self.upload, self.picker]),
                widgets.HBox(
                    [
                        widgets.VBox([widgets.Label("your photo"), self.original], layout=pane),
                        widgets.VBox(
                            [widgets.Label("what the model sees"), self.processed], layout=pane
                        ),
                        widgets.VBox([widgets.Label(f"top {k}"), self.result]),
                    ],
                    layout=widgets.Layout(align_items="flex-start"),
                ),
            ]
        )
        self.upload.observe(self._on_upload, names="value")
        self.picker.observe(self._on_pick, names="value")

    def classify(self, image: Any, name: str = "") -> list[tuple[str, float]]:
        """Preprocess an image, predict, and show everything.

        Parameters
        ----------
        image : PIL.Image.Image or numpy.ndarray
            The photo.
        name : str, optional
            Shown above the result.

        Returns
        -------
        list of (str, float)
            The top ``k`` classes and their probabilities, most probable first;
            empty if preprocessing or prediction failed (the error is shown).
        """
        from fmnist_utils.photo import to_model_input

        try:
            self.original.value = png_bytes(image, max_side=220)
            x = np.asarray(self.preprocess(image), dtype=np.float32)
            if x.shape != (28, 28):
                raise ValueError(f"preprocess returned shape {x.shape}, expected (28, 28)")
            batch = to_model_input(x)
            if hasattr(self.model, "predict"):
                probs = self.model.predict(batch, verbose=0)
            else:
                probs = self.model(batch)
            probs = np.asarray(probs, dtype=np.float64).reshape(-1)
        except Exception as error:  # show the learner's error instead of failing silently
            self.predictions = []
            self.result.value = f"<b style='color:#b00'>{type(error).__name__}: {error}</b>"
            return []
        self.model_input = x
        self.processed.value = png_bytes(x, scale=PREVIEW_SCALE)
        top = np.argsort(probs)[::-1][: self.k]
        self.predictions = [(self.class_names[int(i)], float(probs[i])) for i in top]
        rows = "".join(
            f"<tr><td>{rank}.</td><td><b>{label}</b></td>"
            f"<td style='text-align:right'>{100 * p:.1f}%</td></tr>"
            for rank, (label, p) in enumerate(self.predictions, start=1)
        )
        self.result.value = (f"<div>{name}</div>" if name else "") + f"<table>{rows}</table>"
        return self.predictions

    def classify_file(self, path: str | os.PathLike[str]) -> list[tuple[str, float]]:
        """Open an image file and classify it; see :meth:`classify`."""
        from fmnist_utils.photo import load_image

        return self.classify(load_image(path), Path(path).name)

    def classify_bytes(self, data: bytes, name: str = "") -> list[tuple[str, float]]:
        """Classify an image file's bytes, as uploaded; see :meth:`classify`."""
        from PIL import Image, ImageOps, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(bytes(data))) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
        except (UnidentifiedImageError, OSError) as error:
            self.predictions = []
            self.result.value = (
                f"<b style='color:#b00'>{name or 'the file'} is not an image Pillow can "
                f"read ({error}). Try a PNG or JPEG.</b>"
            )
            return []
        return self.classify(upright, name)

    def _on_upload(self, change: dict) -> None:
        files = change["new"]
        if files:
            first = files[0]
            self.classify_bytes(first["content"], first.get("name", ""))

    def _on_pick(self, change: dict) -> None:
        if change["new"] is not None:
            self.classify_file(self.samples[change["new"]])


def bring_your_own_image(model: Any, **options: Any) -> PhotoClassifier:
    """Open the photo classifier on a model; see :class:`PhotoClassifier`.

    Parameters
    ----------
    model : keras.Model or callable
        The trained model.
    **options
        ``preprocess``, ``samples``, ``k`` and ``class_names``, as for
        :class:`PhotoClassifier`.

    Returns
    -------
    PhotoClassifier
        The tool; display it as a cell's last expression.
    """
    return PhotoClassifier(model, **options)
