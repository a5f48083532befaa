/**
 * Issue #5.5: text that spans TCP chunks. A character split across two chunks
 * shows as that character; an escape sequence that never ends, followed by a
 * megabyte and a FIN, cannot swallow the lines after it — checked on the
 * bytes the REPL writes and on the screen of a real terminal (tmux).
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTmux, hasCommand, startTmux } from '../helpers/cli.js';
import { closeAll, is, recordEvents } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';
import { tmuxCommand } from '../helpers/tmux-repl.js';
import { MiB, rawControls } from './helpers.js';

afterEach(async () => {
  await cleanupTmux();
  await closeAll();
});

/** A REPL with a server s1, and a bare client of it whose chunks the test writes one by one. */
async function replWithClient(): Promise<{ h: ReturnType<typeof startHarness>; client: net.Socket; log: ReturnType<typeof recordEvents> }> {
  const h = startHarness();
  const log = recordEvents(h.session);
  h.type('.listen 0');
  const port = Number((await h.waitFor(/listening on 127\.0\.0\.1:\d+/)).split(':').at(-1));
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => {});
  await once(client, 'connect');
  await log.waitFor(is('accept', 'c1'));
  return { h, client, log };
}

/** Write one chunk and wait until socklab has received it, so the next write is a chunk of its own. */
async function chunk(client: net.Socket, log: ReturnType<typeof recordEvents>, data: Buffer): Promise<void> {
  const before = log.of('data', 'c1').length;
  client.write(data);
  await log.waitFor((ev) => ev.type === 'data' && log.of('data', 'c1').length > before);
}

describe('a UTF-8 character split across two TCP chunks', () => {
  it.each([
    ['a 4-byte emoji split 2 + 2', '😀', 2],
    ['a 3-byte CJK character split 1 + 2', '你', 1],
    ['a 2-byte é split 1 + 1', 'é', 1],
  ])('%s renders as that character, not as escapes', async (_name, char, at) => {
    const { h, client, log } = await replWithClient();
    const bytes = Buffer.from(`<${char}>`, 'utf8');
    await chunk(client, log, bytes.subarray(0, 1 + at));
    await chunk(client, log, bytes.subarray(1 + at));
    expect(log.of('data', 'c1')).toHaveLength(2);
    await h.waitFor(`c1   ← ${bytes.length - 1 - at} B  "${char}>"`);
    expect(h.output()).toContain(`c1   ← ${1 + at} B  "<"`);
    expect(h.output()).not.toMatch(/\\x[89a-f][0-9a-f]/);
  });

  it('a character split across three chunks (one byte each) still renders whole', async () => {
    const { h, client, log } = await replWithClient();
    const bytes = Buffer.from('咔', 'utf8');
    for (const b of bytes) await chunk(client, log, Buffer.from([b]));
    await h.waitFor('c1   ← 1 B  "咔"');
    expect(h.output()).not.toMatch(/\\x[89a-f][0-9a-f]/);
  });
});

// An OSC, a CSI and a DCS that are never terminated: raw, they would make the
// terminal swallow everything after them, the FIN and close lines included.
const UNTERMINATED = Buffer.from('\x1b]0;title that never ends \x1b[38;5;\x1bP', 'latin1');

describe('an unterminated escape sequence, then a megabyte, then FIN', () => {
  it('leaves the FIN and close lines whole on lines of their own, and no ESC in the output', async () => {
    const { h, client, log } = await replWithClient();
    client.write(UNTERMINATED);
    client.end(Buffer.alloc(MiB, 0x41));
    await log.waitFor(is('close', 'c1'), 10_000);
    await h.waitFor(/^c1 {3}closed$/m);
    const out = h.output();
    expect(out).toContain('"\\x1b]0;title that never ends \\x1b[38;5;\\x1bP');
    expect(out).toMatch(/^c1 {3}← FIN \(peer ended its side\)$/m);
    expect(rawControls(Buffer.from(out, 'utf8'))).toEqual([]);
    const received = log.of('data', 'c1').reduce((n, ev) => n + ev.data.length, 0);
    expect(received).toBe(UNTERMINATED.length + MiB);
  });

  it.skipIf(!hasCommand('tmux'))('in a real terminal the close line is visible after it', async () => {
    const term = await startTmux(['--no-time', '-e', '.listen 0'], { width: 80, height: 24 });
    const screen = await term.waitForScreen((s) => /listening on 127\.0\.0\.1:\d+/.test(s), 10_000, 'the listening line');
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(screen)![1]);
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    await once(client, 'connect');
    client.write(UNTERMINATED);
    client.end(Buffer.alloc(MiB, 0x41));
    const after = await term.waitForScreen((s) => /^c1 {3}closed$/m.test(s), 10_000, 'the close line of c1');
    expect(after).toMatch(/^c1 {3}← FIN \(peer ended its side\)$/m);
    // The title was not set: tmux shows the pane title it had, not the peer's.
    const title = (await tmuxCommand(term, ['display-message', '-p', '#{pane_title}'])).trim();
    expect(title).not.toContain('title that never ends');
    client.destroy();
  });
});
