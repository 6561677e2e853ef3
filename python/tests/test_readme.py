"""python/README.md's examples run, and the output it shows is what the example prints."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


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
