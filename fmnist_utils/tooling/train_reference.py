"""Train a shipped reference network on the full data and write its weights.

    python -m fmnist_utils.tooling.train_reference                   # lesson 7's CNN, seed 0
    python -m fmnist_utils.tooling.train_reference --model improved_cnn   # lesson 9's
    python -m fmnist_utils.tooling.train_reference --seed 1 --out /tmp/weights

Writes ``MODEL.weights.h5`` (the weights without the optimizer's state) and
``MODEL.json`` (the measured test accuracy, seed, epochs, training time, machine
load before and after, the CPU, library versions, date and the command) into
``fmnist_utils/weights/`` or ``--out``. Training ignores ``FMNIST_FAST``: the
shipped weights always come from the full data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fmnist_utils.environment import describe_machine
from fmnist_utils.models import RECIPES, SHIPPED, WEIGHTS_DIR, train_and_evaluate


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate and save; print the JSON record."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--model", choices=sorted(SHIPPED), default="classic_cnn")
    parser.add_argument("--seed", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args(argv)
    recipe_name = args.model
    recipe = RECIPES[recipe_name]
    seed = recipe.seed if args.seed is None else args.seed
    os.environ.pop("FMNIST_FAST", None)

    load_before = os.getloadavg()
    result = train_and_evaluate(recipe_name, seed=seed, verbose=2, return_model=True)
    model = result.pop("model")
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / f"{args.model}.weights.h5"
    # Save from an uncompiled copy: only the network's weights, not Adam's state (3x smaller).
    bare = recipe.build()
    bare.set_weights(model.get_weights())
    bare.save_weights(weights)
    after = describe_machine()
    record = {
        **result,
        "test_accuracy": round(result["test_accuracy"], 4),
        "test_loss": round(result["test_loss"], 4),
        "test_accuracy_plain": round(result["test_accuracy_plain"], 4),
        "description": recipe.description,
        "batch_size": recipe.batch_size,
        "weights_file": weights.name,
        "weights_bytes": weights.stat().st_size,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": after["load_average"],
        "cpu_cores": after["cores"],
        **{
            key: after[key]
            for key in ("cpu", "vector", "python", "keras", "tensorflow", "numpy", "date")
        },
        "command": "python -m fmnist_utils.tooling.train_reference "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    info = args.out / f"{args.model}.json"
    info.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    print(f"wrote {weights} and {info}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
