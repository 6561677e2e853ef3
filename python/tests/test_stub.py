"""The shipped type stub (__init__.pyi) is the API: its options are the command line's long
flags, its defaults are the real defaults, and every option is documented."""

import ast
import inspect
import re
from pathlib import Path

import pytest

import aim_sim

PACKAGE = Path(aim_sim.__file__).parent
STUB = ast.parse((PACKAGE / "__init__.pyi").read_text())
FUNCTIONS = {n.name: n for n in STUB.body if isinstance(n, ast.FunctionDef)}
CLASSES = {n.name: n for n in STUB.body if isinstance(n, ast.ClassDef)}


#: Keywords of the Python API that are not command-line flags: what `simulate` returns.
PYTHON_ONLY = {"detail"}


def keywords(function):
    """Keyword-only parameters that are options of a run, and their default values."""
    args = function.args
    return {
        a.arg: ast.literal_eval(d)
        for a, d in zip(args.kwonlyargs, args.kw_defaults)
        if a.arg not in PYTHON_ONLY
    }


def cli_flags(cli, *command):
    """Long flags in `aim-sim COMMAND --help`, as keyword names."""
    text = cli.run(*command, "--help").stdout
    found = {m.replace("-", "_") for m in re.findall(r"^\s+(?:-\w, )?--([a-z0-9-]+)", text, re.M)}
    return found - {"help", "version", "format", "output"}


def test_the_package_ships_its_stub_and_marker():
    assert (PACKAGE / "py.typed").is_file()
    assert set(aim_sim.__all__) <= set(FUNCTIONS) | set(CLASSES) | {"__version__"}


def test_dir_lists_the_api_only():
    """`dir(aim_sim)` (and tab completion) shows the API, not the modules the package imports."""
    assert dir(aim_sim) == sorted(aim_sim.__all__)
    assert set(aim_sim.__all__) == {
        name for name in vars(aim_sim) if not name.startswith("_")
    } | {"__version__"}
    for name in aim_sim.__all__:
        assert hasattr(aim_sim, name), name


@pytest.mark.parametrize("name, command", [("simulate", ["simulate"]), ("sweep", ["sweep"]), ("budget", ["budget"])])
def test_options_are_the_cli_long_flags(cli, name, command):
    # gen_tokens: a run's option that sweep and budget refuse (they price prefills); their
    # --help hides it, the stub keeps a spec's whole option list.
    hidden = {"gen_tokens"} if name != "simulate" else set()
    assert set(keywords(FUNCTIONS[name])) == cli_flags(cli, *command) | hidden


def test_spec_takes_the_options_of_simulate():
    """All but ``anchor_ms`` and ``anchor``: measurements the profile is refitted to, not part of a run."""
    init = next(n for n in CLASSES["Spec"].body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    options = keywords(FUNCTIONS["simulate"])
    assert options.pop("anchor_ms") is None
    assert options.pop("anchor") is None
    assert keywords(init) == options


@pytest.mark.parametrize("name", ["simulate", "sweep", "budget"])
def test_stub_defaults_are_the_defaults(name):
    """Giving an option its documented default changes nothing."""
    call = getattr(aim_sim, name)
    plain = call()
    for option, default in keywords(FUNCTIONS[name]).items():
        if default is not None:
            given = call(**{option: default})
            assert given.equals(plain) if name == "sweep" else given == plain, option
    spec = aim_sim.Spec().to_dict()
    for option, default in keywords(FUNCTIONS["simulate"]).items():
        if option in spec:
            assert spec[option] == default, option
        else:
            assert default in (None, False), option


def test_the_functions_carry_the_stub_signatures_and_docs():
    """help(aim_sim.simulate) and a notebook's `?` show what the stub says."""
    for name in ["simulate", "simulate_many", "sweep", "budget", "compare", "check", "list_presets"]:
        function = getattr(aim_sim, name)
        assert function.__doc__ == ast.get_docstring(FUNCTIONS[name]), name
        parameters = inspect.signature(function).parameters
        kinds = FUNCTIONS[name].args
        assert list(parameters) == [a.arg for a in kinds.args + kinds.kwonlyargs], name
    assert inspect.signature(aim_sim.simulate).parameters["text_tokens"].default == 100


def test_every_option_and_function_is_documented():
    for name in ["simulate", "simulate_many", "sweep", "budget", "compare", "check", "list_presets"]:
        assert ast.get_docstring(FUNCTIONS[name]), name
    documented = ast.get_docstring(FUNCTIONS["simulate"])
    for option in [*keywords(FUNCTIONS["simulate"]), *PYTHON_ONLY]:
        assert re.search(rf"^\s+{option}:", documented, re.M), option
    many = FUNCTIONS["simulate_many"].args
    for option in many.args + many.kwonlyargs:
        assert re.search(rf"^\s+{option.arg}:", ast.get_docstring(FUNCTIONS["simulate_many"]), re.M), option.arg
    budget_doc = ast.get_docstring(FUNCTIONS["budget"])
    for option in ["reference_schedule", "reference_frames", "by", "max_frames", "target_reduction", "solve"]:
        assert f"{option}:" in budget_doc, option
