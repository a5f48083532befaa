import type { Colors } from 'picocolors/types.js';
import type { SessionEvent } from '../session/events.js';
import { escapeMessage } from './escape.js';
import { errorHint } from './hints.js';
import { describeSecure } from './secure.js';
import { formatBytes, formatClock, formatCount } from './units.js';

export interface HumanOptions {
  /** Prefix lines with `HH:MM:SS.mmm`. */
  time: boolean;
  colors: Colors;
}

type Paint = keyof Pick<Colors, 'green' | 'red' | 'yellow' | 'cyan' | 'magenta' | 'dim' | 'blue'>;
/** A description; `true` third marks a fixed text known to need no escaping (PLAIN_LINES, checked by a test). */
type Described = readonly [Paint, string] | readonly [Paint, string, true];
type Describe<T> = (ev: T) => Described;
type Table = { [K in SessionEvent['type']]?: Describe<Extract<SessionEvent, { type: K }>> };

/**
 * Node's message without the syscall and code it repeats (`connect
 * ECONNREFUSED 127.0.0.1:9` → `127.0.0.1:9`). Only a code in the first two
 * words is Node's: the same letters later on are the user's text (a request
 * line containing "EHTTP"), which is never cut.
 */
function detail(code: string, message: string): string {
  const words = /^(?:\S+ )?(\S+)/.exec(message);
  const word = words?.[1];
  if (word === undefined || (word !== code && word !== `${code}:`)) return message.trim();
  return message.slice(words![0].length).replace(/^[\s:]+/, '').trim();
}

// The fixed lines of a connection's end (a connect/close loop prints three per
// connection): one tuple each, not built per event, and not scanned by
// escapeMessage each time (a test checks that it would leave each as it is).
const FIN_IN = ['yellow', '← FIN (peer ended its side)', true] as const;
const FIN_OUT = ['yellow', '→ FIN (we ended our side; still reading)', true] as const;
const CLOSED = ['dim', 'closed', true] as const;
const CLOSED_AFTER_ERROR = ['dim', 'closed after an error', true] as const;
/** The fixed descriptions formatEvent does not escape (for the test that checks they need not be). */
export const PLAIN_LINES: readonly string[] = [FIN_IN[1], FIN_OUT[1], CLOSED[1], CLOSED_AFTER_ERROR[1]];

// What each event says. formatEvent escapes the whole description (paths,
// names, messages, Node's error text), so no entry needs to remember to.
const DESCRIBE: Table = {
  listening: (ev) => [
    'green',
    `listening on ${ev.path ?? `${ev.address.includes(':') ? `[${ev.address}]` : ev.address}:${ev.port}`}` +
      (ev.kind === 'udp' ? ' (UDP)' : '') +
      (ev.target !== undefined ? ` → relaying to ${ev.target}` : '') +
      (ev.alias ? ` as ${ev.alias}` : '') +
      (ev.reply ? `  (reply: ${ev.reply})` : '') +
      (ev.exposed ? '  — reachable from the network, not only this machine' : ''),
  ],
  accept: (ev) => ['green', `accepted by ${ev.server} from ${ev.remote}`],
  connect: (ev) => ['green', `connected ${ev.local} → ${ev.remote}${ev.alias ? ` as ${ev.alias}` : ''}`],
  send: (ev) => ['magenta', `→ ${formatBytes(ev.data.length)}${ev.to === undefined ? '' : ` to ${ev.to}`}`],
  data: (ev) => ['cyan', `← ${formatBytes(ev.data.length)}`],
  // The client is always on the left: ⇒ goes to the target (up), ⇐ comes back (down).
  relay: (ev) => [
    ev.dir === 'up' ? 'cyan' : 'blue',
    `${ev.dir === 'up' ? `${ev.from} ⇒ ${ev.to}` : `${ev.to} ⇐ ${ev.from}`}  ${formatBytes(ev.data.length)}${ev.fault === undefined ? '' : ` (${ev.fault})`}`,
  ],
  message: (ev) => ['cyan', `← msg ${formatBytes(ev.data.length)}`],
  datagram: (ev) => ['cyan', `← ${formatBytes(ev.data.length)} from ${ev.from}`],
  secure: (ev) => [ev.authorized || ev.peerCertificate === null ? 'green' : 'yellow', describeSecure(ev)],
  end: () => FIN_IN,
  shutdown: () => FIN_OUT,
  stop: (ev) => [
    'yellow',
    ev.destroyed !== undefined
      ? `stopped accepting; destroyed ${ev.destroyed} connection${ev.destroyed === 1 ? '' : 's'}`
      : `stopped accepting; ${ev.open} connection${ev.open === 1 ? '' : 's'} stay${ev.open === 1 ? 's' : ''} open`,
  ],
  close: (ev) =>
    ev.aborted
      ? ['dim', `closed (${ev.stillSending ? 'reset: the peer was still sending when the grace ended, and closing on unread bytes sends an RST' : ev.reset ? 'aborted by us' : 'destroyed by us'}${ev.discarded ? `; ${formatBytes(ev.discarded)} still queued, discarded` : ''})`]
      : ev.hadError
        ? CLOSED_AFTER_ERROR
        : CLOSED,
  error: (ev) => {
    const what = detail(ev.code, ev.message);
    const hint = errorHint(ev.code, ev.context);
    return ['red', `error ${ev.code}${what ? ` ${what}` : ''}${hint ? ` (${hint})` : ''}`];
  },
  timeout: (ev) => ['yellow', `idle for ${ev.ms} ms: timeout${ev.destroyed ? ', destroyed' : ''}`],
  'command-error': (ev) => ['red', `${ev.source ? `${ev.source}: ` : ''}${ev.message}`],
  'expect-ok': (ev) => ['green', `expect ok: ${ev.line}`],
  note: (ev) => ['dim', ev.message],
  rule: (ev) => ['blue', `${ev.rule} fired: ${ev.command.length > 300 ? `${ev.command.slice(0, 300)}… (+${formatCount(ev.command.length - 300)} characters)` : ev.command}`],
};

/**
 * One human line for an event, or undefined for events that show nothing
 * (`command` echoes what the user typed). `payload` is the already formatted
 * view of the bytes of `send`/`data` events (`  "hello\n"`, or hex lines).
 */
export function formatEvent(ev: SessionEvent, options: HumanOptions, payload = ''): string | undefined {
  const describe = DESCRIBERS.get(ev.type);
  if (!describe) return undefined;
  // The payload is escaped already (and may hold our colours for hex lines): it goes on after.
  const described = describe(ev);
  const text = (described[2] === true ? described[1] : escapeMessage(described[1])) + payload;
  const c = options.colors;
  const head = HEAD.get('id' in ev && ev.id !== undefined ? ev.id : ev.type === 'command-error' ? '!' : '-', c);
  const time = options.time ? CLOCK.get(ev.t, c) : '';
  return `${time}${head}${paintOf(c, described[0])(text)}`;
}

// By kind in a Map, not `DESCRIBE[ev.type]`: a property read by a name that
// changes with every line misses V8's inline cache (a megamorphic lookup per line).
const DESCRIBERS: ReadonlyMap<string, Describe<SessionEvent>> = new Map(Object.entries(DESCRIBE) as Array<[string, Describe<SessionEvent>]>);

/** `c[paint]` without a read by a changing name (see DESCRIBERS). */
function paintOf(c: Colors, paint: Paint): (text: string) => string {
  switch (paint) {
    case 'green':
      return c.green;
    case 'red':
      return c.red;
    case 'yellow':
      return c.yellow;
    case 'cyan':
      return c.cyan;
    case 'magenta':
      return c.magenta;
    case 'dim':
      return c.dim;
    case 'blue':
      return c.blue;
  }
}

// The parts of the last line that the next one often shares (a connection's
// FIN and close lines: the same id; a burst: the same millisecond), kept as
// formatClock keeps its last text: built once, not per line.
class LastPart<K> {
  private key: K | undefined;
  private colors: Colors | undefined;
  private text = '';

  constructor(private readonly make: (key: K, c: Colors) => string) {}

  get(key: K, c: Colors): string {
    if (key !== this.key || c !== this.colors) {
      this.key = key;
      this.colors = c;
      this.text = this.make(key, c);
    }
    return this.text;
  }
}

/** `c12  `: the id (escaped, padded to 3) and two spaces. */
const HEAD = new LastPart<string>((id, c) => `${c.bold(escapeMessage(id).padEnd(3))}  `);
/** `HH:MM:SS.mmm  ` (dimmed). */
const CLOCK = new LastPart<number>((t, c) => `${c.dim(formatClock(t))}  `);

/**
 * The summary line of folded data events: `c2 ← 48,213 chunks, 1.2 GiB in 1.0 s`
 * (`unit`: `messages` on a framed socket).
 */
export function formatFold(
  fold: { id: string; dir: '←' | '→'; chunks: number; bytes: number; ms: number; t: number; unit?: string },
  options: HumanOptions,
): string {
  const c = options.colors;
  const time = options.time ? `${c.dim(formatClock(fold.t))}  ` : '';
  const text = `${fold.dir} ${formatCount(fold.chunks)} ${fold.unit ?? 'chunks'}, ${formatBytes(fold.bytes)} in ${(fold.ms / 1000).toFixed(1)} s`;
  return `${time}${c.bold(escapeMessage(fold.id).padEnd(3))}  ${c[fold.dir === '←' ? 'cyan' : 'magenta'](text)}`;
}
