"""aim-sim from Python: what a visual-token reduction schedule costs in a multi-modal LLM's
prefill, per operator and per layer, on a given GPU.

The functions mirror the ``aim-sim`` command line: options are its long flags with ``_`` for
``-`` and have the same defaults; results are the CLI's JSON (``simulate``, ``budget``) or
its CSV rows as a ``pandas.DataFrame`` (``sweep``). The simulation runs in Rust with the GIL
released. Every option is documented in ``__init__.pyi``, the type stub editors read; at
import, its docstrings and signatures are given to the functions here too, so ``help()`` and a
notebook's ``?`` show them.
"""

from __future__ import annotations

import ast
import inspect
import json
from array import array
from pathlib import Path

try:
    from . import _core
except ImportError as e:  # the source folder python/aim_sim/ shadows the installed package
    raise ImportError(
        f"aim_sim's compiled module is missing beside {__file__}: install the package "
        "(pip install ./python) and import it from outside python/"
    ) from e
from ._core import AimSimError, Spec, __version__

__all__ = [
    "AimSimError",
    "Spec",
    "budget",
    "check",
    "list_presets",
    "simulate",
    "sweep",
    "__version__",
]


def simulate(**options):
    """One simulated prefill: the structure of ``aim-sim [options] --format json``."""
    return json.loads(_core.simulate_json(**options))


def budget(**options):
    """A frame budget or target reduction: ``aim-sim budget [options] --format json``."""
    return json.loads(_core.budget_json(**options))


def sweep(**grid):
    """Every combination of the grid's axes: ``aim-sim sweep [grid] --format csv`` as a
    ``pandas.DataFrame`` (a list of dicts without pandas)."""
    columns = _core.sweep_columns(**grid)
    try:
        import numpy
        import pandas
    except ImportError:
        return _records(columns)
    data = {}
    for name, kind, buffer, categories in columns:
        if kind == "category":
            codes = numpy.frombuffer(buffer, dtype=numpy.int32)
            data[name] = pandas.Categorical.from_codes(codes, categories=categories)
        else:
            data[name] = numpy.frombuffer(buffer, dtype=numpy.dtype(kind))
    return pandas.DataFrame(data)


def _records(columns):
    """The columns as one dict per row (the fallback without pandas)."""
    names, values = [], []
    for name, kind, buffer, categories in columns:
        typecode = {"category": "i", "int64": "q", "float64": "d"}[kind]
        column = array(typecode)
        column.frombytes(buffer)
        names.append(name)
        values.append([categories[c] for c in column] if categories is not None else column.tolist())
    return [dict(zip(names, row)) for row in zip(*values)]


def check(path, loo=False, loso=False):
    """The published-measurement check: ``aim-sim check FILE [--cv source,row] --format json``."""
    return json.loads(_core.check_json(path, loo, loso))


def list_presets(kind=None):
    """The embedded presets with their descriptions, as ``aim-sim list`` prints them."""
    return _core.list_presets(kind)


def _document_from_stub():
    """Gives each function the docstring and signature its stub declares (one source)."""
    try:
        stub = ast.parse(Path(__file__).with_name("__init__.pyi").read_text(encoding="utf-8"))
    except OSError:
        return
    for node in stub.body:
        function = globals().get(getattr(node, "name", None))
        if not isinstance(node, ast.FunctionDef) or not inspect.isfunction(function):
            continue
        args, empty = node.args, inspect.Parameter.empty

        def parameter(arg, default, kind):
            return inspect.Parameter(
                arg.arg,
                kind,
                default=empty if default is None else ast.literal_eval(default),
                annotation=ast.unparse(arg.annotation) if arg.annotation else empty,
            )

        defaults = [None] * (len(args.args) - len(args.defaults)) + args.defaults
        parameters = [
            parameter(a, d, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for a, d in zip(args.args, defaults)
        ] + [
            parameter(a, d, inspect.Parameter.KEYWORD_ONLY)
            for a, d in zip(args.kwonlyargs, args.kw_defaults)
        ]
        returns = ast.unparse(node.returns) if node.returns else inspect.Signature.empty
        function.__signature__ = inspect.Signature(parameters, return_annotation=returns)
        function.__doc__ = ast.get_docstring(node)


_document_from_stub()
