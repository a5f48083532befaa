/**
 * Issue #5.4, socket faults, in-process on real loopback sockets: a peer that
 * resets mid-transfer, writes after the peer's FIN, paused sockets whose peer
 * ends, a server closed under its clients. (Half-close with and without
 * --half-open is covered in test/session/session.test.ts; ENOTFOUND through
 * an injected lookup in test/session/session-connect.test.ts.)
 */
import { once } from 'node:events';
import net from 'node:net';
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/render/human.js';
import { sendTo } from '../../src/session/session.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, is, newSession, peerClient, peerServer, receive } from '../helpers/loopback.js';
import { MiB } from './helpers.js';
import { rejection } from '../helpers/errors.js';

afterEach(closeAll);

const plain = { time: false, colors: pc.createColors(false) };

describe('peer RST mid-transfer: exactly one error and one close', () => {
  it('while the peer sends to us', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    const theirs = await peer.nextSocket();
    // The peer pours data in; once socklab has read 4 MiB of it, the peer aborts with RST.
    session.subscribe((ev) => {
      if (ev.type === 'data' && c1.bytesIn >= 4 * MiB && !theirs.destroyed) theirs.resetAndDestroy();
    });
    const block = Buffer.alloc(MiB, 0x72);
    for (let i = 0; i < 64 && !theirs.destroyed; i++) {
      if (!theirs.write(block)) await Promise.race([once(theirs, 'drain'), once(theirs, 'close')]);
    }
    expect(theirs.destroyed).toBe(true);
    await log.waitFor(is('close', 'c1'), 5000);
    expect(log.of('error', 'c1').map((e) => e.code)).toEqual(['ECONNRESET']);
    expect(log.of('close', 'c1')).toEqual([expect.objectContaining({ hadError: true })]);
    expect(formatEvent(log.of('error', 'c1')[0]!, plain)).toBe('c1   error ECONNRESET (the peer aborted the connection with a reset (RST))');
  });

  it('while we send to the peer: the send fails with a message naming the reset', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    const theirs = await peer.nextSocket();
    let got = 0;
    theirs.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= 2 * MiB && !theirs.destroyed) theirs.resetAndDestroy();
    });
    const err = await rejection(sendTo(session, [c1], Buffer.alloc(64 * MiB, 0x73)));
    expect(err.code).toBe('E_STATE');
    expect(err.message).toMatch(/^c1 closed \((ECONNRESET|EPIPE)\) before the peer read everything we sent$/);
    await log.waitFor(is('close', 'c1'));
    expect(log.of('error', 'c1')).toHaveLength(1);
    expect(['ECONNRESET', 'EPIPE']).toContain(log.of('error', 'c1')[0]!.code);
    expect(log.of('close', 'c1')).toHaveLength(1);
  });
});

describe('peer FIN, then .send', () => {
  it('without --half-open our side ended too: .send is refused with the state', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept');
    await rig.ok('.end c2');
    await rig.ok('.wait c1 close');
    const err = await rig.fail('.send c1 late');
    expect(err).toMatchObject({ code: 'E_STATE', message: 'cannot send to c1: it is closed' });
  });

  it('with --half-open, the write after the peer closed is EPIPE: an error event with a hint and a failed .send, no crash', async () => {
    // The peer sends FIN and closes for good: our later write meets a reset.
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.end();
      s.once('finish', () => s.destroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const rig = commandRig();
    await rig.ok(`.connect ${(server.address() as net.AddressInfo).port} --half-open`);
    await rig.ok('.wait c1 end');
    expect(rig.ctx.session.getSocket('c1').state).toBe('half-closed (peer sent FIN)');
    // The first write may still be taken by the kernel; the reset it causes fails the next.
    let failure;
    for (let i = 0; i < 10 && failure === undefined; i++) {
      if (!(await rig.run('.send c1 x'))) failure = rig.log.of('command-error').at(-1);
    }
    expect(failure).toMatchObject({ code: 'E_STATE', message: 'c1 closed (EPIPE) before the peer read everything we sent' });
    const [error] = rig.log.of('error', 'c1');
    expect(formatEvent(error!, plain)).toBe('c1   error EPIPE (the peer has closed its side and reads no more)');
    expect(rig.log.of('close', 'c1')).toHaveLength(1);
    server.close();
  });
});

describe('.destroy right after .end, while our FIN is on its way', () => {
  it('closes the socket: no EINVAL from a refused reset, no socket that never closes (and .exit that never ends)', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.end c1');
    await rig.ok('.destroy c1'); // same turn of the event loop: libuv has not sent the FIN yet
    await rig.log.waitFor(is('close', 'c1'));
    expect(rig.log.of('error', 'c1')).toEqual([]);
    expect(rig.log.of('close', 'c1')).toEqual([expect.objectContaining({ aborted: true })]);
  });
});

describe('a paused socket whose peer sends FIN', () => {
  /** c1 → s1 accepted as c2; c2 paused; c1 sends "bye" and FIN, which c2 cannot read while paused. */
  async function pausedWithPendingFin() {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept');
    await rig.ok('.pause c2');
    await rig.ok('.send c1 bye');
    await rig.ok('.end c1');
    await rig.log.waitFor(is('shutdown', 'c1')); // our FIN is out; c2 cannot read it while paused
    return rig;
  }

  it('.close reads again, so it sees the data and the FIN and closes gracefully', async () => {
    const rig = await pausedWithPendingFin();
    expect(rig.log.of('end', 'c2')).toEqual([]);
    await rig.ok('.close c2');
    await rig.log.waitFor(is('close', 'c2'));
    expect(rig.log.of('data', 'c2').map((e) => e.data.toString())).toEqual(['bye']);
    expect(rig.log.of('end', 'c2')).toHaveLength(1);
    expect(rig.log.of('close', 'c2')).toEqual([expect.objectContaining({ hadError: false, aborted: false })]);
    await rig.log.waitFor(is('close', 'c1'));
  });

  it('.exit (shutdown) closes it gracefully at once, instead of waiting out the grace and resetting it', async () => {
    const rig = await pausedWithPendingFin();
    // Had shutdown waited out the grace, its timer would have destroyed c2: an aborted close.
    // That, not a time bound, is what says it did not wait (the grace is long, so it cannot race).
    await rig.ctx.session.shutdown(60_000);
    expect(rig.log.of('end', 'c2')).toHaveLength(1);
    expect(rig.log.of('close', 'c2')).toEqual([expect.objectContaining({ hadError: false, aborted: false })]);
  });
});

describe('a server closed while clients are connected', () => {
  it('.close says how many stay open; the port can be listened on again; --force ends the rest', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    const port = Number(rig.ctx.session.getServer('s1').address.split(':')[1]);
    const client = await peerClient(port);
    await rig.ok('.wait s1 accept as old');
    await rig.ok('.close s1');
    expect((await rig.log.waitFor(is('stop', 's1'))).open).toBe(1);
    // The port is free to listen on while s1's connection lives on.
    await rig.ok(`.listen ${port}`);
    expect(rig.ctx.session.getServer('s2').address).toBe(`127.0.0.1:${port}`);
    const second = await peerClient(port);
    await rig.ok('.wait s2 accept as fresh');
    await rig.ok('.send old still here');
    expect(await receive(client, 'still here')).toBe('still here');
    await rig.ok('.send fresh new server');
    expect(await receive(second, 'new server')).toBe('new server');
    // s1 is stopped, not closed: --force ends its last connection, and s1 closes.
    await rig.ok('.close s1 --force');
    await rig.log.waitFor(is('close', 's1'));
    expect(rig.log.of('close').find((e) => e.id === rig.ctx.session.get('old').id)).toMatchObject({ aborted: true });
    expect(rig.ctx.session.get('fresh').state).toBe('open');
  });
});
