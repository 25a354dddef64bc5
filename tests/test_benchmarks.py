"""The benchmark's bookkeeping, without measuring anything: the load gate, the results
file's merge, the README's rendering, the command line, and the peers' architectures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks import page, recipe_search, results
from benchmarks import run as bench
from fmnist_utils import models

MACHINE = {"cpu": "Test CPU", "cores": 2, "memory_gib": 8.0, "python": "3.11.2",
           "tensorflow": "2.21.0", "keras": "3.15.1"}  # fmt: skip


def _record(section: str, key: str, result: dict, background: float = 0.4) -> dict:
    limit = results.load_limit(2)
    return {
        "section": section,
        "key": key,
        "date": "2026-12-01T00:00:00Z",
        "machine": MACHINE,
        "commit": "0123456789abcdef",
        "command": "python -m benchmarks.run --only " + section,
        "load": {"before": [background, 0, 0], "after": [background, 0, 0],
                 "background": background, "limit": limit, "loaded": background > limit},
        "result": result,
    }  # fmt: skip


def _model(accuracies: list[float], seconds: list[float]) -> dict:
    return {
        "runs": [],
        "test_accuracy": bench.spread(accuracies),
        "train_seconds": bench.spread(seconds),
        "peak_rss_gib": 1.2,
        "epochs": 15,
        "params": 225_034,
    }


def test_background_load_takes_away_our_own_cores() -> None:
    assert results.background_load(0.3, 2.4, 2.0) == 0.4  # after, less our 2 busy cores
    assert results.background_load(1.9, 2.4, 2.0) == 1.9  # before the start was worse
    assert results.background_load(0.0, 0.5, 2.0) == 0.0  # never below 0


def test_the_gate_is_one_and_a_half_on_two_cores() -> None:
    assert results.load_limit(2) == 1.5
    assert results.load_limit(4) == 3.0


@pytest.mark.parametrize(("load", "loaded"), [(0.2, False), (3.0, True)])
def test_a_record_carries_its_load_and_says_when_it_is_loaded(
    monkeypatch: pytest.MonkeyPatch, load: float, loaded: bool
) -> None:
    monkeypatch.setattr(results.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(results, "settle", lambda cores: 0.0)
    record = results.measure_record(
        "data", "data", lambda: {"median_s": 0.3, "extra_cpu_seconds": 0.0},
        machine=MACHINE | {"load_average": [9, 9, 9], "date": "x"}, command="c", commit="abc",
    )  # fmt: skip
    assert record["load"]["before"] == [load] * 3 and record["load"]["after"] == [load] * 3
    assert record["load"]["loaded"] is loaded
    assert record["result"] == {"median_s": 0.3}, "extra CPU goes to the load, not the figures"
    assert "load_average" not in record["machine"], "the load is the record's own, before/after"


def test_settle_waits_for_the_load_to_fall_and_gives_up_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = {"t": 0.0}
    monkeypatch.setattr(results.time, "perf_counter", lambda: clock["t"])
    monkeypatch.setattr(results.time, "sleep", lambda s: clock.update(t=clock["t"] + s))
    # a decaying load: 2.0, 1.6, 1.2, 0.8, 0.4 ... reaches 0.75 (half of 1.5) after 4 looks
    monkeypatch.setattr(results.os, "getloadavg", lambda: (max(0.0, 2.0 - 0.08 * clock["t"]),) * 3)
    assert results.settle(2) == 20.0
    monkeypatch.setattr(results.os, "getloadavg", lambda: (4.0, 4.0, 4.0))
    clock["t"] = 0.0
    assert results.settle(2, most_s=30.0) == 30.0, "a busy machine is measured anyway"


def test_merging_a_section_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    first = [_record("data", "data", {"median_s": 0.3}),
             _record("peers", "peers.tutorial_mlp", {"test_accuracy": 0.87})]  # fmt: skip
    results.write(results.merge(results.read(path), first), path)
    newer = _record("peers", "peers.tutorial_mlp", {"test_accuracy": 0.88})
    results.write(results.merge(results.read(path), [newer]), path)
    data = json.loads(path.read_text())
    assert set(data["records"]) == {"data", "peers.tutorial_mlp"}
    assert data["records"]["peers.tutorial_mlp"]["result"]["test_accuracy"] == 0.88
    assert data["records"]["data"]["result"] == {"median_s": 0.3}
    assert results.section_records(data, "peers") == {"tutorial_mlp": newer}


def _data(background: float = 0.4) -> dict:
    return {
        "records": {
            "models.classic_cnn": _record(
                "models", "models.classic_cnn", _model([0.9164], [179.0]), background
            ),
            "models.improved_cnn": _record(
                "models", "models.improved_cnn",
                _model([0.931, 0.9326, 0.934], [450, 460, 470]),
            ),
            "peers.tutorial_mlp": _record(
                "peers", "peers.tutorial_mlp",
                {"test_accuracy": 0.8712, "train_seconds": 44.0, "epochs": 10, "params": 101_770},
            ),
        }
    }  # fmt: skip


def test_the_page_shows_the_figures_the_mean_and_spread_and_the_peers() -> None:
    text = page.render(_data())
    assert "**91.64 %** test accuracy, 179 s training" in text
    assert "**93.25 %** ± 0.15 test accuracy (3 seeds, 93.10 %–93.40 %)" in text
    row = next(line for line in text.splitlines() if "TensorFlow tutorial's MLP" in line)
    assert "87.12 %" in row and "44 s" in row and "-4.52 points, 0.25× the time" in row
    assert "101,770" in row
    assert re.search(r"\(load \d", text) is None, "no row is marked at a low load"
    assert page.NOT_MEASURED in text, "sections not in the file are said to be missing"


def test_a_time_measured_on_another_machine_is_not_compared() -> None:
    """Accuracy compares across machines; a training time only on the same one."""
    data = _data()
    data["records"]["peers.tutorial_mlp"]["machine"] = dict(MACHINE, cpu="Other CPU")
    row = next(line for line in page.render(data).splitlines() if "TensorFlow tutorial" in line)
    assert "-4.52 points; time measured on Other CPU" in row and "× the time" not in row


def test_the_same_cpu_name_with_other_vector_units_is_another_machine() -> None:
    """Two 'AMD EPYC's, one with AVX-512 and one without, train at different speeds."""
    data = _data()
    for key in ("models.classic_cnn", "peers.tutorial_mlp"):
        data["records"][key]["machine"] = dict(MACHINE, vector="AVX-512")
    row = next(line for line in page.render(data).splitlines() if "TensorFlow tutorial" in line)
    assert "× the time" in row, "the same CPU and vector unit: the time ratio is shown"
    data["records"]["peers.tutorial_mlp"]["machine"] = dict(MACHINE, vector="AVX2")
    text = page.render(data)
    row = next(line for line in text.splitlines() if "TensorFlow tutorial" in line)
    assert "time measured on Test CPU (AVX2)" in row and "× the time" not in row
    assert "Test CPU (AVX-512), 2 cores" in text.splitlines()[0]


def test_the_page_shows_where_grading_spends_its_cpu_time() -> None:
    data = _data()
    assert "Where grading one learner" not in page.render(data), "nothing before it is measured"
    figures = {
        "workers": 2, "wall_s": 102.3, "cpu_s": 177.3, "nbgrader_cpu_s": 14.0,
        "learner_kernels_cpu_s": 117.3, "tests_kernels_cpu_s": 46.0, "kernel_start_cpu_s": 0.55,
        "import_keras_cpu_s": 2.92, "keras_lessons": 9, "lesson_cells_cpu_s": 85.5,
    }  # fmt: skip
    data["records"]["grading_breakdown"] = _record(
        "grading_breakdown", "grading_breakdown", figures
    )
    text = page.render(data)
    assert "2 workers, 102 s, 177 CPU s in all" in text
    rows = [line for line in text.splitlines() if line.startswith("| the ")]
    assert any("learners' kernels" in r and "| 117 |" in r for r in rows), rows
    assert any("tests kernels" in r and "| 46 |" in r for r in rows), rows
    assert "`import keras` 2.9 CPU s" in text and "about 86 CPU s, is the lessons' own" in text


def test_the_page_shows_the_grading_class_against_one_worker() -> None:
    data = _data()
    data["records"]["grading"] = _record("grading", "grading", {
        "per_lesson_s": {"01_pixels_and_labels": 12.0, "02_learning_one_weight": 14.5},
        "all_lessons_s": 26.5, "class_lesson": "01_pixels_and_labels", "class_students": 10,
        "workers": 2, "class_sequential_s": 150.0, "class_parallel_s": 80.0, "speedup": 1.88,
        "class_one_worker_s": 148.0, "speedup_vs_one_worker": 1.85,
    })  # fmt: skip
    text = page.render(data)
    assert "| 2 | 14.5 s |" in text or "| 2 | 14 s |" in text
    line = next(line for line in text.splitlines() if line.startswith("A class of 10"))
    assert "1.88× faster" in line and "2 workers are 1.85× faster than 1" in line
    del data["records"]["grading"]["result"]["class_one_worker_s"]
    assert "faster than 1" not in page.render(data), "no one-worker sentence without it"
    assert "with the parallel grader" not in text, "no parallel figure without its measure"
    data["records"]["grading"]["result"]["all_lessons_parallel_s"] = 17.25
    first = next(
        line for line in page.render(data).splitlines() if line.startswith("Autograding one")
    )
    assert "**17 s** with the parallel grader's 2 workers" in first, first
    assert "26 s with one `nbgrader autograde` after another" in first, first


def test_the_shipped_improved_cnn_is_shown_with_the_machine_it_trained_on(monkeypatch) -> None:
    info = {
        "test_accuracy": 0.9421, "test_accuracy_plain": 0.9396, "mirror_test": True,
        "epochs": 15, "train_seconds": 982.0, "train_cpu_seconds": 1800.0,
        "load_average_before": [0.7, 1.2, 1.3], "load_average_after": [2.6, 2.4, 2.0],
        "cpu": "AMD EPYC", "vector": "AVX2",
        "command": "python -m fmnist_utils.tooling.train_reference --model improved_cnn",
    }  # fmt: skip
    monkeypatch.setattr(models, "reference_info", lambda name="classic_cnn": dict(info))
    text = page.render(_data())
    assert "after 15 epochs, 982 s of training on AMD EPYC (AVX2) (" in text
    del info["cpu"], info["vector"]  # a record from before the machine was written
    assert "after 15 epochs, 982 s of training (" in page.render(_data())


def test_the_page_refuses_loaded_figures_unless_asked_to_mark_them() -> None:
    with pytest.raises(page.LoadedError, match=r"models.classic_cnn \(load 2.7\)"):
        page.render(_data(background=2.7))
    text = page.render(_data(background=2.7), mark_loaded=True)
    marked = [line for line in text.splitlines() if "(load 2.7)" in line]
    assert len(marked) == 2, marked  # the model's row and its row in the peers' table
    assert all("lesson 7's CNN" in line for line in marked)


def test_the_block_goes_between_the_markers_and_only_there() -> None:
    text = f"before\n{page.BEGIN}\nold figures\n{page.END}\nafter\n"
    new = page.replace_block(text, "new figures")
    assert new == f"before\n{page.BEGIN}\nnew figures\n{page.END}\nafter\n"
    assert page.page_block(new) == "new figures"
    with pytest.raises(ValueError, match="markers"):
        page.replace_block("no markers here", "x")


def test_the_command_line_refuses_unknown_sections_and_models() -> None:
    for argv in (["--only", "nope"], ["--only", "models", "--models", "lesson99"],
                 ["--only", "models", "--seeds", "0"]):  # fmt: skip
        with pytest.raises(SystemExit) as stop:
            bench.main(argv)
        assert stop.value.code == 2


def test_the_spread_of_seeds() -> None:
    s = bench.spread([0.92, 0.93, 0.94])
    assert s["n"] == 3 and s["min"] == 0.92 and s["max"] == 0.94
    assert s["mean"] == pytest.approx(0.93) and s["std"] == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("name", "params", "layers"),
    [
        # Flatten, Dense 128 relu, Dense 10: 784*128+128 + 128*10+10
        ("tutorial_mlp", 101_770, ["Flatten", "Dense", "Dense"]),
        # Conv 32 3x3 (320), pool, Conv 64 3x3 (18,496), pool, Flatten, Dropout, Dense (16,010)
        ("keras_mnist_convnet", 34_826,
         ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]),
    ],
)  # fmt: skip
def test_the_peers_are_the_documented_architectures(name: str, params: int, layers) -> None:
    from benchmarks.peers import PEERS

    model = PEERS[name].build()
    assert model.count_params() == params
    assert [type(layer).__name__ for layer in model.layers] == layers
    assert model.input_shape == (None, 28, 28, 1)
    peer = PEERS[name]
    documented = {"tutorial_mlp": (10, 32, 0.0), "keras_mnist_convnet": (15, 128, 0.1)}
    assert (peer.epochs, peer.batch_size, peer.validation_split) == documented[name]


def test_the_page_lists_every_recipe_tried_with_what_it_gave() -> None:
    data = _data()
    assert "search for lessons 7" not in page.render(data), "no table before a candidate is tried"
    for name, accuracy, loaded in (
        ("improved_e12", 0.9331, 0.4),
        ("improved_b256_e12", 0.936, 2.5),
    ):
        result = dict(_model([accuracy], [590.0]), what=recipe_search.CANDIDATES[name].what)
        key = f"recipes.{name}"
        data["records"][key] = _record("recipes", key, result, loaded)
    with pytest.raises(page.LoadedError, match="recipes.improved_b256_e12"):
        page.render(data)
    text = page.render(data, mark_loaded=True)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 2, rows
    assert "`improved_e12`" in rows[0] and "**93.31 %** test accuracy, 590 s" in rows[0]
    assert "12 epochs" in rows[0], "the row says what the candidate changes"
    assert "(load 2.5)" in rows[1] and "**93.60 %**" in rows[1]
    assert rows[0].count("(") == 1, "no note unless the record has one"
    note = "before abc123: each epoch could wait"
    data["records"]["recipes.improved_e12"]["result"]["note"] = note
    row = next(r for r in page.render(data, mark_loaded=True).splitlines() if "`improved_e12`" in r)
    assert f"590 s training, 1.20 GiB peak ({note})" in row, row


def test_a_mirror_averaged_accuracy_is_shown_with_the_networks_own() -> None:
    data = _data()
    result = dict(
        _model([0.9362], [428.0]),
        what=recipe_search.CANDIDATES["f16_48_e11_mirror"].what,
        mirror_test=True,
        test_accuracy_plain=bench.spread([0.9333]),
    )
    data["records"]["recipes.f16_48_e11_mirror"] = _record(
        "recipes", "recipes.f16_48_e11_mirror", result
    )
    row = next(r for r in page.render(data).splitlines() if "`f16_48_e11_mirror`" in r)
    assert (
        "**93.62 %** test accuracy with each image's mirror image averaged in "
        "(93.33 % without), 428 s training" in row
    ), row


def test_every_recipe_candidate_builds_a_network_for_the_lessons_data() -> None:
    for name, candidate in recipe_search.CANDIDATES.items():
        recipe = recipe_search.recipe(name)
        model = recipe.build()
        assert model.output_shape == (None, 10), name
        assert (recipe.epochs, recipe.batch_size) == (candidate.epochs, candidate.batch_size)
        assert recipe.label_smoothing == candidate.label_smoothing
        convs = [layer.filters for layer in model.layers if hasattr(layer, "filters")]
        if candidate.base == "classic_cnn":  # lesson 7's table, with the candidate's widths
            assert convs == list(candidate.filters), (name, convs)
            dropouts = [lyr.rate for lyr in model.layers if type(lyr).__name__ == "Dropout"]
            pooled = [candidate.pool_dropout] * 2 if candidate.pool_dropout else []
            assert dropouts == [*pooled, candidate.dropout], (name, dropouts)
            hidden = model.get_layer("dense").units
            assert hidden == candidate.dense_units, (name, hidden)
            optimizer = recipe.optimizer(100, candidate.epochs)
            start = float(optimizer.learning_rate)  # the schedule's first step
            assert start == pytest.approx(candidate.learning_rate), name
            assert not recipe.mirror_test
            continue
        assert recipe.optimizer is models.RECIPES["improved_cnn"].optimizer
        assert recipe.mirror_test is candidate.mirror_test
        assert convs == [candidate.filters[0]] * 2 + [candidate.filters[1]] * 2, (name, convs)


def test_the_page_says_which_sections_each_machine_measured() -> None:
    data = _data()
    assert "Measured on Test CPU, 2 cores, 8.0 GiB; Python 3.11.2" in page.render(data)
    other = dict(MACHINE, cpu="Other CPU")
    data["records"]["peers.tutorial_mlp"]["machine"] = other
    header = page.render(data).splitlines()[0]
    assert (
        "Test CPU, 2 cores, 8.0 GiB; Python 3.11.2, TensorFlow 2.21.0, Keras 3.15.1 (models)"
        in header
    )
    assert (
        "; and on Other CPU, 2 cores, 8.0 GiB; Python 3.11.2, TensorFlow 2.21.0, Keras 3.15.1 (peers)"
        in header
    )
