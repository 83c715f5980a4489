// level5 runtime policy for JavaScript, the part inside Node: loaded with --require by node_launch.py before
// the program's first line (Node's permission model does the rest; see node_launch.py).
//
// - require() of a module outside the policy's allowedModules (built-in or npm package), or of a file by
//   path (code the program could have written), stops the program at once: one JSON line on the report
//   descriptor, exit EXIT_POLICY_VIOLATION, so no try/catch in the program can swallow it (as policy.py);
// - process.kill stops the program (L5-RT-SIGNAL), as os.kill does under policy.py;
// - every function of `vm` (which compiles strings in contexts the code-generation flag does not cover) does
//   the same, also when reached through a dynamic import();
// - a denial of the permission model or of code generation that ends the program is reported the same way.
//   One the program catches is still denied, but not reported (Node gives no hook for it).
// The program can undo none of this: the patched functions are frozen before it runs.
'use strict';

const fs = require('fs');
const Module = require('module');
const vm = require('vm');

const EXIT_POLICY_VIOLATION = 86; // must equal policy.EXIT_POLICY_VIOLATION
const PROGRAM = process.argv[1];
const reportFd = Number(process.env.LEVEL5_REPORT_FD);
const allowed = new Set(JSON.parse(process.env.LEVEL5_ALLOWED_MODULES || '[]'));
delete process.env.LEVEL5_REPORT_FD;
delete process.env.LEVEL5_ALLOWED_MODULES;
const exit = process.reallyExit.bind(process);
const writeSync = fs.writeSync;
const stringify = JSON.stringify;

// Node's permission scopes -> the rule ids of policy.py's RULES.
const PERMISSION_RULES = {
  FileSystemRead: 'L5-RT-READ',
  FileSystemWrite: 'L5-RT-WRITE',
  ChildProcess: 'L5-RT-PROCESS',
  WorkerThreads: 'L5-RT-PROCESS',
  Addon: 'L5-RT-NATIVE',
  WASI: 'L5-RT-NATIVE',
  Inspector: 'L5-RT-INTROSPECT',
};

function programLine(stack) {
  const escaped = PROGRAM.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}:(\\d+)`).exec(String(stack || ''));
  return match ? Number(match[1]) : null;
}

function stop(rule, event, attempted, stack, message) {
  const record = { rule, event, attempted: String(attempted).slice(0, 1024), line: programLine(stack) };
  try {
    writeSync(reportFd, `${stringify(record)}\n`);
    writeSync(2, `PolicyViolation: ${rule}: ${message}\n${stack || ''}\n`);
  } finally {
    exit(EXIT_POLICY_VIOLATION);
  }
}

function builtinName(request) {
  return request.startsWith('node:') ? request.slice(5) : request;
}

function fromPackage(parent) {
  return Boolean(parent && parent.filename && parent.filename.startsWith('/node_modules/'));
}

const originalLoad = Module._load;
function guardedLoad(request, parent, isMain) {
  // The program itself, and what the installed npm packages load for themselves, pass.
  if (isMain || fromPackage(parent)) return originalLoad.apply(this, arguments);
  const name = builtinName(String(request));
  const packageName = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0];
  if (name.startsWith('.') || name.startsWith('/')) {
    stop('L5-RT-EXEC', 'require', request, new Error().stack, `loading code from a file: ${request}`);
  }
  if (!allowed.has(name) && !allowed.has(packageName)) {
    stop('L5-RT-IMPORT', 'require', request, new Error().stack, `module ${request} is not allowed`);
  }
  return originalLoad.apply(this, arguments);
}
Object.defineProperty(Module, '_load', { value: guardedLoad, writable: false, configurable: false });

for (const name of Object.keys(vm)) {
  if (typeof vm[name] !== 'function') continue;
  const denied = function () {
    stop('L5-RT-EXEC', `vm.${name}`, name, new Error().stack, `vm.${name} compiles code`);
  };
  Object.defineProperty(vm, name, { value: denied, writable: false, configurable: false });
}
Module.syncBuiltinESMExports();
Object.freeze(vm);

// Signals: the permission model does not cover process.kill, and in gVisor a SIGKILL reaches even the
// container's PID 1 (the runner) from inside (found by the escape corpus run in a sandbox pod).
Object.defineProperty(process, 'kill', {
  value: function kill(pid, signal) {
    stop('L5-RT-SIGNAL', 'process.kill', `${pid} ${signal || 'SIGTERM'}`, new Error().stack, 'sending a signal');
  },
  writable: false,
  configurable: false,
});

process.on('uncaughtExceptionMonitor', (err) => {
  if (err && err.code === 'ERR_ACCESS_DENIED') {
    // process.binding's refusal names no permission scope: it is a reach for native bindings.
    const scope = err.permission || (String(err.message).includes('binding') ? 'Addon' : 'Unknown');
    const rule = PERMISSION_RULES[scope] || 'L5-RT-UNJUDGED';
    stop(rule, scope, err.resource || err.message, err.stack, `${scope} ${err.resource || ''}`.trim());
  }
  if (err instanceof EvalError && /Code generation from strings/.test(err.message)) {
    stop('L5-RT-EXEC', 'eval', 'code generation from a string', err.stack, err.message);
  }
});
