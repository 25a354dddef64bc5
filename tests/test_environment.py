"""The environment helpers: seeding without TensorFlow, and lessons that need none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fmnist_utils.tooling.lessons import find_lessons, source_notebook

ROOT = Path(__file__).resolve().parents[1]
DRAWS = (
    "import random, numpy as np; "
    "print(json.dumps([random.random(), float(np.random.rand()), "
    "sorted(m for m in ('keras', 'tensorflow') if m in sys.modules)]))"
)


def _python(code: str) -> list:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}"],
        capture_output=True, text=True, env=env, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_set_random_seed_seeds_like_keras_without_importing_it() -> None:
    ours = _python(
        f"from fmnist_utils.environment import set_random_seed\nset_random_seed(3)\n{DRAWS}"
    )
    theirs = _python(f"import keras\nkeras.utils.set_random_seed(3)\n{DRAWS}")
    assert ours[2] == [], f"set_random_seed imported {ours[2]}"
    assert ours[:2] == theirs[:2], "Python's and NumPy's draws differ from Keras' seeding"


def test_set_random_seed_seeds_tensorflow_when_imported() -> None:
    code = (
        "import tensorflow as tf\nfrom fmnist_utils.environment import set_random_seed\n"
        "out = []\nfor _ in range(2):\n"
        "    set_random_seed(5)\n    out.append(float(tf.random.uniform(())))\n"
        "print(json.dumps(out))"
    )
    first, second = _python(code)
    assert first == second, "TensorFlow's draws after the same seed differ"


def test_lesson_1_setup_imports_no_tensorflow() -> None:
    lesson = find_lessons(ROOT)[0]
    setup = next(c for c in source_notebook(lesson).cells if c.cell_type == "code")
    code = (
        setup.source
        + "\nprint(json.dumps(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules)))"
    )
    assert _python(code) == [], "lesson 1's setup cell imports TensorFlow, which it does not use"


def test_describe_cpu_reads_the_model_and_the_widest_vector_unit() -> None:
    """A record names the CPU and its vector unit: the same model name can differ there."""
    from fmnist_utils.environment import describe_cpu

    flags = "fpu sse sse2 avx fma avx2 bmi2"
    text = f"processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n"
    second = "processor\t: 1\nmodel name\t: Other\nflags\t\t: avx512f\n"
    assert describe_cpu(text + "\n" + second) == ("AMD EPYC", "AVX2"), "the first processor"
    assert describe_cpu(text.replace("avx2", "avx2 avx512f avx512bw")) == ("AMD EPYC", "AVX-512")
    assert describe_cpu("Features\t: fp asimd evtstrm\n") == ("unknown", "NEON")
    assert describe_cpu("model name\t: Old\nflags\t: fpu sse2\n") == ("Old", "none")
