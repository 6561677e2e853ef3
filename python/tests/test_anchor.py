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
