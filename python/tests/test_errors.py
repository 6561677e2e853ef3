"""Bad input raises AimSimError (a ValueError) with the command line's one-line message (its
`--flags` named as keywords), and nothing else escapes: no panic, no TypeError, no silent default."""

import math
import random

import pytest

import aim_sim
from conftest import REPO, flags, keywords


def message(call, **options):
    with pytest.raises(aim_sim.AimSimError) as caught:
        call(**options)
    text = str(caught.value)
    assert "\n" not in text, text
    return text


def test_it_is_a_value_error():
    assert issubclass(aim_sim.AimSimError, ValueError)
    with pytest.raises(ValueError):
        aim_sim.simulate(gpu="nope")


# The core's own checks: the message is the CLI's, word for word, with keywords for flags.
SIMULATE = [
    {"gpu": "nope"},
    {"schedule": "nope"},
    {"model": "missing/config.json"},
    {"prune_start": 20, "prune_end": 10},
    {"merge_keep_ratio": 1.5},
    {"merge_tokens_per_frame": 500},
    {"w_bits": 7},
    {"tp": 3},
    {"frames": 10**7},
    {"layer_tokens": [100, 50]},
    {"batch": 10**7},
]


@pytest.mark.parametrize("options", SIMULATE, ids=lambda o: " ".join(flags(o)))
def test_simulate_errors_are_the_cli_messages(cli, options):
    assert message(aim_sim.simulate, **options) == keywords(cli.error(*flags(options)))


@pytest.mark.parametrize(
    "args",
    [
        ["--frames", "8:4"],
        ["--frames", "1:2:3:4"],
        ["--schedule", "none,,linear"],
        ["--cost-model", "refined,foo"],
        ["--gpu", "a100,nope"],
        ["--frames", "1:100000000000"],
    ],
    ids=" ".join,
)
def test_sweep_errors_are_the_cli_messages(cli, args):
    options = {args[0][2:].replace("-", "_"): args[1]}
    assert message(aim_sim.sweep, **options) == keywords(cli.error("sweep", *args))


@pytest.mark.parametrize(
    "options",
    [{"solve": "merge"}, {"target_reduction": 1000.0}, {"reference_schedule": "nope"}],
    ids=lambda o: " ".join(flags(o)),
)
def test_budget_errors_are_the_cli_messages(cli, options):
    assert message(aim_sim.budget, **options) == keywords(cli.error("budget", *flags(options)))


def test_run_file_errors_are_the_cli_messages(cli, tmp_path):
    bad = tmp_path / "run.toml"
    bad.write_text("frmes = 3\n")
    assert message(aim_sim.simulate, spec=bad) == cli.error("--spec", bad)
    missing = tmp_path / "missing.toml"
    assert message(aim_sim.simulate, spec=missing) == cli.error("--spec", missing)
    assert message(aim_sim.Spec.load, path=missing) == cli.error("--spec", missing)


# Argument checks happen in clap on the command line; here they name the keyword and give the
# CLI's reason.
@pytest.mark.parametrize(
    "value, reason",
    [(0, "must be at least 1"), (-3, "must be a positive integer"), (2.5, "must be a positive whole number"), ("x", "'x' is not a number; give a positive integer")],
)
def test_counts_give_the_cli_reason(cli, value, reason):
    assert message(aim_sim.simulate, batch=value) == f"invalid value '{value}' for 'batch': {reason}"
    assert cli.error("--batch", value).endswith(f"'--batch <B>': {reason} (see aim-sim --help)")


def test_zero_frames_is_a_text_only_prompt(cli):
    text_only = aim_sim.simulate(frames=0, text_tokens=512, schedule="none")
    assert text_only["plan"]["layer_tokens"][0] == 512
    assert text_only == cli.json("--frames", 0, "--text-tokens", 512, "--schedule", "none")


@pytest.mark.parametrize(
    "options, words",
    [
        ({"tokens": 100, "frames": 2}, "'frames' cannot be used with 'tokens'"),
        ({"merge_tokens_per_frame": 4, "merge_keep_ratio": 0.5}, "cannot be used with"),
        ({"flash_attention": True, "attention": "eager"}, "cannot be used with"),
        ({"prune_start": 3}, "'prune_start' needs 'prune_end'"),
        ({"prune_step": 0.5}, "'prune_step' needs 'prune_start'"),
        ({"frmes": 3}, "unknown option 'frmes': did you mean 'frames'?"),
        ({"format": "json"}, "unknown option 'format'"),
        ({"cost_model": "foo"}, "invalid value 'foo' for 'cost_model': use one of refined, llm-viewer"),
        ({"attention": "fast"}, "invalid value 'fast' for 'attention': use one of flash, eager"),
        ({"w_bits": "x"}, "key 'w_bits'"),
        ({"frames": math.nan}, "give a finite number"),
        ({"frames": 2**70}, "too large for a 64-bit integer"),
        ({"gpu": object()}, "invalid value <object object"),
        ({"flash_attention": "yes"}, "for 'flash_attention': give True or False"),
        ({"spec": 3}, "invalid value 3 for 'spec'"),
    ],
)
def test_argument_errors_name_the_option(options, words):
    assert words in message(aim_sim.simulate, **options)


def test_sweep_and_budget_check_their_own_options():
    assert message(aim_sim.sweep, frames=[8], tokens=[100]) == (
        "give either frames or tokens as the sweep's visual input, not both"
    )
    assert "empty list" in message(aim_sim.sweep, frames=[])
    assert "a sweep axis takes a value, a list of values" in message(aim_sim.sweep, frames=[[8]])
    assert "unknown option 'by'" in message(aim_sim.sweep, by="time")
    assert "fps samples video_seconds: give video_seconds too" in message(aim_sim.simulate, fps=2)
    # A control character in a name is escaped, as on the command line: still one line.
    assert "'no\\nsuch'" in message(aim_sim.simulate, model="no\nsuch")
    assert "cannot be used with" in message(aim_sim.simulate, image_size="448x448", video_seconds=4)
    for jobs in (0, -1, 1025, 2.5, "2"):
        assert f"for 'jobs': give a whole number of worker threads from 1 to 1024" in message(aim_sim.sweep, jobs=jobs)
    assert "unknown option 'jobs'" in message(aim_sim.simulate, jobs=2)
    assert "'max_frames' cannot be used with 'target_reduction'" in message(aim_sim.budget, target_reduction=2.0, max_frames=9)
    assert "invalid value 'size' for 'by': use one of flops, time" == message(aim_sim.budget, by="size")
    assert "unknown preset kind" in message(aim_sim.list_presets, kind="cpus")
    # A raw TypeError from pyo3 once ("'int' object is not an instance of 'str'").
    assert message(aim_sim.list_presets, kind=5) == (
        "list_presets: kind 5 is not a string: use gpus, models, schedules or frameworks")


def test_numpy_bools_are_bools():
    """numpy's bool read as a float: include_vision=np.bool_(True) was refused as `1.0`."""
    np = pytest.importorskip("numpy")
    a = aim_sim.simulate(frames=4, include_vision=np.bool_(True))
    b = aim_sim.simulate(frames=4, include_vision=True)
    assert a["totals"] == b["totals"]
    assert aim_sim.simulate(frames=4, include_vision=np.bool_(False))["totals"] != b["totals"]


JUNK = [0, -1, 2**40, 2**64 - 1, 0.0, -2.5, 1e300, math.inf, math.nan, "", "x", "1:2", [], [0],
        [1, "a"], {}, {"name": 1}, True, b"raw", object()]
# Values each option takes on the command line, to mix with the junk.
VALID = {
    "model": ["llava-ov-0.5b", "llava-1.5-7b"], "gpu": ["h100", "v100"], "tokens": [196, 5000],
    "frames": [1, 8], "tokens_per_frame": [64, 196], "text_tokens": [1, 30],
    "schedule": ["none", "fastv", "pdrop"], "merge_tokens_per_frame": [1, 49],
    "merge_keep_ratio": [0.1, 1.0], "prune_start": [2], "prune_end": [20], "prune_step": [0.25],
    "layer_tokens": ["100," * 27 + "100"], "cost_model": ["refined", "llm-viewer"],
    "prune_timing": ["paper", "code"], "flash_attention": [True, False], "attention": ["eager"],
    "include_vision": [True], "gen_tokens": [0, 5], "tp": [2, 4], "all_logits": [True],
    "importance_kernel": ["fused"], "batch": [2], "w_bits": [4, 8], "a_bits": [8], "kv_bits": [4],
    "skip_mlp_add": [True], "spec": [{"frames": 4}, {"gpu": "h200"}],
}


def test_any_junk_is_an_aim_sim_error_or_a_run():
    """Property: whatever values the options get, the result is a report or AimSimError."""
    rng = random.Random(12)
    outcomes = {"ran": 0, "refused": 0}
    for _ in range(600):
        keys = rng.sample(sorted(VALID), rng.randint(1, 4))
        options = {k: rng.choice(VALID[k] if rng.random() < 0.7 else JUNK) for k in keys}
        try:
            report = aim_sim.simulate(**options)
        except aim_sim.AimSimError as e:
            assert str(e) and "\n" not in str(e), (options, e)
            outcomes["refused"] += 1
        else:
            assert report["totals"]["time_s"] > 0, options
            outcomes["ran"] += 1
    assert outcomes["ran"] > 100 and outcomes["refused"] > 100, outcomes


def test_a_spec_files_nan_is_refused_not_the_default(tmp_path):
    """A TOML spec's nan came back as None (the default) in Python, which priced the default
    run where the command line refuses the file: both now refuse it, naming the key."""
    path = tmp_path / "nan.toml"
    path.write_text("merge_keep_ratio = nan\n")
    for load in (
        lambda: aim_sim.Spec.from_toml("merge_keep_ratio = nan"),
        lambda: aim_sim.Spec.load(path),
        lambda: aim_sim.simulate(spec=str(path)),
    ):
        with pytest.raises(aim_sim.AimSimError, match="merge_keep_ratio.*give a finite number"):
            load()


def test_an_anchor_given_to_a_spec_says_where_it_goes():
    """simulate_many and Spec said 'unknown option anchor_ms', though simulate documents it:
    an anchor refits the profile for one run, and the message now says where to give it."""
    for make in (
        lambda: aim_sim.simulate_many([{"frames": 8, "framework": "hf", "anchor_ms": 300}]),
        lambda: aim_sim.Spec(anchor_ms=3.0),
    ):
        with pytest.raises(aim_sim.AimSimError, match="anchor_ms is not a spec's option"):
            make()


def test_type_errors_name_the_keyword_in_pythons_words(tmp_path):
    """check(loo="yes") raised a bare TypeError naming no keyword, and serve(requests=-3) said
    'expected u64': both now raise AimSimError in Python's words."""
    with pytest.raises(aim_sim.AimSimError, match="loo: give True or False, not 'yes'"):
        aim_sim.check(REPO / "reference" / "measurements.toml", loo="yes")
    with pytest.raises(aim_sim.AimSimError) as caught:
        aim_sim.serve(requests=-3)
    assert "u64" not in str(caught.value) and "whole number" in str(caught.value), caught.value


def test_check_speaks_pythons_keywords_and_takes_a_framework(cli):
    """check(refit_also=...) without loso said "give cv (or loo)", a keyword Python has not; and
    check had no framework= where the command line has --framework."""
    path = REPO / "reference" / "measurements.toml"
    with pytest.raises(aim_sim.AimSimError, match=r"give loso=True \(or loo=True\)"):
        aim_sim.check(path, refit_also=path)
    with pytest.raises(aim_sim.AimSimError, match="give one of them"):
        aim_sim.check(path, loso=True, framework="trtllm")
    got = aim_sim.check(path, framework="trtllm")
    want = cli.json("check", str(path), "--framework", "trtllm")
    assert got == want
    # An hf row is priced under trtllm's profile, not its own.
    own = {r["id"]: r.get("predicted_ms") for r in aim_sim.check(path)["rows"]}
    hf = next(r for r in got["rows"] if r["id"] == "sparsevlm-llava15-7b-a100-576")
    assert hf["predicted_ms"] != own[hf["id"]]
