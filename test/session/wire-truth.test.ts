/**
 * Issue 10, items 1 and 2: every line that names a FIN or an RST says what the
 * peer sent, checked against a Python peer (its socket module reports what the
 * kernel reports, without libuv's view, which turns an RST behind unread bytes
 * into end-of-stream).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/render/human.js';
import pc from 'picocolors';
import { sendTo } from '../../src/session/session.js';
import { closeAll, is, newSession } from '../helpers/loopback.js';
import { pythonPeer } from '../helpers/python-peer.js';

afterEach(closeAll);
const plain = { time: false, colors: pc.createColors(false) };

describe('an RST from the peer is shown as a reset, also behind bytes not yet read', () => {
  for (const bytes of [0, 10, 20_000]) {
    it(`${bytes} B queued in our kernel, then the RST`, async () => {
      const py = await pythonPeer();
      const { session, log } = newSession();
      const c1 = session.connect({ port: py.port });
      await c1.ready;
      await py.accepted;
      session.pause(c1, true);
      if (bytes > 0) await py.ask(`send ${bytes}`, ['sent']);
      await py.ask('rst', ['closed']);
      session.pause(c1, false);
      await log.waitFor(is('close', 'c1'));
      expect(log.of('end', 'c1')).toEqual([]);
      expect(log.of('error', 'c1').map((e) => e.code)).toEqual(['ECONNRESET']);
      expect(log.of('close', 'c1')).toEqual([expect.objectContaining({ hadError: true })]);
      expect(c1.bytesIn).toBe(bytes);
    });
  }

  it('a FIN behind unread bytes stays a FIN, and the close is clean', async () => {
    const py = await pythonPeer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: py.port });
    await c1.ready;
    await py.accepted;
    session.pause(c1, true);
    await py.ask('send 20000', ['sent']);
    await py.ask('fin', ['closed']);
    session.pause(c1, false);
    await log.waitFor(is('close', 'c1'));
    expect(log.of('end', 'c1')).toHaveLength(1);
    expect(log.of('error', 'c1')).toEqual([]);
    expect(log.of('close', 'c1')).toEqual([expect.objectContaining({ hadError: false })]);
    expect(formatEvent(log.of('end', 'c1')[0]!, plain)).toBe('c1   ← FIN (peer ended its side)');
  });

  it('with --half-open the reset behind unread bytes is a reset too', async () => {
    const py = await pythonPeer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: py.port, halfOpen: true });
    await c1.ready;
    await py.accepted;
    session.pause(c1, true);
    await py.ask('send 10', ['sent']);
    await py.ask('rst', ['closed']);
    session.pause(c1, false);
    await log.waitFor(is('close', 'c1'));
    expect(log.of('end', 'c1')).toEqual([]);
    expect(log.of('error', 'c1').map((e) => e.code)).toEqual(['ECONNRESET']);
  });
});

describe('.destroy sends an RST, also with bytes still queued, and says how many it discarded', () => {
  it('a Python reader gets ConnectionResetError, and the close line counts the queued bytes', async () => {
    const py = await pythonPeer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: py.port });
    await c1.ready;
    await py.accepted;
    // More than the kernel can hold for a peer that does not read (send buffer at most
    // net.ipv4.tcp_wmem's 4 MiB, plus the peer's unread receive buffer), so some stays in Node.
    const sent = await sendTo(session, [c1], Buffer.alloc(6 * 1024 * 1024, 1), { noDrain: true });
    expect(sent.buffered.c1).toBeGreaterThan(0);
    session.destroy(c1);
    await log.waitFor(is('close', 'c1'));
    expect(await py.ask('read', ['EOF', 'RESET'])).toMatch(/^RESET /);
    const close = log.of('close', 'c1')[0]!;
    expect(close).toMatchObject({ aborted: true, reset: true });
    expect(close.discarded).toBeGreaterThan(0);
    expect(formatEvent(close, plain)).toMatch(/^c1 {3}closed \(aborted by us; \d+(\.\d)? (MiB|KiB) still queued, discarded\)$/);
  });

  it('.end then .destroy while our writes are still queued: still an RST (the old code sent a FIN)', async () => {
    const py = await pythonPeer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: py.port });
    await c1.ready;
    await py.accepted;
    await sendTo(session, [c1], Buffer.alloc(6 * 1024 * 1024, 1), { noDrain: true });
    session.end(c1);
    session.destroy(c1);
    await log.waitFor(is('close', 'c1'));
    expect(await py.ask('read', ['EOF', 'RESET'])).toMatch(/^RESET /);
    expect(log.of('close', 'c1')[0]).toMatchObject({ aborted: true, reset: true });
    expect(log.of('error', 'c1')).toEqual([]);
  });

  it('.destroy with nothing queued: an RST, and the line says nothing was discarded', async () => {
    const py = await pythonPeer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: py.port });
    await c1.ready;
    await py.accepted;
    session.destroy(c1);
    await log.waitFor(is('close', 'c1'));
    expect(await py.ask('read', ['EOF', 'RESET'])).toBe('RESET 0');
    expect(formatEvent(log.of('close', 'c1')[0]!, plain)).toBe('c1   closed (aborted by us)');
  });
});
