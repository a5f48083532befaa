import { KEEPS_NO_BYTES } from '../session/manager.js';
import { SocklabError } from '../errors.js';
import { ByteWindow, EXPECT_SLACK, EXPECT_WINDOW, type Pattern } from '../observers/byte-window.js';
import { EXPECT_BUDGET, EXPECT_MIN_KEEP } from '../observers/expect.js';
import type { PatternMatch } from '../protocols/pattern.js';
import { kindOf, type Endpoint } from '../session/endpoint.js';
import type { SessionEvent } from '../session/events.js';
import type { Session } from '../session/session.js';
import type { Firing, RuleCommand, Substitutions } from './rule-command.js';

/**
 * The events a rule can wait for (SPEC 12). `message` (framed sockets) and
 * `relay` (`.proxy`) come from other kinds: a rule matches any event by its
 * name and its endpoint id, so it fires for them once they are emitted.
 */
export const RULE_EVENTS = ['accept', 'connect', 'data', 'message', 'datagram', 'relay', 'end', 'close', 'timeout', 'error'] as const;
export type RuleEventName = (typeof RULE_EVENTS)[number];
/** Events whose bytes a PATTERN reads. `data` and `relay` are streams (matched across chunks); the others one at a time. */
export const BYTE_EVENTS: ReadonlySet<string> = new Set(['data', 'message', 'datagram', 'relay']);
const STREAM_EVENTS: ReadonlySet<string> = new Set(['data', 'relay']);

/** Firings of one rule allowed in one second; one more suspends it (no injection loops). */
export const RULE_RATE_LIMIT = 1000;
/** Commands of one rule waiting to run; past it the rule is suspended (its commands cannot keep up). */
export const RULE_QUEUE_LIMIT = 1000;

/** How a rule runs its lines (given by its `.on` line). */
export interface RuleRunner {
  /** Run one firing's line; rejects with what the command threw. */
  run(firing: Firing, rule: Rule): Promise<void>;
  /** Free what it holds (a JavaScript evaluator) when the rule is removed. */
  close?(): void;
}

/** One trigger rule (`.on`). */
export interface Rule {
  /** `r1`, `r2`… from the session's counters, never reused. */
  readonly id: string;
  /** The endpoint id it watches (a server: its connections too), or `all`. */
  readonly target: string;
  readonly event: RuleEventName;
  readonly pattern: Pattern | undefined;
  /** The `.on` line as typed, for the list. */
  readonly line: string;
  readonly command: RuleCommand;
  fired: number;
  /** Firings whose command failed (the first one was shown). */
  failed: number;
  /** Why it no longer fires, once suspended. */
  suspended: string | undefined;
}

interface RuleState {
  rule: Rule;
  run: RuleRunner;
  /** When the last RULE_RATE_LIMIT firings happened (ms, a ring): one more within 1 s of the oldest is one too many. */
  times: Float64Array;
  next: number;
  /** Commands fired but not yet run. */
  pending: number;
  queue: Promise<void>;
  /** One window per endpoint (and relay direction) for stream events. */
  windows: Map<string, ByteWindow>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The rule engine of a session: a subscriber that matches every event
 * against the rules, and runs a rule's command (through the runner its
 * `.on` line gave, the same dispatcher as typed lines) once per firing, in
 * order per rule. A rule that fires more than RULE_RATE_LIMIT times in a
 * second, or whose commands fall RULE_QUEUE_LIMIT behind, is suspended with
 * a note. Windows of stream events are ByteWindows, each at most
 * EXPECT_WINDOW (+ slack) and all of them together within EXPECT_BUDGET.
 */
export class RuleEngine {
  private readonly states = new Map<string, RuleState>();
  private total = 0;
  private readonly unsubscribe: () => void;

  constructor(private readonly session: Session) {
    this.unsubscribe = session.subscribe(this.handle, KEEPS_NO_BYTES);
  }

  /** Add a rule; it sees events from the next one on. */
  add(spec: Omit<Rule, 'id' | 'fired' | 'failed' | 'suspended'>, run: RuleRunner): Rule {
    const rule: Rule = { ...spec, id: this.session.nextId('r'), fired: 0, failed: 0, suspended: undefined };
    this.states.set(rule.id, { rule, run, times: new Float64Array(RULE_RATE_LIMIT).fill(-Infinity), next: 0, pending: 0, queue: Promise.resolve(), windows: new Map(), timer: undefined });
    return rule;
  }

  /** Remove a rule (`r1`) or every rule (`all`); returns those removed. @throws SocklabError E_UNKNOWN_ID */
  remove(ref: string): Rule[] {
    const ids = ref === 'all' ? [...this.states.keys()] : [ref];
    if (ref !== 'all' && !this.states.has(ref)) {
      const known = [...this.states.keys()];
      throw new SocklabError('E_UNKNOWN_ID', `no rule "${ref}": ${known.length > 0 ? `rules now: ${known.slice(0, 8).join(', ')}` : 'there are no rules'}; .on lists them`);
    }
    return ids.map((id) => {
      const s = this.states.get(id) as RuleState;
      clearTimeout(s.timer);
      s.run.close?.();
      for (const w of s.windows.values()) this.total -= w.bytes;
      this.states.delete(id);
      return s.rule;
    });
  }

  /** Every rule, oldest first. */
  list(): Rule[] {
    return [...this.states.values()].map((s) => s.rule);
  }

  /** Resolves once every command fired so far has run (or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.states.values()].map((s) => s.queue));
  }

  /** Bytes kept in rule windows over all rules (bounded by EXPECT_BUDGET plus one window). */
  keptBytes(): number {
    return this.total;
  }

  /** Stop listening (the session is gone). */
  close(): void {
    this.remove('all');
    this.unsubscribe();
  }

  private readonly handle = (ev: SessionEvent): void => {
    if (this.states.size === 0 || !('id' in ev) || ev.id === undefined || ev.type === 'rule') return;
    for (const s of this.states.values()) {
      if (s.rule.event === ev.type && s.rule.suspended === undefined && this.watches(s.rule, ev.id)) this.offer(s, ev);
    }
    if (ev.type === 'close') {
      for (const s of this.states.values()) this.dropWindows(s, ev.id);
    }
  };

  /** True when the rule's target is the endpoint, owns it (a server's connections), or is `all`. */
  private watches(rule: Rule, id: string): boolean {
    if (rule.target === 'all' || rule.target === id) return true;
    const target = this.session.find(rule.target);
    const ep = this.session.find(id);
    return target !== undefined && ep !== undefined && kindOf<Endpoint>(target).owns?.(target, ep) === true;
  }

  private offer(s: RuleState, ev: SessionEvent & { id?: string }): void {
    const id = ev.id as string;
    const bytes = 'data' in ev && Buffer.isBuffer(ev.data) ? ev.data : undefined;
    const pattern = s.rule.pattern;
    if (pattern === undefined || bytes === undefined) return this.fire(s, ev, bytes === undefined ? [] : [bytes]);
    if (!STREAM_EVENTS.has(ev.type)) {
      const m = findIn(bytes, pattern);
      if (m !== undefined) this.fire(s, ev, groupsOf(bytes, m));
      return;
    }
    // A relayed chunk's window is its link socket's (`from`): two links of one relay are two streams,
    // and the window goes when that socket closes.
    const key = ev.type === 'relay' ? ev.from : id;
    let w = s.windows.get(key);
    // Nothing waits from earlier chunks: the chunk alone is the window (searched in place, not copied), and
    // only what follows its last match is kept. Up to EXPECT_MIN_KEEP bytes no trim below would cut it, so
    // the matches are the ones the window would find.
    if ((w === undefined || w.bytes === 0) && bytes.length <= EXPECT_MIN_KEEP) {
      const at = this.scanChunk(s, bytes, ev);
      if (at === undefined || at === bytes.length) return;
      if (w === undefined) s.windows.set(key, (w = new ByteWindow()));
      w.append(bytes.subarray(at));
      this.total += bytes.length - at;
      return;
    }
    if (w === undefined) s.windows.set(key, (w = new ByteWindow()));
    w.append(bytes);
    this.total += bytes.length;
    if (w.bytes > EXPECT_WINDOW + EXPECT_SLACK) this.total -= w.trim(EXPECT_WINDOW);
    if (this.total > EXPECT_BUDGET && w.bytes > EXPECT_MIN_KEEP) this.total -= w.trim(EXPECT_MIN_KEEP);
    this.scan(s, w, ev);
  }

  /**
   * `scan` on one chunk that is the whole window (nothing waits before it): fire once per match, each
   * consumed, searching the bytes after it as a window of their own (`^` at its start). Returns where the
   * unmatched rest starts, or undefined once the rule is suspended or removed (its windows are gone).
   */
  private scanChunk(s: RuleState, bytes: Buffer, ev: SessionEvent): number | undefined {
    const pattern = s.rule.pattern as Pattern;
    let at = 0;
    while (at < bytes.length) {
      if (s.rule.suspended !== undefined || !this.states.has(s.rule.id)) return undefined;
      const rest = at === 0 ? bytes : bytes.subarray(at);
      const m = findIn(rest, pattern);
      if (m === undefined) break;
      // An empty match at the start would fire forever without consuming a byte.
      at += Math.max(m.end, 1);
      this.fire(s, ev, groupsOf(rest, m));
    }
    return s.rule.suspended !== undefined || !this.states.has(s.rule.id) ? undefined : at;
  }

  /** Fire once per match in the window, each match consumed, until none is left or the rule is suspended. */
  private scan(s: RuleState, w: ByteWindow, ev: SessionEvent): void {
    const pattern = s.rule.pattern as Pattern;
    for (;;) {
      if (s.rule.suspended !== undefined || !this.states.has(s.rule.id)) return;
      const m = w.find(pattern, false);
      if (m === undefined) break;
      // An empty match at the start would fire forever without consuming a byte.
      const end = Math.max(m.end, 1);
      this.total -= end;
      const taken = w.take(end);
      this.fire(s, ev, groupsOf(taken, m));
      if (w.bytes === 0) break;
    }
    // A regex of unbounded length may leave bytes for a rescan later: search them then, even if nothing more comes.
    if (w.deferred && s.timer === undefined) {
      s.timer = setTimeout(() => {
        s.timer = undefined;
        if (this.states.has(s.rule.id) && [...s.windows.values()].includes(w)) this.scan(s, w, ev);
      }, w.rescanDue());
      s.timer.unref();
    }
  }

  private fire(s: RuleState, ev: SessionEvent, groups: Array<Uint8Array | undefined>): void {
    const { rule } = s;
    const now = this.session.now();
    const oldest = s.times[s.next] as number;
    s.times[s.next] = now;
    s.next = (s.next + 1) % s.times.length;
    if (now - oldest < 1000) return this.suspend(s, `fired more than ${RULE_RATE_LIMIT.toLocaleString('en')} times in a second (a loop? two rules answering each other?)`);
    if (s.pending >= RULE_QUEUE_LIMIT) return this.suspend(s, `has ${RULE_QUEUE_LIMIT.toLocaleString('en')} commands waiting to run (they cannot keep up)`);
    // On a relay, $id is the link socket that received the chunk (c3), as on any socket's data; the event's id is the relay.
    const id = ev.type === 'relay' ? ev.from : (ev as { id: string }).id;
    let firing: Firing;
    try {
      firing = rule.command.fire({ id, remote: rule.command.usesRemote ? remoteOf(this.session, ev) : undefined, groups } satisfies Substitutions);
    } catch (err) {
      return this.failed(s, rule.command.text, err);
    }
    rule.fired++;
    this.session.emit({ type: 'rule', t: now, rule: rule.id, id, command: firing.line });
    s.pending++;
    s.queue = s.queue.then(() =>
      s.run.run(firing, rule).then(
        () => void s.pending--,
        (err: unknown) => {
          s.pending--;
          this.failed(s, firing.line, err);
        },
      ),
    );
  }

  /** Errors of a rule's command: the first is shown (with the rule's id), the rest counted (`.on` lists them). */
  private failed(s: RuleState, line: string, err: unknown): void {
    if (s.rule.failed++ > 0) return;
    const code = err instanceof SocklabError ? err.code : 'E_INTERNAL';
    const message = `${err instanceof Error ? err.message : String(err)} (shown once: .on counts its later failures)`;
    // A line holding a whole window of capture is cut: the message says what failed.
    const shown = line.length > 1024 ? `${line.slice(0, 1024)}… (+${line.length - 1024} characters)` : line;
    this.session.emit({ type: 'command-error', t: this.session.now(), line: shown, code, message, source: `rule ${s.rule.id}` });
  }

  private suspend(s: RuleState, why: string): void {
    s.rule.suspended = why;
    clearTimeout(s.timer);
    for (const key of [...s.windows.keys()]) this.dropWindows(s, key);
    this.session.note(s.rule.id, `rule ${s.rule.id} suspended: it ${why}; .off ${s.rule.id} removes it`);
  }

  private dropWindows(s: RuleState, id: string): void {
    for (const [key, w] of s.windows) {
      if (key !== id && !key.startsWith(`${id} `)) continue;
      this.total -= w.bytes;
      s.windows.delete(key);
    }
  }
}

function findIn(bytes: Buffer, pattern: Pattern): PatternMatch | undefined {
  if (pattern.kind === 'regex') return pattern.regex.find(bytes);
  const at = bytes.indexOf(pattern.bytes);
  return at < 0 ? undefined : { start: at, end: at + pattern.bytes.length, captures: [] };
}

/** `$0` and the captures, as views of the bytes they came from. */
function groupsOf(bytes: Buffer, m: PatternMatch): Array<Uint8Array | undefined> {
  return [m, ...m.captures].map((g) => (g === undefined ? undefined : bytes.subarray(g.start, g.end)));
}

/** `$remote`: the peer the event names (an accept, a datagram's sender), else the endpoint's peer. */
function remoteOf(session: Session, ev: SessionEvent): Uint8Array | undefined {
  if (ev.type === 'relay') return remoteOf(session, { type: 'data', t: ev.t, id: ev.from } as SessionEvent);
  const named = 'remote' in ev ? ev.remote : 'from' in ev ? ev.from : undefined;
  if (typeof named === 'string') return Buffer.from(named);
  const ep = 'id' in ev && ev.id !== undefined ? session.find(ev.id) : undefined;
  const remote = ep === undefined ? undefined : (ep as { remote?: unknown }).remote;
  return typeof remote === 'string' ? Buffer.from(remote) : undefined;
}

const engines = new WeakMap<Session, RuleEngine>();

/** The session's rule engine, made (and subscribed) on first use. */
export function rulesOf(session: Session): RuleEngine {
  let engine = engines.get(session);
  if (engine === undefined) engines.set(session, (engine = new RuleEngine(session)));
  return engine;
}
