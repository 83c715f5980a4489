"""Which `self.attr` reads the review may resolve to the values assigned to `.attr`, for the path checks.

A model often writes `self.path = "/data/sales.csv"` in `__init__` and opens `self.path` in another method;
without this the path is unknown and `open()` is blocked (L5-FILE-002), a false positive. Resolving it is
sound only when nothing but the script's own attribute assignments can give the instance that attribute,
so a read is followed only when all of these hold (anything else leaves it unknown, as before):
- the read is `s.attr` in a method of a class `C` defined once at any depth, where `s` is the method's
  first parameter and is used in the method only as the base of attribute reads, calls and
  stores (never passed, returned, rebound, or bound again by a nested function, lambda or comprehension);
- `C` has no bases, keywords or decorators, does not bind `attr` in its body (no class attribute, method,
  property or dataclass field of that name), defines none of the hooks that change attribute lookup, has
  no decorated method (a classmethod makes instances with `cls()`), and no method of it is named bare
  anywhere (`m(obj)` in the class body calls it with any first argument);
- `C` is only ever called, and each instance stays where the review sees it: `C(...)` is an expression
  statement, the base of an attribute, or assigned to a name that is itself used only as such a base;
  so no library function ever gets an instance (argparse's `parse_args(namespace=...)`, `setattr`, `vars`
  would set attributes by name) and no subclass or unbound method call exists;
- a bound method of an instance is only called, never passed on (its `__self__` would be the instance).
The values are those of every assignment to `.attr` anywhere in the script (on any object): the caller
folds each, and one that is not a plain `X.attr = value` (augmented, unpacked, a loop target) makes the
read unknown.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

# Class members that change how an instance's attributes are found or set.
_LOOKUP_HOOKS = frozenset(
    {"__getattr__", "__getattribute__", "__setattr__", "__new__", "__slots__", "__init_subclass__"}
)
_Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class FollowedAttributes:
    """The attribute reads that may be resolved, and every assignment to each attribute name."""

    reads: set[int] = field(default_factory=set)
    """ids of the `self.attr` Attribute nodes that may be resolved."""
    assignments: dict[str, list[ast.expr | None]] = field(default_factory=dict)
    """Per attribute name, the value of each store to it (None: a store that is not a plain assignment)."""


def followed_attributes(tree: ast.Module) -> FollowedAttributes:
    """The reads of `tree` that the conditions in this module's docstring allow to be resolved."""
    parents: dict[int, ast.AST] = {}
    classes: dict[str, list[ast.ClassDef]] = {}
    names: dict[str, list[ast.Name]] = {}
    followed = FollowedAttributes()
    plain: dict[int, ast.expr] = {}
    stores: list[ast.Attribute] = []
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.ClassDef):
            classes.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Name):
            names.setdefault(node.id, []).append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            plain.update((id(t), node.value) for t in targets if isinstance(t, ast.Attribute))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            stores.append(node)
    for store in stores:
        followed.assignments.setdefault(store.attr, []).append(plain.get(id(store)))
    for definitions in classes.values():
        if len(definitions) == 1:
            followed.reads |= _class_reads(definitions[0], names, parents)
    return followed


def _methods(cls: ast.ClassDef) -> dict[str, _Function]:
    return {s.name: s for s in cls.body if isinstance(s, _Function)}


def _class_members(cls: ast.ClassDef) -> set[str]:
    members: set[str] = set(_methods(cls))
    for statement in cls.body:
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [statement.target]
            if isinstance(statement, ast.AnnAssign | ast.AugAssign)
            else []
        )
        members.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        if isinstance(statement, ast.ClassDef):
            members.add(statement.name)
    return members


def _uses_stay_inside(
    uses: list[ast.Name] | list[ast.Call], parents: dict[int, ast.AST], methods: dict[str, _Function]
) -> bool:
    """Every use is the base of an attribute that is read, stored or deleted, and a method is only called."""
    for use in uses:
        attribute = parents.get(id(use))
        if not isinstance(attribute, ast.Attribute) or attribute.value is not use:
            return False
        if attribute.attr in methods:
            call = parents.get(id(attribute))
            if not (isinstance(call, ast.Call) and call.func is attribute):
                return False
    return True


def _class_reads(
    cls: ast.ClassDef, names: dict[str, list[ast.Name]], parents: dict[int, ast.AST]
) -> set[int]:
    methods = _methods(cls)
    members = _class_members(cls)
    if cls.bases or cls.keywords or cls.decorator_list or members & _LOOKUP_HOOKS:
        return set()
    # A method called by its bare name (in the class body) gets any first argument; a classmethod or
    # staticmethod makes instances (`cls()`) or takes objects that nothing here follows.
    if any(m.decorator_list for m in methods.values()) or any(names.get(m) for m in methods):
        return set()
    # The class is only called, and every instance stays in a name used only as an attribute base.
    instance_names: set[str] = set()
    for use in names.get(cls.name, []):
        call = parents.get(id(use))
        if not isinstance(use.ctx, ast.Load) or not (isinstance(call, ast.Call) and call.func is use):
            return set()
        holder = parents.get(id(call))
        if (
            isinstance(holder, ast.Assign)
            and len(holder.targets) == 1
            and isinstance(holder.targets[0], ast.Name)
        ):
            instance_names.add(holder.targets[0].id)
        elif isinstance(holder, ast.Attribute):
            if not _uses_stay_inside([call], parents, methods):
                return set()
        elif not isinstance(holder, ast.Expr):
            return set()
    for name in instance_names:
        uses = [n for n in names.get(name, []) if not isinstance(n.ctx, ast.Store)]
        if not _uses_stay_inside(uses, parents, methods):
            return set()
    reads: set[int] = set()
    for method in methods.values():
        positional = [*method.args.posonlyargs, *method.args.args]
        if not positional:
            continue
        instance = positional[0].arg
        inner = list(ast.walk(method))
        if any(isinstance(n, ast.arg) and n.arg == instance and n is not positional[0] for n in inner):
            return set()
        uses = [n for n in inner if isinstance(n, ast.Name) and n.id == instance]
        if any(not isinstance(n.ctx, ast.Load) for n in uses) or not _uses_stay_inside(
            uses, parents, methods
        ):
            return set()
        reads.update(
            id(attribute)
            for use in uses
            if isinstance(attribute := parents[id(use)], ast.Attribute)
            and isinstance(attribute.ctx, ast.Load)
            and attribute.attr not in members
        )
    return reads
