"""aim_sim.Spec round-trips with the JSON (and TOML) spec the command line reads and writes."""

import json
import pickle

import pytest

import aim_sim
from aim_sim import Spec


def test_the_default_is_the_cli_default(cli):
    assert Spec() == Spec.from_dict({})
    assert aim_sim.simulate(spec=Spec()) == cli.json()


def test_json_toml_and_dict_round_trip():
    spec = Spec(frames=64, gpu="h100", schedule="fastv", merge_keep_ratio=0.5, prune_start=4, prune_end=12)
    assert Spec.from_json(spec.to_json()) == spec
    assert Spec.from_toml(spec.to_toml()) == spec
    assert Spec.from_dict(spec.to_dict()) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert spec.to_dict()["frames"] == 64 and "tokens" not in spec.to_dict()
    assert spec != Spec(frames=64)


def test_the_cli_reads_what_spec_writes(cli, tmp_path):
    spec = Spec(tokens=3000, gpu="l40s", schedule="pdrop", cost_model="llm-viewer", w_bits=8)
    path = tmp_path / "run.json"
    path.write_text(spec.to_json())
    assert cli.json("--spec", path) == aim_sim.simulate(spec=spec)
    toml = tmp_path / "run.toml"
    toml.write_text(spec.to_toml())
    assert Spec.load(toml) == spec == Spec.load(path)


def test_the_output_spec_replays_the_run(cli):
    report = aim_sim.simulate(frames=20, schedule="fastv", gpu="a6000")
    spec = Spec.from_dict(report["spec"])
    assert spec == Spec(frames=20, schedule="fastv", gpu="a6000").resolved()
    assert spec.to_dict() == report["spec"]
    assert Spec.from_json(json.dumps(report)) == spec
    assert aim_sim.simulate(spec=spec) == report


def test_options_override_the_base_as_flags_override_a_run_file(cli, tmp_path):
    base = Spec(frames=64, merge_keep_ratio=0.5, prune_start=4, prune_end=12, prune_step=0.5)
    # --tokens replaces --frames, a merge override the other, a new window drops the old step.
    changed = base.replace(tokens=1000, merge_tokens_per_frame=10, prune_start=2, prune_end=6)
    d = changed.to_dict()
    assert d["tokens"] == 1000 and "frames" not in d
    assert d["merge_tokens_per_frame"] == 10 and "merge_keep_ratio" not in d
    assert (d["prune_start"], d["prune_end"]) == (2, 6) and "prune_step" not in d
    path = tmp_path / "base.json"
    path.write_text(base.to_json())
    flags = ["--tokens", "1000", "--merge-tokens-per-frame", "10", "--prune-start", "2", "--prune-end", "6"]
    assert aim_sim.simulate(spec=changed) == cli.json("--spec", path, *flags)
    # Switches may be turned off again from Python (the CLI has no --no-... flags).
    assert Spec(include_vision=True).replace(include_vision=False) == Spec()


@pytest.mark.parametrize(
    "option, flags",
    [
        # Each replaces the base's other ways of giving the video, exactly as the flag does.
        ({"frames": 8}, ["--frames", "8"]),
        ({"video_seconds": 4}, ["--video-seconds", "4"]),
        ({"image_size": "448x448"}, ["--image-size", "448x448"]),
    ],
)
def test_a_video_base_is_replaced_as_the_flags_replace_it(cli, tmp_path, option, flags):
    base = Spec(model="qwen2.5-vl-7b", video_size="640x360", video_seconds=10, fps=1)
    path = tmp_path / "video.json"
    path.write_text(base.to_json())
    assert aim_sim.simulate(spec=base, **option) == cli.json("--spec", path, *flags)


def test_inline_definitions(cli, tmp_path):
    gpu = {"name": "test GPU", "bandwidth": 2e12, "fp16_peak": 3e14, "int8_peak": 6e14,
           "onchip_buffer": 5e7, "memory": 8e10}
    spec = Spec(gpu=gpu, frames=8)
    assert spec.to_dict()["gpu"]["bandwidth"] == 2e12
    path = tmp_path / "inline.json"
    path.write_text(spec.to_json())
    assert aim_sim.simulate(spec=spec) == cli.json("--spec", path)
    frame = aim_sim.sweep(gpu=gpu, frames=[8, 16])
    assert list(frame["gpu"]) == ["inline GPU", "inline GPU"]


def test_repr_shows_what_differs_from_the_default():
    assert repr(Spec()) == "Spec()"
    assert repr(Spec(frames=64, gpu="h100")) == "Spec(frames=64, gpu='h100')"
