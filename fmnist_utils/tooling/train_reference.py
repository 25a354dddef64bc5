"""Train lesson 6's reference CNN on the full data and write its shipped weights.

    python -m fmnist_utils.tooling.train_reference            # seed 0, as shipped
    python -m fmnist_utils.tooling.train_reference --seed 1 --out /tmp/weights

Writes ``classic_cnn.weights.h5`` (the weights without the optimizer's state, 0.9 MB)
and ``classic_cnn.json`` (the measured test accuracy, seed, epochs, training time,
machine load and library versions) into ``fmnist_utils/weights/`` or ``--out``. Training ignores
``FMNIST_FAST``: the shipped weights always come from the full data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fmnist_utils.environment import describe_machine
from fmnist_utils.models import RECIPES, REFERENCE_INFO, REFERENCE_WEIGHTS, train_and_evaluate

RECIPE = "lesson5_cnn"


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate and save; print the JSON record."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=RECIPES[RECIPE].seed)
    parser.add_argument("--out", type=Path, default=REFERENCE_WEIGHTS.parent)
    args = parser.parse_args(argv)
    os.environ.pop("FMNIST_FAST", None)

    load_before = os.getloadavg()
    result = train_and_evaluate(RECIPE, seed=args.seed, verbose=2, return_model=True)
    model = result.pop("model")
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / REFERENCE_WEIGHTS.name
    # Save from an uncompiled copy: only the network's weights, not Adam's state (3x smaller).
    bare = RECIPES[RECIPE].build()
    bare.set_weights(model.get_weights())
    bare.save_weights(weights)
    after = describe_machine()
    record = {
        **result,
        "test_accuracy": round(result["test_accuracy"], 4),
        "test_loss": round(result["test_loss"], 4),
        "description": RECIPES[RECIPE].description,
        "batch_size": RECIPES[RECIPE].batch_size,
        "weights_file": weights.name,
        "weights_bytes": weights.stat().st_size,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": after["load_average"],
        "cpu_cores": after["cores"],
        **{key: after[key] for key in ("python", "keras", "tensorflow", "numpy", "date")},
    }
    info = args.out / REFERENCE_INFO.name
    info.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    print(f"wrote {weights} and {info}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
