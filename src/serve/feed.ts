import { HumanPrinter } from '../render/printer.js';
import { escapeMessage } from '../render/escape.js';
import { toJsonLine } from '../render/json.js';
import { formatClock } from '../render/units.js';
import type { SessionEvent } from '../session/events.js';
import type { Settings } from '../settings.js';
import { Ring } from './ring.js';
import { toSpans, type Span } from './spans.js';
import { nodeCrypto } from '../lazy-builtins.js';

/**
 * One line group of the page's event log: an event's line and what the
 * printer puts under it (hex rows, an explanation), or a fold summary.
 * `type` is the event's type (`fold` for a summary the fold timer wrote,
 * `command` for a command line); the page styles rows by it, with a
 * fallback for types it does not know. Every text is escaped already
 * (the terminal's table) and the page puts it in with textContent.
 */
export interface LogEntry {
  seq: number;
  /** `HH:MM:SS.mmm`, as the terminal shows it. */
  clock: string;
  type: string;
  id?: string;
  lines: Span[][];
}

/** Characters of one entry's text kept; the rest is cut with a mark (an explanation of a 256 B hex view fits). */
export const ENTRY_CHARS = 8192;

// Events whose lines the printer may leave out on purpose: a fold takes them.
const FOLDABLE = new Set(['data', 'send', 'datagram']);

/**
 * The page's view of a session, as a subscriber: a HumanPrinter of its own
 * (colours on, times off, the person's view and `maxbytes` followed live)
 * turns events into lines exactly as the terminal shows them, folded under
 * a flood; each group of lines becomes a numbered entry of the ring. A
 * command line shows as `» .listen 0`; an event the printer has no line for
 * (a kind added later) shows generically from its JSON fields.
 */
export class PageFeed {
  /** This feed's name in event ids: a browser that resumes with another feed's id starts afresh. */
  readonly tag = nodeCrypto().randomBytes(4).toString('hex');
  readonly ring = new Ring();
  private readonly printer: HumanPrinter;
  private current: SessionEvent | undefined;
  private wrote = false;

  /** `added` is told after each new entry; `changed` after every event (the table and diagram may differ). */
  constructor(
    settings: Settings,
    private readonly added: () => void,
    private readonly changed: () => void,
  ) {
    this.printer = new HumanPrinter(pageSettings(settings), this.write);
  }

  /** The subscriber: `session.subscribe(feed.handle)`. */
  readonly handle = (ev: SessionEvent): void => {
    if (ev.type === 'command') {
      this.add(ev.t, 'command', undefined, [[['command', `» ${escapeMessage(ev.line)}`]]]);
    } else {
      this.current = ev;
      this.wrote = false;
      this.printer.handle(ev);
      // At once, so the lines are this event's: later writes are the fold timer's summaries.
      this.printer.flush();
      this.current = undefined;
      if (!this.wrote && !FOLDABLE.has(ev.type)) this.generic(ev);
    }
    this.changed();
  };

  /** Stop the printer's fold timer. */
  close(): void {
    this.printer.close();
  }

  private readonly write = (text: string): void => {
    this.wrote = true;
    const ev = this.current;
    const t = ev?.t ?? Date.now();
    // A line that starts with blanks continues the entry above (hex rows, explanations).
    let group: string[] = [];
    const flush = () => {
      if (group.length === 0) return;
      const first = group[0] as string;
      const id = ev !== undefined && 'id' in ev ? ev.id : /^\S+/.exec(first.replace(/\x1b\[[0-9;]*m/g, ''))?.[0];
      this.add(t, ev?.type ?? 'fold', id, group.map(toSpans));
      group = [];
    };
    for (const line of text.replace(/\n$/, '').split('\n')) {
      if (!/^\s/.test(line)) flush();
      group.push(line);
    }
    flush();
  };

  /**
   * An event the printer shows nothing for: its type and fields, escaped. The
   * JSON renderer's fields when it knows the type; otherwise the event's own
   * plain fields (bytes as a count), so a kind no renderer knows yet still shows.
   */
  private generic(ev: SessionEvent): void {
    const json = toJsonLine(ev);
    const parsed = json === undefined ? plainFields(ev) : (JSON.parse(json) as Record<string, unknown>);
    const { t: _t, event: _e, type: _type, id, base64: _b, ...fields } = parsed;
    const text = `${ev.type} ${JSON.stringify(fields).slice(0, 1000)}`;
    const shown = typeof id === 'string' ? id : '-';
    this.add(ev.t, ev.type, shown, [[['bold', escapeMessage(shown).padEnd(3)], ['', `  ${escapeMessage(text)}`]]]);
  }

  private add(t: number, type: string, id: string | undefined, lines: Span[][]): void {
    const entry: LogEntry = { seq: this.ring.next, clock: formatClock(t), type, ...(id !== undefined && { id }), lines: bounded(lines) };
    this.ring.push(`id: ${this.tag}.${entry.seq}\nevent: log\ndata: ${JSON.stringify(entry)}\n\n`);
    this.added();
  }
}

/** The person's settings as the page shows them: colours on (read back as classes), no times (the entry has its clock). */
function pageSettings(s: Settings): Settings {
  return {
    get eol() {
      return s.eol;
    },
    time: false,
    get maxbytes() {
      return s.maxbytes;
    },
    color: true,
    get explain() {
      return s.explain;
    },
    get view() {
      return s.view;
    },
    get views() {
      return s.views;
    },
  };
}

/** An event's fields as JSON would carry them: Buffers as their length, nothing nested. */
function plainFields(ev: SessionEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ev)) {
    if (Buffer.isBuffer(v)) out[k === 'data' ? 'bytes' : k] = v.length;
    else if (v === null || typeof v !== 'object') out[k] = v;
  }
  return out;
}

/** Lines cut to ENTRY_CHARS in all, the cut said on the last line kept. */
function bounded(lines: Span[][]): Span[][] {
  let left = ENTRY_CHARS;
  const out: Span[][] = [];
  for (const line of lines) {
    const kept: Span[] = [];
    for (const [paint, text] of line) {
      if (left <= 0) break;
      kept.push([paint, text.length <= left ? text : `${text.slice(0, left)}… (cut for the page)`]);
      left -= text.length;
    }
    if (kept.length > 0) out.push(kept);
    if (left <= 0) break;
  }
  return out;
}
