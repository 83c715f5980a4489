"""AST analysis for the pre-execution review (layer 3): finds sandbox-escape constructs in parsed code.

How it works, and why:
- Every reference to a name or attribute is resolved to qualified names ("numpy.load",
  "builtins.eval") through imports, assignments, loops over literal containers and the arguments of
  every call site of the script's functions (data flow, not variable names). Referencing a dangerous
  object is flagged even when it is not called, because a reference is all an alias, decorator,
  lambda default or container trick needs.
- Deny by default (safety.review.api): a qualified name inside an allowed module must be on that module's
  generated allow-list and off the deny list; an attribute of a value of unknown type must be a
  public attribute of the allowed libraries or one the script defines. Private names are denied as
  attributes, names, and in every string that becomes an attribute name.
- What cannot be resolved escalates: calls of values from containers, of returned functions and
  partials, of unbound parameters; modules passed as values; computed getattr names.
- Calls with conditional safety (open, getattr, numpy.load, yaml.load, every function or method
  that takes a path, DataFrame.eval/query, dispatch by method name) get argument checks; strings
  are folded from constants, f-strings and assignments before the path check.
- Literal resource bombs (huge powers, repetitions, ranges, factorials, decimal precisions, bracket
  nesting) are found by bounded constant folding that never computes a value bigger than the limits.
  Iterators are counted the same way (`iteration_count`: ranges, literals, itertools' combinatorics,
  endless `count`/`cycle`/`repeat` through lazy wrappers); a call that runs one to its end (list, sorted,
  sum, deque, str.join, `*`-unpacking, comprehensions) is blocked when it never ends or keeps more than the
  limits. Loops without an exit, recursion and backtracking regular expressions, which code the review
  cannot see may still end, get an informational finding (left to the runtime limits).
- The traversal is hand-tuned (one typed pass to collect, cached visitor dispatch, caches per node
  and across reviews) because the review must take under 10 ms for 200 lines.
"""

from __future__ import annotations

import ast
import importlib.machinery
import itertools
import math
import posixpath
import re
import string
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from level5.api.verdicts import Finding, Verdict
from level5.safety.review import policy
from level5.safety.review.api import api_lists
from level5.safety.review.instances import FollowedAttributes, followed_attributes

_DUNDER_IN_TEXT = re.compile(r"__[A-Za-z0-9]\w*?__")
_WORD = re.compile(r"[A-Za-z_]\w*")
_FORMAT_ATTRIBUTE = re.compile(r"\.([^.\[]+)")
# A URL scheme (http:, s3:, file:, gs:...) where a path is expected reaches the network or other files.
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A group repeated by a quantifier that itself contains a quantifier: `(a+)+`, `(\w*)*` (ReDoS).
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")
_RUNTIME_LIMITS = "left to the sandbox's runtime limits (timeoutSeconds, CPU and memory)"
_MAX_STRING_VARIANTS = 16
_MAX_FOLD_DEPTH = 24
_FIXPOINT_ROUNDS = 8

_NamedBinder = (
    ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler | ast.MatchAs | ast.MatchStar
)
_Function = ast.FunctionDef | ast.AsyncFunctionDef
_Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.comprehension
_Comprehension = ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp


@lru_cache(maxsize=8192)
def _identifier_words(text: str) -> tuple[str, ...]:
    """Words of a string that could be attribute names (column names, namedtuple fields)."""
    if len(text) > 200:
        return ()
    return tuple(word for word in text.replace(",", " ").split() if word.isidentifier())


def nfkc(text: str) -> str:
    """Python normalises identifiers with NFKC, so names are compared in that form."""
    return unicodedata.normalize("NFKC", text)


def attribute_danger(name: str) -> str | None:
    """Why accessing attribute `name` is dangerous, or None."""
    normal = nfkc(name)
    if len(normal) > 4 and normal.startswith("__") and normal.endswith("__"):
        if normal in policy.SAFE_DUNDERS:
            return None
        return f"dunder attribute '{normal}' reaches interpreter internals"
    if normal in policy.INTROSPECTION_ATTRIBUTES:
        return f"'{normal}' walks frames, code objects or the class hierarchy"
    if normal in policy.DANGEROUS_COMPONENTS:
        return f"attribute '{normal}' reaches the {normal} module through another object"
    return None


def is_private(name: str) -> bool:
    """`_name` and `__name`: private by convention; dunders are judged by attribute_danger."""
    return (
        name.startswith("_")
        and not (len(name) > 4 and name.endswith("__"))
        and name not in policy.PUBLIC_UNDERSCORE_NAMES
    )


@lru_cache(maxsize=8192)
def name_string_problem(name: str) -> tuple[Verdict, str] | None:
    """Why `name`, used as an attribute name (an attribute, or a string that getattr, attrgetter,
    methodcaller, a format field, a match pattern or a dispatch by name turns into one), is not
    allowed, or None."""
    normal = nfkc(name)
    reason = attribute_danger(normal)
    if reason:
        return Verdict.BLOCK, reason
    if is_private(normal):
        return Verdict.BLOCK, f"'{normal}' is private"
    denial = api_lists().denied_attributes.get(normal)
    if denial:
        return denial.verdict, f"'.{normal}': {denial.reason}"
    return None


@lru_cache(maxsize=8192)
def string_danger(text: str) -> str | None:
    """Why string literal `text` looks like part of an attribute walk, or None."""
    normal = nfkc(text)
    for match in _DUNDER_IN_TEXT.finditer(normal):
        if match.group() not in policy.SAFE_DUNDERS:
            return f"string contains the dunder name '{match.group()}'"
    for word in _WORD.findall(normal):
        if word in policy.INTROSPECTION_IN_STRINGS:
            return f"string contains the introspection name '{word}'"
    if "{" in normal:
        return _format_field_danger(normal)
    return None


def _format_field_danger(template: str) -> str | None:
    """str.format fields such as '{0.attr.attr}' walk attributes of the arguments."""
    try:
        fields = [(name, spec) for _, name, spec, _ in string.Formatter().parse(template) if name is not None]
    except ValueError:
        return None
    for name, spec in fields:
        for attribute in _FORMAT_ATTRIBUTE.findall(name.split("[", 1)[0] + "".join(name.split("]")[1:])):
            problem = name_string_problem(attribute)
            if problem:
                return f"format field '{{{name}}}' walks attributes: {problem[1]}"
        if spec and "{" in spec:
            nested = _format_field_danger(spec)
            if nested:
                return nested
    return None


def module_problem(module: str, allowed: frozenset[str]) -> tuple[Verdict, str] | None:
    """Why `module` may not be imported, or None."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        if prefix in policy.DENIED_MODULES:
            return Verdict.BLOCK, f"module '{module}' is denied (it reaches '{prefix}')"
    for part in parts[1:]:
        if part in policy.DANGEROUS_COMPONENTS or attribute_danger(part):
            return Verdict.BLOCK, f"'{module}' reaches '{part}' through another module"
    if parts[0] in policy.SAFE_STDLIB or parts[0] in allowed:
        return None
    if parts[0] in policy.ESCALATE_MODULES:
        return Verdict.ESCALATE, f"module '{module}' (concurrency) needs human approval"
    return Verdict.BLOCK, f"module '{module}' is not in the allowed libraries"


@dataclass(frozen=True)
class _Length:
    """Abstract sequence: only its length matters for bomb detection."""

    items: int


class _Huge(Exception):
    """A constant expression exceeds the resource limits."""


# Fields holding only Load/Store contexts or operator singletons: nothing to review below them.
_LEAF_FIELDS = frozenset({"ctx", "op"})


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` (like ast.walk, in another order, at half its cost: no generators, and
    contexts and operators are skipped)."""
    nodes: list[ast.AST] = []
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, ast.AST):
            continue  # names in Global/Nonlocal and MatchClass.kwd_attrs are plain strings
        nodes.append(node)
        for field in node._fields:
            if field in _LEAF_FIELDS:
                continue
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(value)
            elif isinstance(value, ast.AST):
                stack.append(value)
    return nodes


def _local_names(scope: _Scope) -> set[str]:
    """Names bound in a function or lambda (parameters and assignments, not nested scopes)."""
    names: set[str] = set()
    if isinstance(scope, ast.comprehension):
        return {n.id for n in ast.walk(scope.target) if isinstance(n, ast.Name)}
    args = scope.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            names.add(arg.arg)
    declared_global: set[str] = set()
    body: list[ast.AST] = [scope.body] if isinstance(scope, ast.Lambda) else list(scope.body)
    stack = body
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        elif isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            continue
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif (isinstance(node, ast.ExceptHandler) and node.name) or (
            isinstance(node, ast.MatchAs | ast.MatchStar) and node.name
        ):
            names.add(node.name)
        elif isinstance(node, ast.Global):
            declared_global.update(node.names)
        stack.extend(ast.iter_child_nodes(node))
    return names - declared_global


def _parameter_names(arguments: ast.arguments) -> list[str]:
    return [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]


def _call_site_values(
    arguments: ast.arguments, skip: int, calls: list[ast.Call]
) -> Iterator[tuple[str, list[ast.expr]]]:
    """Each parameter (after the first `skip`) with the argument every call passes it, or its default."""
    all_positional = [*arguments.posonlyargs, *arguments.args]
    defaults: dict[str, ast.expr] = dict(
        zip(
            [a.arg for a in all_positional[len(all_positional) - len(arguments.defaults) :]],
            arguments.defaults,
            strict=True,
        )
    )
    defaults.update(
        (a.arg, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d is not None
    )
    positional = all_positional[skip:]
    for index, parameter in enumerate(a.arg for a in [*positional, *arguments.kwonlyargs]):
        exprs = []
        for call in calls:
            given = [k.value for k in call.keywords if k.arg == parameter]
            if index < len(positional) and index < len(call.args):
                given.append(call.args[index])
            if given:
                exprs += given
            elif parameter in defaults:
                exprs.append(defaults[parameter])
        yield parameter, exprs


def _class_members(node: ast.ClassDef) -> Iterator[str]:
    """Names a class body defines: its methods, class attributes and annotated fields."""
    for statement in node.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield statement.name
        elif isinstance(statement, ast.Assign):
            yield from (t.id for t in statement.targets if isinstance(t, ast.Name))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            yield statement.target.id


_VISITORS: dict[type[ast.AST], Callable[[Analyzer, Any], None]] = {}


class Analyzer(ast.NodeVisitor):
    """Walks one module and collects findings; use :func:`analyze`."""

    def __init__(self, tree: ast.Module, allowed: frozenset[str]) -> None:
        self.tree = tree
        self.allowed = allowed
        self.findings: list[Finding] = []
        self.aliases: dict[str, set[str]] = {}
        self.values: dict[str, list[ast.expr]] = {}
        self.opaque: set[str] = set()
        self.deleted: set[str] = set()
        self.module_definite: dict[str, int] = {}
        # Enclosing function, lambda and comprehension scopes; their local names are worked out only
        # when a builtin's name is also bound somewhere in the script (see _user_bound).
        self.scopes: list[_Scope | _Comprehension] = []
        self.scope_names: dict[int, set[str]] = {}
        self.bound_names: set[str] = set()
        self.call_funcs: set[int] = set()
        self.attribute_bases: set[int] = set()
        self.docstrings: set[int] = set()
        self.class_name_reads: set[int] = set()
        self.api = api_lists()
        # Attribute names the script itself creates (class members, assigned attributes, keyword
        # arguments, column names in strings): allowed on values of unknown type.
        self.user_attributes: set[str] = set()
        # The functions and classes the script defines, by name: calling them is resolved.
        self.definitions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]] = {}
        # Functions defined directly in a class body (their call sites are attribute calls, not seen), and
        # whether the script reaches any `__init__` as an attribute (`obj.__init__(x)` calls it again).
        self.methods: set[int] = set()
        self.reaches_init = False
        self.imported: set[str] = set()
        # Loop variables over DataFrame rows: their attributes are the data's column names.
        self.row_names: set[str] = set()
        self.own_classes: list[bool] = []
        self.collected = False
        self.resolved: dict[tuple[int, int | None], frozenset[str]] = {}
        self.functions: list[str] = []
        self.parsed_annotations: list[ast.Expression] = []
        # Per-name results of the walks through `values`, which would otherwise repeat (and, through
        # a name bound in terms of itself, recurse) once per use.
        self.name_variants: dict[str, list[tuple[str, bool]] | None] = {}
        self.callee_reasons: dict[str, str | None] = {}
        # Worked out on the first attribute a path check meets (most scripts never need it).
        self.followed: FollowedAttributes | None = None
        self.attribute_variants: dict[str, list[tuple[str, bool]] | None] = {}
        self._collect()
        self.collected = True

    # ----------------------------------------------------------------- traversal
    def visit(self, node: ast.AST) -> None:
        """NodeVisitor.visit with the method lookup cached per node type (the review's hot path)."""
        kind = type(node)
        method = _VISITORS.get(kind)
        if method is None:
            method = _VISITORS[kind] = getattr(Analyzer, f"visit_{kind.__name__}", Analyzer.generic_visit)
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for field in node._fields:
            if field in _LEAF_FIELDS:
                continue
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    # ----------------------------------------------------------------- collection (data flow)
    def _collect(self) -> None:
        bindings: list[tuple[ast.expr, ast.expr, bool]] = []
        tracked: set[int] = set()
        stored: list[ast.Name] = []
        calls: list[ast.Call] = []
        loaded: list[ast.Name] = []
        parameters: set[str] = set()
        # One pass over every node, dispatched on the exact node type: this loop is the review's
        # hottest code, and identity tests are much cheaper than isinstance chains.
        for node in _walk(self.tree):
            if type(node) is ast.Name:
                if type(node.ctx) is ast.Load:
                    loaded.append(node)
                elif type(node.ctx) is ast.Store:
                    stored.append(node)
                else:
                    self.deleted.add(node.id)
            elif type(node) is ast.Attribute:
                self.attribute_bases.add(id(node.value))
                if node.attr in policy.CLASS_NAME_ATTRIBUTES and type(node.value) is ast.Attribute:
                    self.class_name_reads.add(id(node.value))
                if node.attr == "__init__":
                    self.reaches_init = True
                if type(node.ctx) is ast.Store:
                    self.user_attributes.add(node.attr)
            elif type(node) is ast.Call:
                self.call_funcs.add(id(node.func))
                calls.append(node)
            elif type(node) is ast.Constant:
                if type(node.value) is str:
                    self.user_attributes.update(_identifier_words(node.value))
            elif type(node) is ast.keyword:
                if node.arg:
                    self.user_attributes.add(node.arg)
            elif type(node) is ast.Assign:
                bindings += [(t, node.value, False) for t in node.targets]
            elif type(node) is ast.AnnAssign or type(node) is ast.NamedExpr:
                if node.value is not None:
                    bindings.append((node.target, node.value, False))
            elif type(node) is ast.For or type(node) is ast.AsyncFor or type(node) is ast.comprehension:
                bindings.append((node.target, node.iter, True))
                iterated = node.iter.func if isinstance(node.iter, ast.Call) else None
                if isinstance(iterated, ast.Attribute) and iterated.attr in policy.ROW_ITERATORS:
                    # `for row in df.itertuples()`, `for index, row in df.iterrows()`: the row, last.
                    row = node.target.elts[-1] if isinstance(node.target, ast.Tuple) else node.target
                    self.row_names.update(n.id for n in [row] if isinstance(n, ast.Name))
            elif type(node) is ast.withitem:
                if node.optional_vars is not None:
                    bindings.append((node.optional_vars, node.context_expr, False))
            elif type(node) is ast.Import or type(node) is ast.ImportFrom:
                self._bind_import(node)
            elif type(node) is ast.arg:
                parameters.add(node.arg)
            elif (
                type(node) is ast.FunctionDef
                or type(node) is ast.AsyncFunctionDef
                or type(node) is ast.ClassDef
            ):
                self.opaque.add(node.name)
                self.definitions.setdefault(node.name, []).append(node)
                self._note_docstring(node)
                if type(node) is ast.ClassDef:
                    self.user_attributes.update(_class_members(node))
                    self.methods.update(id(s) for s in node.body if isinstance(s, _Function))
            elif type(node) is ast.Module:
                self._note_docstring(node)
            elif isinstance(node, _NamedBinder) and node.name:
                self.opaque.add(node.name)
        # Loops read the values of the containers they iterate, so plain bindings go first, and
        # loops in source order (an outer loop before the loop over its items).
        bindings.sort(key=lambda b: (b[2], b[0].lineno, b[0].col_offset))
        for target, value, is_iter in bindings:
            for bound, expr in self._destructure(target, value, is_iter):
                tracked.add(id(bound))
                self.values.setdefault(bound.id, []).append(expr)
        self.opaque.update(n.id for n in stored if id(n) not in tracked)
        # `@timer` above `def f` is the call `timer(f)`: a decorator of the script's own is resolved
        # like any other call site instead of leaving its parameters unknown.
        decorators = [
            (decorator, definition)
            for nodes in self.definitions.values()
            for definition in nodes
            for decorator in definition.decorator_list
            if isinstance(decorator, ast.Name) and decorator.id in self.definitions
        ]
        calls += [
            ast.Call(func=d, args=[ast.Name(id=f.name, ctx=ast.Load())], keywords=[]) for d, f in decorators
        ]
        decorating = {id(d) for d, _ in decorators}
        escaping = {n.id for n in loaded if id(n) not in self.call_funcs and id(n) not in decorating}
        bound_parameters = self._bind_parameters(calls, escaping)
        self.opaque.update(parameters - bound_parameters.keys())
        self.bound_names = parameters | {n.id for n in stored} | self.opaque | self.values.keys()
        for name, exprs in bound_parameters.items():
            self.values.setdefault(name, []).extend(exprs)
        for _ in range(_FIXPOINT_ROUNDS):
            changed = False
            for name, exprs in self.values.items():
                resolved = set().union(*(self.resolve(e, None) for e in exprs))
                if not resolved <= self.aliases.get(name, set()):
                    self.aliases.setdefault(name, set()).update(resolved)
                    changed = True
            if not changed:
                break
        # A module-level binding made by a top-level statement is in effect for every later line,
        # so a later use of that name is not the builtin of the same name.
        for statement in self.tree.body:
            if isinstance(statement, ast.Assign) and not self.resolve(statement.value, None):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        self.module_definite.setdefault(target.id, statement.lineno)
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.module_definite.setdefault(statement.name, statement.lineno)

    def _note_docstring(
        self, node: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ) -> None:
        first = node.body[0] if node.body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            self.docstrings.add(id(first.value))

    def _bind_import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if isinstance(node, ast.Import):
                local = alias.asname or alias.name.split(".")[0]
                target = alias.name if alias.asname else alias.name.split(".")[0]
                self.imported.add(target)
            else:
                local = alias.asname or alias.name
                target = f"{node.module or ''}.{alias.name}"
            self.aliases.setdefault(local, set()).add(target)
            self.opaque.add(local)

    def _constructor(
        self, nodes: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]
    ) -> _Function | None:
        """The `__init__` that `C(...)` alone calls, when its parameters can be bound like a function's: the
        class is defined once, without bases, keywords or decorators, and no `__init__` is reached as an
        attribute (`obj.__init__(x)`, `super().__init__(x)`)."""
        cls = nodes[0]
        if len(nodes) != 1 or not isinstance(cls, ast.ClassDef) or self.reaches_init:
            return None
        if cls.bases or cls.keywords or cls.decorator_list:
            return None
        inits = [s for s in cls.body if isinstance(s, _Function) and s.name == "__init__"]
        return inits[0] if len(inits) == 1 else None

    def _bind_parameters(self, calls: list[ast.Call], escaping: set[str]) -> dict[str, list[ast.expr]]:
        """Parameters of module functions bound to the arguments of every call site, and those of a class's
        `__init__` (after the instance) to the arguments of every `C(...)` (see _constructor).

        A parameter stays opaque (unknown) when its function is defined twice, is used other than by
        calling it by name or as a decorator (passed, returned), is itself decorated, is called with
        *args or **kwargs, or is any other method (called through attributes, whose call sites are not
        followed)."""
        sites: dict[str, list[ast.Call]] = {}
        for call in calls:
            if isinstance(call.func, ast.Name):
                sites.setdefault(call.func.id, []).append(call)
        bound: dict[str, list[ast.expr]] = {}
        unbound: set[str] = set()
        constructors = {name: self._constructor(nodes) for name, nodes in self.definitions.items()}
        bound_inits = {id(init) for init in constructors.values() if init is not None}
        for name, nodes in self.definitions.items():
            # By its own name: a function, or a class whose __init__ is bound through the class's name.
            init = constructors[name]
            function = init or nodes[0]
            if isinstance(function, ast.ClassDef):
                continue
            skip = 0 if init is None else 1  # the instance is not an argument of `C(...)`
            arguments = function.args
            usable = (
                len(nodes) == 1
                and (init is not None or id(function) not in self.methods)
                and name not in escaping
                and not function.decorator_list
                and arguments.vararg is None
                and arguments.kwarg is None
                and len(arguments.defaults) <= len(arguments.posonlyargs) + len(arguments.args) - skip
                and all(
                    not any(isinstance(a, ast.Starred) for a in c.args) and all(k.arg for k in c.keywords)
                    for c in sites.get(name, [])
                )
            )
            if usable:
                for parameter, exprs in _call_site_values(arguments, skip, sites.get(name, [])):
                    bound.setdefault(parameter, []).extend(exprs)
                continue
            # Unknown, unless bound through its class (an `__init__` is also listed under its own name).
            unknown = [function] if init else [n for n in nodes if id(n) not in bound_inits]
            unbound.update(
                p for f in unknown if not isinstance(f, ast.ClassDef) for p in _parameter_names(f.args)
            )
        return {name: exprs for name, exprs in bound.items() if name not in unbound and exprs}

    def _destructure(
        self, target: ast.expr, value: ast.expr, is_iter: bool
    ) -> Iterator[tuple[ast.Name, ast.expr]]:
        if is_iter:
            for element in self._elements(value):
                yield from self._destructure(target, element, False)
            return
        if isinstance(target, ast.Name):
            yield target, value
        elif (
            isinstance(target, ast.Tuple | ast.List)
            and isinstance(value, ast.Tuple | ast.List)
            and len(target.elts) == len(value.elts)
            and not any(isinstance(e, ast.Starred) for e in [*target.elts, *value.elts])
        ):
            for sub_target, sub_value in zip(target.elts, value.elts, strict=True):
                yield from self._destructure(sub_target, sub_value, False)

    def _elements(self, container: ast.expr, seen: frozenset[str] = frozenset()) -> list[ast.expr]:
        """Elements of a literal container, also through names bound only to literal containers."""
        if isinstance(container, ast.List | ast.Tuple | ast.Set):
            return list(container.elts)
        if isinstance(container, ast.Name) and container.id not in seen and container.id not in self.opaque:
            inner = seen | {container.id}
            return [e for v in self.values.get(container.id, []) for e in self._elements(v, inner)]
        return []

    # ----------------------------------------------------------------- resolution
    def resolve(self, node: ast.expr, use_line: int | None = 0) -> frozenset[str]:
        """Qualified names `node` may refer to. `use_line` None means: during alias collection."""
        if not self.collected:
            return self._resolve(node, use_line)
        # After collection the answer for a node no longer changes, and nodes are asked about often.
        key = (id(node), use_line)
        found = self.resolved.get(key)
        if found is None:
            found = self.resolved[key] = self._resolve(node, use_line)
        return found

    def _resolve(self, node: ast.expr, use_line: int | None) -> frozenset[str]:
        if isinstance(node, ast.Name):
            aliases = frozenset(self.aliases.get(node.id, ()))
            if node.id in policy.BUILTIN_NAMES and not self._user_bound(node.id, use_line):
                return aliases | {f"builtins.{node.id}"}
            return aliases
        if isinstance(node, ast.Attribute):
            return frozenset(f"{q}.{node.attr}" for q in self.resolve(node.value, use_line))
        if (
            isinstance(node, ast.Call)
            and len(node.args) >= 2
            and "builtins.getattr" in self.resolve(node.func, use_line)
        ):
            name = self.fold_string(node.args[1])
            if name is not None:
                return frozenset(f"{q}.{name}" for q in self.resolve(node.args[0], use_line))
        if isinstance(node, ast.NamedExpr):
            return self.resolve(node.value, use_line)
        if isinstance(node, ast.BoolOp):
            return frozenset().union(*(self.resolve(v, use_line) for v in node.values))
        if isinstance(node, ast.IfExp):
            return self.resolve(node.body, use_line) | self.resolve(node.orelse, use_line)
        return frozenset()

    def _user_bound(self, name: str, use_line: int | None) -> bool:
        """True when `name` at this point is certainly a user binding, never the builtin."""
        if use_line is None or name in self.deleted:
            return False
        if name not in self.bound_names:
            return False  # the script never binds this name, so it is always the builtin
        if any(name in self._scope_names(scope) for scope in self.scopes):
            return True
        first = self.module_definite.get(name)
        return first is not None and first < use_line

    def _scope_names(self, scope: _Scope | _Comprehension) -> set[str]:
        names = self.scope_names.get(id(scope))
        if names is None:
            if isinstance(scope, _Comprehension):
                names = set().union(*(_local_names(g) for g in scope.generators))
            else:
                names = _local_names(scope)
            self.scope_names[id(scope)] = names
        return names

    # ----------------------------------------------------------------- constant folding
    def fold_string(self, node: ast.expr) -> str | None:
        """The single complete string `node` evaluates to, if it can be known statically."""
        variants = self.string_variants(node)
        if variants is None or len({v for v, _ in variants}) != 1 or not variants[0][1]:
            return None
        return variants[0][0]

    def string_variants(self, node: ast.expr, depth: int = 0) -> list[tuple[str, bool]] | None:
        """Possible string values as (text, complete); incomplete texts are known prefixes."""
        if depth > _MAX_FOLD_DEPTH:
            return None
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str | int)
            and not isinstance(node.value, bool)
        ):
            return [(str(node.value), True)]
        if isinstance(node, ast.Name):
            if node.id in self.opaque or node.id not in self.values:
                return None
            if node.id in self.name_variants:
                # Known, or being worked out further up: a name bound in terms of itself (a recursive
                # function's parameter) is unknown, and names are worked out once, not per use.
                return self.name_variants[node.id]
            self.name_variants[node.id] = None
            out: list[tuple[str, bool]] | None = []
            for value in self.values[node.id]:
                if isinstance(value, ast.Name) and value.id == node.id:
                    # `process(filename)` inside a function with its own local `filename`: the parameter is
                    # bound to the name itself. A plain copy of a name adds no value it does not already
                    # have, so it is skipped (any other value built from the name still makes it unknown).
                    continue
                sub = self.string_variants(value, depth + 1)
                if sub is None or out is None:
                    out = None
                    break
                out += sub
            if out is not None and len(out) > _MAX_STRING_VARIANTS:
                out = None
            self.name_variants[node.id] = out
            return out
        if isinstance(node, ast.Attribute):
            return self._attribute_variants(node, depth)
        parts: list[ast.expr] = []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            parts = [node.left, node.right]
        elif isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.FormattedValue) else v for v in node.values]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
            and len(node.args) == 1
            and isinstance(node.args[0], ast.List | ast.Tuple)
        ):
            separator = node.func.value.value
            parts = [
                p
                for i, e in enumerate(node.args[0].elts)
                for p in ([e] if i == 0 else [ast.Constant(separator), e])
            ]
        else:
            return None
        return self._concatenate(parts, depth)

    def _attribute_variants(self, node: ast.Attribute, depth: int) -> list[tuple[str, bool]] | None:
        """`self.attr` that safety.review.instances allows to follow: the values of every `X.attr = value`
        in the script; unknown when any of them is."""
        if self.followed is None:
            self.followed = followed_attributes(self.tree)
        if id(node) not in self.followed.reads:
            return None
        if node.attr in self.attribute_variants:
            # Worked out once per attribute name; one assigned in terms of itself is unknown.
            return self.attribute_variants[node.attr]
        self.attribute_variants[node.attr] = None
        out: list[tuple[str, bool]] | None = []
        for value in self.followed.assignments.get(node.attr, []):
            sub = None if value is None else self.string_variants(value, depth + 1)
            if sub is None or out is None:
                out = None
                break
            out += sub
        if not out or len(out) > _MAX_STRING_VARIANTS:
            out = None
        self.attribute_variants[node.attr] = out
        return out

    def _concatenate(self, parts: list[ast.expr], depth: int) -> list[tuple[str, bool]]:
        variants: list[tuple[str, bool]] = [("", True)]
        for part in parts:
            sub = self.string_variants(part, depth + 1) or [("", False)]
            combined = [
                (a + b, done and ok) if done else (a, False)
                for (a, done), (b, ok) in itertools.product(variants, sub)
            ]
            variants = list(dict.fromkeys(combined))
            if len(variants) > _MAX_STRING_VARIANTS:
                return [(min((v for v, _ in variants), key=len)[:0], False)]
        return variants

    def size(self, node: ast.expr, depth: int = 0) -> int | _Length | None:
        """Bounded constant folding of integers and sequence lengths; raises _Huge past the limits."""
        if depth > _MAX_FOLD_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return None
            if isinstance(node.value, int):
                return node.value
            if isinstance(node.value, str | bytes):
                return _Length(len(node.value))
            return None
        if isinstance(node, ast.List | ast.Tuple) and not any(isinstance(e, ast.Starred) for e in node.elts):
            return _Length(len(node.elts))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.size(node.operand, depth + 1)
            return -inner if isinstance(inner, int) and isinstance(node.op, ast.USub) else inner
        if (
            isinstance(node, ast.Name)
            and node.id not in self.opaque
            and len(self.values.get(node.id, [])) == 1
        ):
            return self.size(self.values[node.id][0], depth + 1)
        if isinstance(node, ast.Call) and len(node.args) == 2 and "builtins.pow" in self.resolve(node.func):
            return _binary(ast.Pow(), self.size(node.args[0], depth + 1), self.size(node.args[1], depth + 1))
        if isinstance(node, ast.Call) and node.args and not node.keywords:
            function = self.resolve(node.func) & policy.COMBINATORIAL
            if function:
                return _combinatorial(min(function), [self.size(a, depth + 1) for a in node.args])
        if isinstance(node, ast.BinOp):
            return _binary(node.op, self.size(node.left, depth + 1), self.size(node.right, depth + 1))
        return None

    # ----------------------------------------------------------------- reporting
    def report(self, node: ast.AST | int, rule: str, verdict: Verdict, message: str) -> None:
        line = node if isinstance(node, int) else getattr(node, "lineno", 1)
        self.findings.append(Finding(rule=rule, line=line, message=message, verdict=verdict))

    # ----------------------------------------------------------------- scopes
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        danger = policy.DANGEROUS_DEFINITIONS.get(node.name)
        if danger:
            self.report(node, "L5-DEF-001", danger, f"defining {node.name} changes object protocol behaviour")
        for outer in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if outer is not None:
                self.visit(outer)
        if node.returns is not None:
            self.visit_annotation(node.returns)
        for arg in [
            *node.args.posonlyargs,
            *node.args.args,
            *node.args.kwonlyargs,
            node.args.vararg,
            node.args.kwarg,
        ]:
            if arg is not None and arg.annotation is not None:
                self.visit_annotation(arg.annotation)
        self.scopes.append(node)
        self.functions.append(node.name)
        for statement in node.body:
            self.visit(statement)
        self.functions.pop()
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_While(self, node: ast.While) -> None:
        if isinstance(node.test, ast.Constant) and node.test.value and not _breaks_out(node.body):
            self.report(node, "L5-BOMB-010", Verdict.ALLOW, f"a loop without an exit is {_RUNTIME_LIMITS}")
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self.scopes.append(node)
        self.visit(node.body)
        self.scopes.pop()

    def _visit_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        self.visit(node.generators[0].iter)
        self.scopes.append(node)
        for index, generator in enumerate(node.generators):
            if index:
                self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for child in [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]:
            self.visit(child)
        self.scopes.pop()

        if not isinstance(node, ast.GeneratorExp):
            self._check_consumed(node, [node], "a comprehension", materialises=True)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _visit_comprehension

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                self.report(
                    node, "L5-CLASS-001", Verdict.ESCALATE, "custom metaclasses change class creation"
                )
        # The script's own class derives only from its own classes or builtins (object, Exception...),
        # so `self._x` is the script's own attribute, not a library's private one.
        own = all(
            isinstance(b, ast.Name)
            and (b.id in self.definitions or any(q.startswith("builtins.") for q in self.resolve(b)))
            for b in node.bases
        )
        self.own_classes.append(own)
        self.generic_visit(node)
        self.own_classes.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Attribute) and t.attr == "prec" for t in node.targets):
            self._check_precision(node, node.value)
        # Positional class patterns read the attributes __match_args__ names.
        if any(isinstance(t, ast.Name) and t.id == "__match_args__" for t in node.targets):
            for element in ast.walk(node.value):
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    self._check_name_string(node, element.value, "__match_args__")
        self.generic_visit(node)

    def _check_name_string(self, node: ast.AST, name: str, where: str) -> None:
        problem = name_string_problem(name)
        if problem:
            self.report(node, "L5-ATTR-001", problem[0], f"{where} names an attribute: {problem[1]}")

    def visit_annotation(self, node: ast.expr) -> None:
        """String annotations are evaluated by typing helpers, so they are reviewed as code."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value.strip(), mode="eval")
            except SyntaxError:
                return
            ast.increment_lineno(parsed, node.lineno - 1)
            # Kept alive with the analyzer: `resolved` is keyed by node id, which a freed tree's
            # nodes would hand on to the next parsed annotation.
            self.parsed_annotations.append(parsed)
            if any(isinstance(n, ast.Call | ast.Lambda | ast.NamedExpr) for n in ast.walk(parsed)):
                self.report(
                    node, "L5-ANNOT-001", Verdict.BLOCK, "a string annotation contains code, not a type"
                )
            self.visit(parsed.body)
        else:
            self.visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit_annotation(node.annotation)
        self.visit(node.target)
        if node.value is not None:
            self.visit(node.value)

    # ----------------------------------------------------------------- imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            self._check_qualified(node, alias.name, in_call=False, as_base=True)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.report(node, "L5-IMPORT-003", Verdict.BLOCK, "relative imports are not allowed")
            return
        module = node.module or ""
        self._check_module(node, module)
        for alias in node.names:
            if alias.name == "*":
                self.report(node, "L5-IMPORT-004", Verdict.BLOCK, "star imports hide which names are used")
                continue
            reason = attribute_danger(alias.name)
            if reason:
                self.report(node, "L5-ATTR-001", Verdict.BLOCK, reason)
            self._check_module(node, f"{module}.{alias.name}")
            self._check_qualified(node, f"{module}.{alias.name}", in_call=False, as_base=False)

    def _check_module(self, node: ast.AST, module: str) -> None:
        problem = module_problem(module, self.allowed)
        top = module.split(".")[0]
        if problem:
            rule = "L5-IMPORT-001" if problem[0] is Verdict.BLOCK else "L5-IMPORT-002"
            self.report(node, rule, problem[0], problem[1])
        elif top not in self.api.modules and top not in policy.SAFE_STDLIB:
            message = f"the sandbox image has no API allow-list for '{top}', so its use cannot be checked"
            self.report(node, "L5-API-004", Verdict.ESCALATE, message)

    def _is_module(self, qualified: str) -> bool:
        return qualified in self.imported or self.api.is_module(qualified)

    # ----------------------------------------------------------------- references
    def _check_reference(self, node: ast.Name | ast.Attribute) -> None:
        """Check every object a loaded name or attribute may refer to."""
        for qualified in self.resolve(node, node.lineno):
            self._check_qualified(
                node,
                qualified,
                in_call=id(node) in self.call_funcs,
                as_base=id(node) in self.attribute_bases,
            )

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__") and node.id.endswith("__") and node.id not in policy.SAFE_NAME_DUNDERS:
            self.report(
                node, "L5-DUNDER-002", Verdict.BLOCK, f"the name '{node.id}' reaches interpreter internals"
            )
        if isinstance(node.ctx, ast.Load):
            if is_private(node.id) and not self._user_named(node.id):
                self.report(
                    node, "L5-PRIVATE-002", Verdict.BLOCK, f"the private name '{node.id}' is not the script's"
                )
            self._check_reference(node)

    def _user_named(self, name: str) -> bool:
        return name in self.values or name in self.opaque or name in self.aliases

    def visit_Attribute(self, node: ast.Attribute) -> None:
        reason = attribute_danger(node.attr)
        if reason and not (node.attr == "__class__" and id(node) in self.class_name_reads):
            self.report(node, "L5-ATTR-001", Verdict.BLOCK, reason)
        elif not reason:
            self._check_attribute_name(node)
        if isinstance(node.ctx, ast.Load):
            self._check_reference(node)
        else:
            self._check_rebinding(node)
        self.visit(node.value)

    def _check_attribute_name(self, node: ast.Attribute) -> None:
        """Deny by default: an attribute is public, not denied, and known (listed or the script's own)."""
        name = nfkc(node.attr)
        if len(name) > 4 and name.startswith("__") and name.endswith("__"):
            return  # dunders are judged by attribute_danger (SAFE_DUNDERS)
        if self._on_module(node):
            return  # a module's own allow-list and the deny list decide (_check_qualified)
        if is_private(name):
            if not self._own_private(node):
                self.report(node, "L5-PRIVATE-001", Verdict.BLOCK, f"'.{name}' is private")
            return
        denial = self.api.denied_attributes.get(name)
        if denial:
            self.report(node, "L5-API-003", denial.verdict, f"'.{name}': {denial.reason}")
            return
        if (
            id(node) not in self.call_funcs
            and (path_method(name) is not None or name in policy.EXPRESSION_METHODS)
            and isinstance(node.ctx, ast.Load)
        ):
            self.report(
                node, "L5-REFLECT-002", Verdict.ESCALATE, f"'.{name}' is used indirectly (taken or passed)"
            )
        known = name in self.api.attributes or name in policy.PUBLIC_UNDERSCORE_NAMES
        row = isinstance(node.value, ast.Name) and node.value.id in self.row_names
        if not known and not row and name not in self.user_attributes:
            self.report(
                node,
                "L5-API-002",
                Verdict.ESCALATE,
                f"'.{name}' is not a public attribute of the allowed libraries or of the script's classes",
            )

    def _on_module(self, node: ast.Attribute) -> bool:
        """True when the attribute is read off a module (json.dumps), not off a value."""
        return any(self._is_module(q) for q in self.resolve(node.value, node.lineno))

    def _own_private(self, node: ast.Attribute) -> bool:
        """`self._x` inside a class of the script that derives from no library class."""
        return (
            bool(self.own_classes)
            and self.own_classes[-1]
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        )

    def _check_rebinding(self, node: ast.Attribute) -> None:
        """Assigning or deleting an attribute of a library object changes it for every caller."""
        for qualified in self.resolve(node.value, node.lineno):
            if not qualified.startswith(policy.REBINDABLE_PREFIXES):
                self.report(
                    node,
                    "L5-REBIND-001",
                    Verdict.BLOCK,
                    f"'{qualified}.{node.attr}' rebinds a library attribute",
                )

    def _check_qualified(self, node: ast.AST, qualified: str, *, in_call: bool, as_base: bool) -> None:
        problems = qualified_problems(qualified, in_call, as_base, self.allowed, self._is_module(qualified))
        for rule, verdict, message in problems:
            self.report(node, rule, verdict, message)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        # Class patterns read attributes by name: `case object(__class__=c)`.
        for attribute in node.kwd_attrs:
            self._check_name_string(node, attribute, "a class pattern")
            if attribute not in self.api.attributes and attribute not in self.user_attributes:
                message = f"class pattern reads '.{attribute}', not a known public attribute"
                self.report(node, "L5-API-002", Verdict.ESCALATE, message)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        # Docstrings are never used as names, so prose about dunders in them is fine.
        if isinstance(node.value, str) and id(node) not in self.docstrings:
            reason = string_danger(node.value)
            if reason:
                self.report(node, "L5-STRING-001", Verdict.BLOCK, reason)
        if isinstance(node.value, str | bytes):
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            stem = next((stem for stem in policy.PROTOCOL_STEMS if stem in text), None)
            if stem is not None:
                message = f"'{stem}' imitates a line of the sandbox runner's protocol"
                self.report(node, "L5-STRING-002", Verdict.BLOCK, message)

    # ----------------------------------------------------------------- calls
    def visit_Call(self, node: ast.Call) -> None:
        targets = self.resolve(node.func, node.lineno)
        unresolved = None if targets else self._unresolved_callee(node.func)
        if unresolved:
            self.report(
                node,
                "L5-RESOLVE-001",
                Verdict.ESCALATE,
                f"cannot tell which function is called: {unresolved}",
            )
        for qualified in targets:
            self._check_call(node, qualified)
        if isinstance(node.func, ast.Name) and node.func.id in self.functions:
            self.report(
                node, "L5-BOMB-011", Verdict.ALLOW, f"recursion in {node.func.id}() is {_RUNTIME_LIMITS}"
            )
        if isinstance(node.func, ast.Attribute) and not self._on_module(node.func):
            self._check_method(node, node.func.attr, node.func.value)
        elif isinstance(node.func, ast.Call) and "builtins.getattr" in self.resolve(node.func.func, None):
            # getattr(value, "to_csv")(path) is the method call under another name.
            method = self.fold_string(node.func.args[1]) if len(node.func.args) > 1 else None
            if method is not None:
                self._check_method(node, method, node.func.args[0])
        self._check_allocation(node, targets)
        self._check_consumption(node, targets)
        if "builtins.pow" in targets or targets & policy.COMBINATORIAL:
            self._check_bomb(node)
        if targets & {"decimal.Context", "decimal.localcontext"}:
            for keyword in node.keywords:
                if keyword.arg == "prec":
                    self._check_precision(node, keyword.value)
        self.generic_visit(node)

    def _unresolved_callee(self, func: ast.expr, depth: int = 0) -> str | None:
        """Why the review cannot pin the called object to an allowed function, or None when it can.

        Methods (`x.name(...)`) are resolved by their name's allow-list; names must be builtins,
        imports, the script's own def/class/lambda, or bound only to such values."""
        if isinstance(func, ast.Attribute | ast.Lambda) or self.resolve(func, None):
            return None
        if isinstance(func, ast.Name):
            if func.id in self.definitions:
                return None
            values = self.values.get(func.id, [])
            if func.id in self.opaque or not values or depth > _MAX_FOLD_DEPTH:
                return f"'{func.id}' is a parameter or a value the review cannot follow"
            if func.id in self.callee_reasons:
                # Worked out already, or further up: a cycle adds nothing the other values do not show.
                return self.callee_reasons[func.id]
            self.callee_reasons[func.id] = None
            reason = next(filter(None, (self._unresolved_callee(v, depth + 1) for v in values)), None)
            self.callee_reasons[func.id] = reason
            return reason
        if isinstance(func, ast.Call):
            factories = self.resolve(func.func, None)
            if factories and not factories & policy.WRAPPERS:
                return None  # a library factory (np.vectorize, operator.itemgetter...) returns a function
            return "the result of a call (a returned function or a partial)"
        if isinstance(func, ast.Subscript):
            return "a value taken out of a container"
        if isinstance(func, ast.Constant):
            return f"the constant {func.value!r}, not a function"
        return f"a computed {type(func).__name__} expression"

    def _check_call(self, node: ast.Call, qualified: str) -> None:
        name = qualified.removeprefix("builtins.")
        if name in policy.REFLECTIVE_BUILTINS and qualified.startswith("builtins."):
            attribute = self.fold_string(node.args[1]) if len(node.args) >= 2 else None
            if attribute is None:
                self.report(
                    node, "L5-REFLECT-001", Verdict.ESCALATE, f"{name} with a computed attribute name"
                )
            else:
                self._check_name_string(node, attribute, name)
            if name in ("setattr", "delattr") and node.args and self.resolve(node.args[0], node.lineno):
                self.report(node, "L5-REBIND-001", Verdict.BLOCK, f"{name} on a library object rebinds it")
        elif qualified in policy.ATTRIBUTE_PATH_HELPERS:
            # attrgetter takes attribute paths; methodcaller a method name, then that method's arguments.
            names = node.args[:1] if qualified == "operator.methodcaller" else node.args
            for arg in names:
                path = self.fold_string(arg)
                if path is None:
                    self.report(node, "L5-REFLECT-001", Verdict.ESCALATE, f"{name} with a computed name")
                for part in (path or "").split("."):
                    self._check_name_string(node, part, f"{name}('{path}')")
                    if part in policy.EXPRESSION_METHODS or path_method(part) is not None:
                        message = (
                            f"{name}('{path}') calls a guarded method by name, out of the review's sight"
                        )
                        self.report(node, "L5-DISPATCH-001", Verdict.BLOCK, message)
        elif qualified in policy.REGEX_FUNCTIONS:
            pattern = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg == "pattern"), None)
            )
            text = None if pattern is None else self.fold_string(pattern)
            if text is None or _NESTED_QUANTIFIER.search(text):
                what = (
                    "a computed regular expression" if text is None else f"the nested quantifier in '{text}'"
                )
                self.report(
                    node, "L5-BOMB-012", Verdict.ALLOW, f"backtracking time of {what} is {_RUNTIME_LIMITS}"
                )
        elif qualified in policy.RAW_MEMORY_KEYWORDS:
            given = {k.arg for k in node.keywords}
            if None in given or given & policy.RAW_MEMORY_KEYWORDS[qualified] or len(node.args) > 2:
                message = f"{name} over a buffer, offset or strides reads and writes raw memory"
                self.report(node, "L5-CALL-001", Verdict.BLOCK, message)
        elif qualified in policy.OPTION_SETTERS:
            for option in node.args[::2]:
                text = self.fold_string(option)
                if text is None or not text.startswith(policy.SAFE_OPTION_PREFIXES):
                    self.report(
                        node, "L5-CALL-004", Verdict.ESCALATE, f"{name}: only display options are allowed"
                    )
        elif qualified in ("builtins.type", "builtins.dir") and len(node.args) in (0, 3):
            self.report(node, "L5-REFLECT-003", Verdict.BLOCK, f"{name}() with {len(node.args)} arguments")
        elif qualified in ("builtins.open", "io.open"):
            self._check_open(node)
        elif qualified in policy.UNPICKLING_LOADERS:
            self._check_keyword_flag(node, "allow_pickle", safe=False, what="numpy.load with allow_pickle")
        elif qualified == "torch.load":
            self._check_keyword_flag(
                node, "weights_only", safe=True, what="torch.load without weights_only=True"
            )
        elif qualified in ("yaml.load", "yaml.load_all"):
            self._check_yaml(node)
        elif qualified in ("builtins.str.format", "builtins.str.format_map") and node.args:
            self._check_template(node, node.args[0])
        taken = path_parameter(qualified)
        if taken is not None:
            self._check_path_argument(node, taken[0], taken[1])

    def _check_method(self, node: ast.Call, method: str, receiver: ast.expr) -> None:
        """Checks by method name, whatever the receiver's type (not called for module functions)."""
        if method in policy.EXPRESSION_METHODS:
            expression = self.fold_string(node.args[0]) if node.args else None
            if expression is None:
                self.report(
                    node,
                    "L5-CALL-003",
                    Verdict.ESCALATE,
                    f".{method}() evaluates a computed expression string",
                )
            else:
                self._check_expression(node, method, expression)
        elif method in ("format", "format_map"):
            self._check_template(node, receiver)
        elif path_method(method) is not None:
            self._check_path_argument(node, policy.WRITE_ROOTS, path_method(method))
        elif method in policy.DISPATCH_METHODS:
            self._check_dispatch(node, method)

    def _check_expression(self, node: ast.Call, method: str, expression: str) -> None:
        """DataFrame.eval/query strings are Python-like expressions: review their names and calls."""
        try:
            # Exec mode: DataFrame.eval also takes assignments ("c = a + b"), one a line.
            parsed = ast.parse(expression.replace("@", "").replace("`", "").strip())
        except SyntaxError:
            self.report(node, "L5-CALL-003", Verdict.ESCALATE, f".{method}() expression cannot be reviewed")
            return
        for part in ast.walk(parsed):
            if isinstance(part, ast.Call | ast.Lambda | ast.NamedExpr):
                self.report(node, "L5-CALL-003", Verdict.ESCALATE, f".{method}() expression calls functions")
            elif isinstance(part, ast.Attribute):
                self._check_name_string(node, part.attr, f".{method}() expression")
            elif isinstance(part, ast.Name) and (is_private(part.id) or part.id.startswith("__")):
                self.report(node, "L5-CALL-003", Verdict.BLOCK, f".{method}() expression names '{part.id}'")

    def _check_dispatch(self, node: ast.Call, method: str) -> None:
        """apply/agg/transform/pipe look a method up by the name given as a string."""
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            for part in ast.walk(argument):
                if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                    continue
                name = part.value
                self._check_name_string(node, name, f".{method}('{name}')")
                if name in policy.EXPRESSION_METHODS or path_method(name) is not None:
                    self.report(
                        node,
                        "L5-DISPATCH-001",
                        Verdict.BLOCK,
                        f".{method}('{name}') calls a guarded method by name",
                    )

    def _check_template(self, node: ast.Call, template: ast.expr) -> None:
        """A format template that is not a known constant could walk attributes of its arguments."""
        variants = self.string_variants(template)
        if variants is None or not all(done for _, done in variants):
            self.report(node, "L5-FORMAT-001", Verdict.ESCALATE, "str.format with a computed template")
            return
        for text, _ in variants:
            reason = string_danger(text)
            if reason:
                self.report(node, "L5-FORMAT-002", Verdict.BLOCK, reason)

    def _check_keyword_flag(self, node: ast.Call, keyword: str, *, safe: bool, what: str) -> None:
        """Calls whose safety depends on a boolean keyword: it must be the literal `safe` value."""
        given = [k.value for k in node.keywords if k.arg == keyword]
        if any(k.arg is None for k in node.keywords):
            self.report(node, "L5-DESER-001", Verdict.ESCALATE, f"{what}: keywords passed with **")
        elif not given:
            if safe:
                self.report(node, "L5-DESER-001", Verdict.BLOCK, what)
        elif not (isinstance(given[0], ast.Constant) and given[0].value is safe):
            verdict = Verdict.BLOCK if isinstance(given[0], ast.Constant) else Verdict.ESCALATE
            self.report(node, "L5-DESER-001", verdict, f"{what} deserialises code-carrying objects")

    def _check_yaml(self, node: ast.Call) -> None:
        loader = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg == "Loader"), None)
        )
        if loader is None or not self.resolve(loader) & policy.SAFE_YAML_LOADERS:
            self.report(
                node, "L5-DESER-002", Verdict.BLOCK, "yaml.load without SafeLoader constructs objects"
            )

    def _check_open(self, node: ast.Call) -> None:
        mode_node = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg == "mode"), None)
        )
        mode = "r" if mode_node is None else self.fold_string(mode_node)
        if mode is None:
            self.report(node, "L5-FILE-002", Verdict.ESCALATE, "open() with a computed mode")
            return
        writing = any(flag in mode for flag in "wax+")
        roots = policy.WRITE_ROOTS if writing else policy.READ_ROOTS
        self._check_path_argument(node, roots, api_lists().path_parameters.get("builtins.open"), opened=True)

    def _is_stream(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> bool:
        """True when `node` is an open file or in-memory stream rather than a path."""
        if self.resolve(node, None) & policy.STREAMS:
            return True
        if isinstance(node, ast.Call):
            return bool(self.resolve(node.func, None) & policy.STREAM_FACTORIES)
        if isinstance(node, ast.Name) and node.id not in self.opaque and node.id not in seen:
            values = self.values.get(node.id, [])
            return bool(values) and all(self._is_stream(v, seen | {node.id}) for v in values)
        return False

    def _check_path_argument(
        self,
        node: ast.Call,
        roots: tuple[str, ...],
        parameter: tuple[str, int] | None,
        *,
        opened: bool = False,
    ) -> None:
        """The path argument (`parameter`: its name and position, else the first argument or a
        PATH_KEYWORDS keyword) must evaluate to a constant under `roots`, or be an open stream."""
        name, index = parameter or ("", 0)
        keywords = (name,) if parameter else policy.PATH_KEYWORDS
        path_node = (
            node.args[index]
            if 0 <= index < len(node.args)
            else next((k.value for k in node.keywords if k.arg in keywords), None)
        )
        if path_node is None:
            return
        if (
            isinstance(path_node, ast.Constant)
            and isinstance(path_node.value, int)
            and not isinstance(path_node.value, bool)
        ):
            self.report(node, "L5-FILE-003", Verdict.BLOCK, "opening a file descriptor number")
            return
        if self._is_stream(path_node):
            return
        variants = self.string_variants(path_node)
        if variants is None:
            message = (
                f"the path cannot be evaluated to a constant, so it counts as outside {', '.join(roots)}"
            )
            self.report(node, "L5-FILE-002", Verdict.BLOCK, message)
            return
        for text, complete in variants:
            if _URL_SCHEME.match(text):
                self.report(node, "L5-FILE-004", Verdict.BLOCK, f"'{text}' is a URL where a path is taken")
                continue
            verdict = _path_verdict(text, complete, roots)
            if verdict is not Verdict.ALLOW:
                shown = text if complete else f"{text}..."
                self.report(node, "L5-FILE-001", verdict, f"path '{shown}' is outside {', '.join(roots)}")
            shadowed = (
                shadowed_module(text, opened=opened) if complete and roots == policy.WRITE_ROOTS else None
            )
            if shadowed is not None:
                message = (
                    f"writing '{text}' plants {shadowed!r} where an interpreter may import it; "
                    "give the file a name that is not a module's"
                )
                self.report(node, "L5-FILE-005", Verdict.BLOCK, message)

    def _check_allocation(self, node: ast.Call, targets: frozenset[str]) -> None:
        if not node.args or not targets & policy.ALLOCATORS:
            return
        shape = node.args[0]
        dims = shape.elts if isinstance(shape, ast.Tuple | ast.List) else [shape]
        total = 1
        try:
            for dim in dims:
                value = self.size(dim)
                if not isinstance(value, int):
                    return
                total *= max(value, 0)
        except _Huge as exc:
            self.report(node, "L5-BOMB-001", Verdict.BLOCK, str(exc))
            return
        if total > policy.MAX_SEQUENCE_ITEMS:
            self.report(node, "L5-BOMB-002", Verdict.BLOCK, f"allocates {total:.3g} items")

    # ----------------------------------------------------------------- resource bombs
    def _check_bomb(self, node: ast.expr) -> bool:
        """Report a literal resource bomb in `node`; True when one was found."""
        try:
            self.size(node)
        except _Huge as exc:
            self.report(node, "L5-BOMB-001", Verdict.BLOCK, str(exc))
            return True
        return False

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Mult):
            self._check_nesting(node)
        if not self._check_bomb(node):
            self.generic_visit(node)

    def _check_nesting(self, node: ast.BinOp) -> None:
        """`"[" * 10_000_000`: brackets opened far deeper than any parser (json, ast) can recurse."""
        for text, count in ((node.left, node.right), (node.right, node.left)):
            if not (isinstance(text, ast.Constant) and isinstance(text.value, str | bytes) and text.value):
                continue
            value = text.value if isinstance(text.value, str) else text.value.decode("latin-1")
            if not set(value) <= policy.OPENING_BRACKETS:
                continue
            try:
                depth = self.size(count)
            except _Huge:
                return  # _check_bomb reports the repetition itself
            if isinstance(depth, int) and depth * len(value) > policy.MAX_NESTING:
                opened = depth * len(value)
                message = f"{opened:.3g} brackets opened in a row nest past any parser's recursion limit"
                self.report(node, "L5-BOMB-005", Verdict.BLOCK, message)

    def _check_precision(self, node: ast.AST, value: ast.expr) -> None:
        """A decimal precision so large that one division computes numbers past MAX_INT_BITS."""
        digits: float | int | _Length | None
        if "decimal.MAX_PREC" in self.resolve(value, None):
            digits = math.inf
        else:
            try:
                digits = self.size(value)
            except _Huge:
                return  # _check_bomb reports the number itself
        if isinstance(digits, int | float) and digits > policy.MAX_DECIMAL_DIGITS:
            message = (
                f"a decimal precision of {digits:.3g} digits: each operation computes numbers that large"
            )
            self.report(node, "L5-BOMB-006", Verdict.BLOCK, message)

    # ----------------------------------------------------------------- iterators run to their end
    def iteration_count(self, node: ast.expr, depth: int = 0) -> float | None:
        """How many items iterating `node` yields: math.inf when it never ends, None when unknown."""
        if depth > _MAX_FOLD_DEPTH:
            return None
        if isinstance(node, ast.Name):
            values = self.values.get(node.id, [])
            if node.id in self.opaque or len(values) != 1:
                return None
            return self.iteration_count(values[0], depth + 1)
        if isinstance(node, _Comprehension):
            counts = [self.iteration_count(g.iter, depth + 1) for g in node.generators]
            if math.inf in counts:
                return math.inf
            if any(g.ifs for g in node.generators):
                return None
            return _product(counts)
        if isinstance(node, ast.Constant | ast.List | ast.Tuple | ast.BinOp):
            try:
                size = self.size(node)
            except _Huge:
                return None  # _check_bomb reports it
            return float(size.items) if isinstance(size, _Length) else None
        if not isinstance(node, ast.Call):
            return None
        function = min(self.resolve(node.func, None), default="")
        args = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(args) != len(node.args):
            return None

        def count(index: int) -> float | None:
            return self.iteration_count(args[index], depth + 1) if index < len(args) else None

        if function == "builtins.range":
            size = self._range_size(node)
            return None if size is None else float(size)
        if function in ("itertools.count", "itertools.cycle"):
            return 0.0 if function == "itertools.cycle" and count(0) == 0 else math.inf
        if function == "itertools.repeat":
            times = args[1] if len(args) > 1 else _keyword(node, "times")
            return math.inf if times is None else self._known_count(times)
        if function in ("builtins.list", "builtins.tuple", "builtins.sorted", "builtins.iter"):
            return count(0)
        if function in policy.LAZY_WRAPPERS:
            first = 1 if function in _FUNCTION_FIRST else 0
            counts = [count(i) for i in range(first, len(args))]
            if function == "builtins.map":
                return _shortest(counts)
            found = counts[0] if counts else None
            return found if found == math.inf or function not in _FILTERING else None
        if function in ("builtins.zip", "itertools.chain"):
            counts = [count(i) for i in range(len(args))]
            return _shortest(counts) if function == "builtins.zip" else _total(counts)
        if function == "itertools.islice" and len(args) >= 2:
            return self._slice_count(args, count(0))
        if function in _COMBINATORICS:
            return self._combinations(node, function, args, count(0))
        return None

    def _known_count(self, node: ast.expr) -> float | None:
        try:
            size = self.size(node)
        except _Huge:
            return None
        return float(max(size, 0)) if isinstance(size, int) else None

    def _slice_count(self, args: list[ast.expr], source: float | None) -> float | None:
        start, stop = (None, args[1]) if len(args) == 2 else (args[1], args[2])
        if isinstance(stop, ast.Constant) and stop.value is None:
            return source
        bound = self._known_count(stop)
        first = 0.0 if start is None else self._known_count(start)
        if bound is None or first is None:
            return None if source != math.inf or bound is None else max(bound - (first or 0), 0)
        taken = max(bound - first, 0)
        return taken if source is None else min(taken, source)

    def _combinations(
        self, node: ast.Call, function: str, args: list[ast.expr], n: float | None
    ) -> float | None:
        """Tuples itertools.product/permutations/combinations* yield (each reads all its input first)."""
        if function == "itertools.product":
            counts = [self.iteration_count(a) for a in args]
            repeat = _keyword(node, "repeat")
            times = 1.0 if repeat is None else self._known_count(repeat)
            if math.inf in counts:
                return math.inf
            once = _product(counts)
            return None if once is None or times is None else _power(once, times)
        if n is None or n == math.inf:
            return n
        length = args[1] if len(args) > 1 else _keyword(node, "r")
        r = (
            (n if function == "itertools.permutations" else None)
            if length is None
            else self._known_count(length)
        )
        if r is None:
            return None
        if function == "itertools.combinations_with_replacement":
            n, function = n + r - 1, "itertools.combinations"
        if r > n:
            return 0.0
        log = math.lgamma(n + 1) - math.lgamma(n - r + 1)
        if function == "itertools.combinations":
            log -= math.lgamma(r + 1)
        return math.exp(min(log, _MAX_LOG_COUNT))

    def _check_consumption(self, node: ast.Call, targets: frozenset[str]) -> None:
        """Calls that run through an iterable to its end: never on an endless one, not past the limits."""
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in policy.CONSUMING_METHODS
            and not self._on_module(node.func)
        ):
            self._check_consumed(node, node.args[:1], f".{node.func.attr}()", materialises=True)
        for function in sorted(targets & (policy.MATERIALISERS | policy.STREAMERS)):
            if _argument(node, policy.TAKES_AT_MOST.get(function)) is not None:
                continue
            keeps = _argument(node, policy.KEEPS_AT_MOST.get(function)) is not None
            arguments = node.args[policy.ITERABLE_ARGUMENTS.get(function, slice(None))]
            materialises = function in policy.MATERIALISERS and not keeps
            self._check_consumed(
                node, arguments, function.removeprefix("builtins."), materialises=materialises
            )

    def _check_consumed(
        self, node: ast.AST, arguments: list[ast.expr], what: str, *, materialises: bool
    ) -> None:
        for argument in arguments:
            count = None if isinstance(argument, ast.Starred) else self.iteration_count(argument)
            if count is None:
                continue
            if count == math.inf:
                message = (
                    f"{what} runs through an endless iterator (itertools.count, cycle, repeat): it never ends"
                )
                self.report(node, "L5-BOMB-004", Verdict.BLOCK, message)
            elif materialises and count > policy.MAX_SEQUENCE_ITEMS:
                self.report(
                    node, "L5-BOMB-002", Verdict.BLOCK, f"{what} materialises about {count:.3g} items"
                )
            elif count > policy.MAX_RANGE:
                self.report(
                    node, "L5-BOMB-003", Verdict.ESCALATE, f"{what} runs through about {count:.3g} items"
                )

    def visit_Starred(self, node: ast.Starred) -> None:
        if isinstance(node.ctx, ast.Load):
            self._check_consumed(node, [node.value], "unpacking with *", materialises=True)
        self.generic_visit(node)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        iterations = self.iteration_count(node.iter)
        if iterations == math.inf:
            if not _breaks_out(node.body):
                message = f"a loop over an endless iterator without an exit is {_RUNTIME_LIMITS}"
                self.report(node, "L5-BOMB-010", Verdict.ALLOW, message)
            iterations = None
        outer = self._loop_product
        self._loop_product = outer * (iterations or 1)
        if (iterations or 0) > policy.MAX_RANGE or self._loop_product > policy.MAX_LOOP_ITERATIONS:
            self.report(
                node, "L5-BOMB-003", Verdict.ESCALATE, f"loops run about {self._loop_product:.3g} iterations"
            )
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)
        self._loop_product = outer

    visit_AsyncFor = visit_For
    _loop_product: float = 1

    def _range_size(self, node: ast.expr) -> int | None:
        if not isinstance(node, ast.Call) or "builtins.range" not in self.resolve(node.func, node.lineno):
            return None
        try:
            bounds = [self.size(a) for a in node.args]
        except _Huge:
            return policy.MAX_LOOP_ITERATIONS + 1
        if not bounds or not all(isinstance(b, int) for b in bounds):
            return None
        numbers = [b for b in bounds if isinstance(b, int)]
        start, stop, step = (0, numbers[0], 1) if len(numbers) == 1 else [*numbers, 1][:3]
        return len(range(start, stop, step or 1))


def path_parameter(qualified: str) -> tuple[tuple[str, ...], tuple[str, int] | None] | None:
    """For a library function that takes a path: the roots it must stay under and the parameter
    (None: the first argument or a PATH_KEYWORDS keyword); None if it takes no path."""
    if qualified in policy.MODE_OPENERS:
        return None  # _check_open decides by mode
    parameter = api_lists().path_parameters.get(qualified)
    if qualified in policy.WRITE_FUNCTIONS:
        return policy.WRITE_ROOTS, parameter
    return (policy.READ_ROOTS, parameter) if parameter else None


def path_method(name: str) -> tuple[str, int] | None:
    """The path parameter of a method that takes one (to_csv, tofile...), whatever the receiver."""
    return api_lists().path_methods.get(name) or policy.C_PATH_METHODS.get(name)


@lru_cache(maxsize=8192)
def qualified_problems(
    qualified: str, in_call: bool, as_base: bool, allowed: frozenset[str], is_module: bool
) -> tuple[tuple[str, Verdict, str], ...]:
    """(rule, verdict, message) for a use of the object `qualified` names; cached across reviews,
    since the same names (pd.DataFrame, np.mean) recur in every script."""
    api = api_lists()
    problems: list[tuple[str, Verdict, str]] = []
    parts = qualified.split(".")
    problem = module_problem(qualified, allowed)
    if (
        problem
        and problem[1].startswith(("module", "'"))
        and parts[0] != "builtins"
        and "denied" in problem[1]
    ):
        problems.append(("L5-REACH-001", Verdict.BLOCK, f"'{qualified}': {problem[1]}"))
    denial = api.denial(qualified)
    member_problem = api.member_problem(qualified)
    if denial:
        shown = qualified.removeprefix("builtins.")
        problems.append(("L5-CALL-001", denial.verdict, f"'{shown}': {denial.reason}"))
    elif member_problem and not (parts[0] == "builtins" and parts[-1].startswith("__")):
        # Dunder names (`__name__`) are module globals, not builtins: L5-DUNDER-002 judges them.
        problems.append(("L5-API-001", Verdict.BLOCK, member_problem))
    if is_module and not as_base:
        problems.append(
            ("L5-GUARD-002", Verdict.ESCALATE, f"the module '{qualified}' is passed around as a value")
        )
    guarded = policy.GUARDED_ATTRIBUTES.get(parts[0])
    if guarded is not None and parts[0] not in allowed and len(parts) > 1 and parts[1] not in guarded:
        problems.append(
            ("L5-GUARD-001", Verdict.BLOCK, f"'{parts[0]}.{parts[1]}' is not on the allowed list")
        )
    if parts[0] != "builtins" and any(is_private(p) for p in parts[1:]):
        problems.append(
            ("L5-PRIVATE-001", Verdict.BLOCK, f"'{qualified}' uses a library's private internals")
        )
    if not in_call and (
        (
            parts[0] == "builtins"
            and parts[-1] in policy.REFLECTIVE_BUILTINS | {"open", "type"}
            and len(parts) == 2
        )
        or qualified in policy.ATTRIBUTE_PATH_HELPERS
        or path_parameter(qualified) is not None
    ):
        problems.append(
            ("L5-REFLECT-002", Verdict.ESCALATE, f"'{parts[-1]}' is used indirectly (aliased or passed)")
        )
    return tuple(problems)


# Lazy wrappers whose iterables follow a function argument, and those that may drop items (their count is
# known only when endless).
_FUNCTION_FIRST = frozenset(
    {"builtins.map", "builtins.filter", "itertools.starmap", "itertools.dropwhile", "itertools.filterfalse"}
)
_FILTERING = frozenset({"builtins.filter", "itertools.dropwhile", "itertools.filterfalse"})
_COMBINATORICS = frozenset(
    {"itertools.product", "itertools.permutations", "itertools.combinations",
     "itertools.combinations_with_replacement"}
)  # fmt: skip
_MAX_LOG_COUNT = 690.0
"""Counts are estimated in floats; e**690 is near the largest float (finite, unlike an endless one's)."""


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _argument(node: ast.Call, where: tuple[str, int] | None) -> ast.expr | None:
    """The argument given by keyword or at position `where`, if the call passes it (None counts as absent)."""
    if where is None:
        return None
    found = node.args[where[1]] if where[1] < len(node.args) else _keyword(node, where[0])
    return None if isinstance(found, ast.Constant) and found.value is None else found


def _product(counts: list[float | None]) -> float | None:
    if 0 in counts:
        return 0.0
    if None in counts:
        return None
    return math.exp(min(sum(math.log(c) for c in counts if c is not None), _MAX_LOG_COUNT))


def _power(base: float, times: float) -> float:
    return 1.0 if times == 0 else 0.0 if base == 0 else math.exp(min(times * math.log(base), _MAX_LOG_COUNT))


def _shortest(counts: list[float | None]) -> float | None:
    known = [c for c in counts if c is not None]
    if known and min(known) < math.inf:
        return min(known)  # zip and map stop with their shortest iterable
    return math.inf if counts and len(known) == len(counts) else None


def _total(counts: list[float | None]) -> float | None:
    if math.inf in counts:
        return math.inf
    return None if None in counts else sum(c for c in counts if c is not None)


def _combinatorial(function: str, args: list[int | _Length | None]) -> int | None:
    """math.factorial/comb/perm of folded arguments; raises _Huge when the result has over MAX_INT_BITS."""
    if not all(isinstance(a, int) and a >= 0 for a in args) or len(args) > 2:
        return None
    n, k = [*args, None][:2]
    assert isinstance(n, int)  # checked above; narrows for mypy
    r = n if k is None else k
    if not isinstance(r, int) or r > n:
        return None
    log = math.lgamma(n + 1) - math.lgamma(n - r + 1)
    if function == "math.comb":
        log -= math.lgamma(r + 1)
    bits = log / math.log(2)
    if bits > policy.MAX_INT_BITS:
        name = function.removeprefix("math.")
        raise _Huge(f"{name}({', '.join(str(a) for a in args)}) has about {bits:.3g} bits")
    return None  # small enough; its exact value is not needed by any rule


@lru_cache(maxsize=1)
def _shadowable_modules() -> frozenset[str]:
    """Module names a planted file could stand in for: the standard library's (this interpreter's, the same
    Python minor version as the sandbox's), the start-up hooks, and the top-level packages of the image."""
    installed = {module.split(".")[0] for module in api_lists().modules}
    return frozenset(sys.stdlib_module_names) | policy.START_UP_HOOKS | installed


_IMPORTABLE_SUFFIXES = sorted(importlib.machinery.all_suffixes(), key=len, reverse=True)


def shadowed_module(path: str, *, opened: bool) -> str | None:
    """The module a file written at `path` would stand in for on an import path, or None.

    `json.py`, `json/__init__.py`, `json.cpython-311-x86_64-linux-gnu.so`, `sitecustomize.pyc` all do; so does
    a `*.pth` file written with open() (`opened`), whose `import` lines `site` runs at start-up in a site
    directory. Library writers' `.pth` files (torch.save's models) are archives, not start-up hooks."""
    directory, name = posixpath.split(posixpath.normpath(path))
    if name.endswith(".pth"):
        return name if opened else None
    suffix = next((s for s in _IMPORTABLE_SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        return None
    stem = name[: -len(suffix)]
    module = posixpath.basename(directory) if stem == "__init__" else stem
    return module if module in _shadowable_modules() else None


def _breaks_out(body: list[ast.stmt]) -> bool:
    """True when a statement of `body` (outside nested loops and functions) can leave the loop."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Break | ast.Return | ast.Raise):
            return True
        if not isinstance(
            node, ast.For | ast.AsyncFor | ast.While | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            stack.extend(ast.iter_child_nodes(node))
    return False


def _binary(
    op: ast.operator, left: int | _Length | None, right: int | _Length | None
) -> int | _Length | None:
    """Apply `op` to folded operands without ever building a value beyond the limits."""
    if isinstance(left, int) and isinstance(right, int):
        return _integer(op, left, right)
    if isinstance(op, ast.Mult) and isinstance(left, _Length | int) and isinstance(right, _Length | int):
        length, count = (left, right) if isinstance(left, _Length) else (right, left)
        if isinstance(length, _Length) and isinstance(count, int):
            items = length.items * max(count, 0)
            if items > policy.MAX_SEQUENCE_ITEMS:
                raise _Huge(f"sequence repetition builds {items:.3g} items")
            return _Length(items)
    if isinstance(op, ast.Add) and isinstance(left, _Length) and isinstance(right, _Length):
        return _Length(left.items + right.items)
    return None


def _integer(op: ast.operator, left: int, right: int) -> int | None:
    if isinstance(op, ast.Pow):
        if right < 0 or abs(left) <= 1:
            return int(left**right) if right >= 0 else None
        bits = right * math.log2(abs(left))
        if bits > policy.MAX_INT_BITS:
            raise _Huge(f"{left}**{right} has about {bits:.3g} bits")
        return int(left**right)
    if isinstance(op, ast.LShift):
        if right > policy.MAX_INT_BITS:
            raise _Huge(f"{left} << {right} is a {right:.3g}-bit number")
        return left << right if right >= 0 else None
    arithmetic = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__}
    function = arithmetic.get(type(op))
    if function is not None:
        return int(function(left, right))
    if isinstance(op, ast.FloorDiv | ast.Mod) and right:
        return left // right if isinstance(op, ast.FloorDiv) else left % right
    return None


def _path_verdict(text: str, complete: bool, roots: tuple[str, ...]) -> Verdict:
    """Allow paths certainly under `roots`; block certainly outside; escalate the undecidable."""
    if "\x00" in text:
        return Verdict.BLOCK
    absolute = text if text.startswith("/") else posixpath.join(policy.WORKDIR, text)
    if complete:
        normal = posixpath.normpath(absolute)
        return (
            Verdict.ALLOW if any(normal == r or normal.startswith(r + "/") for r in roots) else Verdict.BLOCK
        )
    directory = absolute.rsplit("/", 1)[0]
    if ".." in absolute.split("/"):
        return Verdict.ESCALATE
    if any(directory == r or directory.startswith(r + "/") for r in roots) and not text.endswith(".."):
        # Under a root, but the computed rest may climb out with '..': a human decides.
        return Verdict.ESCALATE
    return Verdict.ESCALATE if any(r.startswith(absolute) for r in roots) else Verdict.BLOCK


def analyze(tree: ast.Module, allowed: frozenset[str]) -> list[Finding]:
    """All findings for a parsed module."""
    analyzer = Analyzer(tree, allowed)
    analyzer.visit(tree)
    return analyzer.findings
