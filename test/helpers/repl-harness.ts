/**
 * Drive the socklab REPL in-process, as Node's own REPL tests do: two
 * PassThrough streams, no terminal. `waitFor` waits on output, never on time,
 * and shows everything received when it gives up.
 */
import { PassThrough } from 'node:stream';
import { startRepl, type SocklabRepl } from '../../src/repl/start.js';
import type { SessionOptions } from '../../src/session/manager.js';
import { createSession, type Session } from '../../src/session/session.js';
import { defaultSettings, type Settings } from '../../src/settings.js';
import { track } from './loopback.js';
import { patience } from './patience.js';

export interface ReplHarness {
  repl: SocklabRepl;
  session: Session;
  settings: Settings;
  /** Everything written to the output so far. */
  output(): string;
  /** Type a line (a newline is added). */
  type(line: string): void;
  /**
   * Resolve with the match once the output after `from` (default: the mark)
   * contains `pattern`; throw with everything received after `ms`.
   */
  waitFor(pattern: string | RegExp, ms?: number): Promise<string>;
  /** Make later `waitFor`s look only at output from now on. */
  mark(): void;
  /** End the input (like Ctrl+D) and wait until the REPL has closed everything. */
  close(): Promise<void>;
}

export function startHarness(options: { session?: SessionOptions; settings?: Partial<Settings> } = {}): ReplHarness {
  const input = new PassThrough();
  const output = new PassThrough();
  const session = createSession(options.session);
  const settings = defaultSettings({ time: false, color: false, ...options.settings });
  let text = '';
  let from = 0;
  const listeners = new Set<() => void>();
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    text += chunk;
    for (const fn of listeners) fn();
  });
  const repl = startRepl({ input, output, session, settings, terminal: false });

  const find = (pattern: string | RegExp, start: number): string | undefined => {
    const rest = text.slice(start);
    if (typeof pattern === 'string') return rest.includes(pattern) ? pattern : undefined;
    return pattern.exec(rest)?.[0];
  };

  const harness: ReplHarness = {
    repl,
    session,
    settings,
    output: () => text,
    type(line) {
      input.write(`${line}\n`);
    },
    mark() {
      from = text.length;
    },
    waitFor(pattern, ms = 3000) {
      const start = from;
      ms = patience(ms);
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = find(pattern, start);
          if (found === undefined) return false;
          listeners.delete(onOutput);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const onOutput = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(onOutput);
          reject(new Error(`no ${String(pattern)} in the REPL output within ${ms} ms; received:\n${text.slice(start) || '(nothing)'}`));
        }, ms);
        listeners.add(onOutput);
        check();
      });
    },
    async close() {
      input.end();
      await repl.closed;
    },
  };
  track(async () => {
    input.end();
    await repl.closed;
    await session.shutdown(200);
  });
  return harness;
}
