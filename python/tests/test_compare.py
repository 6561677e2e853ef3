"""aim_sim.compare is `aim-sim compare --schedule A,B,... --format json`: the same options, the
same answer (Python had no compare: a user priced each schedule with simulate and divided)."""

import ast
import json
import re
from pathlib import Path

import pytest

import aim_sim

STUB = ast.parse((Path(aim_sim.__file__).parent / "__init__.pyi").read_text())
COMPARE = next(n for n in STUB.body if isinstance(n, ast.FunctionDef) and n.name == "compare")
CASE = dict(gpu="h100", framework="hf", frames=8, text_tokens=100)
SCHEDULES = ["none", "linear", "fastv"]


def flags(case):
    return [f"--{k.replace('_', '-')}={v}" for k, v in case.items()]


def test_compare_is_the_cli_json(cli):
    got = aim_sim.compare(SCHEDULES, **CASE)
    want = json.loads(
        cli.run("compare", *flags(CASE), "--schedule", ",".join(SCHEDULES), "--format", "json").stdout
    )
    assert got == want
    assert [r["schedule"] for r in got["rows"]] == SCHEDULES
    # Under a fitted profile every row carries its interval, the roofline none.
    assert all(len(r["time_interval_s"]) == 2 for r in got["rows"])
    assert all("time_interval_s" not in r for r in aim_sim.compare(SCHEDULES)["rows"])


def test_a_row_is_the_single_run_of_its_schedule():
    """Each row is simulate's run with only the schedule replaced; speed-ups are against the
    first schedule given."""
    got = aim_sim.compare(["none", "linear"], **CASE)
    for row in got["rows"]:
        run = aim_sim.simulate(schedule=row["schedule"], detail="totals", **CASE)
        assert row["time_s"] == pytest.approx(run["totals"]["time_s"], rel=1e-12)
        assert row["flops"] == pytest.approx(run["totals"]["flops"], rel=1e-12)
    none, linear = got["rows"]
    assert linear["speedup"] == pytest.approx(none["time_s"] / linear["time_s"], rel=1e-12)


def test_a_comma_list_and_an_anchor_are_the_cli_s(cli):
    got = aim_sim.compare("none,linear", anchor_ms=300.0, **CASE)
    want = json.loads(
        cli.run(
            "compare", *flags(CASE), "--schedule", "none,linear", "--anchor-ms", "300", "--format", "json"
        ).stdout
    )
    assert got == want
    assert got["notes"], got.keys()


def test_compare_options_are_the_cli_flags(cli):
    text = cli.run("compare", "--help").stdout
    found = {m.replace("-", "_") for m in re.findall(r"^\s+(?:-\w, )?--([a-z0-9-]+)", text, re.M)}
    found -= {"help", "format", "output"}
    # A run's option the command refuses (compare prices prefills): --help no longer offers it,
    # the stub keeps a spec's whole option list.
    found |= {"gen_tokens"}
    given = {a.arg for a in COMPARE.args.args + COMPARE.args.kwonlyargs}
    assert given == found


def test_bad_schedules_are_one_line_errors():
    for schedule in [[], ["none", ""], "", 3]:
        with pytest.raises(aim_sim.AimSimError, match="schedule: give a list of schedule names"):
            aim_sim.compare(schedule, **CASE)
    with pytest.raises(aim_sim.AimSimError, match="no-such-schedule"):
        aim_sim.compare(["none", "no-such-schedule"])
    with pytest.raises(aim_sim.AimSimError, match="replays"):
        aim_sim.compare(["none"], replays=3)
