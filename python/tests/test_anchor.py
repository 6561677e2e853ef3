"""aim_sim.simulate(anchor_ms=...) is `aim-sim --anchor-ms`: the profile refitted to a measured
baseline, the same report as the command line's."""

import json

import pytest

import aim_sim

CASE = dict(gpu="a100-80g", framework="hf", frames=8, schedule="linear")


def test_anchor_is_the_cli_json(cli):
    got = aim_sim.simulate(anchor_ms=250.0, **CASE)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in CASE.items()]
    want = json.loads(cli.run(*flags, "--anchor-ms", "250", "--format", "json").stdout)
    assert json.dumps(got) == json.dumps(want)


def test_the_anchored_baseline_takes_the_measured_time():
    r = aim_sim.simulate(anchor_ms=250.0, detail="totals", **CASE)
    assert r["baseline"]["totals"]["time_s"] == pytest.approx(0.250, rel=1e-6)
    assert r != aim_sim.simulate(detail="totals", **CASE)


def test_a_bad_anchor_is_one_line():
    with pytest.raises(aim_sim.AimSimError) as e:
        aim_sim.simulate(anchor_ms="fast", **CASE)
    assert "anchor_ms" in str(e.value) and "\n" not in str(e.value)


ROW = """[[measurement]]
id = "mine"
source = "my own stack"
model = "llava-ov-7b"
gpu = "a100-80g"
framework = "hf"
timed = "prefill"
attention = "flash"
w_bits = 16
text_tokens = 100
frames = 8
tokens_per_frame = 196
schedule = "none"
measured_ms = 250
"""


def test_anchor_file_is_the_cli_json(cli, tmp_path):
    path = tmp_path / "rows.toml"
    path.write_text(ROW)
    got = aim_sim.simulate(anchor=path, **CASE)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in CASE.items()]
    want = json.loads(cli.run(*flags, "--anchor", str(path), "--format", "json").stdout)
    assert json.dumps(got) == json.dumps(want)
    # One row is anchor_ms's fit: the same figures. (anchor_ms's speed-up interval is the
    # measured baseline over the run's, the file's the speed-up σ: equal to rounding here.)
    by_ms = aim_sim.simulate(anchor_ms=250.0, detail="totals", **CASE)
    by_file = aim_sim.simulate(anchor=str(path), detail="totals", **CASE)
    assert by_file["totals"] == by_ms["totals"]
    ms_iv, file_iv = by_ms["reduction"].pop("time_interval"), by_file["reduction"].pop("time_interval")
    assert by_file["reduction"] == by_ms["reduction"]
    assert file_iv == pytest.approx(ms_iv, rel=1e-12)


def test_a_bad_anchor_file_is_one_line(tmp_path):
    path = tmp_path / "rows.toml"
    path.write_text(ROW.replace('framework = "hf"', 'framework = "trtllm"'))
    with pytest.raises(aim_sim.AimSimError) as e:
        aim_sim.simulate(anchor=path, **CASE)
    assert "'mine'" in str(e.value) and "framework" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(aim_sim.AimSimError) as e:
        aim_sim.simulate(anchor=path, anchor_ms=250.0, **CASE)
    assert "anchor_ms" in str(e.value)
