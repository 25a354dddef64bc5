"""The interactive tools of the lessons, built with ipywidgets, written once.

Each function returns a widget (display it as a cell's last expression);
nothing is displayed at import. The functions are grouped by lesson.
"""

from __future__ import annotations

# --- Lesson 1: image browser ---------------------------------------------------


# --- Lesson 3: kernel editor -----------------------------------------------------


# --- Lesson 8: bring your own image --------------------------------------------

PREVIEW_SCALE = 6
"""Screen pixels per model-input pixel in the photo classifier."""

# Imported here, not at the top, so each lesson's section merges on its own.
import io  # noqa: E402
import os  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402


def _png(image: Any, *, scale: int = 1, max_side: int | None = None) -> bytes:
    """Encode a PIL image, or a 2-D array in [0, 1] (drawn white on black), as PNG bytes."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        pixels = (np.clip(np.asarray(image, dtype=np.float32), 0, 1) * 255).round()
        image = Image.fromarray(pixels.astype(np.uint8))
    if scale != 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    if max_side is not None and max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.convert("RGB" if image.mode not in ("L", "RGB") else image.mode).save(buffer, "PNG")
    return buffer.getvalue()


class PhotoClassifier:
    """Classify a photo of your own, or a shipped sample, with a trained model.

    The parts, each an ipywidget, so code (and tests) can drive the tool:

    - ``upload``: a ``FileUpload`` for one image file (PNG, JPEG, ...);
    - ``picker``: a ``Dropdown`` of the sample photos in ``fmnist_utils/samples/``;
    - ``original`` and ``processed``: ``Image`` widgets with the photo and the
      28x28 input the model sees;
    - ``result``: an ``HTML`` table of the top ``k`` classes and their probabilities;
    - ``widget``: the whole tool, which a notebook displays.

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
        import ipywidgets as widgets

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
        self.widget = widgets.VBox(
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
            self.original.value = _png(image, max_side=220)
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
        self.processed.value = _png(x, scale=PREVIEW_SCALE)
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

    def _repr_mimebundle_(self, **kwargs) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


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
