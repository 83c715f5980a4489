"""Lists the public API of the review's allowed modules; runs inside the sandbox image's Python.

``apigen`` feeds this file to the sandbox image's ``python3`` (never the operator's), because
the allow-list must describe the library versions the task's code will really run against. It only
uses the standard library and the modules it is asked about, and prints one JSON document:

- ``modules``: for each walked module, its public names and their kind (``module`` when the name is
  itself a walked module, ``class``, ``callable`` or ``value``);
- ``attributes``: every public attribute name of the walked classes, of builtin types and of the
  objects pandas and numpy hand back (group-bys, windows, accessors, generators): the names a method
  call on a value of unknown type may use;
- ``path_parameters`` and ``path_methods``: the module callables and the method names that take a
  file path (a parameter named like ``PATH_PARAMETERS``), with that parameter's name and position
  (-1: keyword only; methods without ``self``), so the review checks the paths of every such
  neighbour (``numpy.fromregex``, ``pandas.read_orc``...), not only of those someone listed;
- ``versions``: Python, numpy and pandas versions.

Usage: ``python3 introspect.py MODULE...``.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import inspect
import json
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

# Parameter names under which numpy, pandas and the stdlib take a file path (or an open file).
PATH_PARAMETERS = frozenset(
    {"file", "fname", "filename", "filepath", "path", "filepath_or_buffer", "path_or_buf", "path_or_buffer",
     "io", "buf", "excel_writer", "fid"}
)  # fmt: skip


def _path_parameter(value: object, *, method: bool) -> tuple[str, int] | bool | None:
    """The path parameter of a callable and its position among the positional parameters; False
    when its signature has none, None when it has no signature (C functions such as ndarray.tofile)."""
    try:
        parameters = list(inspect.signature(value).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][
        1 if method else 0 :
    ]
    for parameter in parameters:
        if parameter.name in PATH_PARAMETERS:
            return parameter.name, positional.index(parameter) if parameter in positional else -1
    return False


def _public(obj: object) -> list[str]:
    try:
        names = dir(obj)
    except Exception:  # some proxies raise on dir(); they add no names then
        return []
    return [n for n in names if not n.startswith("_")]


def _kind(value: object, walked: set[str]) -> str | None:
    if isinstance(value, types.ModuleType):
        # A submodule that is not walked (numpy.core, pandas.io...) is not part of the allow-list.
        return "module" if value.__name__ in walked else None
    if isinstance(value, type):
        return "class"
    return "callable" if callable(value) else "value"


def _sample_objects() -> Iterator[object]:
    """Objects the libraries return whose types are not public names: their methods are used too."""
    factories: list[Callable[[], Any]] = [
        lambda: (item for item in range(0)),
        lambda: {}.keys(),
        lambda: {}.values(),
        lambda: {}.items(),
        lambda: iter([]),
    ]
    try:
        np: Any = importlib.import_module("numpy")
        pd: Any = importlib.import_module("pandas")
    except ImportError:
        np = pd = None
    if pd is not None:
        frame = pd.DataFrame(
            {
                "a": [1, 2],
                "t": pd.to_datetime(["2020-01-01", "2020-01-02"]),
                "d": pd.to_timedelta([1, 2], unit="D"),
                "c": pd.Categorical(["x", "y"]),
            }
        )
        factories += [
            lambda: frame.groupby("a"),
            lambda: frame["a"].groupby(frame["a"]),
            lambda: frame.rolling(2),
            lambda: frame.expanding(),
            lambda: frame.ewm(com=1),
            lambda: frame.set_index("t").resample("D"),
            lambda: frame["a"].astype(str).str,
            lambda: frame["t"].dt,
            lambda: frame["d"].dt,
            lambda: frame["t"].dt.to_period("D").dt,
            lambda: frame["c"].cat,
            lambda: frame.loc,
            lambda: frame.iloc,
            lambda: frame.at,
            lambda: frame.iat,
            lambda: frame.plot,
            lambda: pd.options,
            lambda: pd.options.display,
            lambda: pd.options.mode,
        ]
    if np is not None:
        factories += [lambda: np.arange(3).flat, lambda: np.random.default_rng(0), lambda: np.finfo(float)]
    for factory in factories:
        with contextlib.suppress(Exception):  # a factory the installed version lacks adds no names
            yield factory()


def introspect(module_names: list[str]) -> dict[str, Any]:
    walked = set(module_names)
    modules: dict[str, dict[str, str]] = {}
    attributes: set[str] = set()
    path_parameters: dict[str, tuple[str, int]] = {}
    classes: list[type] = []
    for name in module_names:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # not installed in the image: nothing of it is allowed
        table: dict[str, str] = {}
        for member in _public(module):
            value = getattr(module, member, None)
            kind = _kind(value, walked)
            if kind is None:
                continue
            table[member] = kind
            if kind in ("class", "value"):
                attributes.update(_public(value))
            if kind in ("class", "callable"):
                found = _path_parameter(value, method=False)
                if isinstance(found, tuple):
                    path_parameters[f"{name}.{member}"] = found
            if kind == "class" and isinstance(value, type):
                classes.append(value)
        modules[name] = table
    classes += [value for value in vars(builtins).values() if isinstance(value, type)]
    for sample in _sample_objects():
        attributes.update(_public(sample))
        attributes.update(_public(type(sample)))
        classes.append(type(sample))
    # A method name counts as path-taking only when every class defining it takes a path there:
    # DataFrame.copy(deep) must not be checked as a path because the (denied) HDFStore.copy(file) is.
    path_methods: dict[str, tuple[str, int]] = {}
    plain_methods: set[str] = set()
    for cls in classes:
        attributes.update(_public(cls))
        for method in _public(cls):
            found = _path_parameter(getattr(cls, method, None), method=True)
            if found is False:
                plain_methods.add(method)
            elif isinstance(found, tuple):
                path_methods.setdefault(method, found)
    versions = {"python": sys.version.split()[0]}
    for library in ("numpy", "pandas"):
        try:
            versions[library] = str(importlib.import_module(library).__version__)
        except ImportError:
            versions[library] = "absent"
    return {
        "modules": modules,
        "attributes": sorted(attributes),
        "path_parameters": path_parameters,
        "path_methods": {m: found for m, found in path_methods.items() if m not in plain_methods},
        "versions": versions,
    }


if __name__ == "__main__":
    print(json.dumps(introspect(sys.argv[1:]), sort_keys=True))
