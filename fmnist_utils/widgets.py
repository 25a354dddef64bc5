"""The interactive tools of the lessons, built with ipywidgets, written once.

Each function returns a widget (display it as a cell's last expression);
nothing is displayed at import. The functions are grouped by lesson.
"""

from __future__ import annotations

# --- Lesson 1: image browser ---------------------------------------------------


# --- Lesson 3: kernel editor -----------------------------------------------------

EDITOR_SCALE = 6
"""Screen pixels per image pixel in the kernel editor."""

# Imported here, not at the top, so each lesson's section merges on its own.
import io  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from fmnist_utils.filters import KERNELS, filter_image  # noqa: E402


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
    from PIL import Image

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D, got shape {values.shape}")
    peak = float(np.abs(values).max()) or 1.0
    if values.min() < 0:
        rgba = colormaps["RdBu_r"]((values / peak + 1) / 2)
    else:
        rgba = colormaps["gray_r"](values / peak)
    pixels = (rgba[..., :3] * 255).round().astype(np.uint8)
    pixels = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


class KernelEditor:
    """Edit a 3x3 kernel and watch the filtered image change.

    The parts, each an ipywidget, so code (and tests) can drive the editor:

    - ``cells``: the nine ``FloatText`` boxes, row by row (``cells[3 * i + j]``
      holds ``kernel[i, j]``);
    - ``preset``: a ``Dropdown`` of named kernels; choosing one fills the boxes
      (it shows no name once the boxes hold a kernel of your own);
    - ``original`` and ``output``: ``Image`` widgets holding PNG bytes of the
      image and of the filtered image;
    - ``status``: an ``HTML`` line with the kernel's sum and the output's range;
    - ``widget``: the whole editor, which a notebook displays.

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
        import ipywidgets as widgets

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
        self.widget = widgets.HBox(
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

    def _repr_mimebundle_(self, **kwargs) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


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


# --- Lesson 8: bring your own image --------------------------------------------
