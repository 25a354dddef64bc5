"""fmnist_utils.pipeline: uint8 images streamed and normalised batch by batch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from fmnist_utils import pipeline  # noqa: E402

from .conftest import ROOT  # noqa: E402


def _images(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10


def test_values_shapes_and_dtypes() -> None:
    x, y = _images(10)
    got = list(pipeline.batches(x, y, batch_size=4))
    assert [tuple(b.shape) for b, _ in got] == [(4, 28, 28, 1), (4, 28, 28, 1), (2, 28, 28, 1)]
    images = np.concatenate([b.numpy() for b, _ in got])
    assert images.dtype == np.float32
    np.testing.assert_allclose(images[..., 0], x / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(np.concatenate([t.numpy() for _, t in got]), y)
    one_hot = next(iter(pipeline.batches(x, y, batch_size=10, num_classes=10)))[1].numpy()
    np.testing.assert_array_equal(one_hot.argmax(axis=1), y)
    alone = next(iter(pipeline.batches(x, batch_size=3)))
    assert tuple(alone.shape) == (3, 28, 28, 1)
    flat, labels = next(iter(pipeline.batches(x, y, batch_size=3, channel_axis=False)))
    assert tuple(flat.shape) == (3, 28, 28)
    np.testing.assert_allclose(flat.numpy(), x[:3] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(labels.numpy(), y[:3])


def test_autotuning_is_off() -> None:
    """An autotuned iterator made Keras wait up to 40 s at each epoch's start (TF 2.21)."""
    x, y = _images(10)
    for ds in (pipeline.batches(x, y), pipeline.batches(x, y, shuffle=True, num_classes=10)):
        assert ds.options().autotune.enabled is False


def test_shuffle_is_seeded_and_changes_every_epoch() -> None:
    x, y = _images(50)

    def order(ds) -> list[int]:
        return [int(v) for _, t in ds for v in t.numpy()]

    ds = pipeline.batches(x, np.arange(50), batch_size=8, shuffle=True, seed=3)
    first, second = order(ds), order(ds)
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert first != second, "a new order every epoch"
    again = pipeline.batches(x, np.arange(50), batch_size=8, shuffle=True, seed=3)
    assert order(again) == first, "the same seed gives the same orders"
    images, labels = next(iter(ds))
    np.testing.assert_allclose(images.numpy()[..., 0], x[labels.numpy()] / 255.0, rtol=1e-6)


def test_augment_is_applied_per_batch_in_training_mode() -> None:
    x, y = _images(6)
    calls = []

    def flip(batch, training):
        calls.append(training)
        return batch[:, :, ::-1, :]

    images, _ = next(iter(pipeline.batches(x, y, batch_size=6, augment=flip)))
    assert calls and all(calls)
    np.testing.assert_allclose(images.numpy()[..., 0], x[:, :, ::-1] / 255.0, rtol=1e-6)


def test_refuses_float_images_and_bad_shapes() -> None:
    x, y = _images(4)
    with pytest.raises(ValueError, match="uint8"):
        pipeline.batches(x / 255.0, y)
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        pipeline.batches(np.zeros((2, 27, 28), np.uint8))
    with pytest.raises(ValueError, match="channel axis"):
        pipeline.batches(x, y, augment=lambda b, training: b, channel_axis=False)
    with pytest.raises(ValueError, match="must match"):
        pipeline.batches(x, y[:3])


@pytest.mark.slow
def test_no_float_copy_of_the_whole_set() -> None:
    """Streaming 60,000 images grows the peak memory by less than one float32 copy (188 MB)."""
    code = (
        "import resource, numpy as np, tensorflow as tf\n"
        "from fmnist_utils import pipeline\n"
        "x = np.random.default_rng(0).integers(0, 256, (60000, 28, 28), dtype=np.uint8)\n"
        "y = np.zeros(60000, dtype=np.int64)\n"
        "next(iter(pipeline.batches(x[:256], y[:256])))\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for _ in pipeline.batches(x, y, batch_size=1000, shuffle=True): pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    grown_kib = int(done.stdout.strip().splitlines()[-1])
    float_copy_kib = 60000 * 28 * 28 * 4 / 1024
    assert grown_kib < float_copy_kib, f"peak grew by {grown_kib} KiB"
