"""Layer 5's redaction modules, compiled by Cython from their Python source (everything else is in
pyproject.toml).

Redaction spent about half its time in the interpreter itself: 100,000 trigger hits per 4 MB of program
output, each a few Python calls around a regular-expression search or a validator. Cython compiles these
modules as they are written (plain Python, checked by mypy; no separate .pyx), which removes the
interpreter's dispatch from those calls: on the benchmark's mixed text 10 % fewer instructions and 12-16 %
less CPU time. The rest is in re, Hyperscan, libphonenumber and CPython's objects, which compiling the
callers does not change (the directives infer_types, binding=False and optimize.inline_defnode_calls
measured no faster). The seven modules added on 2026-12-02 (round 12's and the postal model) gained
about 4 % more on the mixed text, 1 % on the unrepeated one. The compiled module is the only one that
runs: the wheel (the operator image) carries the extension modules and not the sources they came from,
and an editable install (`make venv`) builds them in place beside their sources (`make compiled`
rebuilds what changed; ``level5.safety`` refuses to import a compiled module older than its source).
"""

from __future__ import annotations

import os

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_py import build_py

COMPILED = [
    f"level5.safety.{name}"
    for name in (
        "credentials",
        "divisions",
        "fields",
        "identifiers",
        "identity",
        "interchange",
        "letters",
        "lines",
        "mailboxes",
        "numerals",
        "placeholders",
        "postal",
        "positional",
        "prefilter",
        "redaction",
        "scripts",
        "servers",
    )
]


class BuildPy(build_py):
    """Leaves the compiled modules' sources out of the wheel: their extension modules replace them."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        modules = super().find_package_modules(package, package_dir)
        return [(pkg, module, path) for pkg, module, path in modules if f"{pkg}.{module}" not in COMPILED]


setup(
    ext_modules=cythonize(
        [
            # Without debug information (13 MB of the 15, and a fifth of the compile time): function names
            # stay, for profilers.
            Extension(name, [f"operator/{name.replace('.', '/')}.py"], extra_compile_args=["-g0"])
            for name in COMPILED
        ],
        build_dir="build/cython",  # the generated C, out of the source tree
        compiler_directives={"language_level": 3},
        nthreads=os.cpu_count() or 1,
    ),
    cmdclass={"build_py": BuildPy},
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)
