"""Policy tables for the pre-execution review (layer 3): which modules, names and attributes are safe.

Data only, so the policy can be read and audited in one place; the logic lives in ``analyser``.
Design choice: deny by default. Anything not listed as safe stdlib or allowed by the task is
blocked, and the deny lists below win even over a task's ``allowed_libraries``. The per-name API
allow-list (generated from the sandbox image) and its reviewed deny list are data files in
``data/``, read by ``api``; the tables here are the module-level and hand-made rules.

``sys`` decision: ``import sys`` is allowed for the harmless attributes in ``GUARDED_ATTRIBUTES``
(argv, stdout/stderr/stdin, exit, version and size information). Everything else on ``sys``
(``modules``, ``path``, ``_getframe``, ``settrace``, ``setprofile``, ``addaudithook``,
``exc_info``...) is blocked, and passing the module object itself around is escalated because the
review can no longer see which attribute is used.
"""

from __future__ import annotations

import builtins
import math

from level5.api.verdicts import Verdict
from level5.core import layout

# Standard-library modules that cannot reach files, network, processes or interpreter internals
# (beyond the attributes guarded below).
SAFE_STDLIB = frozenset(
    {
        "__future__", "abc", "array", "base64", "binascii", "bisect", "calendar", "cmath",
        "collections", "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib",
        "enum", "fractions", "functools", "hashlib", "heapq", "hmac", "io", "itertools", "json",
        "logging", "math", "numbers", "operator", "pprint", "random", "re", "statistics", "string",
        "sys", "textwrap", "time", "typing", "typing_extensions", "unicodedata", "warnings",
        "zoneinfo",
    }
)  # fmt: skip

# The modules whose public API `make review-allowlist` lists from the sandbox image (safety.review.apigen):
# the safe stdlib, the builtins, and the public namespaces of the libraries the sandbox image ships.
# A submodule not listed here (numpy.core, numpy.lib, pandas.io, pandas.core...) is not reachable.
LIBRARY_MODULES = frozenset(
    {
        "numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.polynomial", "numpy.ma",
        "numpy.lib.stride_tricks", "numpy.typing", "pandas", "pandas.api", "pandas.api.types",
        "pandas.api.indexers", "pandas.tseries", "pandas.tseries.offsets", "pandas.errors", "pandas.arrays",
    }
)  # fmt: skip
ALLOWLIST_MODULES = SAFE_STDLIB | LIBRARY_MODULES | {"builtins", "collections.abc"}

# Never importable, even when a task lists them: processes, files outside the mounts, network,
# native code, deserialisation of code, interpreter internals. Matched on dotted prefixes, so
# reach-through submodules of allowed libraries are listed here too.
DENIED_MODULES = frozenset(
    {
        "os", "posix", "nt", "posixpath", "ntpath", "genericpath", "shutil", "pathlib", "subprocess",
        "_posixsubprocess", "pty", "tty", "termios", "fcntl", "signal", "resource", "mmap", "socket",
        "_socket", "ssl", "http", "urllib", "urllib3", "requests", "httpx", "aiohttp", "ftplib",
        "smtplib", "poplib", "imaplib", "telnetlib", "xmlrpc", "webbrowser", "socketserver", "ctypes",
        "_ctypes", "cffi", "pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle",
        "copyreg", "importlib", "imp", "builtins", "__builtin__", "code", "codeop", "runpy", "pdb",
        "bdb", "site", "sysconfig", "zipimport", "pkgutil", "types", "inspect", "gc",
        "multiprocessing", "tempfile", "faulthandler", "tracemalloc", "atexit", "_io", "selectors",
        "select", "ast", "dis", "traceback", "linecache", "tokenize", "platform", "zipfile",
        "tarfile", "glob", "fileinput", "sqlite3", "dbm", "winreg", "_winapi", "msvcrt", "uuid",
        "logging.config", "logging.handlers", "asyncio.subprocess", "numpy.ctypeslib",
        "numpy.distutils", "numpy.f2py", "numpy.testing", "numpy.lib.format", "pandas.io.pickle",
        "pandas.io.clipboard", "pandas.io.clipboards", "sklearn.externals", "joblib", "IPython",
        "sympy.parsing", "torch.hub", "scipy.weave",
    }
)  # fmt: skip

# Allowed only when a task explicitly lists them, and even then a human looks first:
# concurrency makes runtime behaviour harder to bound.
ESCALATE_MODULES = frozenset({"threading", "_thread", "concurrent", "asyncio"})

# Attribute names that reach another module's internals when seen anywhere in an attribute chain,
# e.g. ``pandas.io.common.os`` or ``numpy.lib.npyio.pickle``: allowed libraries import these
# modules for their own use and expose them as attributes.
DANGEROUS_COMPONENTS = frozenset(
    {
        "os", "posix", "nt", "subprocess", "sys", "builtins", "ctypes", "_ctypes", "ctypeslib",
        "pickle", "_pickle", "cPickle", "marshal", "shutil", "socket", "importlib", "pty",
        "multiprocessing", "signal", "gc", "runpy", "pdb", "shelve", "dill", "cloudpickle",
        "posixpath", "tempfile", "urllib", "requests", "_thread", "_posixsubprocess",
    }
)  # fmt: skip

# Dunder attributes that expose no interpreter internals; every other dunder is blocked.
SAFE_DUNDERS = frozenset(
    {
        "__name__", "__qualname__", "__doc__", "__module__", "__init__", "__post_init__", "__len__",
        "__str__", "__repr__", "__format__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
        "__ge__", "__hash__", "__bool__", "__iter__", "__next__", "__reversed__", "__enter__",
        "__exit__", "__getitem__", "__setitem__", "__delitem__", "__contains__", "__call__",
        "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
        "__rtruediv__", "__floordiv__", "__mod__", "__pow__", "__matmul__", "__neg__", "__pos__",
        "__abs__", "__invert__", "__and__", "__or__", "__xor__", "__float__", "__int__",
        "__index__", "__round__", "__version__", "__all__", "__slots__", "__match_args__",
        "__annotations__", "__file__", "__main__",
    }
)  # fmt: skip

# Module-level names (``ast.Name``) that are dunders but harmless.
SAFE_NAME_DUNDERS = frozenset(
    {"__name__", "__file__", "__doc__", "__debug__", "__annotations__", "__slots__", "__all__", "__version__",
     "__author__", "__match_args__"}
)  # fmt: skip

# `obj.__class__.__name__` is the common idiom for a type's name and exposes nothing else.
CLASS_NAME_ATTRIBUTES = frozenset({"__name__", "__qualname__", "__module__"})

# Non-dunder attributes of frames, tracebacks, generators, coroutines and code objects: each is a
# step of a frame walk towards another scope's globals or builtins.
INTROSPECTION_ATTRIBUTES = frozenset(
    {
        "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "f_trace", "tb_frame", "tb_next",
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame",
        "ag_code", "ag_await", "co_code", "co_consts", "co_names", "co_varnames", "_getframe",
        "func_globals", "func_code", "im_func", "im_class", "mro", "_current_frames", "settrace",
        "setprofile", "addaudithook",
    }
)  # fmt: skip

# The same walk steps when they appear inside string literals (format strings, attrgetter paths).
INTROSPECTION_IN_STRINGS = INTROSPECTION_ATTRIBUTES - {"mro", "tb_next", "settrace", "setprofile"}

# Method definitions that change how objects are pickled, looked up or created.
DANGEROUS_DEFINITIONS: dict[str, Verdict] = {
    "__reduce__": Verdict.BLOCK,
    "__reduce_ex__": Verdict.BLOCK,
    "__getattribute__": Verdict.BLOCK,
    "__setstate__": Verdict.ESCALATE,
    "__getattr__": Verdict.ESCALATE,
    "__del__": Verdict.ESCALATE,
    "__init_subclass__": Verdict.ESCALATE,
    "__class_getitem__": Verdict.ESCALATE,
    "__set_name__": Verdict.ESCALATE,
    "__prepare__": Verdict.ESCALATE,
    "__mro_entries__": Verdict.ESCALATE,
    "__instancecheck__": Verdict.ESCALATE,
    "__subclasscheck__": Verdict.ESCALATE,
}

# Modules whose attributes are allowed one by one.
GUARDED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "sys": frozenset(
        {
            "argv", "stdout", "stderr", "stdin", "exit", "maxsize", "float_info", "int_info",
            "hash_info", "version", "version_info", "byteorder", "getrecursionlimit", "getsizeof",
            "float_repr_style", "getdefaultencoding", "platform",
        }
    ),
    "io": frozenset(
        {"StringIO", "BytesIO", "TextIOWrapper", "SEEK_SET", "SEEK_CUR", "SEEK_END", "IOBase",
         "TextIOBase", "UnsupportedOperation"}
    ),
}  # fmt: skip

# Which qualified names are blocked or escalated wherever they are referenced lives in the deny list,
# data/api_denylist.txt (level5.safety.review.api).

# Attribute assignments under these prefixes are settings meant to be changed (display options).
REBINDABLE_PREFIXES = ("pandas.options.display",)

# re functions whose first argument is a pattern (backtracking can take exponential time).
REGEX_FUNCTIONS = frozenset(
    {"re.compile", "re.match", "re.search", "re.fullmatch", "re.findall", "re.finditer", "re.sub", "re.subn",
     "re.split"}
)  # fmt: skip

# Option setters: only option names under these prefixes (plotting.backend imports a module by name).
OPTION_SETTERS = frozenset({"pandas.set_option", "pandas.option_context"})
SAFE_OPTION_PREFIXES = ("display.", "mode.chained_assignment")

# Factories whose result is a function the review cannot see into (calling it is not resolved).
WRAPPERS = frozenset({"functools.partial", "functools.partialmethod"})

# Methods that look up another method by the name given as a string (df.apply("sum")).
DISPATCH_METHODS = frozenset({"apply", "agg", "aggregate", "transform", "pipe", "applymap", "map"})

# Open streams and the calls that make them: where a path is taken, these are not paths.
STREAMS = frozenset({"sys.stdout", "sys.stderr", "sys.stdin"})
STREAM_FACTORIES = frozenset({"builtins.open", "io.open", "io.StringIO", "io.BytesIO", "io.TextIOWrapper"})

# Builtins that are fine when called with literal arguments but turn into arbitrary attribute
# access when their name argument is computed or when the function itself is passed around.
REFLECTIVE_BUILTINS = frozenset({"getattr", "setattr", "delattr", "hasattr"})

# Helpers that take attribute or method names as strings.
ATTRIBUTE_PATH_HELPERS = frozenset({"operator.attrgetter", "operator.methodcaller"})

# Functions returning objects that are only safe when called with these keyword arguments.
UNPICKLING_LOADERS = frozenset({"numpy.load", "numpy.lib.npyio.load"})
SAFE_YAML_LOADERS = frozenset({"yaml.SafeLoader", "yaml.CSafeLoader", "yaml.BaseLoader", "yaml.CBaseLoader"})

# Allocation helpers whose first argument is a size (numpy accepts shape tuples).
ALLOCATORS = frozenset(
    {"builtins.bytearray", "builtins.bytes", "numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full",
     "numpy.arange"}
)  # fmt: skip

# Filesystem policy: the sandbox mounts task inputs at /data, code at /code and results at /output.
READ_ROOTS = layout.READ_ROOTS
WRITE_ROOTS = layout.WRITE_ROOTS
# Relative paths are resolved against the sandbox's working directory.
WORKDIR = layout.WORKDIR

# Which functions take a path, and where, is generated from their signatures (api_allowlist.json:
# path_parameters, path_methods). Of those, these write (the others read); logging.basicConfig and
# matplotlib's savefig take their path through **kwargs or from a library the image lacks.
WRITE_FUNCTIONS = frozenset(
    {"numpy.save", "numpy.savetxt", "numpy.savez", "numpy.savez_compressed", "matplotlib.pyplot.savefig",
     "logging.FileHandler", "logging.basicConfig", "pandas.ExcelWriter"}
)  # fmt: skip
# Path-taking methods of C types, which have no signature to generate from (ndarray.tofile).
C_PATH_METHODS: dict[str, tuple[str, int]] = {"tofile": ("fid", 0)}
# open() and its alias check their path by mode (read or write) instead.
MODE_OPENERS = frozenset({"builtins.open", "io.open"})
# Where a function without a generated path parameter (logging.basicConfig) may take its path.
PATH_KEYWORDS = (
    "file", "path", "fname", "filename", "filepath_or_buffer", "path_or_buf", "io", "buf", "excel_writer",
)  # fmt: skip

# Methods that evaluate expression strings on the receiver (pandas DataFrame.eval/query).
EXPRESSION_METHODS = frozenset({"eval", "query"})

# DataFrame methods that iterate rows whose attributes are the data's column names.
ROW_ITERATORS = frozenset({"itertuples", "iterrows"})

# Underscore names that are documented public API (namedtuple's), not private members.
PUBLIC_UNDERSCORE_NAMES = frozenset({"_asdict", "_replace", "_fields", "_field_defaults", "_make"})

# Constructors that are harmless by reference (isinstance) but read raw memory when called with these.
RAW_MEMORY_KEYWORDS: dict[str, frozenset[str]] = {"numpy.ndarray": frozenset({"buffer", "offset", "strides"})}

BUILTIN_NAMES = frozenset(dir(builtins))

# Size limits for literal resource bombs.
MAX_INT_BITS = 1 << 20
MAX_SEQUENCE_ITEMS = 10**8
MAX_RANGE = 10**9
MAX_LOOP_ITERATIONS = 10**10
MAX_LINE_LENGTH = 4000
MAX_DECIMAL_DIGITS = int(MAX_INT_BITS * math.log10(2))
"""A decimal context's precision past this many digits makes numbers bigger than MAX_INT_BITS allows."""
MAX_NESTING = 10_000
"""Brackets opened in a row past this depth (ten times the interpreter's default recursion limit): nothing
but a parser bomb nests that deep."""
OPENING_BRACKETS = frozenset("([{")

# Iterators that never end (itertools.repeat only without its `times` argument), and the lazy functions that
# pass an iterable's length on: a consumer of one of these runs forever, whatever it does with the items.
ENDLESS_ITERATORS = frozenset({"itertools.count", "itertools.cycle", "itertools.repeat"})
LAZY_WRAPPERS = frozenset(
    {"builtins.map", "builtins.filter", "builtins.enumerate", "builtins.reversed", "itertools.accumulate",
     "itertools.starmap", "itertools.dropwhile", "itertools.filterfalse", "itertools.pairwise"}
)  # fmt: skip
# Calls that run through every positional iterable argument (functools.reduce: its second) to the end.
# Materialising ones keep every item (a known count past MAX_SEQUENCE_ITEMS blocks, like an allocation);
# streaming ones only loop (past MAX_RANGE escalates, like a for loop); neither ever ends on an endless one.
MATERIALISERS = frozenset(
    {"builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset", "builtins.sorted",
     "builtins.dict", "builtins.bytes", "builtins.bytearray", "collections.deque", "collections.Counter",
     "collections.OrderedDict", "numpy.array", "numpy.asarray", "numpy.fromiter", "pandas.Series",
     "pandas.DataFrame", "itertools.product", "itertools.permutations", "itertools.combinations",
     "itertools.combinations_with_replacement"}
)  # fmt: skip
STREAMERS = frozenset(
    {"builtins.sum", "builtins.min", "builtins.max", "math.prod", "math.fsum", "functools.reduce",
     "statistics.mean", "statistics.fmean", "statistics.median", "statistics.mode", "statistics.stdev",
     "statistics.pstdev", "statistics.variance", "statistics.pvariance"}
)  # fmt: skip
ITERABLE_ARGUMENTS = {
    "functools.reduce": slice(1, 2),
    "numpy.fromiter": slice(0, 1),
    "collections.deque": slice(0, 1),
}
# Methods that consume their first argument to the end, whatever the receiver (str.join, list.extend...).
CONSUMING_METHODS = frozenset({"join", "extend", "update", "writelines", "fromkeys"})
# Arguments (keyword, position) that cap what a materialiser takes or keeps: numpy.fromiter's count takes at
# most that many items; a deque's maxlen keeps that many (it still runs through the iterable: a streamer).
TAKES_AT_MOST = {"numpy.fromiter": ("count", 2)}
KEEPS_AT_MOST = {"collections.deque": ("maxlen", 1)}
# math functions whose results grow past MAX_INT_BITS from small literal arguments (factorial(2_000_000)).
COMBINATORIAL = frozenset({"math.factorial", "math.comb", "math.perm"})

# The runner's result marker and the warm pool's DONE line contain these (sandbox.result.RESULT_MARKER,
# sandbox.pool.DONE_PREFIX; a unit test checks both). A program that spells them only imitates them.
PROTOCOL_STEMS = ("LEVEL5-RESULT", "LEVEL5-WARM-DONE")
# Modules Python imports by itself at start-up when they are on the path (site.py).
START_UP_HOOKS = frozenset({"sitecustomize", "usercustomize"})
