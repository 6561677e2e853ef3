"""Shared fixtures: the aim-sim command line, which the binding must agree with.

The tests run the real binary: $AIM_SIM_BIN, else target/debug/aim-sim of the repository
(built by `cargo build` or `cargo test`). Without it the comparisons skip and say why, unless
AIM_SIM_REQUIRE_CLI=1 (set by .ci/run), which makes its absence a failure.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _find_cli():
    candidates = [os.environ.get("AIM_SIM_BIN")]
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(str(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "aim-sim"))
    candidates.append(str(REPO / "target" / "debug" / "aim-sim"))
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    return None


class Cli:
    """Runs `aim-sim ARGS` and returns what it printed."""

    def __init__(self, path):
        self.path = path

    def run(self, *args, check=True):
        done = subprocess.run(
            [self.path, *map(str, args)], capture_output=True, text=True, cwd=REPO
        )
        if check and done.returncode != 0:
            raise AssertionError(f"aim-sim {' '.join(map(str, args))} failed: {done.stderr}")
        return done

    def json(self, *args):
        return json.loads(self.run(*args, "--format", "json").stdout)

    def error(self, *args):
        """The one-line message after `aim-sim: error: ` of a run that must fail with code 2."""
        done = self.run(*args, check=False)
        assert done.returncode == 2, f"aim-sim {args} exited {done.returncode}: {done.stderr}"
        line = done.stderr.strip()
        assert "\n" not in line, line
        prefix = "aim-sim: error: "
        assert line.startswith(prefix), line
        return line[len(prefix):]


@pytest.fixture(scope="session")
def cli():
    path = _find_cli()
    if path is None:
        reason = (
            "the aim-sim binary was not found (set AIM_SIM_BIN, or run `cargo build` at the "
            "repository root): the comparisons with the command line are skipped"
        )
        if os.environ.get("AIM_SIM_REQUIRE_CLI") == "1":
            pytest.fail(reason + "; AIM_SIM_REQUIRE_CLI=1 requires it")
        print("\n" + reason)
        pytest.skip(reason)
    return Cli(path)


def flags(options):
    """Keyword options as command-line flags (`frames=8` → `--frames 8`)."""
    out = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            out += [flag, ",".join(map(str, value))]
        else:
            out += [flag, str(value)]
    return out


def keywords(message):
    """The command line's message as the library says it: each `--flag` as its key
    (`--prune-start` → `prune_start`), the one difference between the two."""
    message = message.replace("--no-chunked-prefill", "chunked_prefill=False")
    return re.sub(r"--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", "_"), message)
