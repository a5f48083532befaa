/**
 * FramedStream and framedSends without sockets: the plain object a relay
 * direction (or any kind) uses to frame what it receives and sends.
 */
import { describe, expect, it } from 'vitest';
import { FramedStream, framedSends, framingOf } from '../../src/behaviours/framed.js';
import type { SocklabError } from '../../src/errors.js';
import { makeFraming } from '../../src/protocols/framing.js';
import { thrown } from '../helpers/errors.js';

function stream(spec: string, max?: number) {
  const seen = { messages: [] as string[], errors: [] as SocklabError[], notes: [] as string[] };
  const framed = new FramedStream(makeFraming(spec, max), {
    message: (data) => seen.messages.push(data.toString('latin1')),
    overLimit: (err) => seen.errors.push(err),
    note: (message) => seen.notes.push(message),
  });
  return { framed, seen };
}

describe('FramedStream', () => {
  it('hands on messages, counts them, and describes what waits', () => {
    const { framed, seen } = stream('len16');
    framed.push(Buffer.from('0002686900', 'hex'));
    expect(seen.messages).toEqual(['hi']);
    expect(framed.waiting).toBe(1);
    expect(framed.describe()).toBe('len16 (2-byte big-endian length prefix), max message 1.0 MiB; 1 message received, 1 B waiting for a message to complete');
    framed.push(Buffer.from('03', 'hex'));
    expect(framed.describe()).toMatch(/; 1 message received, 2 B of 5 B waiting for a message to complete$/);
    expect(framed.unfinished('closed')).toBe('closed with 2 B of an unfinished len16 message, never shown as a message');
  });

  it('past the limit: overLimit once, then every chunk ignored, and no unfinished note', () => {
    const { framed, seen } = stream('line', 4);
    framed.push(Buffer.from('ok\ntoo long'));
    framed.push(Buffer.from('\nmore\n'));
    expect(seen.messages).toEqual(['ok']);
    expect(seen.errors.map((e) => e.code)).toEqual(['E_LIMIT']);
    expect(framed.unfinished('closed')).toBeUndefined();
  });

  it('encodeReply: a reply that cannot be framed is undefined, said once', () => {
    const { framed, seen } = stream('crlf');
    expect(framed.encodeReply(Buffer.from('ok'))).toEqual(Buffer.from('ok\r\n'));
    expect(framed.encodeReply(Buffer.from('a\r\nb'))).toBeUndefined();
    expect(framed.encodeReply(Buffer.from('c\r\nd'))).toBeUndefined();
    expect(seen.notes).toEqual([
      'reply not sent: the message holds the \\r\\n that ends a crlf message, so the peer would read it as more than one: leave it out (the framing adds it) (replies on a framed socket are framed as one message each; said once)',
    ]);
  });
});

describe('framedSends', () => {
  it('frames once per framing, leaves unframed endpoints and --raw alone, and refuses before anything is written', () => {
    const len8 = stream('len8').framed;
    const line = stream('line').framed;
    const eps = [{ id: 'a', frame: len8 }, { id: 'b' }, { id: 'c', frame: line }, { id: 'd', frame: len8 }];
    const sends = framedSends(eps, Buffer.from('hi'), false);
    expect(sends.map(([group, bytes]) => [group.map((e) => e.id), bytes.toString('hex')])).toEqual([
      [['a', 'd'], '026869'],
      [['b'], '6869'],
      [['c'], '68690a'],
    ]);
    expect(framedSends(eps, Buffer.from('hi'), true).map(([group]) => group.length)).toEqual([4]);
    expect(thrown(() => framedSends(eps, Buffer.from('x\ny'), false)).code).toBe('E_BAD_PAYLOAD');
  });

  it('framingOf: none without --frame; --max-message alone is an error', () => {
    expect(framingOf({})).toBeUndefined();
    expect(framingOf({ frame: 'len16', maxMessage: 10 })?.maxMessage).toBe(10);
    expect(thrown(() => framingOf({ maxMessage: 10 })).message).toBe('--max-message needs --frame SPEC: it is the largest framed message');
  });
});
