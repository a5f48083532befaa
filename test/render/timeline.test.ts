/**
 * `.timeline`: the steps the History subscriber keeps, the rows drawn from
 * them, and the two renderings (terminal and Mermaid). Pure: scripted steps,
 * no sockets.
 */
import { describe, expect, it } from 'vitest';
import { renderMermaid, renderTimeline, timelineRows } from '../../src/render/timeline.js';
import { HISTORY_LIMIT, HISTORY_SLACK, History, type Step } from '../../src/observers/history.js';
import { T } from './events.js';

const bytes = (s: string): Buffer => Buffer.from(s);

/** c1 (ours) connects to s1; s1 accepts it as c2; both are sockets of this session. */
const INTERNAL: Step[] = [
  { t: T, kind: 'connect', id: 'c1', local: '127.0.0.1:5000', remote: '127.0.0.1:9000' },
  { t: T, kind: 'accept', id: 'c2', local: '127.0.0.1:9000', remote: '127.0.0.1:5000', server: 's1' },
  { t: T, kind: 'send', id: 'c1', bytes: 3, preview: bytes('hi\n'), chunks: 1 },
  { t: T, kind: 'data', id: 'c2', bytes: 3, preview: bytes('hi\n'), chunks: 1 },
  { t: T, kind: 'send', id: 'c2', bytes: 3, preview: bytes('hi\n'), chunks: 1 },
  { t: T, kind: 'data', id: 'c1', bytes: 3, preview: bytes('hi\n'), chunks: 1 },
  { t: T, kind: 'fin-out', id: 'c1' },
  { t: T, kind: 'fin-in', id: 'c2' },
  { t: T, kind: 'rst', id: 'c2' },
  { t: T, kind: 'closed', id: 'c1' },
];

/** c3 was accepted by s1 from a peer outside this session (nc on another machine). */
const EXTERNAL: Step[] = [
  { t: T, kind: 'accept', id: 'c3', local: '127.0.0.1:9000', remote: '10.0.0.7:40000', server: 's1' },
  { t: T, kind: 'data', id: 'c3', bytes: 5, preview: bytes('ping\n'), chunks: 1 },
  { t: T, kind: 'send', id: 'c3', bytes: 2, preview: bytes('ok'), chunks: 1 },
  { t: T, kind: 'fin-in', id: 'c3' },
  { t: T, kind: 'fin-out', id: 'c3' },
  { t: T, kind: 'error', id: 'c3', code: 'ECONNRESET' },
  { t: T, kind: 'timeout', id: 'c3' },
];

describe('timelineRows', () => {
  it('between two sockets of the session: connect once, bytes once each way (from the sender), FIN, RST, notes', () => {
    const { participants, rows } = timelineRows(INTERNAL);
    expect(participants).toEqual(['c1', 'c2']);
    expect(rows).toEqual([
      { arrow: true, from: 'c1', to: 'c2', label: 'connect', style: 'open' },
      { arrow: true, from: 'c1', to: 'c2', label: '3 B "hi\\n"', style: 'data' },
      { arrow: true, from: 'c2', to: 'c1', label: '3 B "hi\\n"', style: 'data' },
      { arrow: true, from: 'c1', to: 'c2', label: 'FIN', style: 'fin' },
      { arrow: true, from: 'c2', to: 'c1', label: 'RST', style: 'rst' },
      { arrow: false, at: 'c1', label: 'closed' },
    ]);
  });

  it('a peer outside the session is a column named by its address; its bytes, FIN and connect are drawn from it', () => {
    const { participants, rows } = timelineRows(EXTERNAL);
    expect(participants).toEqual(['10.0.0.7:40000', 'c3']);
    expect(rows).toEqual([
      { arrow: true, from: '10.0.0.7:40000', to: 'c3', label: 'connect (accepted by s1)', style: 'open' },
      { arrow: true, from: '10.0.0.7:40000', to: 'c3', label: '5 B "ping\\n"', style: 'data' },
      { arrow: true, from: 'c3', to: '10.0.0.7:40000', label: '2 B "ok"', style: 'data' },
      { arrow: true, from: '10.0.0.7:40000', to: 'c3', label: 'FIN', style: 'fin' },
      { arrow: true, from: 'c3', to: '10.0.0.7:40000', label: 'FIN', style: 'fin' },
      { arrow: false, at: 'c3', label: 'error ECONNRESET' },
      { arrow: false, at: 'c3', label: 'timeout' },
    ]);
  });

  it('a client of an outside server: the server is a column named by its address', () => {
    const { participants, rows } = timelineRows([
      { t: T, kind: 'connect', id: 'c1', local: '192.168.1.2:50000', remote: '93.184.216.34:80' },
      { t: T, kind: 'data', id: 'c1', bytes: 4, preview: bytes('HTTP'), chunks: 1 },
    ]);
    expect(participants).toEqual(['c1', '93.184.216.34:80']);
    expect(rows.map((r) => (r.arrow ? `${r.from} → ${r.to}: ${r.label}` : r.label))).toEqual([
      'c1 → 93.184.216.34:80: connect',
      '93.184.216.34:80 → c1: 4 B "HTTP"',
    ]);
  });

  it('long payloads: the preview is cut at 16 characters and marked …', () => {
    const { rows } = timelineRows([
      ...INTERNAL.slice(0, 2),
      { t: T, kind: 'send', id: 'c1', bytes: 40, preview: bytes('0123456789abcdefghijklmnopqrstuv'), chunks: 1 },
    ]);
    expect(rows.at(-1)).toMatchObject({ label: '40 B "0123456789abcdef…"' });
  });

  it('control bytes in a preview are escaped, never raw', () => {
    const { rows } = timelineRows([...INTERNAL.slice(0, 2), { t: T, kind: 'send', id: 'c1', bytes: 3, preview: bytes('\x1b[2J'), chunks: 1 }]);
    const label = (rows.at(-1) as { label: string }).label;
    expect(label).not.toMatch(/\x1b/);
    expect(label).toContain('\\x1b');
  });

  it('only: the steps of the named sockets; the other socket stays a column, its own steps are left out', () => {
    const { participants, rows } = timelineRows(INTERNAL, new Set(['c1']));
    expect(participants).toEqual(['c1', 'c2']);
    // c2's RST is c2's step; c1's own steps are all there.
    expect(rows.map((r) => (r.arrow ? `${r.from}>${r.to} ${r.label}` : `[${r.label}]`))).toEqual([
      'c1>c2 connect',
      'c1>c2 3 B "hi\\n"',
      'c2>c1 3 B "hi\\n"',
      'c1>c2 FIN',
      '[closed]',
    ]);
    // Filtered to c2 only: its peer's sends are not its steps, so they are drawn from its data events.
    const c2 = timelineRows(INTERNAL, new Set(['c2'])).rows.map((r) => (r.arrow ? `${r.from}>${r.to} ${r.label}` : `[${r.label}]`));
    expect(c2).toEqual(['c1>c2 connect (accepted by s1)', 'c1>c2 3 B "hi\\n"', 'c2>c1 3 B "hi\\n"', 'c1>c2 FIN', 'c2>c1 RST']);
  });
});

describe('renderTimeline', () => {
  it('draws columns and one line per row (exact)', () => {
    expect(renderTimeline(INTERNAL).split('\n')).toEqual([
      '          c1                    c2',
      '           │────── connect ──────▶',
      '           │──── 3 B "hi\\n" ─────▶',
      '           ◀──── 3 B "hi\\n" ─────│',
      '           │╌╌╌╌╌╌╌╌ FIN ╌╌╌╌╌╌╌╌▶',
      '           ◀×××××××× RST ××××××××│',
      '       [closed]                  │',
    ]);
  });

  it('an outside peer column is headed by its address', () => {
    const lines = renderTimeline(EXTERNAL.slice(0, 4)).split('\n');
    expect(lines[0]).toBe('    10.0.0.7:40000              c3');
    expect(lines.slice(2)).toEqual([
      '           │─── 5 B "ping\\n" ────▶',
      '           ◀───── 2 B "ok" ──────│',
      '           │╌╌╌╌╌╌╌╌ FIN ╌╌╌╌╌╌╌╌▶',
    ]);
  });

  // Was a bug (cosmetic): a label wider than the space between two columns is cut
  // without a mark, so the connect arrow from an outside peer always reads
  // "connect (accepted b" (the label "connect (accepted by s1)" never fits in
  // the 19 columns between two lanes).
  it('a label that does not fit is cut with …, not mid-word without a mark', () => {
    const row = renderTimeline(EXTERNAL.slice(0, 1)).split('\n')[1]!;
    expect(row).toMatch(/│ ?(connect \(accepted by s1\)|[^─]*…) ?─*▶$/);
  });

  it('nothing yet: a sentence, not an empty diagram', () => {
    expect(renderTimeline([])).toBe('nothing to draw yet: connect something and send a few bytes');
    expect(renderTimeline(INTERNAL, new Set(['c9']))).toBe('nothing to draw yet: connect something and send a few bytes');
  });
});

describe('renderMermaid', () => {
  it('a sequenceDiagram with ->> for bytes, -->> for FIN, -x for RST, notes (exact)', () => {
    expect(renderMermaid(INTERNAL)).toBe(
      [
        'sequenceDiagram',
        '    participant c1',
        '    participant c2',
        '    c1->>c2: connect',
        '    c1->>c2: 3 B #34;hi\\n#34;',
        '    c2->>c1: 3 B #34;hi\\n#34;',
        '    c1-->>c2: FIN',
        '    c2-xc1: RST',
        '    Note over c1: closed',
      ].join('\n'),
    );
  });

  it('an address is not a Mermaid name: the participant gets one, with the address as its label', () => {
    expect(renderMermaid(EXTERNAL.slice(0, 3))).toBe(
      [
        'sequenceDiagram',
        '    participant P0 as 10.0.0.7:40000',
        '    participant c3',
        '    P0->>c3: connect (accepted by s1)',
        '    P0->>c3: 5 B #34;ping\\n#34;',
        '    c3->>P0: 2 B #34;ok#34;',
      ].join('\n'),
    );
  });

  it('escapes quotes, # and ; in messages as Mermaid entity codes, once', () => {
    const steps: Step[] = [...INTERNAL.slice(0, 2), { t: T, kind: 'send', id: 'c1', bytes: 9, preview: bytes('a"b#1;c'), chunks: 1 }];
    const last = renderMermaid(steps).split('\n').at(-1)!;
    expect(last).toBe('    c1->>c2: 9 B #34;a\\#34;b#35;1#59;c#34;');
    // In the message, every # starts an entity code and no quote or ; is left bare.
    const message = last.slice(last.indexOf(': ') + 2);
    expect(message.replace(/#\d+;/g, '')).not.toMatch(/[#";]/);
  });
});

describe('History: the steps a session keeps for .timeline', () => {
  it('turns events into steps; commands, listening and a server close are not steps', () => {
    const h = new History();
    const data = Buffer.from('hello world, this is more than twenty-four bytes');
    h.record({ type: 'listening', t: T, id: 's1', address: '127.0.0.1', port: 9000, exposed: false });
    h.record({ type: 'command', t: T, line: '.connect s1' });
    h.record({ type: 'connect', t: T, id: 'c1', local: '127.0.0.1:5000', remote: '127.0.0.1:9000' });
    h.record({ type: 'accept', t: T, id: 'c2', server: 's1', local: '127.0.0.1:9000', remote: '127.0.0.1:5000' });
    h.record({ type: 'send', t: T, id: 'c1', data });
    h.record({ type: 'shutdown', t: T, id: 'c1' });
    h.record({ type: 'end', t: T, id: 'c2' });
    h.record({ type: 'close', t: T, id: 'c2', hadError: false, aborted: true, reset: true });
    h.record({ type: 'close', t: T, id: 'c1', hadError: false });
    h.record({ type: 'error', t: T, code: 'EMFILE', message: 'session-wide' });
    h.record({ type: 'close', t: T, id: 's1', hadError: false });
    expect(h.steps.map((s) => `${s.kind} ${s.id}`)).toEqual(['connect c1', 'accept c2', 'send c1', 'fin-out c1', 'fin-in c2', 'rst c2', 'closed c1']);
    const send = h.steps[2] as Extract<Step, { bytes: number }>;
    expect(send.bytes).toBe(data.length);
    // A copy of the first bytes, not the chunk: changing the chunk later does not change the step.
    expect(send.preview.toString()).toBe('hello world, this is mor');
    data.fill(0x41);
    expect(send.preview.toString()).toBe('hello world, this is mor');
  });

  it('a run of chunks in one direction is one step with a count, and the label says so', () => {
    const h = new History();
    for (let i = 0; i < 16; i++) h.record({ type: 'data', t: T + i, id: 'c3', data: Buffer.alloc(65536, 0x41) });
    h.record({ type: 'send', t: T + 20, id: 'c3', data: Buffer.from('ok') });
    expect(h.steps).toHaveLength(2);
    expect(h.steps[0]).toMatchObject({ kind: 'data', bytes: 16 * 65536, chunks: 16 });
    const rows = timelineRows([...EXTERNAL.slice(0, 1), ...h.steps]).rows;
    expect(rows[1]).toMatchObject({ arrow: true, label: '1.0 MiB in 16 chunks "AAAAAAAAAAAAAAAA…"' });
  });

  it('writes typed one by one (seconds apart) stay separate steps', () => {
    const h = new History();
    for (const [i, word] of ['one', 'two', 'three'].entries()) h.record({ type: 'send', t: T + i * 1000, id: 'c1', data: Buffer.from(word) });
    expect(h.steps.map((s) => (s.kind === 'send' ? s.chunks : 0))).toEqual([1, 1, 1]);
  });

  it(`keeps at most ${HISTORY_LIMIT} + ${HISTORY_SLACK} steps, the newest, and counts the dropped ones`, () => {
    const h = new History();
    // Alternating sockets: consecutive chunks of one socket would fold into one step.
    const total = HISTORY_LIMIT + HISTORY_SLACK + 3;
    for (let i = 0; i < total; i++) h.record({ type: 'data', t: T + i, id: i % 2 ? 'c1' : 'c2', data: Buffer.from('x') });
    expect(h.steps.length).toBeGreaterThanOrEqual(HISTORY_LIMIT);
    expect(h.steps.length).toBeLessThan(HISTORY_LIMIT + HISTORY_SLACK);
    expect(h.dropped + h.steps.length).toBe(total);
    expect(h.steps.at(-1)?.t).toBe(T + total - 1);
    expect(h.steps[0]?.t).toBe(T + h.dropped);
  });

  it('after many times round its preview ring, every kept step still shows its own first bytes', () => {
    const h = new History();
    // Steps with and without bytes, interleaved, so slots are taken by every kind of step;
    // ending one step short of a cut, when the most steps are kept (limit + slack - 1).
    const total = HISTORY_LIMIT + HISTORY_SLACK + 23 * HISTORY_SLACK - 1;
    for (let i = 0; i < total; i++) {
      if (i % 3 === 2) h.record({ type: 'end', t: T + i, id: `c${i}` });
      else h.record({ type: i % 3 === 0 ? 'data' : 'send', t: T + i, id: `c${i}`, data: Buffer.from(`step ${i} and more than 24 bytes after it`) });
    }
    const steps = h.steps;
    expect(steps.length).toBe(HISTORY_LIMIT + HISTORY_SLACK - 1);
    expect(h.dropped + steps.length).toBe(total);
    for (const step of steps) {
      const i = step.t - T;
      if (i % 3 === 2) expect(step.kind).toBe('fin-in');
      else expect((step as Extract<Step, { preview: Buffer }>).preview.toString()).toBe(`step ${i} and more than 24 bytes after it`.slice(0, 24));
    }
  });

  it('a chunk shorter than the preview keeps only its own bytes, even in a slot a longer one used before', () => {
    const h = new History();
    for (let i = 0; i < HISTORY_LIMIT + HISTORY_SLACK; i++) h.record({ type: 'data', t: T + i, id: `c${i}`, data: Buffer.alloc(64, 0x5a) });
    h.record({ type: 'send', t: T + 1e6, id: 'c1', data: Buffer.from('ok') });
    expect((h.steps.at(-1) as Extract<Step, { preview: Buffer }>).preview.toString()).toBe('ok');
  });
});
