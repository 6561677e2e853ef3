"""aim-sim from Python: what a visual-token reduction schedule costs in a multi-modal LLM's
prefill, per operator and per layer, on a given GPU.

The functions mirror the ``aim-sim`` command line: options are its long flags with ``_`` for
``-`` and have the same defaults; results are the structure of the CLI's JSON (``simulate``,
``simulate_many``, ``budget``), built as Python objects in Rust without JSON text (``serve``,
``compare`` and ``check`` read the CLI's JSON), or its CSV
rows as a ``pandas.DataFrame`` (``sweep``). The simulation runs in Rust with the GIL
released. Only the API is public: ``dir(aim_sim)`` is ``__all__``. Every option is documented in ``__init__.pyi``, the type stub editors read; at
import, its docstrings and signatures are given to the functions here too, so ``help()`` and a
notebook's ``?`` show them.
"""

import ast as _ast
import inspect as _inspect
import json as _json
from array import array as _array
from pathlib import Path as _Path

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
    "compare",
    "list_presets",
    "serve",
    "simulate",
    "simulate_many",
    "sweep",
    "__version__",
]


def __dir__():
    """``dir(aim_sim)``: the API, not the modules it imports."""
    return sorted(__all__)


def simulate(*, detail="full", **options):
    """One simulated prefill: the structure of ``aim-sim [options] --format json``, built as
    Python objects in Rust (no JSON text); ``detail="totals"`` keeps the totals."""
    return _core.simulate(detail, **options)


def simulate_many(specs, *, detail="totals", jobs=None):
    """Many simulated prefills on worker threads: one report per item of ``specs``."""
    return _core.simulate_many(specs, detail, jobs)


def compare(schedule, **options):
    """Several schedules on one input, side by side: ``aim-sim compare --schedule A,B,...
    [options] --format json``."""
    return _json.loads(_core.compare_json(schedule=schedule, **options))


def serve(**options):
    """One replica under a stream of requests: ``aim-sim serve [options] --format json``
    (``find_max_rate=True``: the highest rate meeting ``slo_ttft``/``slo_tpot``)."""
    return _json.loads(_core.serve_json(**options))


def budget(**options):
    """A frame budget or target reduction: ``aim-sim budget [options] --format json``."""
    return _core.budget(**options)


def sweep(**grid):
    """Every combination of the grid's axes: ``aim-sim sweep [grid] --format csv`` as a
    ``pandas.DataFrame`` (a list of dicts without pandas)."""
    columns, notes, warnings = _core.sweep_columns(**grid)
    try:
        import numpy
        import pandas
    except ImportError:
        return _Rows(_records(columns), notes, warnings)
    data = {}
    for name, kind, buffer, categories in columns:
        if kind == "category":
            codes = numpy.frombuffer(buffer, dtype=numpy.int32)
            data[name] = pandas.Categorical.from_codes(codes, categories=categories)
        else:
            data[name] = numpy.frombuffer(buffer, dtype=numpy.dtype(kind))
    # The arrays own writable buffers no one else holds: the frame takes them as they are.
    frame = pandas.DataFrame(data, copy=False)
    # What the CLI prints on standard error (an anchor's refit, the input's warnings), kept with
    # the rows.
    if notes:
        frame.attrs["notes"] = notes
    if warnings:
        frame.attrs["warnings"] = warnings
    return frame


class _Rows(list):
    """A sweep's rows without pandas: a list of dicts whose ``notes`` and ``warnings`` are what
    the CLI prints on standard error (an anchor's refit, the input's warnings; the frame's
    ``attrs["notes"]`` and ``attrs["warnings"]``), empty when none."""

    def __init__(self, rows, notes, warnings):
        super().__init__(rows)
        self.notes = list(notes)
        self.warnings = list(warnings)


def _records(columns):
    """The columns as one dict per row (the fallback without pandas)."""
    names, values = [], []
    for name, kind, buffer, categories in columns:
        typecode = {"category": "i", "int64": "q", "float64": "d"}[kind]
        column = _array(typecode)
        column.frombytes(buffer)
        names.append(name)
        values.append([categories[c] for c in column] if categories is not None else column.tolist())
    return [dict(zip(names, row)) for row in zip(*values)]


def check(path, loo=False, loso=False, refit_also=None, framework=None):
    """The published-measurement check: ``aim-sim check FILE [--cv source,row] --format json``."""
    return _json.loads(_core.check_json(path, loo, loso, refit_also, framework))


def list_presets(kind=None):
    """The embedded presets with their descriptions, as ``aim-sim list`` prints them."""
    return _core.list_presets(kind)


def _document_from_stub():
    """Gives each function the docstring and signature its stub declares (one source)."""
    try:
        stub = _ast.parse(_Path(__file__).with_name("__init__.pyi").read_text(encoding="utf-8"))
    except OSError:
        return
    for node in stub.body:
        function = globals().get(getattr(node, "name", None))
        if not isinstance(node, _ast.FunctionDef) or not _inspect.isfunction(function):
            continue
        args, empty = node.args, _inspect.Parameter.empty

        def parameter(arg, default, kind):
            return _inspect.Parameter(
                arg.arg,
                kind,
                default=empty if default is None else _ast.literal_eval(default),
                annotation=_ast.unparse(arg.annotation) if arg.annotation else empty,
            )

        defaults = [None] * (len(args.args) - len(args.defaults)) + args.defaults
        parameters = [
            parameter(a, d, _inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for a, d in zip(args.args, defaults)
        ] + [
            parameter(a, d, _inspect.Parameter.KEYWORD_ONLY)
            for a, d in zip(args.kwonlyargs, args.kw_defaults)
        ]
        returns = _ast.unparse(node.returns) if node.returns else _inspect.Signature.empty
        function.__signature__ = _inspect.Signature(parameters, return_annotation=returns)
        function.__doc__ = _ast.get_docstring(node)


_document_from_stub()
