"""python/README.md's examples run, and the output it shows is what the example prints."""

import contextlib
import importlib.util
import io
import re
import shutil
from pathlib import Path

import pytest

PYTHON = Path(__file__).resolve().parents[1]
README = (PYTHON / "README.md").read_text()


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_the_notebook_example_prints_what_the_readme_shows(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    example = README.split("<!-- example: schedules", 1)[1]
    code = re.search(r"```python\n(.*?)```", example, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", example, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == shown
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (tmp_path / "schedules.png").stat().st_size > 1000


def test_the_api_tour_runs():
    pytest.importorskip("pandas")
    tour = next(b for b in blocks("python") if "aim_sim.Spec(" in b)
    exec(compile("import aim_sim\n" + tour, "README.md", "exec"), {})


class _Instant:
    """An aim_sim whose calls return at once: the benchmark's labels without its timings."""

    __file__ = __file__

    def __init__(self, new):
        self.simulate = self.sweep = lambda *args, **options: None
        if new:
            self.simulate_many = self.simulate


def test_the_speed_figures_are_what_the_benchmark_prints():
    """README "Speed" shows the output of bench/speed.py for the previous version and this
    one: the same lines, each a figure of the form the script prints."""
    spec = importlib.util.spec_from_file_location("speed", PYTHON / "bench" / "speed.py")
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    cli = shutil.which("true")  # a command that returns at once, for the process lines' labels
    if cli is None:
        pytest.skip("no `true` command to stand in for the aim-sim binary")
    section = README.split("<!-- speed:", 1)[1]
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    runs = re.split(r"^aim_sim from .*\n", shown, flags=re.M)
    assert runs[0] == "" and len(runs) == 3, "the previous version's run, then this one's"
    figure = re.compile(r"^(-|[0-9.]+ (ms|s) \([0-9.]+ (ms|s) CPU\))$")
    for run, new in zip(runs[1:], [False, True]):
        expected = [label for label, _ in speed.rows(_Instant(new), 1, cli, python=cli)]
        lines = run.splitlines()
        assert [line[:74].strip() for line in lines] == expected
        for line in lines:
            assert figure.match(line[74:].strip()), line
        assert ("-" in [line[74:].strip() for line in lines]) == (not new)
