"""Turn a learner's own photo into a Fashion-MNIST-style input (lesson 10).

Fashion-MNIST was made from product photos in a fixed way: the garment was
cropped to its bounding box, resized so that its longer side is 28 pixels,
centred on a 28x28 canvas, converted to grey and inverted, so that the
garment is bright on a black background. :func:`to_fashion_mnist` does the
same to any image, so that a model trained on Fashion-MNIST sees the kind of
input it was trained on. Lesson 10's graded exercise asks the learner to write
the same function; this one is the reference, used by the widget and the tests.

Nothing here imports Keras or TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

SIZE = 28
"""Side of a Fashion-MNIST image, in pixels."""

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
"""The folder of the sample photos shipped with the course."""

ImageLike = np.ndarray | Image.Image


def sample_paths() -> dict[str, Path]:
    """List the sample photos shipped with the course.

    Returns
    -------
    dict
        A readable name (the file name without ``.png``, underscores as
        spaces) mapped to the file's path, sorted by name.
    """
    return {path.stem.replace("_", " "): path for path in sorted(SAMPLES_DIR.glob("*.png"))}


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image file the way a phone meant it to be seen.

    Parameters
    ----------
    path : str or path-like
        A PNG, JPEG or any other format Pillow reads.

    Returns
    -------
    PIL.Image.Image
        The image, turned upright according to its EXIF orientation tag, fully
        loaded (the file is closed).
    """
    with Image.open(path) as image:
        image.load()
        return ImageOps.exif_transpose(image)


def to_gray(image: ImageLike) -> np.ndarray:
    """Convert any image to grey levels in [0, 1].

    Parameters
    ----------
    image : numpy.ndarray or PIL.Image.Image
        A PIL image in any mode, or an array of shape ``(h, w)``, ``(h, w, 3)``
        or ``(h, w, 4)``; integer arrays are read as 0-255, float arrays as 0-1.
        Transparent pixels count as white (a cut-out on a white page).

    Returns
    -------
    numpy.ndarray
        Shape ``(h, w)``, dtype float32, 0 for black and 1 for white.

    Raises
    ------
    ValueError
        If an array has another shape.
    """
    if isinstance(image, Image.Image):
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, rgba)
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4))):
        raise ValueError(
            f"expected an image of shape (h, w), (h, w, 3) or (h, w, 4), got {array.shape}"
        )
    if np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
        array = array.astype(np.float32) / (1.0 if array.dtype == bool else 255.0)
    array = np.clip(array.astype(np.float32), 0.0, 1.0)
    if array.ndim == 3:
        rgb = array[..., :3]
        if array.shape[-1] == 4:
            alpha = array[..., 3:]
            rgb = rgb * alpha + (1.0 - alpha)
        # ITU-R 601 luma, the weights Pillow's convert("L") uses
        array = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return array.astype(np.float32)


def ink(gray: np.ndarray) -> np.ndarray:
    """How far each pixel is from the background, the background taken from the border.

    Parameters
    ----------
    gray : numpy.ndarray
        Grey levels in [0, 1], shape ``(h, w)``.

    Returns
    -------
    numpy.ndarray
        ``abs(gray - background)``, float32, where ``background`` is the median of
        the outermost rows and columns: 0 on the background, large on the object,
        whether the photo is dark-on-light or light-on-dark.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return np.abs(gray - np.median(border)).astype(np.float32)


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Find the smallest box holding every ``True`` pixel.

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean array of shape ``(h, w)``.

    Returns
    -------
    tuple of int
        ``(top, bottom, left, right)``, bottom and right exclusive, so that
        ``mask[top:bottom, left:right]`` is the box; the whole image if the
        mask is empty.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return 0, mask.shape[0], 0, mask.shape[1]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def fit_in_square(crop: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Resize an image so its longer side is ``size``, then centre it on a black square.

    Parameters
    ----------
    crop : numpy.ndarray
        Float image, shape ``(h, w)``.
    size : int, optional
        Side of the square.

    Returns
    -------
    numpy.ndarray
        Shape ``(size, size)``, float32; the aspect ratio is kept and the
        shorter side is padded with zeros, equally on both sides (one more at
        the bottom or right when the padding is odd).
    """
    h, w = crop.shape
    scale = size / max(h, w)
    new_h = min(size, max(1, round(h * scale)))
    new_w = min(size, max(1, round(w * scale)))
    resized = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32)).resize(
        (new_w, new_h), Image.Resampling.LANCZOS if max(h, w) > size else Image.Resampling.BILINEAR
    )
    out = np.zeros((size, size), dtype=np.float32)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    out[top : top + new_h, left : left + new_w] = np.asarray(resized, dtype=np.float32)
    return out


def to_fashion_mnist(image: ImageLike, threshold: float = 0.2) -> np.ndarray:
    """Turn any image of one garment into a Fashion-MNIST-style 28x28 input.

    The steps: grey levels; *ink*, the distance of each pixel from the
    background colour (estimated from the border), which makes the background
    0 and the garment bright; crop to the bounding box of the pixels whose ink
    is at least ``threshold`` times the strongest; resize so the longer side is
    28 pixels, keeping the aspect ratio; centre on a black 28x28 square; scale
    so the brightest pixel is 1.

    Parameters
    ----------
    image : numpy.ndarray or PIL.Image.Image
        Anything :func:`to_gray` accepts.
    threshold : float, optional
        Fraction of the strongest ink that counts as part of the garment
        when cropping; raise it for a noisy background.

    Returns
    -------
    numpy.ndarray
        Shape ``(28, 28)``, dtype float32, values in [0, 1]; all zeros if the
        image is blank.
    """
    strength = ink(to_gray(image))
    peak = float(strength.max())
    if peak <= 0:
        return np.zeros((SIZE, SIZE), dtype=np.float32)
    strength = np.where(strength >= threshold * peak, strength, 0.0)
    top, bottom, left, right = bounding_box(strength > 0)
    out = np.clip(fit_in_square(strength[top:bottom, left:right]), 0.0, None)
    return (out / max(float(out.max()), 1e-12)).astype(np.float32)


def to_model_input(images: np.ndarray) -> np.ndarray:
    """Add the batch and channel axes a Keras CNN expects.

    Parameters
    ----------
    images : numpy.ndarray
        One image ``(28, 28)`` or a batch ``(n, 28, 28)``, values in [0, 1].

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 28, 28, 1)``, float32.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        images = images[None]
    return images[..., None]


# --- The shipped sample photos ------------------------------------------------


def _on_backdrop(
    garment: np.ndarray, colour: tuple[int, int, int], size: tuple[int, int], seed: int
) -> Image.Image:
    """Draw a garment mask (0-1, bright = fabric) in a colour on an unevenly lit, grainy page."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = 0.93 - 0.10 * (xx + 0.5 * yy)  # brighter at the top left, like a desk lamp
    page = np.stack([light * 255, light * 250, light * 238], axis=-1)
    page += rng.normal(0, 3, size=page.shape)
    # Fashion-MNIST is inverted: its brightest pixels were the darkest fabric
    shade = np.clip(1.3 - 0.6 * garment[..., None], 0.0, 1.3)
    fabric = np.asarray(colour, dtype=np.float64)[None, None, :] * shade
    alpha = np.clip(garment * 3.0, 0, 1)[..., None]
    rgb = page * (1 - alpha) + fabric * alpha
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _place(mask: np.ndarray, size: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """Resize a 0-1 mask into ``box`` (top, left, height, width) of an empty image of ``size``."""
    top, left, bh, bw = box
    small = Image.fromarray((mask * 255).astype(np.uint8)).resize(
        (bw, bh), Image.Resampling.BICUBIC
    )
    canvas = np.zeros(size, dtype=np.float64)
    canvas[top : top + bh, left : left + bw] = np.asarray(small, dtype=np.float64) / 255.0
    return canvas


def _polygon_mask(points: list[tuple[float, float]], size: tuple[int, int]) -> np.ndarray:
    from PIL import ImageDraw

    h, w = size
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).polygon([(x * w, y * h) for x, y in points], fill=255)
    return np.asarray(img, dtype=np.float64) / 255.0


def make_samples(out_dir: str | os.PathLike[str] = SAMPLES_DIR) -> list[Path]:
    """Draw the sample photos shipped in ``fmnist_utils/samples/`` (deterministic).

    Two are Fashion-MNIST test images (a sneaker and a pullover) enlarged and
    printed in colour on an unevenly lit page, like a photo of a catalogue; two
    are flat drawings (a T-shirt and a pair of trousers) off-centre on a wider
    page. None of them is a training image.

    Parameters
    ----------
    out_dir : str or path-like, optional
        Where to write the PNG files.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from fmnist_utils.data import load_fashion_mnist

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _, (x_test, y_test) = load_fashion_mnist()
    sneaker = x_test[np.flatnonzero(y_test == 7)[3]] / 255.0
    pullover = x_test[np.flatnonzero(y_test == 2)[5]] / 255.0
    samples = {
        "sneaker_photo": _on_backdrop(
            _place(sneaker, (180, 240), (20, 50, 140, 140)), (40, 60, 150), (180, 240), 1
        ),
        "pullover_photo": _on_backdrop(
            _place(pullover, (240, 200), (40, 30, 150, 150)), (150, 30, 40), (240, 200), 2
        ),
        "t-shirt_drawing": _on_backdrop(
            _polygon_mask(
                [
                    (0.30, 0.15),
                    (0.42, 0.12),
                    (0.50, 0.18),
                    (0.58, 0.12),
                    (0.70, 0.15),
                    (0.88, 0.32),
                    (0.78, 0.42),
                    (0.70, 0.35),
                    (0.70, 0.85),
                    (0.30, 0.85),
                    (0.30, 0.35),
                    (0.22, 0.42),
                    (0.12, 0.32),
                ],
                (200, 200),
            ),
            (30, 120, 60),
            (200, 200),
            3,
        ),
        "trousers_drawing": _on_backdrop(
            _polygon_mask(
                [
                    (0.40, 0.08),
                    (0.64, 0.08),
                    (0.66, 0.92),
                    (0.57, 0.92),
                    (0.52, 0.30),
                    (0.47, 0.92),
                    (0.38, 0.92),
                ],
                (220, 260),
            ),
            (30, 30, 70),
            (220, 260),
            4,
        ),
    }
    written = []
    for name, image in samples.items():
        path = out / f"{name}.png"
        image.save(path, optimize=True)
        written.append(path)
    return written
