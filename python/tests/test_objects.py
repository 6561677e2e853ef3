"""simulate(), simulate_many(), budget() and Spec.to_dict() build their dicts in Rust straight
from the core's data; these tests hold them to what the JSON text path gives (json.loads of the
CLI's --format json, which is what they returned before): same keys in the same order, same
types (an int stays an int, a float a float), same numbers bit for bit."""

import json
import math

import pytest

import aim_sim
from aim_sim import _core
from conftest import REPO, flags, keywords
from test_simulate import RUNS

TOTALS_KEYS = ["spec", "totals", "warnings", "baseline", "reduction"]


def same(ours, theirs):
    """Equal as JSON text: key order and int/float types count (`2 == 2.0` in Python)."""
    assert json.dumps(ours, allow_nan=False) == json.dumps(theirs, allow_nan=False)
    assert ours == theirs


def the_totals_of(report):
    """What detail="totals" keeps of a full report."""
    kept = {key: report[key] for key in TOTALS_KEYS}
    kept["baseline"] = {"totals": report["baseline"]["totals"]}
    return kept


@pytest.mark.parametrize("options", RUNS, ids=lambda o: " ".join(flags(o)) or "defaults")
def test_the_report_is_the_json_paths(options):
    old = json.loads(_core.simulate_json(**options))
    same(aim_sim.simulate(**options), old)
    same(aim_sim.simulate(detail="full", **options), old)


@pytest.mark.parametrize("options", RUNS, ids=lambda o: " ".join(flags(o)) or "defaults")
def test_totals_are_the_full_reports(cli, options):
    totals = aim_sim.simulate(detail="totals", **options)
    assert list(totals) == TOTALS_KEYS
    same(totals, the_totals_of(json.loads(_core.simulate_json(**options))))
    assert totals == the_totals_of(cli.json(*flags(options)))


def test_simulate_many_is_simulate_in_a_loop():
    runs = [aim_sim.Spec(frames=8, schedule="fastv"), *RUNS[:6], {"frames": 0}]
    options = [r.to_dict() if isinstance(r, aim_sim.Spec) else r for r in runs]
    expected = [aim_sim.simulate(detail="totals", **o) for o in options]
    for jobs in [None, 1, 3]:
        same(aim_sim.simulate_many(runs, jobs=jobs), expected)
    full = aim_sim.simulate_many(iter(runs[:3]), detail="full", jobs=2)
    same(full, [aim_sim.simulate(**o) for o in options[:3]])
    assert aim_sim.simulate_many([]) == []


def test_simulate_many_names_the_bad_item(cli):
    runs = [{"frames": 8}, {"frames": 8, "gpu": "h1000"}, {"frames": 8, "gpu": "h2000"}]
    message = keywords(cli.error("--frames", "8", "--gpu", "h1000"))
    with pytest.raises(aim_sim.AimSimError) as e:
        aim_sim.simulate_many(runs)
    assert str(e.value) == f"specs[1]: {message}"  # the first in list order, on any thread
    # Options are read before anything runs: a refused option fails first.
    runs.append({"frames": 0, "tokens": 5})
    with pytest.raises(aim_sim.AimSimError, match=r"^specs\[3\]: the option 'frames' cannot be used with 'tokens'"):
        aim_sim.simulate_many(runs)
    with pytest.raises(aim_sim.AimSimError, match=r"^specs\[1\] is 3: give an aim_sim.Spec or a dict"):
        aim_sim.simulate_many([{}, 3])
    with pytest.raises(aim_sim.AimSimError, match="wrap it in a list"):
        aim_sim.simulate_many({"frames": 8})
    with pytest.raises(aim_sim.AimSimError, match="not 5"):
        aim_sim.simulate_many(5)
    with pytest.raises(aim_sim.AimSimError, match="'jobs'"):
        aim_sim.simulate_many([{}], jobs=0)


def test_detail_none_is_the_default():
    assert aim_sim.simulate(detail=None, frames=4) == aim_sim.simulate(frames=4)
    assert aim_sim.simulate_many([{"frames": 4}], detail=None) == aim_sim.simulate_many([{"frames": 4}])


def test_a_bad_detail_is_named():
    for call in (lambda: aim_sim.simulate(detail="layers"), lambda: aim_sim.simulate_many([{}], detail="x")):
        with pytest.raises(aim_sim.AimSimError, match="'detail': use \"full\""):
            call()


def test_presets_parsed_once_still_follow_files(tmp_path):
    """Only embedded presets are kept between calls: a GPU file edited between two calls is
    read again, in simulate and in simulate_many."""
    path = tmp_path / "gpu.toml"
    text = (REPO / "hardware" / "h100.toml").read_text()
    assert "\nbandwidth = 3.35e12\n" in text  # the line edited below
    path.write_text(text)
    first = aim_sim.simulate(detail="totals", gpu=path)["totals"]
    assert first == aim_sim.simulate(detail="totals", gpu="h100")["totals"]
    path.write_text(text.replace("bandwidth = 3.35e12", "bandwidth = 1.0e12"))
    slower = aim_sim.simulate(detail="totals", gpu=path)["totals"]
    assert slower["time_s"] > first["time_s"]
    assert aim_sim.simulate_many([{"gpu": str(path)}])[0]["totals"] == slower


def test_budget_and_spec_dicts_are_the_json_paths():
    for options in RUNS[:2] + [{"schedule": "linear", "reference_frames": 32}, {"frames": 32, "target_reduction": 4.0}]:
        budget_options = {k: v for k, v in options.items() if k != "layer_tokens"}
        same(aim_sim.budget(**budget_options), json.loads(_core.budget_json(**budget_options)))
    for options in RUNS:
        spec = aim_sim.Spec(**options)
        same(spec.to_dict(), json.loads(spec.to_json()))
        same(spec.resolved().to_dict(), aim_sim.simulate(**options)["spec"])


def test_numbers_keep_their_json_types():
    report = aim_sim.simulate(frames=8)
    assert type(report["plan"]["layer_tokens"][0]) is int
    assert type(report["totals"]["flops"]) is float
    assert type(report["spec"]["text_tokens"]) is int
    assert all(math.isfinite(v) for v in report["reduction"].values())


def test_warnings_name_the_options_keyword_not_private_marks():
    """A warning that names an option said it between two private-use characters
    ('\\ue000layer_tokens\\ue001 value 50 ...'), in every form Python returns: it now says the
    keyword argument, as the command line says its flag."""
    layers = [6372] * 27 + [50]
    want = "layer_tokens value 50 at layer 27 is below the 100 text tokens"
    for report in (
        aim_sim.simulate(tokens=6272, layer_tokens=layers),
        aim_sim.simulate(tokens=6272, layer_tokens=layers, detail="totals"),
        json.loads(_core.simulate_json(tokens=6272, layer_tokens=layers)),
    ):
        text = " ".join(report["warnings"])
        assert want in text, text
        assert "\ue000" not in text and "\ue001" not in text, text
