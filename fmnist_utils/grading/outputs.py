"""What the graded notebooks keep of their outputs: figures as small PNGs, no library noise.

The grading kernel draws figures with Matplotlib's inline backend (the kernel arguments
:data:`KERNEL_ARGUMENTS`, set in ``nbgrader_config.py``), so a graded notebook holds
each figure as a PNG, as the learner saw it. :class:`CapImages` runs right after the
notebook is executed: it keeps every PNG or JPEG output that decodes as an image, shrinks
one over :attr:`CapImages.max_bytes` (or wider than :attr:`CapImages.max_width`), and
replaces anything that is not a real image with a one-line note. :class:`DropLibraryNoise`
removes the start-up chatter TensorFlow writes to stderr (:func:`is_noise`), which no
setting silences, from the graded notebook and the feedback. Nothing runs at import time.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Int

__all__ = ["KERNEL_ARGUMENTS", "CapImages", "DropLibraryNoise", "is_noise"]

KERNEL_ARGUMENTS = [
    "--matplotlib=inline",
    "--InlineBackend.figure_formats=png",
    "--InlineBackend.rc={'figure.dpi': 72}",
]
"""ipykernel arguments: figures as inline PNG at 72 dpi (about 650 px for a wide figure)."""

_NOISE = re.compile(
    r"^(?:WARNING: All log messages before absl::InitializeLog\(\) is called are written"
    r"|[IWE]\d{4} [\d:. ]+\s+\d+ \S+\.(?:cc|h):\d+\]"
    r"|To enable the following instructions: .* rebuild TensorFlow"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|oneDNN custom operations are on"
    r"|WARNING: All log messages before absl"
    r")"
)


def is_noise(line: str) -> bool:
    """Tell whether a line of stderr is TensorFlow's start-up chatter (absl, oneDNN, CUDA).

    Parameters
    ----------
    line : str
        One line, without its newline.

    Returns
    -------
    bool
        True for the lines TensorFlow and XLA print when they load.
    """
    return bool(_NOISE.match(line.strip()))


def _quiet(text: str) -> str:
    return "".join(ln for ln in text.splitlines(keepends=True) if not is_noise(ln))


class DropLibraryNoise(Preprocessor):
    """Remove TensorFlow's start-up lines from every stderr output; drop emptied outputs."""

    enabled = Bool(True, help="Run it (nbconvert skips a preprocessor that is not enabled).").tag(
        config=True
    )

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
        """Filter one cell's stderr streams."""
        if cell.get("cell_type") != "code":
            return cell, resources
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = output.get("text", "")
                text = "".join(text) if isinstance(text, list) else text
                output["text"] = _quiet(text)
                if not output["text"]:
                    continue
            kept.append(output)
        cell["outputs"] = kept
        return cell, resources


class CapImages(Preprocessor):
    """Keep image outputs as real, modest PNGs or JPEGs; replace anything else with a note."""

    enabled = Bool(True, help="Run it (nbconvert skips a preprocessor that is not enabled).").tag(
        config=True
    )

    max_bytes = Int(200_000, help="Largest image kept as it is, in bytes.").tag(config=True)
    max_width = Int(1400, help="Widest image kept as it is, in pixels.").tag(config=True)
    max_pixels = Int(
        20_000_000, help="An image with more pixels than this is not even decoded."
    ).tag(config=True)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
        """Check, and if needed shrink, every image of one cell."""
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            for mime in ("image/png", "image/jpeg"):
                if mime in data:
                    raw = data[mime]
                    raw = "".join(raw) if isinstance(raw, list) else raw
                    image, note = self.checked(raw, mime)
                    if image is None:
                        del data[mime]
                        data["text/plain"] = note
                    else:
                        data[mime] = image
        return cell, resources

    def checked(self, encoded: str, mime: str) -> tuple[str | None, str]:
        """Return the image to keep (base64) or None, and a note saying what was done.

        Parameters
        ----------
        encoded : str
            The output's base64 text.
        mime : str
            ``image/png`` or ``image/jpeg``.

        Returns
        -------
        tuple
            The base64 image to keep (None when it is dropped) and a one-line note.
        """
        from PIL import Image

        try:
            raw = base64.b64decode(encoded, validate=False)
            with Image.open(io.BytesIO(raw)) as probe:
                width, height = probe.size
                kind = probe.format
                if width * height > self.max_pixels:
                    return None, f"[an image of {width}×{height} pixels was left out: too large]"
                probe.verify()
        except (binascii.Error, OSError, ValueError, Image.DecompressionBombError) as error:
            return (
                None,
                f"[an output that is not a valid image was left out: {type(error).__name__}]",
            )
        expected = "PNG" if mime == "image/png" else "JPEG"
        if kind != expected:
            return None, f"[an output labelled {mime} was left out: it holds {kind} data]"
        if len(raw) <= self.max_bytes and width <= self.max_width:
            return encoded.strip(), ""
        return self._shrink(raw, width, height), ""

    def _shrink(self, raw: bytes, width: int, height: int) -> str | None:
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as image:
            image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
            scale = min(1.0, self.max_width / width)
            while True:
                size = (max(1, int(width * scale)), max(1, int(height * scale)))
                out = io.BytesIO()
                image.resize(size).save(out, format="PNG", optimize=True)
                if out.tell() <= self.max_bytes or scale < 0.1:
                    return base64.b64encode(out.getvalue()).decode("ascii")
                scale *= 0.7
