"""aim_sim.serve is `aim-sim serve --format json`: the same options, the same answer."""

import ast
import json
from pathlib import Path

import aim_sim

STUB = ast.parse((Path(aim_sim.__file__).parent / "__init__.pyi").read_text())
SERVE = next(n for n in STUB.body if isinstance(n, ast.FunctionDef) and n.name == "serve")
CASE = dict(gpu="h100", framework="hf", frames=8, text_tokens=100, schedule="linear", requests=50, rate=4)


def test_serve_is_the_cli_json(cli):
    got = aim_sim.serve(**CASE)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in CASE.items()]
    want = json.loads(cli.run("serve", *flags, "--format", "json").stdout)
    assert got == want


def test_a_request_alone_has_simulates_ttft():
    r = aim_sim.serve(gpu="h100", framework="hf", frames=32, schedule="linear", rate=0.01, requests=1)
    sim = aim_sim.simulate(gpu="h100", framework="hf", frames=32, schedule="linear")
    ttft = sim["pipeline"]["ttft_s"]
    assert abs(r["requests"][0]["ttft_s"] - ttft) <= 1e-9 * ttft


def test_serve_options_are_the_cli_flags(cli):
    """The command line's serve flags, less the reference check and with chunked_prefill for
    --no-chunked-prefill."""
    text = cli.run("serve", "--help").stdout
    import re

    flags = {m.replace("-", "_") for m in re.findall(r"^\s+(?:-\w, )?--([a-z0-9-]+)", text, re.M)}
    flags -= {"help", "format", "output", "reference", "reference_frameworks", "no_chunked_prefill"}
    # gen_tokens and all_logits: a run's options serve refuses (it takes output_tokens, and its
    # engine computes last-position logits); --help hides them, the stub keeps a spec's whole
    # option list.
    flags |= {"chunked_prefill", "gen_tokens", "all_logits"}
    assert {a.arg for a in SERVE.args.kwonlyargs} == flags


def test_several_schedules_are_the_cli_comparison(cli):
    case = {k: v for k, v in CASE.items() if k != "schedule"}
    got = aim_sim.serve(schedules=["none", "linear"], **case)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in case.items()]
    want = json.loads(cli.run("serve", *flags, "--schedules", "none,linear", "--format", "json").stdout)
    assert got == want
    assert got != aim_sim.serve(**CASE)


def test_bad_serve_keywords_are_named():
    """A bad serve keyword is named, as simulate(frames=-1) names frames: serve(seed=-1) used to
    say "serve options: invalid value: integer '-1', expected u64". schedules=[] is refused as
    the command line's --schedules "" is (it ran the default schedule silently)."""
    import pytest

    for key, value in [("seed", -1), ("requests", -5)]:
        with pytest.raises(aim_sim.AimSimError, match=key):
            aim_sim.serve(**{key: value})
    for schedules in [[], ["none", ""]]:
        with pytest.raises(aim_sim.AimSimError, match="at least one schedule name"):
            aim_sim.serve(schedules=schedules, requests=3)


def test_a_prompt_too_large_says_what_to_lower():
    """One prompt too large for the device names the prompt and what to lower: it used to say
    "no room for a KV cache ... leaves -4033891.47 GB ... raise gpu_memory_utilization or use tp",
    neither of which helps."""
    import pytest

    with pytest.raises(aim_sim.AimSimError, match="a prompt of 100000 frame") as e:
        aim_sim.serve(frames=100000, requests=3)
    assert "frames" in str(e.value) and "gpu_memory_utilization" not in str(e.value)


def test_an_anchor_refits_the_profile_every_request_is_priced_under(cli):
    """serve(anchor_ms=...) is ``aim-sim serve --anchor-ms``: the request alone takes the
    anchor without reduction, the refit's note is in the run's notes (serve took no anchor
    until 2026-12-07)."""
    case = dict(gpu="a100-80g", framework="hf", frames=32, requests=5, anchor_ms=400)
    got = aim_sim.serve(schedule="none", **case)
    assert abs(got["summary"]["prefill_alone_s"] - 0.4) < 1e-9
    assert got["framework"] == "hf (anchored)"
    assert "anchored on the measured baseline 400 ms" in got["notes"][0]
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in case.items()]
    want = json.loads(cli.run("serve", *flags, "--schedule=none", "--format", "json").stdout)
    assert got == want


def test_a_fitted_profile_states_intervals():
    """Under a fitted framework a serving run carries 80 % intervals; the roofline, a bound, none."""
    r = aim_sim.serve(**CASE)
    i = r["interval"]
    low, high = i["time_factors"]
    assert low < 1 < high
    for key, value in [("ttft_p90_s", r["summary"]["ttft"]["p90_s"]), ("prefill_alone_s", r["summary"]["prefill_alone_s"])]:
        assert i[key][0] <= value <= i[key][1], key
    assert "interval" not in aim_sim.serve(**{**CASE, "framework": "roofline"})


def test_schedules_take_the_command_lines_comma_list():
    """serve(schedules="none,linear") was refused ("give a list") where compare takes the string."""
    case = {k: v for k, v in CASE.items() if k != "schedule"}
    assert aim_sim.serve(schedules="none,linear", **case) == aim_sim.serve(schedules=["none", "linear"], **case)


def test_a_trace_is_the_cli_trace(cli, tmp_path):
    """serve(trace=...) is ``aim-sim serve --trace``, alone and with schedules side by side
    (Python's serve took no trace; the command line refused --trace beside --schedules)."""
    import pytest

    rows = "".join(f"{i * 0.3:.2f},{4 + 4 * (i % 3)},100,16\n" for i in range(12))
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,frames,text_tokens,output_tokens\n" + rows)
    case = dict(gpu="h100", framework="hf")
    flags = ["--gpu=h100", "--framework=hf", "--trace", str(path), "--format", "json"]
    assert aim_sim.serve(trace=path, **case) == json.loads(cli.run("serve", *flags).stdout)
    both = aim_sim.serve(trace=str(path), schedules=["none", "linear"], **case)
    assert both == json.loads(cli.run("serve", *flags, "--schedules", "none,linear").stdout)
    with pytest.raises(aim_sim.AimSimError, match="drop frames"):
        aim_sim.serve(trace=path, frames=8)
    with pytest.raises(aim_sim.AimSimError, match="schedules replaces schedule"):
        aim_sim.serve(schedules=["none", "linear"], schedule="linear", requests=3)
