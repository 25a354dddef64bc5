"""A stand-in model for checking code that uses a model: it records what it is given.

Checks of a function such as ``load_and_predict(path, model)`` want to know what the
function gave the model, without training one::

    stand_in = RecordingModel([0.1] * 10)
    load_and_predict("shoe.jpg", stand_in)
    stand_in.seen[0].shape  # the batch the model received

It is plain data (probabilities in, the batches received kept), so it can be handed
to a function running in another process and come back with its record. Nothing runs
at import time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["RecordingModel"]


class RecordingModel:
    """Answer every image with the same probabilities, and keep each batch received.

    Parameters
    ----------
    probs : array_like
        The ten (or however many) class probabilities returned for every image.

    Attributes
    ----------
    probs : numpy.ndarray
        The probabilities, as float32.
    seen : list of numpy.ndarray
        A copy of every batch given to :meth:`predict`, in order.
    """

    def __init__(self, probs: Any) -> None:
        self.probs = np.asarray(probs, dtype=np.float32)
        self.seen: list[np.ndarray] = []

    def predict(self, batch: Any, verbose: Any = 0) -> np.ndarray:
        """Record ``batch``; return the probabilities once per image in it.

        Parameters
        ----------
        batch : array_like
            The images, batch axis first.
        verbose : object, optional
            Ignored (Keras' ``predict`` takes it).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(batch), len(probs))``.
        """
        self.seen.append(np.array(batch))
        return np.tile(self.probs, (len(batch), 1))

    __call__ = predict
