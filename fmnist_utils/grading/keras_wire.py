"""Keras objects across the grading channel: as their configuration, rebuilt safely.

The part of :mod:`~fmnist_utils.grading.wire` that knows Keras. A model or layer
crosses as its configuration (``keras.saving.serialize_keras_object``) and weights,
a compiled model with its compile settings; a learning-rate schedule, optimizer or
loss as its configuration; a ``History`` as its numbers; ``EarlyStopping`` and
``ModelCheckpoint`` as their settings. The other side rebuilds them with Keras' safe
mode, after refusing any configuration that names a module outside Keras. Nothing
runs at import time.
"""

from __future__ import annotations

import json
from typing import Any

from fmnist_utils.grading.wire import Refused, WireError, describe

__all__ = ["CALLBACKS", "compile_settings", "decode", "encode"]

CALLBACKS = {
    "EarlyStopping": (
        "monitor", "min_delta", "patience", "verbose", "mode", "baseline",
        "restore_best_weights", "start_from_epoch",
    ),
    "ModelCheckpoint": (
        "filepath", "monitor", "verbose", "save_best_only", "save_weights_only", "mode",
        "save_freq", "initial_value_threshold",
    ),
}  # fmt: skip


def encode(value: Any, encoder: Any) -> dict[str, Any]:
    """Turn a Keras object into a tree, its arrays through ``encoder`` (``wire``'s).

    Raises
    ------
    Refused
        For a callback other than the two, or a configuration Keras cannot save.
    """
    import keras

    if isinstance(value, keras.callbacks.History):
        return {
            "$": "keras_history",
            "history": encoder.value(dict(value.history)),
            "epoch": encoder.value(list(getattr(value, "epoch", []))),
        }
    name = type(value).__name__
    if isinstance(value, keras.callbacks.Callback):
        if type(value) not in (keras.callbacks.EarlyStopping, keras.callbacks.ModelCheckpoint):
            raise Refused(f"a Keras callback of type {name}")
        settings = {key: getattr(value, key) for key in CALLBACKS[name] if hasattr(value, key)}
        if "filepath" in settings:
            settings["filepath"] = str(settings["filepath"])
        return {"$": "keras_callback", "class": name, "settings": encoder.value(settings)}
    try:
        config = keras.saving.serialize_keras_object(value)
        text = json.dumps(config)
    except Exception as error:  # - Keras raises many kinds here
        raise Refused(f"a Keras {name} whose configuration cannot be saved ({error})") from None
    out: dict[str, Any] = {"$": "keras", "config": text}
    if isinstance(value, keras.layers.Layer):
        out["weights"] = [encoder.array(w) for w in value.get_weights()]
    if isinstance(value, keras.Model) and getattr(value, "compiled", False):
        try:
            out["compile"] = json.dumps(value.get_compile_config())
        except Exception as error:  # - as above
            raise Refused(
                f"a Keras model whose compile settings cannot be saved ({error})"
            ) from None
    return out


def decode(tree: dict[str, Any], decoder: Any, depth: int) -> Any:
    """Rebuild a Keras object from a tree :func:`encode` made, in safe mode.

    Raises
    ------
    WireError
        For anything that is not a Keras object Keras rebuilds safely.
    """
    import keras

    tag = tree["$"]
    if tag == "keras_history":
        history = keras.callbacks.History()
        data = decoder.value(tree.get("history"), depth + 1)
        if type(data) is not dict:
            raise WireError("an invalid History")
        history.history = data
        history.epoch = decoder.value(tree.get("epoch"), depth + 1)
        return history
    if tag == "keras_callback":
        name, settings = tree.get("class"), decoder.value(tree.get("settings"), depth + 1)
        if name not in CALLBACKS or type(settings) is not dict:
            raise WireError("an invalid Keras callback")
        kwargs = {k: v for k, v in settings.items() if k in CALLBACKS[name]}
        try:
            return getattr(keras.callbacks, name)(**kwargs)
        except (TypeError, ValueError) as error:
            raise WireError(f"a {name} that cannot be rebuilt ({error})") from None
    if tag != "keras":
        raise WireError(f"an unknown tag {tag!r:.40}")
    try:
        config = json.loads(tree.get("config") or "")
        _keras_modules_only(config)
        value = keras.saving.deserialize_keras_object(config, safe_mode=True)
        if not type(value).__module__.startswith("keras."):
            raise WireError(f"a configuration that is not a Keras object ({describe(value)})")
        if "weights" in tree:
            value.set_weights([decoder.array(w) for w in decoder.list(tree, "weights")])
        if "compile" in tree:
            compile_settings(value, json.loads(tree["compile"]))
    except WireError:
        raise
    except Exception as error:  # - Keras raises many kinds for a bad config
        raise WireError(
            f"a Keras object that cannot be rebuilt safely ({type(error).__name__}: {error})"
        ) from None
    return value


def _keras_modules_only(config: Any) -> None:
    """Refuse a Keras configuration that names a module outside Keras (code to import)."""
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            module = item.get("module")
            if module is not None and not (
                module == "keras" or (isinstance(module, str) and module.startswith("keras."))
            ):
                raise WireError(f"a Keras configuration naming the module {str(module)!r:.60}")
            if item.get("class_name") in ("function", "__lambda__"):
                raise WireError("a Keras configuration holding a function")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def compile_settings(model: Any, config: dict[str, Any]) -> None:
    """Compile ``model`` with settings from ``get_compile_config()``, in safe mode."""
    import keras

    if type(config) is not dict:
        raise WireError("invalid compile settings")
    _keras_modules_only(config)
    kwargs = {}
    for key, item in config.items():
        if key in ("optimizer", "loss", "metrics", "weighted_metrics", "loss_weights"):
            kwargs[key] = keras.saving.deserialize_keras_object(item, safe_mode=True)
        elif key in ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"):
            kwargs[key] = item
    model.compile(**kwargs)
