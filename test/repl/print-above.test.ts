/**
 * PromptScreen draws for the terminal's width at the moment of the write, not
 * the width node last saw on SIGWINCH: node's `columns` lags the tty while the
 * signal waits behind other events, and an event printed then climbed the rows
 * of the old width (over the event lines above, when the window got wider).
 * A real node:repl on PassThrough streams; the tty's size is a stand-in handle.
 */
import { PassThrough } from 'node:stream';
import repl, { type REPLServer } from 'node:repl';
import { afterEach, describe, expect, it } from 'vitest';
import { PromptScreen } from '../../src/repl/print-above.js';

const TYPED = '.sendln c1 the quick brown fox jumps over the lazy dog; 0123456789 ok and more text here';
const servers: REPLServer[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A REPL whose output says `columns` wide while the tty (its handle) is `ttyColumns` wide. */
function terminal(columns: number, ttyColumns: number) {
  const input = new PassThrough();
  const output = Object.assign(new PassThrough(), {
    columns,
    rows: 20,
    isTTY: true,
    _handle: {
      getWindowSize(size: [number, number]): number {
        size[0] = ttyColumns;
        size[1] = 20;
        return 0;
      },
    },
  });
  const server = repl.start({ prompt: 'socklab> ', input, output, terminal: true, preview: false });
  servers.push(server);
  let written = '';
  output.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
  const screen = new PromptScreen(server, output);
  screen.takeResize(output.listeners('resize') as Array<(...args: unknown[]) => void>);
  return { server, output, screen, written: () => written, mark: () => void (written = '') };
}

/** Type TYPED and put the cursor 30 characters before its end (at 40 columns: row 1; at 100: row 0). */
function typeLine(t: ReturnType<typeof terminal>): void {
  t.server.write(TYPED);
  (t.server as unknown as { cursor: number }).cursor = TYPED.length - 30;
}

describe('PromptScreen and the width of the terminal', () => {
  it('an event printed after the tty got wider, before node saw SIGWINCH: it climbs the rows of the new width', async () => {
    const t = terminal(40, 100);
    typeLine(t);
    let resizes = 0;
    t.output.on('resize', () => resizes++);
    t.mark();
    t.screen.print('c2   ← 9 B  "after 40\\n"\n');
    await new Promise((r) => setImmediate(r));
    expect(t.output.columns).toBe(100);
    expect(resizes).toBe(1);
    // 9 + 58 characters before the cursor: row 0 at 100 columns, so no row above it is climbed into.
    expect(t.written()).not.toMatch(/\x1b\[\d*A/);
    expect(t.written()).toMatch(/\x1b\[1G\x1b\[0Jc2   ← 9 B  "after 40\\n"\n/);
  });

  it('narrower: it climbs to the prompt’s first row at the new width (no ghost row left above)', async () => {
    const t = terminal(100, 40);
    typeLine(t);
    t.mark();
    t.screen.print('event\n');
    await new Promise((r) => setImmediate(r));
    expect(t.output.columns).toBe(40);
    // The cursor is one row below the first at 40 columns: the clear before the event climbs that row (at 100 it climbed none).
    expect(t.written()).toMatch(/\x1b\[1A\x1b\[1G\x1b\[0Jevent\n/);
  });

  it('the same size: nothing is redrawn for a resize', async () => {
    const t = terminal(60, 60);
    typeLine(t);
    let resizes = 0;
    t.output.on('resize', () => resizes++);
    t.screen.print('event\n');
    t.screen.beforeKey();
    expect(resizes).toBe(0);
  });
});
