import pc from 'picocolors';
import type { DataEvent, DatagramEvent, MessageEvent, RelayEvent, SendEvent, SessionEvent } from '../session/events.js';
import type { Settings, View } from '../settings.js';
import { escapeMessage, StreamEscaper } from './escape.js';
import { hexdump } from './hexdump.js';
import { explainEvent } from './explain.js';
import { formatEvent, formatFold, type HumanOptions } from './human.js';
import { FOLD_INTERVAL, SESSION_FOLD_AFTER, SessionFold } from './session-fold.js';
import { RULE_FOLD_AFTER, RuleFold } from './rule-fold.js';
import { formatCount } from './units.js';
import { wrap } from './wrap.js';

/** Data events of one socket and direction shown per second before folding starts. */
export const FOLD_AFTER = 20;
/** How long output to a pipe or file is gathered before one write, ms. */
export const PIPE_BATCH_MS = 10;
export { FOLD_INTERVAL, SESSION_FOLD_AFTER } from './session-fold.js';

/** Events that carry bytes: shown with the data view (text/hex), folded in a flood, explained once per endpoint. */
type ByteEvent = DataEvent | SendEvent | DatagramEvent | RelayEvent | MessageEvent;
/**
 * Whether an event carries bytes. Comparisons, not a Set: this runs for every
 * event, and event types are internalized strings, so each is one pointer compare.
 */
function isByteEvent(type: SessionEvent['type']): boolean {
  return type === 'data' || type === 'send' || type === 'datagram' || type === 'relay' || type === 'message';
}

/** A direction of bytes: received (`←`) or sent (`→`). */
type Dir = '←' | '→';
const DIRS: readonly Dir[] = ['←', '→'];

/** Display state of one socket in one direction. */
interface Stream {
  escaper: StreamEscaper;
  /** Bytes shown in hex so far (the running offset). */
  hexOffset: number;
  windowStart: number;
  windowCount: number;
  folding: boolean;
  foldChunks: number;
  foldBytes: number;
  foldStart: number;
  /** What a fold counts: `chunks`, or `messages` on a framed socket. */
  unit: string;
}

/**
 * The human renderer as a session subscriber: keeps per-socket display state
 * (hex offsets, split UTF-8, folding) and hands finished lines to `write` in
 * batches, once per turn of the event loop, so a burst costs one write.
 */
export class HumanPrinter {
  /**
   * Display state per direction, then per socket id: the data path looks up
   * the id it has, and builds no key string per event.
   */
  private readonly streams: Record<Dir, Map<string, Stream>> = { '←': new Map(), '→': new Map() };
  /** The same streams in the order they began, for the fold summaries of a tick and of the end. */
  private readonly ordered = new Map<Stream, { id: string; dir: Dir }>();
  private pending: string[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;

  /**
   * `batchMs` 0 writes once per turn of the event loop (a terminal: every
   * event shows at once). A pipe or a file gets a few milliseconds more, so a
   * busy server costs one write per batch, not one per connection.
   */
  constructor(
    private readonly settings: Settings,
    private readonly write: (text: string) => void,
    private readonly batchMs = 0,
    /** The terminal's width, to wrap explanations; undefined = do not wrap. */
    private readonly columns: () => number | undefined = () => undefined,
  ) {}

  /** The subscriber: `session.subscribe(printer.handle)`. */
  readonly handle = (ev: SessionEvent): void => {
    if (isByteEvent(ev.type)) {
      // A framed socket's chunks show as the messages that follow them (SPEC 12).
      if ((ev.type !== 'data' && ev.type !== 'relay') || ev.framed !== true) this.data(ev as ByteEvent);
      return;
    }
    if (ev.type === 'rule') {
      const fold = this.ruleFold.take(ev.rule, ev.t);
      if (fold.started) {
        const message = `${ev.rule} fires more than ${RULE_FOLD_AFTER} times a second: one summary a second until it calms down`;
        this.line(formatEvent({ type: 'note', t: ev.t, id: ev.id, message }, this.options()) ?? message);
        this.startTimer();
      }
      if (fold.folded) return;
    }
    // Bytes held back as the start of a character, and the summary of a fold,
    // come before the FIN, error (a reset) or close that ended the stream.
    // Only a socket that showed bytes has display state: none at all (a connect/close
    // loop that sends nothing) costs no lookups per FIN and close.
    if (this.ordered.size > 0) {
      const ends = ev.type === 'close' || (ev.type === 'error' && ev.id !== undefined);
      if (ev.type === 'end' || ends) this.flushHeld(ev.id as string, ev.t);
      if (ev.type === 'end') this.unfold(ev.id, true, '←');
      else if (ev.type === 'shutdown') this.unfold(ev.id, true, '→');
      else if (ends) this.unfold(ev.id as string, true);
    }
    const line = formatEvent(ev, this.options());
    if (line !== undefined) {
      this.line(line);
      if (this.settings.explain) this.explain(ev);
    }
  };

  private readonly explained = new Set<string>();

  // Data and send are explained once per socket, a rule's firing once per rule; the rest every time they happen.
  private explain(ev: SessionEvent): void {
    if (isByteEvent(ev.type) || ev.type === 'rule') {
      const key = ev.type === 'rule' ? `${ev.rule} rule` : (ev as ByteEvent).id + ev.type;
      if (this.explained.has(key)) return;
      this.explained.add(key);
    }
    const explained = explainEvent(ev);
    if (explained === undefined) return;
    const text = escapeMessage(explained);
    const width = this.columns();
    const lines = width === undefined || width < 40 ? [text] : wrap(text, width - 8);
    this.line(this.options().colors.dim(lines.map((l, i) => `${i === 0 ? '     ↳ ' : '       '}${l}`).join('\n')));
  }

  /**
   * Print command output (tables, help) in order with the events. The one
   * choke point for it: the text is escaped here (escapeMessage: newlines
   * stay, controls do not), so no path, name or quoted input a command
   * mentions can act on the terminal. Commands print no colours of their own.
   */
  print(text: string): void {
    this.line(escapeMessage(text));
  }

  private readonly flushNow = (): void => this.flush();

  /** Write what is pending now (before exit, before a prompt). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.write(text);
  }

  /** Stop the fold timer and write what is left. */
  close(): void {
    for (const { id } of [...this.ordered.values()]) this.unfold(id, true);
    this.sessionSummary(true);
    this.ruleSummary(true);
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private cached: HumanOptions | undefined;

  // Built again only when `.set color`/`.set time` changed something: this runs per event.
  private options(): HumanOptions {
    const c = this.cached;
    if (c && c.time === this.settings.time && this.cachedColor === this.settings.color) return c;
    this.cachedColor = this.settings.color;
    return (this.cached = { time: this.settings.time, colors: pc.createColors(this.settings.color) });
  }
  private cachedColor = false;

  private line(text: string): void {
    this.pending.push(text);
    if (!this.scheduled) {
      this.scheduled = true;
      // One timer re-armed per batch (refresh), not a new one: a busy pipe starts a batch per 10 ms.
      if (this.batchMs > 0) {
        if (this.batchTimer === undefined) this.batchTimer = setTimeout(this.flushNow, this.batchMs);
        else this.batchTimer.refresh();
      } else setImmediate(this.flushNow);
    }
  }

  private data(ev: ByteEvent): void {
    // A relayed chunk is shown, folded and hex-counted as what its link socket received.
    const id = ev.type === 'relay' ? ev.from : ev.id;
    const dir: Dir = ev.type === 'send' ? '→' : '←';
    const s = this.stream(id, dir);
    if (ev.type === 'message') s.unit = 'messages';
    // Folding is decided before any string is built: the hot path of a flood.
    if (ev.t - s.windowStart >= FOLD_INTERVAL) {
      s.windowStart = ev.t;
      s.windowCount = 0;
    }
    if (++s.windowCount > FOLD_AFTER && !s.folding) {
      s.folding = true;
      s.foldStart = ev.t;
      this.startTimer();
    }
    // The hex offset is the stream's: it runs on through folded and unshown chunks.
    if (s.folding) {
      s.foldChunks++;
      s.foldBytes += ev.data.length;
      s.hexOffset += ev.data.length;
      return;
    }
    const session = this.sessionFold.take(ev.t, id, dir, ev.data.length);
    if (session.started) {
      const message = `more than ${SESSION_FOLD_AFTER} data events a second over all sockets: each second shows one summary per direction until it calms down`;
      this.line(formatEvent({ type: 'note', t: ev.t, message }, this.options()) ?? message);
      this.startTimer();
    }
    if (session.folded) {
      s.hexOffset += ev.data.length;
      return;
    }
    // `off` hides the bytes, not the event: the line still says that data came.
    // Looked up only for a line that is shown: a folded flood skips it.
    const view: View = this.settings.views.get(id) ?? (ev.type === 'relay' ? this.settings.views.get(ev.id) : undefined) ?? this.settings.view;
    const options = this.options();
    let payload = '';
    if (view === 'text' || view === 'both') {
      const { text, omitted } = s.escaper.write(ev.data, this.settings.maxbytes);
      // A datagram or a message stands alone: a character cut at its end is not continued by the next one.
      const held = ev.type === 'datagram' || ev.type === 'message' || (ev.type === 'send' && ev.to !== undefined) ? s.escaper.flush() : '';
      payload = `  "${text}${held}"${omitted > 0 ? ` … (+${formatCount(omitted)} B)` : ''}`;
    }
    if (view === 'hex' || view === 'both') {
      const shown = ev.data.subarray(0, Math.max(this.settings.maxbytes, 16));
      // A message is dumped on its own, from offset 0; chunks continue the stream's offset.
      const lines = hexdump(shown, ev.type === 'message' ? 0 : s.hexOffset).split('\n').map((l) => `     ${l}`);
      if (shown.length < ev.data.length) lines.push(`     … (+${formatCount(ev.data.length - shown.length)} B)`);
      payload += `\n${options.colors.dim(lines.join('\n'))}`;
    }
    s.hexOffset += ev.data.length;
    const line = formatEvent(ev, options, payload);
    if (line !== undefined) {
      this.line(line);
      if (this.settings.explain) this.explain(ev);
    }
  }

  /** A stream that ends inside a UTF-8 character: show the bytes it held back, escaped. */
  private flushHeld(id: string, t: number): void {
    for (const dir of DIRS) {
      const held = this.streams[dir].get(id)?.escaper.flush();
      if (!held) continue;
      const note = { type: 'note', t, id, message: `${dir} "${held}" (the stream ended inside a UTF-8 character)` } as const;
      this.line(formatEvent(note, this.options()) ?? '');
    }
  }

  private stream(id: string, dir: Dir): Stream {
    // Named loads: `this.streams[dir]` with two keys made this a megamorphic keyed load on every byte event.
    const streams = dir === '←' ? this.streams['←'] : this.streams['→'];
    let s = streams.get(id);
    if (!s) {
      s = { escaper: new StreamEscaper(), hexOffset: 0, windowStart: 0, windowCount: 0, folding: false, foldChunks: 0, foldBytes: 0, foldStart: 0, unit: 'chunks' };
      streams.set(id, s);
      this.ordered.set(s, { id, dir });
    }
    return s;
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), FOLD_INTERVAL);
    this.timer.unref();
  }

  private readonly sessionFold = new SessionFold();

  /** The session-wide fold's summaries of the interval; `stop` ends it (close). */
  private sessionSummary(stop: boolean): void {
    const now = Date.now();
    const { summaries, ended } = this.sessionFold.drain(now, stop);
    for (const f of summaries) {
      this.line(`${formatFold({ id: 'all', dir: f.dir, chunks: f.chunks, bytes: f.bytes, ms: f.ms, t: now }, this.options())} on ${formatCount(f.sockets)} sockets`);
    }
    if (ended && !stop) this.line(formatEvent({ type: 'note', t: now, message: 'data events calmed down: shown one by one again' }, this.options()) ?? '');
  }

  private readonly ruleFold = new RuleFold();

  /** One line per folded rule for the interval: `r1  fired 4,210 times in 1.0 s`. */
  private ruleSummary(stop: boolean): void {
    const now = Date.now();
    for (const f of this.ruleFold.drain(now, stop)) {
      const message = `fired ${formatCount(f.fired)} times in ${(f.ms / 1000).toFixed(1)} s`;
      this.line(formatEvent({ type: 'note', t: now, id: f.rule, message }, this.options()) ?? message);
    }
  }

  private tick(): void {
    let any = this.sessionFold.folding || this.ruleFold.folding;
    this.sessionSummary(false);
    this.ruleSummary(false);
    for (const [s, { id, dir }] of this.ordered) {
      if (!s.folding) continue;
      any = true;
      // A stream that went quiet during the interval leaves fold mode.
      this.unfold(id, s.foldChunks === 0, dir);
    }
    if (!any) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Print the fold summary of a socket's streams; `stop` ends folding (end, close, quiet). */
  private unfold(id: string, stop: boolean, only?: Dir): void {
    for (const dir of only ? [only] : DIRS) {
      const s = this.streams[dir].get(id);
      if (!s?.folding) continue;
      const now = Date.now();
      if (s.foldChunks > 0) {
        this.line(formatFold({ id, dir, chunks: s.foldChunks, bytes: s.foldBytes, ms: now - s.foldStart, t: now, unit: s.unit }, this.options()));
      }
      s.foldChunks = 0;
      s.foldBytes = 0;
      s.foldStart = now;
      if (stop) {
        s.folding = false;
        s.windowCount = 0;
      }
    }
    if (stop && only === undefined) {
      // Closed sockets need no display state; keeps a connect/close loop bounded.
      for (const dir of DIRS) {
        const s = this.streams[dir].get(id);
        if (s === undefined) continue;
        this.streams[dir].delete(id);
        this.ordered.delete(s);
      }
      if (this.explained.size > 0) {
        this.explained.delete(id + 'data');
        this.explained.delete(id + 'send');
        this.explained.delete(id + 'datagram');
        this.explained.delete(id + 'message');
      }
    }
  }
}
