/**
 * Issue #5.4, what takes long or happens often: a connect that never
 * completes (a real listener whose accept queue is full) ends at the default
 * connect timeout, and not before; thousands of connect/close cycles leave the
 * process's file descriptors and the session's maps where they were.
 * Neither asserts how fast anything is (a loaded machine would fail that):
 * the first has a lower bound only, the second counts, never times.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SocklabError } from '../../src/errors.js';
import { HumanPrinter } from '../../src/render/printer.js';
import { CLOSED_SLACK, MAX_CLOSED_KEPT } from '../../src/session/manager.js';
import { HISTORY_LIMIT, HISTORY_SLACK } from '../../src/observers/history.js';
import { createSession, type Session } from '../../src/session/session.js';
import { defaultSettings } from '../../src/settings.js';
import { closeAll, is, newSession, track, until } from '../helpers/loopback.js';
import { openFds, report } from './helpers.js';

afterEach(closeAll);

/**
 * A listener with a backlog of 1 in a child process whose event loop is
 * blocked, so it never accepts: once its accept queue is full, the kernel
 * drops further SYNs and a connect stays pending. Resolves with its port.
 */
async function fullBacklog(): Promise<number> {
  const code = `const s = require('net').createServer();
    s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(s.address().port + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // never accept
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(() => void child.kill('SIGKILL'));
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  // Linux queues backlog + 1 connections; these two complete and fill the queue.
  for (let i = 0; i < 2; i++) {
    const filler = net.connect(port, '127.0.0.1');
    filler.on('error', () => {});
    track(() => void filler.destroy());
    await once(filler, 'connect');
  }
  return port;
}

describe('a connect that never completes', () => {
  it('ends at the default connect timeout (10 s), not before, with ETIMEDOUT, one error and one close', async () => {
    const port = await fullBacklog();
    const { session, log } = newSession();
    expect(session.connectTimeout).toBe(10_000);
    const started = performance.now();
    const c1 = session.connect({ port });
    const err = (await c1.ready.then(() => undefined, (e: unknown) => e)) as SocklabError;
    const took = performance.now() - started;
    expect(err).toBeInstanceOf(SocklabError);
    expect(err).toMatchObject({ code: 'E_NET', osCode: 'ETIMEDOUT' });
    expect(err.message).toContain(`127.0.0.1:${port} after 10000 ms`);
    // Not before the timeout (timers never fire early; 100 ms for the clocks' rounding). No
    // upper bound: it gave up at all (the test's timeout catches a hang), and says after 10000 ms.
    expect(took).toBeGreaterThanOrEqual(9_900);
    await log.waitFor(is('close', 'c1'));
    expect(log.of('error', 'c1').map((e) => e.code)).toEqual(['ETIMEDOUT']);
    expect(log.of('close', 'c1')).toHaveLength(1);
    report(`a connect into a full accept queue gave up after ${Math.round(took)} ms`);
  });
});

/** Sizes of everything a session (and a human printer on it) keeps per endpoint. */
function footprint(session: Session, printer: HumanPrinter): Record<string, number> {
  // Private maps, read on purpose: they are what a long session must not grow.
  const size = (o: object, key: string): number => {
    const v = (o as Record<string, unknown>)[key];
    return v instanceof Map || v instanceof Set ? v.size : (v as unknown[]).length;
  };
  return {
    endpoints: session.list().length,
    names: session.names().length,
    waitSlots: size(session.events, 'slots'),
    expectStreams: size(session.expects, 'streams'),
    historySteps: session.history.steps.length,
    printerStreams: size(printer, 'streams'),
    printerExplained: size(printer, 'explained'),
  };
}

/** Cycles to fill every cap first, and cycles run after: enough to pass each cap many times over. */
const WARM_UP = 1000;
const MEASURED = 2000;

describe(`${(WARM_UP + MEASURED).toLocaleString('en')} connect/close cycles`, () => {
  it('leave the fd count and the session maps at their baseline', async () => {
    // 2 endpoints a cycle: the measured cycles close 16 times what the session keeps.
    expect(2 * MEASURED).toBeGreaterThan(10 * (MAX_CLOSED_KEPT + CLOSED_SLACK));
    // Not newSession(): its log would keep every one of the events this makes.
    const session = createSession();
    track(() => session.shutdown(200));
    const printer = new HumanPrinter(defaultSettings({ time: false }), () => {});
    session.subscribe(printer.handle);
    track(() => printer.close());
    const s1 = session.listen({ port: 0, reply: 'echo' });
    await s1.ready;
    const port = (s1.server.address() as net.AddressInfo).port;
    let closes = 0;
    let closesWanted = Infinity;
    let reached = (): void => {};
    const errors: string[] = [];
    session.subscribe((ev) => {
      if (ev.type === 'close' && ++closes === closesWanted) reached();
      if (ev.type === 'error') errors.push(`${ev.id} ${ev.code}`);
    });
    /** Resolves when the session has seen `n` closes in all (an event, not a poll). */
    const closesReach = (n: number): Promise<void> =>
      new Promise((resolve) => {
        closesWanted = n;
        reached = resolve;
        if (closes >= n) resolve();
      });

    /** `n` cycles, 100 at a time: connect, one byte there and back, FIN, both ends closed. */
    const cycles = async (n: number): Promise<void> => {
      for (let done = 0; done < n; done += 100) {
        const eps = Array.from({ length: 100 }, () => session.connect({ port }));
        await Promise.all(eps.map((ep) => ep.ready));
        const allClosed = closesReach(closes + 200);
        for (const ep of eps) ep.socket.end('x');
        await allClosed;
      }
    };
    const started = performance.now();
    await cycles(WARM_UP); // the kept closed endpoints and the history fill to their caps
    const fdsBefore = openFds();
    const droppedBefore = session.history.dropped;
    const baseline = footprint(session, printer);
    // Closed endpoints and history steps are dropped in batches: at their cap, give or take one batch.
    const withinCaps = (f: Record<string, number>): void => {
      expect(f.endpoints).toBeGreaterThanOrEqual(1 + MAX_CLOSED_KEPT);
      expect(f.endpoints).toBeLessThan(1 + MAX_CLOSED_KEPT + CLOSED_SLACK);
      expect(f.historySteps).toBeGreaterThanOrEqual(HISTORY_LIMIT);
      expect(f.historySteps).toBeLessThan(HISTORY_LIMIT + HISTORY_SLACK);
    };
    withinCaps(baseline);

    await cycles(MEASURED);
    const ms = performance.now() - started;
    // The history passed its cap more than twice over while we counted.
    expect(session.history.dropped - droppedBefore).toBeGreaterThan(2 * HISTORY_LIMIT);
    await until(() => openFds() <= fdsBefore, 2000, 'the fds of the last sockets closed');
    expect(openFds()).toBe(fdsBefore);
    const after = footprint(session, printer);
    withinCaps(after);
    // Everything else is back exactly where it was; the batched counts stay within their caps.
    const steady = (f: Record<string, number>) => ({ ...f, endpoints: 0, names: 0, waitSlots: 0, expectStreams: 0, historySteps: 0 });
    expect(steady(after)).toEqual(steady(baseline));
    for (const key of ['names', 'waitSlots', 'expectStreams'] as const) {
      expect(after[key]).toBeLessThanOrEqual((baseline[key] ?? 0) + CLOSED_SLACK);
    }
    expect(s1.connections.size).toBe(0);
    expect(s1.accepted).toBe(WARM_UP + MEASURED);
    expect(errors).toEqual([]);
    report(`${WARM_UP + MEASURED} connect/close cycles: ${Math.round(ms)} ms; maps at ${JSON.stringify(baseline)}; ${fdsBefore} fds before and after`);
  });
});
