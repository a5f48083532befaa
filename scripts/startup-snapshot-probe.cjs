'use strict';
// The start-up snapshot experiment of docs/performance.md ("Round 2, session 4"):
// NOT how socklab starts. A builder script for Node's user-land startup snapshot
// that holds the bundle with its top level already run, so callgrind.mjs can
// count what a snapshot start would cost (workloads startup-snapshot*):
//   node --snapshot-blob X.blob --build-snapshot scripts/startup-snapshot-probe.cjs
//   node --snapshot-blob X.blob -- --no-color -e '.set time on'
// What Node 20.20 forces on such a start (each found by trying):
// - node:repl cannot be required while building ("Array.prototype.filter called
//   on null" in node:repl's top level), and the bundle requires it at its top
//   level: it gets a stand-in that requires the real module on first use.
// - `console.Console` is undefined after deserializing, and node:repl's
//   createContext calls `new Console(...)`: put back here.
// - picocolors decides colour at its top level from env, argv and isatty: the
//   BUILD's, not the user's (not fixed here; the workloads pass --no-color).
// - argv after the blob are node's options unless after `--`; process.argv is
//   [node, ...args] (no script path).
const v8 = require('node:v8');
const { readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const BUNDLE = join(__dirname, '..', 'dist', 'socklab.cjs');
const realRequire = Module.createRequire(BUNDLE);
/** Built-ins that fail to load while a snapshot is built. */
const AFTER_START = new Set(['node:repl']);

/** A stand-in for a built-in, forwarding to the real module (required on first use). */
function later(id) {
  let real;
  const load = () => (real ??= realRequire(id));
  return new Proxy({}, {
    get: (_t, key) => load()[key],
    has: (_t, key) => key in load(),
    getPrototypeOf: () => Object.getPrototypeOf(load()),
  });
}

function bundleRequire(id) {
  return AFTER_START.has(id) ? later(id) : realRequire(id);
}
bundleRequire.resolve = realRequire.resolve;

// The bundle is stored wrapped in its module function (scripts/bundle.mjs).
const run = vm.runInThisContext(readFileSync(BUNDLE, 'latin1'), { filename: BUNDLE });
const bundle = { exports: {} };
run.call(bundle.exports, bundle.exports, bundleRequire, bundle, BUNDLE, dirname(BUNDLE));

const { Console } = console;
v8.startupSnapshot.setDeserializeMainFunction(() => {
  if (console.Console === undefined) console.Console = Console;
  bundle.exports.runMain(process.argv.slice(1));
});
