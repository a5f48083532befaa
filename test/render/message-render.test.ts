/**
 * Framed sockets in the pure renderers (SPEC 12): a `message` line per
 * message (`c2  ← msg 5 B  "hello"`), the chunks of a framed socket not shown
 * (human and JSON), hex view per message, escaping per message, and a flood of
 * messages folded like data.
 */
import { describe, expect, it } from 'vitest';
import { toJsonLine } from '../../src/render/json.js';
import { FOLD_AFTER, HumanPrinter } from '../../src/render/printer.js';
import type { SessionEvent } from '../../src/session/events.js';
import { defaultSettings, type Settings } from '../../src/settings.js';
import { T } from './events.js';

const msg = (data: string | Buffer, t = T, id = 'c2'): SessionEvent => ({ type: 'message', t, id, data: Buffer.from(data) });
const framedChunk = (data: string | Buffer, t = T, id = 'c2'): SessionEvent => ({ type: 'data', t, id, data: Buffer.from(data), framed: true });

function printer(settings: Settings = defaultSettings({ time: false })) {
  const writes: string[] = [];
  const p = new HumanPrinter(settings, (text) => writes.push(text));
  return { p, lines: () => writes.join('').split('\n').filter((l) => l !== '') };
}

describe('human lines', () => {
  it('SPEC 12 shape; a chunk of a framed socket shows nothing, its messages show', () => {
    const { p, lines } = printer();
    p.handle(framedChunk('\u0000\u0005hel'));
    p.handle(framedChunk('lo\u0000\u0002hi'));
    p.handle(msg('hello'));
    p.handle(msg('hi'));
    p.close();
    expect(lines()).toEqual(['c2   ← msg 5 B  "hello"', 'c2   ← msg 2 B  "hi"']);
  });

  it('each message is escaped on its own: a cut character is not glued to the next one', () => {
    const { p, lines } = printer();
    const euro = Buffer.from('€');
    p.handle(msg(euro.subarray(0, 2)));
    p.handle(msg(Buffer.concat([euro.subarray(2), Buffer.from('\x1b[31m')])));
    p.close();
    expect(lines()).toEqual(['c2   ← msg 2 B  "\\xe2\\x82"', 'c2   ← msg 6 B  "\\xac\\x1b[31m"']);
  });

  it('hex view: each message dumped on its own, from offset 0', () => {
    const settings = defaultSettings({ time: false });
    settings.view = 'hex';
    const { p, lines } = printer(settings);
    p.handle(msg('0123456789abcdefXY'));
    p.handle(msg('hi'));
    p.close();
    expect(lines()).toEqual([
      'c2   ← msg 18 B',
      '     00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|',
      '     00000010  58 59                                             |XY|',
      'c2   ← msg 2 B',
      '     00000000  68 69                                             |hi|',
    ]);
  });

  it('a flood of 10,000 messages folds into a summary that counts messages', () => {
    const { p, lines } = printer();
    for (let i = 0; i < 10_000; i++) {
      p.handle(framedChunk('\u0001x'));
      p.handle(msg('x'));
    }
    p.handle({ type: 'close', t: T, id: 'c2', hadError: false });
    p.close();
    const out = lines();
    expect(out.filter((l) => l.includes('← msg'))).toHaveLength(FOLD_AFTER);
    expect(out.some((l) => l.startsWith(`c2   ← ${(10_000 - FOLD_AFTER).toLocaleString('en-US')} messages, 9.7 KiB in `))).toBe(true);
    expect(out.at(-1)).toBe('c2   closed');
  });
});

describe('JSON', () => {
  it('a message is lossless (bytes, base64, escaped text); a framed chunk is not printed', () => {
    const bytes = Buffer.from([0x68, 0x00, 0x1b, 0xff, 0x0a]);
    expect(JSON.parse(toJsonLine({ type: 'message', t: T, id: 'c2', data: bytes }) ?? 'null')).toEqual({
      t: T,
      event: 'message',
      id: 'c2',
      bytes: 5,
      base64: bytes.toString('base64'),
      text: 'h\u0000\u001b\ufffd\n',
    });
    expect(toJsonLine({ type: 'message', t: T, id: 'c2', data: Buffer.from('\u009b') })).toContain('\\u009b');
    expect(toJsonLine(framedChunk('\u0000\u0001x'))).toBeUndefined();
    expect(toJsonLine({ type: 'data', t: T, id: 'c2', data: Buffer.from('x') })).toContain('"event":"data"');
  });
});
