/**
 * `.proxy --frame` (SPEC 12): the bytes are relayed as they come; what each
 * link socket receives is also cut into messages, shown as `message` events
 * in place of the relay's chunk lines. A prefix over `--max-message` resets
 * the link instead of allocating.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, collect, is, peerClient, peerServer } from '../helpers/loopback.js';
import { HumanPrinter } from '../../src/render/printer.js';
import { defaultSettings } from '../../src/settings.js';
import type { MessageEvent } from '../../src/session/events.js';

afterEach(closeAll);

const portOf = (rig: CommandRig, ref: string): number => {
  const ep = rig.ctx.session.get(ref);
  if (ep.kind !== 'relay') throw new Error(`${ref} is not a relay`);
  return Number(ep.address.split(':').at(-1));
};

const len16 = (...messages: string[]): Buffer =>
  Buffer.concat(messages.map((m) => {
    const body = Buffer.from(m);
    const head = Buffer.alloc(2);
    head.writeUInt16BE(body.length);
    return Buffer.concat([head, body]);
  }));

describe('.proxy --frame', () => {
  it('one write of three len16 messages: relayed unchanged, shown as three messages of the client socket', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port} --frame len16`);
    const client = await peerClient(portOf(rig, 'p1'), { allowHalfOpen: true });
    const server = await peer.nextSocket();
    const atServer = collect(server);
    const serverEnded = new Promise<void>((resolve) => server.once('end', () => resolve()));
    const bytes = len16('one', 'two', 'three');
    client.end(bytes);
    await serverEnded;
    expect(atServer.data().equals(bytes)).toBe(true);
    await rig.log.waitFor((ev) => ev.type === 'message' && ev.id === 'c1' && ev.data.toString() === 'three');
    const messages = rig.log.of('message', 'c1').map((ev: MessageEvent) => ev.data.toString());
    expect(messages).toEqual(['one', 'two', 'three']);
    // Every relay event says it is framed, and the human view shows the messages, not the chunk.
    const relays = rig.log.of('relay');
    expect(relays.length).toBeGreaterThan(0);
    expect(relays.every((ev) => ev.framed === true)).toBe(true);
    const lines: string[] = [];
    const printer = new HumanPrinter(defaultSettings({ time: false, color: false }), (text) => lines.push(text));
    for (const ev of rig.log.events) printer.handle(ev);
    printer.close();
    const text = lines.join('');
    expect(text).toMatch(/c1 +← msg 3 B {2}"one"/);
    expect(text).not.toMatch(/p1 +c1 ⇒ c2/);
  });

  it('a length prefix over --max-message: an error on the socket that received it, and the link is reset', async () => {
    const peer = await peerServer({});
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port} --frame len32 --max-message 1024`);
    const client = await peerClient(portOf(rig, 'p1'));
    client.on('error', () => {});
    const head = Buffer.alloc(4);
    head.writeUInt32BE(0xfffffff0);
    client.write(head);
    const err = await rig.log.waitFor(is('error', 'c1'));
    expect(err.message).toMatch(/1024|max-message/);
    await rig.log.waitFor(is('close', 'c1'));
    await rig.log.waitFor(is('close', 'c2'));
  });

  it('refuses a bad SPEC with one line, before listening', async () => {
    const rig = commandRig();
    const err = await rig.fail('.proxy 0 127.0.0.1:9 --frame len17');
    expect(err.message).toMatch(/len16|line/);
    expect(rig.ctx.session.list()).toHaveLength(0);
  });
});
