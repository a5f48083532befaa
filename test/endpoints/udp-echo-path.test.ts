/**
 * The data path of `.udp --reply echo` (round 2, session 4): the answer is
 * sent from the message handler, and `literalLookup` answers the last IP
 * literal again without checking it. Each answer must still go to its own
 * sender when peers take turns, a socket closed by a subscriber of the
 * datagram event answers nothing, and a name is still looked up after a
 * literal was answered.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll, is, track } from '../helpers/loopback.js';
import { UDP } from '../../src/endpoints/udp.js';
import { literalLookup } from '../../src/endpoints/udp-send.js';

afterEach(closeAll);

async function bareUdp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  track(() => new Promise<void>((resolve) => s.close(() => resolve())));
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

/** One datagram from `peer` to 127.0.0.1:port; resolves to the answer it got. */
async function ask(peer: dgram.Socket, port: number, text: string): Promise<string> {
  const answer = once(peer, 'message') as Promise<[Buffer]>;
  peer.send(Buffer.from(text), port, '127.0.0.1');
  return (await answer)[0].toString();
}

describe('UDP --reply echo data path', () => {
  it('peers taking turns: each answer goes back to its own sender, and each send event names it', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0 --reply echo');
    const ep = rig.ctx.session.get('u1');
    const port = Number(ep.kind === 'udp' ? ep.local.split(':').at(-1) : 0);
    const a = await bareUdp();
    const b = await bareUdp();
    const heard = { a: [] as string[], b: [] as string[] };
    for (const [peer, name, text] of [[a, 'a', 'a1'], [b, 'b', 'b1'], [a, 'a', 'a2'], [a, 'a', 'a3'], [b, 'b', 'b2']] as const) {
      heard[name].push(await ask(peer, port, text));
    }
    expect(heard).toEqual({ a: ['a1', 'a2', 'a3'], b: ['b1', 'b2'] });
    await rig.log.waitFor((ev) => ev.type === 'send' && ev.data.toString() === 'b2');
    const to = (p: dgram.Socket): string => `127.0.0.1:${p.address().port}`;
    const sends = rig.log.events.flatMap((ev) => (ev.type === 'send' ? [`${ev.data.toString()} → ${ev.to}`] : []));
    expect(sends).toEqual([`a1 → ${to(a)}`, `b1 → ${to(b)}`, `a2 → ${to(a)}`, `a3 → ${to(a)}`, `b2 → ${to(b)}`]);
    expect(ep).toMatchObject({ datagramsIn: 5, datagramsOut: 5, lastPeer: { host: '127.0.0.1', port: b.address().port } });
  });

  it('a subscriber that closes the socket on its datagram event: no answer, no send event', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0 --reply echo');
    const session = rig.ctx.session;
    const ep = session.get('u1');
    if (ep.kind !== 'udp') throw new Error('u1 is not udp');
    const unsubscribe = session.subscribe((ev) => {
      if (ev.type === 'datagram') UDP.close(session, ep, { force: false, all: false });
    });
    track(async () => unsubscribe());
    const peer = await bareUdp();
    peer.send(Buffer.from('last'), Number(ep.local.split(':').at(-1)), '127.0.0.1');
    await rig.log.waitFor(is('close', 'u1'));
    expect(rig.log.events.filter((ev) => ev.type === 'send')).toEqual([]);
    expect(ep).toMatchObject({ datagramsIn: 1, datagramsOut: 0 });
  });

  it('a reply the kernel refuses is an error event, not lost (Node drops the error of a send given no callback)', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0 --reply echo');
    const ep = rig.ctx.session.get('u1');
    if (ep.kind !== 'udp') throw new Error('u1 is not udp');
    // The kernel's answer to a send under a flood (ENOBUFS), given as the send's completion.
    const send = ep.socket.send.bind(ep.socket);
    ep.socket.send = ((...args: unknown[]) => {
      const done = args.at(-1);
      if (typeof done !== 'function') return (send as (...a: unknown[]) => void)(...args);
      process.nextTick(done, Object.assign(new Error('send ENOBUFS 127.0.0.1'), { code: 'ENOBUFS', syscall: 'send' }));
    }) as typeof ep.socket.send;
    const peer = await bareUdp();
    peer.send(Buffer.from('lost?'), Number(ep.local.split(':').at(-1)), '127.0.0.1');
    const error = await rig.log.waitFor((ev) => ev.type === 'error' && ev.id === 'u1');
    expect(error).toMatchObject({ code: 'ENOBUFS', message: 'send ENOBUFS 127.0.0.1' });
  });

  it('literalLookup: a literal once bound is answered at once, again from its cache; a name and anything before the bind go to dns.lookup', async () => {
    let bound = false;
    const lookup = literalLookup(() => bound) as unknown as (
      address: string,
      family: number,
      callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
    ) => void;
    /** `sync`: the callback ran inside the call (an answer at once, no tick). */
    const ask = (address: string, family = 4): { sync: boolean; answer: Promise<[string, number]> } => {
      let inside = true;
      let sync = false;
      const answer = new Promise<[string, number]>((resolve, reject) =>
        lookup(address, family, (err, addr, fam) => {
          sync = inside;
          if (err) reject(err);
          else resolve([addr, fam]);
        }),
      );
      inside = false;
      return { sync, answer };
    };
    const before = ask('127.0.0.1');
    expect(before.sync).toBe(false);
    expect(await before.answer).toEqual(['127.0.0.1', 4]);
    bound = true;
    for (let i = 0; i < 2; i++) {
      const literal = ask('127.0.0.1');
      expect(literal.sync).toBe(true);
      expect(await literal.answer).toEqual(['127.0.0.1', 4]);
    }
    const v6 = ask('::1', 6);
    expect(v6.sync).toBe(true);
    expect(await v6.answer).toEqual(['::1', 6]);
    const name = ask('localhost');
    expect(name.sync).toBe(false);
    expect(await name.answer).toEqual(['127.0.0.1', 4]);
    expect(ask('127.0.0.1').sync).toBe(true);
  });
});
