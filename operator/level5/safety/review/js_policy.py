"""Policy tables for the pre-execution review of JavaScript (layer 3): which modules, globals and properties
are safe. Data only; the logic is in ``javascript``. Deny by default, as for Python: a module not listed as a
safe built-in nor allowed by the task is blocked, and the deny lists win over a task's ``allowedLibraries``.
"""

from __future__ import annotations

# Node built-in modules that cannot reach processes, the network, code compilation or the runtime's
# internals. `fs` is here because tasks read /data and write /output: its literal paths are checked
# against the sandbox's roots, and Node's permission model enforces them at run time whatever the path.
SAFE_BUILTINS = frozenset(
    {
        "assert", "assert/strict", "buffer", "console", "crypto", "events", "fs", "fs/promises", "path",
        "path/posix", "perf_hooks", "querystring", "readline", "stream", "stream/promises", "string_decoder",
        "timers", "timers/promises", "url", "util", "util/types", "zlib",
    }
)  # fmt: skip

# Never loadable, even when a task lists them: processes, network, code compilation, the runtime's internals.
DENIED_MODULES = frozenset(
    {
        "child_process", "cluster", "dgram", "dns", "dns/promises", "http", "http2", "https", "net", "tls",
        "vm", "worker_threads", "v8", "inspector", "inspector/promises", "module", "process", "repl", "wasi",
        "async_hooks", "trace_events", "diagnostics_channel", "os", "sys", "domain", "punycode",
        "node-fetch", "axios", "got", "request", "undici", "ws", "shelljs", "execa",
    }
)  # fmt: skip

# Globals that compile strings or load native code, whatever they are called through.
DENIED_GLOBALS = {
    "eval": "eval compiles a string as code",
    "Function": "the Function constructor compiles a string as code",
    "WebAssembly": "WebAssembly runs native code",
    "AsyncFunction": "the AsyncFunction constructor compiles a string as code",
    "GeneratorFunction": "the GeneratorFunction constructor compiles a string as code",
}

# Property names that reach a constructor chain, the prototype chain, the module loader or native bindings,
# wherever they appear (obj.name, obj["name"], a string literal passed to Reflect.get...).
DENIED_PROPERTIES = {
    "constructor": "constructor chains (this.constructor.constructor) reach the Function constructor",
    "__proto__": "__proto__ rewrites prototypes (prototype pollution)",
    "__defineGetter__": "legacy accessors rewrite prototypes",
    "__defineSetter__": "legacy accessors rewrite prototypes",
    "__lookupGetter__": "legacy accessors reach hidden functions",
    "__lookupSetter__": "legacy accessors reach hidden functions",
    "setPrototypeOf": "changing prototypes is prototype pollution",
    "caller": "function.caller reaches other functions' frames",
    "callee": "arguments.callee reaches the calling function",
    "prepareStackTrace": "the V8 stack-trace API hands out other functions and their `this`",
    "getThis": "the V8 stack-trace API hands out other functions and their `this`",
    "getFunction": "the V8 stack-trace API hands out other functions and their `this`",
    "binding": "process.binding reaches the runtime's native bindings",
    "_linkedBinding": "process._linkedBinding reaches the runtime's native bindings",
    "dlopen": "process.dlopen loads native code",
    "mainModule": "process.mainModule reaches the module loader",
    "_load": "the module loader's internals load any module",
    "_resolveFilename": "the module loader's internals",
    "_compile": "Module._compile compiles a string as code",
    "getBuiltinModule": "process.getBuiltinModule loads any built-in module",
    "reallyExit": "the runtime's internal exit",
}

# The only properties of `process` a program needs.
PROCESS_PROPERTIES = frozenset(
    {
        "argv", "env", "exit", "exitCode", "stdout", "stderr", "stdin", "cwd", "hrtime", "memoryUsage",
        "nextTick", "platform", "version", "versions", "uptime", "on", "once", "emitWarning", "cpuUsage",
    }
)  # fmt: skip

# The only properties of `module` and `require` a program needs.
MODULE_PROPERTIES = frozenset({"exports"})
REQUIRE_PROPERTIES = frozenset[str]()

# Objects through which a computed property (obj[expr]) could reach anything: the review cannot resolve it.
OPAQUE_ROOTS = frozenset(
    {"globalThis", "global", "this", "process", "module", "require", "Reflect", "Object"}
)

# fs functions that write, and those that change links or permissions (never needed).
FS_WRITES = frozenset(
    {
        "writeFile", "writeFileSync", "appendFile", "appendFileSync", "mkdir", "mkdirSync", "rm", "rmSync",
        "rmdir", "rmdirSync", "unlink", "unlinkSync", "rename", "renameSync", "copyFile", "copyFileSync",
        "cp", "cpSync", "createWriteStream", "truncate", "truncateSync", "mkdtemp", "mkdtempSync",
    }
)  # fmt: skip
FS_DENIED = frozenset(
    {
        "symlink", "symlinkSync", "link", "linkSync", "chmod", "chmodSync", "chown", "chownSync", "lchown",
        "lchownSync", "lchmod", "lchmodSync", "fchmod", "fchmodSync", "fchown", "fchownSync", "utimes",
        "utimesSync", "lutimes", "lutimesSync",
    }
)  # fmt: skip

# Timers given a string compile it.
STRING_TIMERS = frozenset({"setTimeout", "setInterval", "setImmediate"})
