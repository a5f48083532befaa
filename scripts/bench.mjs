// `npm run bench`: socklab against bare Node (and socat, ncat) in one
// invocation; one table of ratios. See docs/performance.md.
//
//   node scripts/bench.mjs [--only echo,json,suite,…] [--rounds N]
//
// Every server under test runs in a child process; the load is generated
// here. Every child is killed at the end, also on failure or Ctrl+C, and the
// whole run is bounded by a watchdog.
import { execSync } from 'node:child_process';
import os from 'node:os';
import { acceptRows, memoryRows, pingPongRows } from './bench/connections.mjs';
import { killAll } from './bench/procs.mjs';
import { scriptRows } from './bench/script-steps.mjs';
import { startupRows } from './bench/startup.mjs';
import { suiteRows } from './bench/suite.mjs';
import { failed, render } from './bench/table.mjs';
import { echoRows, oneWayRows, toolRows } from './bench/throughput.mjs';
import { jsonRows } from './bench/json.mjs';
import { udpRows } from './bench/udp.mjs';
import { relayRows } from './bench/relay.mjs';
import { framedRows } from './bench/framed.mjs';
import { serveRows } from './bench/serve.mjs';
import { ruleRows } from './bench/rules.mjs';
import { tlsRows } from './bench/tls.mjs';

/**
 * In the order; each runs its baseline and socklab interleaved, this
 * many rounds. Bulk throughput on this kind of VM swings ±30 % from run to
 * run, so it gets three; the memory of 10k idle connections varies by ~3 %
 * and takes ~20 s a pair, so one.
 */
const SECTIONS = [
  ['echo', '1. echo', echoRows, 3],
  ['oneway', '2. one-way', oneWayRows, 3],
  ['pingpong', '3. ping-pong', pingPongRows, 2],
  ['json', '4. --json', jsonRows, 2],
  ['accept', '5. accept', acceptRows, 2],
  ['memory', '6. memory', memoryRows, 1],
  ['startup', '7. start-up', startupRows, 5],
  ['script', '8. script', scriptRows, 3],
  ['tools', '9. socat / ncat', toolRows, 3],
  ['suite', '10. test suite', suiteRows, 1],
  ['udp', '11. UDP echo', udpRows, 3],
  ['relay', '12. relay', relayRows, 3],
  ['tls', '13. TLS', tlsRows, 3],
  ['framed', '14. framed ping-pong', framedRows, 2],
  ['rules', '15. rule ping-pong', ruleRows, 2],
  ['serve', '16. classroom page', serveRows, 3],
];
/** A section still running after this long is stuck: every child is killed and the bench exits 1. */
const WATCHDOG_MS = 6 * 60_000;

function parseArgs(argv) {
  const opts = { only: undefined, rounds: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') opts.only = new Set(String(argv[++i]).split(','));
    else if (argv[i] === '--rounds') opts.rounds = Math.max(1, Number(argv[++i]) || 1);
    else {
      process.stderr.write(`usage: node scripts/bench.mjs [--only ${SECTIONS.map((s) => s[0]).join(',')}] [--rounds N]\n`);
      process.exit(2);
    }
  }
  return opts;
}

function sh(cmd) {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

const log = (text) => process.stderr.write(`${text}\n`);
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const cpu = os.cpus()[0]?.model ?? '?';
  const header = [
    `socklab bench — ${new Date().toISOString()}`,
    `nproc ${sh('nproc')} (${cpu}), node ${process.version}, ${os.type()} ${os.release()}, ulimit -n ${sh('ulimit -n')}`,
    `socat: ${sh('socat -V 2>/dev/null | grep -m1 "socat version"') || 'not installed'}; ncat: ${sh('ncat --version 2>&1') || 'not installed'}`,
    `load average at start: ${loadavg()} (anything else running skews every number)`,
    `each metric: baseline and socklab interleaved, ${opts.rounds ?? '1–3'} rounds, medians; ratio = socklab / baseline`,
  ];
  log(header.join('\n'));
  const rows = [];
  const t0 = performance.now();
  for (const [key, title, run, rounds] of SECTIONS) {
    if (opts.only && !opts.only.has(key)) continue;
    armWatchdog(title);
    const s0 = performance.now();
    try {
      rows.push(...(await run(opts.rounds ?? rounds, log)));
    } catch (err) {
      log(`  ${title} failed: ${err?.stack ?? err}`);
      rows.push(failed(title, err));
    }
    log(`  (${((performance.now() - s0) / 1000).toFixed(1)} s)`);
  }
  killAll();
  const total = ((performance.now() - t0) / 1000).toFixed(0);
  process.stdout.write(`\n${header.join('\n')}\n\n${render(rows)}\n\n(total ${total} s; load average at end: ${loadavg()})\n`);
  const missed = rows.filter((r) => r.ok === false).map((r) => r.metric);
  if (missed.length > 0) process.stdout.write(`missed: ${missed.join('; ')}\n`);
}

let watchdog;
/** (Re)start the watchdog: one section may take WATCHDOG_MS, however many sections run. */
function armWatchdog(what) {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    log(`bench: watchdog: ${what} still running after ${WATCHDOG_MS / 1000} s, killing every child`);
    killAll();
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}
process.on('exit', killAll);

main().then(
  () => process.exit(0),
  (err) => {
    log(`bench: ${err?.stack ?? err}`);
    killAll();
    process.exit(1);
  },
);
