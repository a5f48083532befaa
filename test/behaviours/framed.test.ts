/**
 * `--frame` on `.listen` and `.connect` (SPEC 12) with real peers on
 * loopback: a Node client writing three messages in one chunk and one
 * message in many chunks, replies per message, `.send` that frames (and
 * `--raw`), `.show`, `.wait … message`, `.expect` on the bytes, and a python3
 * peer that resets inside a message.
 */
import { once } from 'node:events';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage, parseFrameSpec } from '../../src/protocols/framing.js';
import type { MessageEvent } from '../../src/session/events.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, collect, is, peerClient, peerServer, until } from '../helpers/loopback.js';
import { pythonPeer } from '../helpers/python-peer.js';

afterEach(closeAll);

const len16 = (...messages: string[]): Buffer => Buffer.concat(messages.map((m) => encodeMessage(parseFrameSpec('len16'), Buffer.from(m))));
const messagesOf = (rig: CommandRig, id: string): string[] => rig.log.of('message', id).map((ev) => ev.data.toString('utf8'));

/** `.listen 0 OPTIONS` and a Node client connected to it; the accepted socket is c1. */
async function framedServer(options: string): Promise<{ rig: CommandRig; client: net.Socket }> {
  const rig = commandRig();
  await rig.ok(`.listen 0 ${options}`);
  const { port } = await rig.log.waitFor(is('listening'));
  const client = await peerClient(port!);
  await rig.log.waitFor(is('accept', 'c1'));
  return { rig, client };
}

/** Wait until `id` has `n` message events. */
async function messages(rig: CommandRig, id: string, n: number): Promise<string[]> {
  await rig.log.waitFor(() => rig.log.of('message', id).length >= n);
  return messagesOf(rig, id);
}

/** A chunk has arrived on `id` (the `data` event of a framed socket). */
async function chunkArrived(rig: CommandRig, id: string, count: number): Promise<void> {
  await rig.log.waitFor(() => rig.log.of('data', id).length >= count);
}

describe('a len16 server', () => {
  it('one write of three messages is three message events, and --reply echo answers each as one framed message', async () => {
    const { rig, client } = await framedServer('--frame len16 --reply echo');
    const got = collect(client);
    client.write(len16('one', 'two', 'three'));
    expect(await messages(rig, 'c1', 3)).toEqual(['one', 'two', 'three']);
    await until(() => got.data().length >= len16('one', 'two', 'three').length);
    expect(got.data()).toEqual(len16('one', 'two', 'three'));
    // The chunk is still a data event, marked framed, for .expect, .wait and the timeline.
    expect(rig.log.of('data', 'c1').every((ev) => ev.framed === true)).toBe(true);
  });

  it('one message in many chunks shows nothing until it completes, then one message; .show says what waits', async () => {
    const { rig, client } = await framedServer('--frame len16');
    const wire = len16('hello, world');
    client.write(wire.subarray(0, 1));
    await chunkArrived(rig, 'c1', 1);
    client.write(wire.subarray(1, 5));
    await rig.log.waitFor(() => rig.log.of('data', 'c1').reduce((n, ev) => n + ev.data.length, 0) === 5);
    expect(rig.log.of('message', 'c1')).toHaveLength(0);
    rig.printed.length = 0;
    await rig.ok('.show c1');
    expect(rig.printed.join('\n')).toMatch(/^framing +len16 \(2-byte big-endian length prefix\), max message 1\.0 MiB; 0 messages received, 5 B of 14 B waiting for a message to complete$/m);
    for (let at = 5; at < wire.length; at++) client.write(wire.subarray(at, at + 1));
    expect(await messages(rig, 'c1', 1)).toEqual(['hello, world']);
    await rig.ok('.wait c1 message');
  });

  it('--reply runs once per message: a character split across chunks is never split in a reply', async () => {
    const { rig, client } = await framedServer(`--frame line --reply 'You said "{upper}"'`);
    const got = collect(client);
    const wire = Buffer.from('grüße\nnäh\n');
    // Cut inside ü (c3 bc) and inside ä: each chunk alone would make two U+FFFD.
    const cuts = [3, wire.indexOf(0xa4)];
    client.write(wire.subarray(0, cuts[0]));
    await chunkArrived(rig, 'c1', 1);
    client.write(wire.subarray(cuts[0], cuts[1]));
    await chunkArrived(rig, 'c1', 2);
    client.write(wire.subarray(cuts[1]));
    expect(await messages(rig, 'c1', 2)).toEqual(['grüße', 'näh']);
    await until(() => got.data().toString('utf8').split('\n').length === 3);
    expect(got.data().toString('utf8')).toBe('You said "GRÜSSE"\nYou said "NÄH"\n');
    expect(rig.log.of('note', 'c1')).toEqual([]);
  });

  it('a reply the framing cannot carry is not sent, and a note says why once', async () => {
    const { rig, client } = await framedServer(`--frame line --reply '{data}\\n'`);
    client.write('a\nb\n');
    await messages(rig, 'c1', 2);
    await rig.log.waitFor(is('note', 'c1'));
    const notes = rig.log.of('note', 'c1').map((n) => n.message);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^reply not sent: the message holds the \\n that ends a line message/);
    expect(rig.log.of('send', 'c1')).toEqual([]);
  });
});

describe('.send on a framed socket', () => {
  it('sends one framed message; --raw the bytes as they are; --repeat N is N messages', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.connect ${peer.port} --frame len16 as c`);
    const socket = await peer.nextSocket();
    const got = collect(socket);
    await rig.ok('.send c hello');
    await rig.ok('.send --raw c hello');
    await rig.ok('.send --repeat 2 c ab');
    const want = Buffer.concat([len16('hello'), Buffer.from('hello'), len16('ab', 'ab')]);
    await until(() => got.data().length >= want.length);
    expect(got.data()).toEqual(want);
  });

  it('a payload the framing cannot carry is refused with one line, and nothing is sent', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.connect ${peer.port} --frame line as c`);
    const err = await rig.fail('.send c "hello\\nthere"');
    expect(err.message).toMatch(/the message holds the \\n that ends a line message, so the peer would read it as more than one: leave it out \(the framing adds it\), or use \.send --raw/);
    const big = await rig.fail(`.send c hex:${'61'.repeat(3)}0a`);
    expect(big.code).toBe('E_BAD_PAYLOAD');
    expect(rig.log.of('send')).toEqual([]);
  });

  it('.sendln on a line/crlf socket is one message: the end-of-line it appends is the framing (same bytes as .send); also in a rule', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.connect ${peer.port} --frame line as l`);
    const socket = await peer.nextSocket();
    const got = collect(socket);
    await rig.ok('.sendln l hello');
    await rig.ok('.send l hello');
    rig.settings.eol = 'crlf';
    await rig.ok('.sendln l crlf-eol');
    await rig.ok('.sendln --raw l raw');
    const want = Buffer.from('hello\nhello\ncrlf-eol\nraw\r\n');
    await until(() => got.data().length >= want.length);
    expect(got.data()).toEqual(want);
    rig.settings.eol = 'lf';
    await rig.ok('.listen 0 --frame crlf as srv');
    await rig.ok('.on srv data /ping/ .sendln $id got it');
    await rig.ok('.connect srv --frame crlf as c');
    await rig.log.waitFor(is('accept'));
    await rig.ok('.sendln c ping');
    expect(await messages(rig, 'c2', 1)).toEqual(['got it']);
    expect(rig.log.of('send', 'c2')[0]?.data).toEqual(Buffer.from('ping\r\n'));
  });

  it('to a server: every connection gets the framed message; a client reading len16 replies is framed too', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --frame len32le as srv');
    await rig.ok('.connect srv --frame len32le as a');
    await rig.log.waitFor(is('accept'));
    await rig.ok('.send srv hi');
    expect(await messages(rig, 'c1', 1)).toEqual(['hi']);
    expect(rig.log.of('send', 'c2')[0]?.data).toEqual(Buffer.from('020000006869', 'hex'));
  });
});

describe('.expect and .wait on a framed socket', () => {
  it('.expect matches the bytes as they arrived, across chunks; .wait ID message waits for one', async () => {
    const { rig, client } = await framedServer('--frame crlf');
    const wait = rig.run('.wait c1 message');
    client.write('PI');
    await chunkArrived(rig, 'c1', 1);
    client.write('NG 7\r\n');
    expect(await wait).toBe(true);
    await rig.ok('.expect c1 "NG 7\\r\\n"');
    expect(messagesOf(rig, 'c1')).toEqual(['PING 7']);
  });
});

describe('bad options: one clear line, nothing opened', () => {
  it.each([
    ['.listen 0 --frame len12', /unknown --frame "len12": use line, crlf, delim:HEX/],
    ['.connect 1 --frame fixed:0', /fixed: takes a size in bytes of 1 or more/],
    ['.listen 0 --max-message 10', /--max-message needs --frame SPEC/],
    ['.listen 0 --frame line --http', /--frame does not apply to --http/],
    ['.listen 0 --frame fixed:64 --max-message 10', /raise --max-message to 64 or more/],
    ['.udp 0', null],
  ])('%s', async (line, message) => {
    const rig = commandRig();
    if (message === null) {
      await rig.ok(line);
      const err = await rig.fail('.send --raw u1 x');
      expect(err.message).toMatch(/--raw with a UDP socket/);
      return;
    }
    const err = await rig.fail(line);
    expect(err.message).toMatch(message);
    expect(rig.ctx.session.list()).toEqual([]);
  });
});

describe('a stream that ends inside a message', () => {
  it('is said in a note after the FIN line (as an unfinished HTTP request is), and no message is made of it', async () => {
    const { rig, client } = await framedServer('--frame len16');
    client.end(len16('whole', 'cut').subarray(0, 10));
    expect(await messages(rig, 'c1', 1)).toEqual(['whole']);
    const note = (await rig.log.waitFor(is('note', 'c1'))) as { message: string };
    expect(note.message).toBe('the peer ended its side with 3 B of an unfinished len16 message, never shown as a message');
    const order = rig.log.events.filter((ev) => 'id' in ev && ev.id === 'c1').map((ev) => ev.type);
    expect(order.indexOf('end')).toBeLessThan(order.indexOf('note'));
    await once(client, 'close').catch(() => {});
  });
});

describe('the message event', () => {
  it('carries a copy-safe view of exactly the payload', async () => {
    const { rig, client } = await framedServer('--frame delim:00');
    client.write(Buffer.from('a\u0000\u00ffb\u0000', 'latin1'));
    const evs = (await rig.log.waitFor(() => rig.log.of('message', 'c1').length === 2), rig.log.of('message', 'c1')) as MessageEvent[];
    expect(evs.map((e) => e.data)).toEqual([Buffer.from('a'), Buffer.from([0xff, 0x62])]);
  });
});

describe('a peer that resets inside a message (python3)', () => {
  it('the error, then a note with the bytes that waited, then the close', async () => {
    const py = await pythonPeer();
    const rig = commandRig();
    await rig.ok(`.connect ${py.port} --frame len16 as c`);
    await py.accepted;
    // 'xxx': a prefix of 0x7878 (30,840 B) and one byte of its payload.
    await py.ask('send 3', ['sent']);
    await rig.log.waitFor(() => rig.log.of('data', 'c1').reduce((n, ev) => n + ev.data.length, 0) === 3);
    await py.ask('rst', ['closed']);
    await rig.log.waitFor(is('close', 'c1'));
    const story = rig.log.events.filter((ev) => 'id' in ev && ev.id === 'c1' && ev.type !== 'data' && ev.type !== 'connect').map((ev) => (ev.type === 'note' ? ev.message : ev.type === 'error' ? ev.code : ev.type));
    expect(story).toEqual(['ECONNRESET', 'closed with 3 B of an unfinished len16 message, never shown as a message', 'close']);
  });
});
