"""sweep() gives the rows and columns of `aim-sim sweep --format csv`, as a DataFrame."""

import csv
import io
import json
import re
import sys
import threading
import time

import pytest

import aim_sim
from aim_sim import _core

pandas = pytest.importorskip("pandas")
numpy = pytest.importorskip("numpy")

NAMES = ["model", "gpu", "schedule", "cost_model", "framework"]
COUNTS = ["frames", "tokens_per_frame", "visual_tokens", "merged_visual_tokens", "text_tokens", "batch"]


def cli_frame(cli, *args):
    """The CLI's CSV, parsed with Python's own int() and float() (exact for shortest reprs)."""
    text = cli.run("sweep", *args, "--format", "csv").stdout
    header, *rows = list(csv.reader(io.StringIO(text)))
    parse = {name: str if name in NAMES else int if name in COUNTS else float for name in header}
    columns = zip(*rows) if rows else [[] for _ in header]
    return pandas.DataFrame({n: [parse[n](v) for v in col] for n, col in zip(header, columns)})


def assert_same_rows(ours, theirs):
    """Same columns in the same order, same rows, numbers bit for bit."""
    assert list(ours.columns) == list(theirs.columns)
    assert ours.shape == theirs.shape
    for name in ours.columns:
        a, b = ours[name].to_numpy(), theirs[name].to_numpy()
        if name in NAMES:
            assert list(a.astype(str)) == list(b.astype(str)), name
        else:
            assert numpy.array_equal(a, b), name


def test_columns_and_dtypes_are_the_cli_csv(cli):
    frame = aim_sim.sweep(frames="8:32:8", schedule=["none", "linear", "fastv"], gpu="a100,h100")
    assert isinstance(frame, pandas.DataFrame)
    assert frame.shape == (4 * 3 * 2, 20)
    for name in frame.columns:
        expected = "category" if name in NAMES else "int64" if name in COUNTS else "float64"
        assert str(frame[name].dtype) == expected, name
    # Categories in the order given, rows in the CLI's order (schedule fastest).
    assert list(frame["schedule"].cat.categories) == ["none", "linear", "fastv"]
    assert list(frame["schedule"][:4]) == ["none", "linear", "fastv", "none"]
    assert_same_rows(frame, cli_frame(cli, "--frames", "8:32:8", "--schedule", "none,linear,fastv", "--gpu", "a100,h100"))


def test_a_10000_row_sweep_equals_the_cli(cli):
    frame = aim_sim.sweep(frames="1:100", text_tokens=range(1, 101))
    assert frame.shape == (10_000, 20)
    assert frame["frames"].iloc[-1] == 100 and frame["text_tokens"].iloc[-1] == 100
    assert_same_rows(frame, cli_frame(cli, "--frames", "1:100", "--text-tokens", "1:100"))


def test_every_axis_and_the_base_options(cli):
    grid = dict(
        model=["llava-ov-0.5b", "llava-ov-7b"],
        cost_model="refined,llm-viewer",
        tokens=[392, 784],
        tokens_per_frame=196,
        text_tokens="10,100",
        batch="1:2",
        schedule="linear",
        w_bits=8,
        flash_attention=True,
        prune_start=3,
        prune_end=9,
    )
    args = []
    for key, value in grid.items():
        args.append("--" + key.replace("_", "-"))
        if value is not True:
            args.append(",".join(map(str, value)) if isinstance(value, list) else str(value))
    assert_same_rows(aim_sim.sweep(**grid), cli_frame(cli, *args))


def test_a_fitted_framework_adds_the_cli_interval_columns(cli):
    """Under a fitted profile the framework and 80 % interval columns follow the CLI's, bit for bit."""
    frame = aim_sim.sweep(frames="8,32", schedule="none,fastv", framework="hf")
    assert list(frame.columns[-6:]) == [
        "time_low_s", "time_high_s", "baseline_time_low_s", "baseline_time_high_s",
        "reduction_time_low", "reduction_time_high",
    ]
    assert (frame["time_low_s"] < frame["time_s"]).all() and (frame["time_s"] < frame["time_high_s"]).all()
    assert list(frame.columns[3:5]) == ["cost_model", "framework"]
    assert (frame["framework"] == "hf").all()
    assert_same_rows(frame, cli_frame(cli, "--frames", "8,32", "--schedule", "none,fastv", "--framework", "hf"))
    assert "time_low_s" not in aim_sim.sweep(frames=8).columns
    assert "framework" not in aim_sim.sweep(frames=8).columns


def test_jobs_changes_the_threads_not_the_rows():
    """`jobs` is `--jobs`: rows come in the same order with the same values on 1 or 3 threads."""
    grid = dict(frames="8:256:8", schedule=["none", "linear", "fastv"], text_tokens=[30, 100])
    one = aim_sim.sweep(jobs=1, **grid)
    assert len(one) == 32 * 3 * 2
    pandas.testing.assert_frame_equal(aim_sim.sweep(jobs=3, **grid), one)
    pandas.testing.assert_frame_equal(aim_sim.sweep(**grid), one)


def test_axes_take_lists_ranges_and_arrays():
    as_range = aim_sim.sweep(frames="8:64:8")
    for same in ([8, 16, 24, 32, 40, 48, 56, 64], range(8, 65, 8), numpy.arange(8, 65, 8), "8,16,24:64:8"):
        pandas.testing.assert_frame_equal(aim_sim.sweep(frames=same), as_range)


def test_without_pandas_a_list_of_dicts(monkeypatch):
    frame = aim_sim.sweep(frames="8:16:8", schedule="none,linear")
    monkeypatch.setitem(sys.modules, "pandas", None)
    rows = aim_sim.sweep(frames="8:16:8", schedule="none,linear")
    assert isinstance(rows, list) and len(rows) == 4
    assert rows == frame.to_dict("records")
    assert type(rows[0]["frames"]) is int and type(rows[0]["flops"]) is float and rows[1]["schedule"] == "linear"
    assert rows.notes == [] and rows.warnings == []


def test_without_pandas_the_rows_keep_an_anchors_note(monkeypatch):
    """The list has no attrs: its `notes` say what the frame's attrs["notes"] says."""
    grid = dict(frames=32, schedule=["none", "linear"], framework="hf", gpu="a100-80g", anchor_ms=480)
    frame = aim_sim.sweep(**grid)
    monkeypatch.setitem(sys.modules, "pandas", None)
    rows = aim_sim.sweep(**grid)
    assert rows == frame.to_dict("records")
    assert rows.notes == frame.attrs["notes"] and rows.notes[0].startswith("anchored on the measured baseline 480 ms")


def cli_warnings(cli, *args):
    """What `aim-sim sweep ARGS` warns on standard error, each line without its prefix and with
    each flag as Python's keyword (`--tokens-per-frame` is `tokens_per_frame`), as Python says
    the same warnings."""
    stderr = cli.run("sweep", *args, "--format", "csv").stderr
    prefix = "aim-sim: warning: "
    keyword = lambda m: m.group(1).replace("-", "_")
    return [
        re.sub(r"--([a-z][a-z-]*)", keyword, line[len(prefix):])
        for line in stderr.splitlines()
        if line.startswith(prefix)
    ]


def test_a_sweep_warns_of_its_input_as_the_cli_does(cli, monkeypatch):
    """Tokens that are not whole frames: the frame's attrs["warnings"] (the list's `warnings`) are
    the lines the CLI's sweep warns with, a few and then how many more, as `simulate` gives a
    run's warnings. Python's sweep used to drop them; a sweep of whole frames has none."""
    frame = aim_sim.sweep(tokens=[6272, 6300])
    want = cli_warnings(cli, "--tokens", "6272,6300")
    assert want and "6300 is not a multiple of" in want[0]
    assert frame.attrs["warnings"] == want
    assert frame.attrs["warnings"] == aim_sim.simulate(tokens=6300)["warnings"]
    many = aim_sim.sweep(tokens="6201:6206")
    assert many.attrs["warnings"] == cli_warnings(cli, "--tokens", "6201:6206")
    assert many.attrs["warnings"][-1] == "and 3 more like these in other rows"
    assert "warnings" not in aim_sim.sweep(tokens=[6272, 6468]).attrs
    monkeypatch.setitem(sys.modules, "pandas", None)
    rows = aim_sim.sweep(tokens=[6272, 6300])
    assert rows.warnings == want and rows.notes == []
    assert aim_sim.sweep(frames=8).warnings == []


def test_the_frame_is_an_ordinary_writable_frame():
    frame = aim_sim.sweep(frames="8:16:8")
    frame["time_ms"] = frame["time_s"] * 1e3
    frame["frames"] += 1
    assert frame["frames"].tolist() == [9, 17]


def test_the_gil_is_released_while_rust_works():
    """Another Python thread keeps running during a sweep (it could not if the GIL were held)."""
    count, stop = [0], threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        time.sleep(0.2)
        c0, t0 = count[0], time.perf_counter()
        time.sleep(0.3)
        rate = (count[0] - c0) / (time.perf_counter() - t0)
        c0, t0 = count[0], time.perf_counter()
        # Long enough (100,000 configurations, one worker) that the spinning thread is scheduled
        # during it even on a loaded 2-core machine: 3,000 took a few ms once sweeps got faster
        # (issue 25) and the spinning thread was not scheduled at all under load (CI, rate 0).
        _core.sweep_columns(frames="1:1000", text_tokens="1:100", jobs=1)
        during = (count[0] - c0) / (time.perf_counter() - t0)
    finally:
        stop.set()
        thread.join()
    # Held, the spinning thread would stop for the whole call (a rate near 0).
    assert during > 0.05 * rate, (during, rate)


def test_an_anchor_prices_every_row_as_the_cli_does(cli):
    """`anchor_ms` is `--anchor-ms`: every schedule under the refitted profile, bit for bit the CLI's
    rows; the measured baseline's interval is zero-width; several inputs cannot share one."""
    grid = dict(frames=32, schedule=["none", "linear", "fastv"], framework="hf", gpu="a100-80g")
    frame = aim_sim.sweep(anchor_ms=480, **grid)
    assert numpy.allclose(frame["baseline_time_s"], 0.48, rtol=1e-9, atol=0)
    assert (frame["baseline_time_low_s"] == frame["baseline_time_high_s"]).all()
    args = ["--frames", "32", "--schedule", "none,linear,fastv", "--framework", "hf", "--gpu", "a100-80g"]
    assert_same_rows(frame, cli_frame(cli, *args, "--anchor-ms", "480"))
    assert not frame.equals(aim_sim.sweep(**grid))
    assert frame.attrs["notes"][0].startswith("anchored on the measured baseline 480 ms")
    assert "notes" not in aim_sim.sweep(**grid).attrs
    with pytest.raises(aim_sim.AimSimError, match="anchor_ms"):
        aim_sim.sweep(anchor_ms=480, **{**grid, "frames": "8,32"})


def test_an_axis_replaces_what_the_base_run_resolved(tmp_path):
    """A model axis over a replayed run resolves each model's tokens per frame, as the CLI's
    `sweep --spec run.json --model a,b` does (the run's 196 once held for LLaVA-1.5 too)."""
    run = tmp_path / "run.json"
    run.write_text(json.dumps(aim_sim.simulate()))
    frame = aim_sim.sweep(spec=str(run), model=["llava-ov-7b", "llava-1.5-7b"], schedule="none")
    assert frame["tokens_per_frame"].tolist() == [196, 576]
