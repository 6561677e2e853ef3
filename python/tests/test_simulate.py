"""simulate() and budget() return exactly what the command line's --format json prints."""

import json

import pytest

import aim_sim
from conftest import REPO, flags

# Several corners of the option space: each is run through the binding and the CLI.
RUNS = [
    {},
    {"frames": 64, "gpu": "h100", "schedule": "fastv"},
    {"cost_model": "llm-viewer", "skip_mlp_add": True},
    {"tokens": 6272, "schedule": "linear", "flash_attention": True},
    {"model": "llava-1.5-7b", "schedule": "aim-image", "batch": 3, "w_bits": 4, "a_bits": 8, "kv_bits": 8},
    {"frames": 16, "prune_start": 10, "prune_end": 20, "prune_step": 0.2, "merge_keep_ratio": 0.5},
    {"frames": 8, "include_vision": True, "gen_tokens": 32, "tp": 2, "all_logits": True},
    {"frames": 8, "importance_kernel": "fused", "prune_timing": "paper", "attention": "eager"},
    {"layer_tokens": [300] * 12 + [120] * 12, "model": "llava-ov-0.5b"},
]


@pytest.mark.parametrize("options", RUNS, ids=lambda o: " ".join(flags(o)) or "defaults")
def test_simulate_equals_the_cli_json(cli, options):
    assert aim_sim.simulate(**options) == cli.json(*flags(options))


def test_a_spec_file_with_options_laid_over_it(cli, tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('gpu = "h100"\nframes = 64\nschedule = "fastv"\ntext_tokens = 30\n')
    expected = cli.json("--spec", path, "--tokens", "1000", "--schedule", "pdrop")
    assert aim_sim.simulate(spec=path, tokens=1000, schedule="pdrop") == expected
    assert aim_sim.simulate(spec=str(path), tokens=1000, schedule="pdrop") == expected


def test_an_earlier_output_replays(cli, tmp_path):
    report = aim_sim.simulate(frames=12, gpu="l40s", schedule="vtw")
    path = tmp_path / "out.json"
    path.write_text(json.dumps(report))
    assert aim_sim.simulate(spec=path) == report
    assert aim_sim.simulate(spec=report) == report
    assert cli.json("--spec", path) == report


def test_none_means_not_given():
    assert aim_sim.simulate(frames=None, tokens=256, attention=None) == aim_sim.simulate(tokens=256)


def test_counts_accept_what_the_cli_accepts():
    assert aim_sim.simulate(frames="8") == aim_sim.simulate(frames=8.0) == aim_sim.simulate(frames=8)
    text = ",".join(["300"] * 14 + ["100"] * 14)
    assert aim_sim.simulate(layer_tokens=text) == aim_sim.simulate(layer_tokens=[300] * 14 + [100] * 14)


def test_choices_ignore_case_as_the_cli_does(cli):
    assert aim_sim.simulate(cost_model="LLM-Viewer", frames=4) == cli.json("--cost-model", "llm-viewer", "--frames", "4")


@pytest.mark.parametrize(
    "options",
    [
        {"schedule": "linear", "reference_frames": 32},
        {"schedule": "fastv", "by": "time", "max_frames": 500},
        {"frames": 32, "target_reduction": 4.0, "solve": "merge"},
        {"frames": 32, "target_reduction": 3.0},
        {"schedule": "linear", "by": "time", "framework": "hf", "gpu": "a100-80g", "anchor_ms": 480},
    ],
    ids=lambda o: " ".join(flags(o)),
)
def test_budget_equals_the_cli_json(cli, options):
    assert aim_sim.budget(**options) == cli.json("budget", *flags(options))


def test_list_presets_is_the_cli_list(cli):
    presets = aim_sim.list_presets()
    assert list(presets) == ["gpus", "models", "schedules", "frameworks"]
    printed = cli.run("list").stdout.splitlines()
    listed = [line.split(None, 1) for line in printed if line.startswith("  ")]
    ours = [[name, text] for kind in presets.values() for name, text in kind.items()]
    assert [[n, t.strip()] for n, t in listed] == [[n, t] for n, t in ours]
    assert aim_sim.list_presets("gpus") == presets["gpus"]
    assert "a100" in presets["gpus"] and "llava-ov-7b" in presets["models"]


def test_check_is_the_clis(cli):
    path = REPO / "reference" / "measurements.toml"
    ours = aim_sim.check(str(path))
    theirs = json.loads(cli.run("check", str(path), "--format", "json").stdout)
    assert ours == theirs
    assert len(ours["rows"]) >= 25
    assert ours["summary"][-1]["group"] == "all"


def test_check_refit_also_is_the_clis(cli, tmp_path):
    reference = REPO / "reference" / "measurements.toml"
    mine = tmp_path / "m.toml"
    mine.write_text(
        '[[measurement]]\nid = "mine"\nsource = "s"\nmodel = "llava-ov-7b"\ngpu = "a100-80g"\n'
        'framework = "hf"\ntimed = "prefill"\nattention = "flash"\nw_bits = 16\n'
        'text_tokens = 100\nframes = 8\nschedule = "none"\nmeasured_ms = 120.0\n'
    )
    ours = aim_sim.check(mine, loso=True, refit_also=reference)
    theirs = json.loads(
        cli.run("check", str(mine), "--cv", "--refit-also", str(reference), "--format", "json").stdout
    )
    assert ours == theirs
    assert [r["id"] for r in ours["rows"]] == ["mine"]
    assert ours["rows"][0]["loso_predicted_ms"] > 0
    assert "measurements.toml" in ours["refit_on"]


def test_check_names_the_bad_row(tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text(
        '[[measurement]]\nid = "x1"\nsource = "s"\nmodel = "no-such-model"\ngpu = "a100"\n'
        'framework = "hf"\ntimed = "prefill"\nattention = "flash"\nw_bits = 16\na_bits = 16\n'
        'kv_bits = 16\nbatch = 1\ntext_tokens = 10\nframes = 0\nschedule = "none"\n'
        "measured_ms = 1.0\n"
    )
    with pytest.raises(aim_sim.AimSimError, match="x1"):
        aim_sim.check(bad)


def test_framework_is_an_option():
    hf = aim_sim.simulate(gpu="a100-80g", framework="hf")
    ideal = aim_sim.simulate(gpu="a100-80g")
    assert hf["spec"]["framework"] == "hf"
    assert hf["totals"]["time_s"] > ideal["totals"]["time_s"]
