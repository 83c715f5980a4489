"""Layer 3 for JavaScript: the pre-execution review of model-written Node.js code on a real parse tree.

The parser is tree-sitter's JavaScript grammar (the tree-sitter and tree-sitter-javascript wheels): a
maintained grammar, error-tolerant and run in-process without Node. esprima (Python port, unmaintained since
2018) and acorn/esprima run by Node in a separate step were weighed; the first lags the language, the second
would put a JavaScript runtime and a subprocess in the operator.

By allow-list as for Python (policy tables in ``js_policy``): ``require``/``import`` only of safe built-in
modules and the task's allowed packages, with literal names; no ``eval``, ``Function``, ``WebAssembly``,
constructor chains, prototype pollution, module-loader or native-binding internals, ``process`` beyond a few
harmless properties, string timers or ``with``; ``fs`` only on literal paths under the sandbox's roots.
What it cannot resolve (a computed property of ``globalThis``, ``process``, ``this``...; ``require`` passed
around as a value) escalates. Node's permission model (sandbox-image/node_launch.py) enforces the same at
run time. Pure and deterministic; the code is never executed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

from level5.api.verdicts import Finding, Verdict
from level5.core.layout import OUTPUT_DIR, READ_ROOTS, WRITE_ROOTS
from level5.safety.review.js_policy import (
    DENIED_GLOBALS,
    DENIED_MODULES,
    DENIED_PROPERTIES,
    FS_DENIED,
    FS_WRITES,
    MODULE_PROPERTIES,
    OPAQUE_ROOTS,
    PROCESS_PROPERTIES,
    SAFE_BUILTINS,
    STRING_TIMERS,
)
from level5.safety.review.reviewer import (
    SYNTAX_RULE,
    ReviewResult,
    review_result,
    size_findings,
    source_findings,
)

PROGRAM_FILE = "main.js"
"""The program's file as the sandbox runs it (/code/main.js)."""
_PARSER = Parser(Language(tree_sitter_javascript.language()))
# Globals whose prototypes a program must not change (prototype pollution reaches every object).
_BUILTIN_CLASSES = frozenset(
    {
        "Object", "Array", "Function", "String", "Number", "Boolean", "Symbol", "BigInt", "Error", "Promise",
        "RegExp", "Date", "Map", "Set", "WeakMap", "WeakSet", "JSON", "Math", "Reflect", "Buffer",
    }
)  # fmt: skip
_MUTATORS = frozenset({"defineProperty", "defineProperties", "assign", "set"})
_FS_READS = frozenset(
    {
        "readFile", "readFileSync", "createReadStream", "readdir", "readdirSync", "existsSync", "stat",
        "statSync", "lstat", "lstatSync", "access", "accessSync", "open", "openSync", "opendir",
        "opendirSync", "realpath", "realpathSync", "watch", "watchFile",
    }
)  # fmt: skip
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code.startswith("u{"):
        return chr(int(code[2:-1], 16))
    if code[0] in "ux" and len(code) > 1:
        return chr(int(code[1:], 16))
    return _SIMPLE_ESCAPES.get(code, code)


def literal_string(node: Node | None) -> str | None:
    """The value of a string literal or a template without substitutions (escapes decoded); else None."""
    if node is None:
        return None
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        return literal_string(node.named_children[0])
    if node.type == "string" or (
        node.type == "template_string" and not any(c.type == "template_substitution" for c in node.children)
    ):
        raw = _text(node)[1:-1]
        return _ESCAPE.sub(_unescape, raw)
    if node.type == "binary_expression" and _text(node.child_by_field_name("operator")) == "+":
        left = literal_string(node.child_by_field_name("left"))
        right = literal_string(node.child_by_field_name("right"))
        return None if left is None or right is None else left + right
    return None


def _text(node: Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _root_name(node: Node) -> str | None:
    """The identifier (or `this`) a member/subscript chain starts from: `process` in process.env.X."""
    while node.type in ("member_expression", "subscript_expression"):
        obj = node.child_by_field_name("object")
        if obj is None:
            return None
        node = obj
    if node.type in ("identifier", "this"):
        return _text(node)
    return None


class _Analysis:
    """One pass over the tree, collecting findings."""

    def __init__(self, allowed_libraries: frozenset[str]) -> None:
        self.allowed = allowed_libraries
        self.findings: list[Finding] = []

    def add(self, rule: str, node: Node, message: str, verdict: Verdict = Verdict.BLOCK) -> None:
        self.findings.append(Finding(rule=rule, line=_line(node), message=message, verdict=verdict))

    def run(self, root: Node) -> list[Finding]:
        for node in _walk(root):
            handler = getattr(self, f"_on_{node.type}", None)
            if handler is not None:
                handler(node)
        return self.findings

    # Modules -----------------------------------------------------------------------------------------
    def check_module(self, name: str | None, node: Node, how: str) -> None:
        if name is None:
            self.add(
                "L5-JS-IMPORT-003",
                node,
                f"{how} of a computed module name: load modules only by a literal name",
            )
            return
        bare = name.removeprefix("node:")
        package = "/".join(bare.split("/")[:2]) if bare.startswith("@") else bare.split("/")[0]
        if bare in DENIED_MODULES or package in DENIED_MODULES:
            self.add("L5-JS-IMPORT-002", node, f"module '{name}' is never allowed (processes, network, code)")
        elif bare.startswith((".", "/")):
            self.add("L5-JS-IMPORT-004", node, f"loading code from a file ('{name}'): write one program")
        elif bare not in SAFE_BUILTINS and package not in self.allowed:
            self.add(
                "L5-JS-IMPORT-001",
                node,
                f"module '{name}' is not allowed: use safe built-in modules and the task's allowed libraries",
            )

    def _on_import_statement(self, node: Node) -> None:
        self.check_module(literal_string(node.child_by_field_name("source")), node, "import")

    def _on_export_statement(self, node: Node) -> None:
        source = node.child_by_field_name("source")
        if source is not None:
            self.check_module(literal_string(source), node, "export from")

    def _on_call_expression(self, node: Node) -> None:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        args = [] if arguments is None else list(arguments.named_children)
        if function is None:
            return
        if function.type == "import":
            self.check_module(literal_string(args[0]) if args else None, node, "dynamic import()")
        elif function.type == "identifier" and _text(function) == "require":
            self.check_module(literal_string(args[0]) if len(args) == 1 else None, node, "require()")
        name = _text(function) if function.type == "identifier" else None
        if function.type == "member_expression":
            name = _text(function.child_by_field_name("property"))
            root = _root_name(function)
            if (
                name in _MUTATORS
                and root in ("Object", "Reflect")
                and args
                and self._is_builtin_prototype(args[0])
            ):
                self.add(
                    "L5-JS-PROTO-001", node, f"{root}.{name} on a built-in prototype (prototype pollution)"
                )
        if (
            name in STRING_TIMERS
            and args
            and args[0].type in ("string", "template_string", "binary_expression")
        ):
            self.add("L5-JS-EVAL-002", node, f"{name} with a string compiles it as code: pass a function")
        if name is not None:
            self.check_fs(name, args, node)

    # Files -------------------------------------------------------------------------------------------
    def check_fs(self, name: str, args: list[Node], node: Node) -> None:
        if name in FS_DENIED:
            self.add("L5-JS-FS-003", node, f"fs.{name} changes links or permissions, which no task needs")
            return
        if name not in FS_WRITES and name not in _FS_READS:
            return
        paths = [p for p in (literal_string(a) for a in args[:2 if name in ("rename", "renameSync",
                 "copyFile", "copyFileSync", "cp", "cpSync") else 1]) if p is not None]  # fmt: skip
        roots = WRITE_ROOTS if name in FS_WRITES else READ_ROOTS
        for path in paths:
            absolute = posixpath.normpath(posixpath.join(OUTPUT_DIR, path))
            if not any(absolute == root or absolute.startswith(root + "/") for root in roots):
                kind = "writes" if name in FS_WRITES else "reads"
                self.add(
                    "L5-JS-FS-002" if name in FS_WRITES else "L5-JS-FS-001",
                    node,
                    f"fs.{name} {kind} '{path}', outside {', '.join(roots)}",
                )

    # Code from strings, globals ----------------------------------------------------------------------
    def _on_identifier(self, node: Node) -> None:
        name = _text(node)
        parent = node.parent
        if name in DENIED_GLOBALS:
            self.add("L5-JS-EVAL-001", node, f"'{name}': {DENIED_GLOBALS[name]}")
        elif name == "require" and not (
            parent is not None
            and (
                (parent.type == "call_expression" and parent.child_by_field_name("function") == node)
                or parent.type == "member_expression"
            )
        ):
            self.add(
                "L5-JS-LOAD-001",
                node,
                "require used as a value: the review cannot see what it loads; call require('name') directly",
                Verdict.ESCALATE,
            )

    def _on_with_statement(self, node: Node) -> None:
        self.add("L5-JS-WITH-001", node, "'with' hides which names a block reaches")

    # Properties --------------------------------------------------------------------------------------
    def check_property(self, name: str, node: Node) -> None:
        if name in DENIED_PROPERTIES:
            self.add("L5-JS-PROP-001", node, f"'{name}': {DENIED_PROPERTIES[name]}")
        elif name in DENIED_GLOBALS:  # globalThis.eval, global['ev' + 'al'], Reflect.get(global, 'eval')
            self.add("L5-JS-EVAL-001", node, f"'{name}': {DENIED_GLOBALS[name]}")

    def _on_property_identifier(self, node: Node) -> None:
        parent = node.parent
        if parent is not None and parent.type == "method_definition" and _text(node) == "constructor":
            return  # a class's own constructor method, not a reach into another's
        self.check_property(_text(node), node)

    def _on_shorthand_property_identifier_pattern(self, node: Node) -> None:
        self.check_property(_text(node), node)

    def _on_shorthand_property_identifier(self, node: Node) -> None:
        self.check_property(_text(node), node)

    def _on_pair(self, node: Node) -> None:
        value = literal_string(node.child_by_field_name("key"))
        if value is not None:
            self.check_property(value, node)

    def _on_arguments(self, node: Node) -> None:
        """Names given to reflection: Reflect.get(o, 'constructor'), Object.getOwnPropertyDescriptor(...)."""
        call = node.parent
        function = None if call is None else call.child_by_field_name("function")
        if function is not None and _root_name(function) in ("Reflect", "Object"):
            for argument in node.named_children:
                value = literal_string(argument)
                if value is not None:
                    self.check_property(value, argument)

    def _on_member_expression(self, node: Node) -> None:
        obj = node.child_by_field_name("object")
        prop = _text(node.child_by_field_name("property"))
        if obj is None or obj.type != "identifier":
            return
        root = _text(obj)
        if root == "process" and prop not in PROCESS_PROPERTIES:
            self.add("L5-JS-PROC-001", node, f"process.{prop} is not needed by a program and not allowed")
        elif root == "module" and prop not in MODULE_PROPERTIES:
            self.add("L5-JS-LOAD-002", node, f"module.{prop} reaches the module loader; only module.exports")
        elif root == "require":
            self.add("L5-JS-LOAD-002", node, f"require.{prop} reaches the module loader")

    def _on_subscript_expression(self, node: Node) -> None:
        index = node.child_by_field_name("index")
        value = literal_string(index)
        if value is not None:
            self.check_property(value, node)
            obj = node.child_by_field_name("object")
            if (
                obj is not None
                and obj.type == "identifier"
                and _text(obj) == "process"
                and value not in PROCESS_PROPERTIES
            ):
                self.add("L5-JS-PROC-001", node, f"process['{value}'] is not allowed")
            return
        if index is not None and index.type == "number":
            return
        root = _root_name(node)
        if root in OPAQUE_ROOTS:
            self.add(
                "L5-JS-OPAQUE-001",
                node,
                f"a computed property of '{root}': the review cannot tell what it reaches; use a literal",
                Verdict.ESCALATE,
            )

    # Prototype pollution -----------------------------------------------------------------------------
    @staticmethod
    def _is_builtin_prototype(node: Node) -> bool:
        """`Object.prototype`, `Array.prototype.x`...: a chain through a built-in's prototype."""
        while node.type in ("member_expression", "subscript_expression"):
            obj = node.child_by_field_name("object")
            prop = node.child_by_field_name("property") or node.child_by_field_name("index")
            if (
                obj is not None
                and obj.type == "identifier"
                and _text(obj) in _BUILTIN_CLASSES
                and (_text(prop) == "prototype" or literal_string(prop) == "prototype")
            ):
                return True
            if obj is None:
                return False
            node = obj
        return False

    def _on_assignment_expression(self, node: Node) -> None:
        left = node.child_by_field_name("left")
        if left is not None and self._is_builtin_prototype(left):
            self.add("L5-JS-PROTO-001", node, f"assigning to '{_text(left)}' changes a built-in prototype")

    def _on_augmented_assignment_expression(self, node: Node) -> None:
        self._on_assignment_expression(node)


def javascript_writes(code: str) -> list[str]:
    """Where JavaScript code writes files: 'writeFileSync line 3'... (empty when it writes none); the
    JavaScript twin of writes.file_writes for the Impact escalation trigger."""
    found = []
    for node in _walk(_PARSER.parse(code.encode("utf-8", "surrogatepass")).root_node):
        function = node.child_by_field_name("function") if node.type == "call_expression" else None
        if function is None:
            continue
        if function.type == "member_expression":
            function = function.child_by_field_name("property")
        name = _text(function)
        if name in FS_WRITES:
            found.append(f"{name} line {_line(node)}")
    return found


def _syntax_error(source: str, root: Node) -> tuple[Finding, str] | None:
    """The first unparsable or missing token, as a finding and a compiler-like report for the model."""
    if not root.has_error:
        return None
    bad = next((n for n in _walk(root) if n.type == "ERROR" or n.is_missing), root)
    line = _line(bad)
    what = f"missing '{bad.type}'" if bad.is_missing else f"unexpected '{_text(bad)[:40]}'"
    text = source.splitlines()[line - 1] if line <= len(source.splitlines()) else ""
    report = f"{PROGRAM_FILE}:{line}\n{text}\n{' ' * bad.start_point.column}^\n\nSyntaxError: {what}"
    message = f"syntax error: {what}"
    return Finding(rule=SYNTAX_RULE, line=line, message=message, verdict=Verdict.BLOCK), report


def review_javascript(source: str, *, allowed_libraries: Sequence[str], max_lines: int) -> ReviewResult:
    """Review JavaScript `source` (exactly what will run) and return the verdict with its findings."""
    data = source.encode("utf-8", "surrogatepass")
    findings = source_findings(source, data, python=False) + size_findings(source, max_lines)
    compile_error = None
    try:
        root = _PARSER.parse(data).root_node
        syntax = _syntax_error(source, root)
        if syntax is not None:
            findings.append(syntax[0])
            compile_error = syntax[1]
        findings += _Analysis(frozenset(allowed_libraries)).run(root)
    except RecursionError:
        message = "code is nested too deeply to review"
        findings.append(Finding(rule="L5-SYNTAX-002", line=1, message=message, verdict=Verdict.BLOCK))
    return review_result(findings, data, compile_error)
