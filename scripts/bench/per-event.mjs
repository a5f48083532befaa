#!/usr/bin/env node
// socklab's own per-event work, without sockets: N pairs of `data` + `send`
// events (64 B, the ping-pong's) emitted through a real Session with the
// REPL's subscribers (the human printer, folded as in a flood, and the output
// gate). For instruction counts, run it under callgrind at two sizes and take
// the slope (docs/performance.md, "Round 2, session 6"); --single-threaded
// makes TurboFan compile at the same points each run:
//   valgrind --tool=callgrind --separate-threads=yes node --single-threaded scripts/bench/per-event.mjs 20000
//   … 120000; the main thread's count (callgrind.out.PID-01) of each, difference / 100,000.
// Usage: node scripts/bench/per-event.mjs N [DIST]   (DIST: a build's dist/ folder, default this checkout's)
import { fileURLToPath } from 'node:url';

const [nArg, distArg] = process.argv.slice(2);
const dist = distArg ?? fileURLToPath(new URL('../../dist', import.meta.url));
const { createSession } = await import(`${dist}/session/session.js`);
const { HumanPrinter } = await import(`${dist}/render/printer.js`);
const { OutputGate } = await import(`${dist}/observers/output-gate.js`);
const { defaultSettings } = await import(`${dist}/settings.js`);

const session = createSession();
const printer = new HumanPrinter(defaultSettings({ time: true }), () => {}, 10);
session.subscribe(printer.handle, { keepsBytes: false });
const gate = new OutputGate(session, { writableNeedDrain: false, once() {} });
session.subscribe(gate.watch, { keepsBytes: false });

const N = Number(nArg ?? 100_000);
const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64, 97));
const started = Date.now();
for (let i = 0; i < N; i++) {
  const data = chunks[i & 63];
  const t = Date.now();
  session.emit({ type: 'data', t, id: 'c1', data });
  session.emit({ type: 'send', t, id: 'c1', data });
}
printer.close();
process.stderr.write(`${N} data + send pairs in ${Date.now() - started} ms\n`);
