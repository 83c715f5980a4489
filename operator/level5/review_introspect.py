"""Lists the public API of the review's allowed modules; runs inside the sandbox image's Python.

``review_apigen`` feeds this file to the sandbox image's ``python3`` (never the operator's), because
the allow-list must describe the library versions the task's code will really run against. It only
uses the standard library and the modules it is asked about, and prints one JSON document:

- ``modules``: for each walked module, its public names and their kind (``module`` when the name is
  itself a walked module, ``class``, ``callable`` or ``value``);
- ``attributes``: every public attribute name of the walked classes, of builtin types and of the
  objects pandas and numpy hand back (group-bys, windows, accessors, generators): the names a method
  call on a value of unknown type may use;
- ``versions``: Python, numpy and pandas versions.

Usage: ``python3 review_introspect.py MODULE...``.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import json
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any


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
        modules[name] = table
    for value in vars(builtins).values():
        if isinstance(value, type):
            attributes.update(_public(value))
    for sample in _sample_objects():
        attributes.update(_public(sample))
        attributes.update(_public(type(sample)))
    versions = {"python": sys.version.split()[0]}
    for library in ("numpy", "pandas"):
        try:
            versions[library] = str(importlib.import_module(library).__version__)
        except ImportError:
            versions[library] = "absent"
    return {"modules": modules, "attributes": sorted(attributes), "versions": versions}


if __name__ == "__main__":
    print(json.dumps(introspect(sys.argv[1:]), sort_keys=True))
