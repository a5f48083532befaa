/**
 * The human view of `relay` events (SPEC 10): the client always on the left
 * (`c3 ⇒ c4` up, `c3 ⇐ c4` down), the bytes escaped through the one table,
 * the fault named, and a flood of one link folded per receiving socket.
 */
import { describe, expect, it } from 'vitest';
import { HumanPrinter, FOLD_AFTER } from '../../src/render/printer.js';
import type { RelayEvent } from '../../src/session/events.js';
import { defaultSettings } from '../../src/settings.js';
import { T } from './events.js';

function printed(events: RelayEvent[]): string {
  const out: string[] = [];
  const printer = new HumanPrinter(defaultSettings({ time: false }), (text) => out.push(text));
  for (const ev of events) printer.handle(ev);
  printer.close();
  return out.join('');
}

const relay = (dir: 'up' | 'down', data: Buffer, fault?: string): RelayEvent => ({
  type: 'relay',
  t: T,
  id: 'p1',
  ...(dir === 'up' ? { from: 'c3', to: 'c4' } : { from: 'c4', to: 'c3' }),
  dir,
  data,
  ...(fault !== undefined && { fault }),
});

describe('relay lines', () => {
  it('up and down keep the client on the left, with the bytes quoted', () => {
    const text = printed([relay('up', Buffer.from('GET / HTTP/1.1\r\n')), relay('down', Buffer.from('HTTP/1.1 200 OK\r\n'))]);
    expect(text).toContain('p1   c3 ⇒ c4  16 B  "GET / HTTP/1.1\\r\\n"');
    expect(text).toContain('p1   c3 ⇐ c4  17 B  "HTTP/1.1 200 OK\\r\\n"');
  });

  it('hostile bytes (OSC title, CSI as C1, bidi override, DEL, invalid UTF-8) are escaped, never raw', () => {
    const hostile = Buffer.concat([Buffer.from('\x1b]0;owned\x07\x1b[2J'), Buffer.from('\u009b31m\u202eevil\x7f'), Buffer.from([0xff, 0xfe])]);
    const text = printed([relay('up', hostile), relay('down', hostile)]);
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u202e\ufffd]/);
    expect(text).toContain('\\x1b]0;owned\\x07\\x1b[2J');
  });

  it('a fault that changed a chunk is named', () => {
    expect(printed([relay('up', Buffer.from('x'), 'latency')])).toContain('p1   c3 ⇒ c4  1 B (latency)  "x"');
  });

  it('a flood on one link folds into a summary per receiving socket', () => {
    const flood = Array.from({ length: FOLD_AFTER + 30 }, () => relay('up', Buffer.alloc(1000, 0x61)));
    const text = printed(flood);
    expect(text.split('\n').filter((l) => l.includes('⇒'))).toHaveLength(FOLD_AFTER);
    expect(text).toMatch(/c3\s+← 30 chunks, 29\.3 KiB in/);
  });
});
