import { stepList, type Step, type StepList } from '../observers/history.js';
import { cutEscaped, escapeBytes, escapeMessage } from './escape.js';
import { formatBytes, formatCount } from './units.js';

/** `dgram`: a UDP datagram, an arrow with no connection behind it. */
type Style = 'data' | 'fin' | 'rst' | 'open' | 'dgram';

/** One row of the diagram: an arrow between two columns, or a note on one. */
type Row =
  | { arrow: true; from: string; to: string; label: string; style: Style }
  | { arrow: false; at: string; label: string };

/**
 * A row before its label is made: an arrow of bytes has the index of its
 * step instead, labelled only when it is drawn (a flood's 5,000 steps make
 * 5,000 rows, and a drawing keeps the newest 300 or 1,000).
 */
type Draft =
  | { arrow: true; from: string; to: string; label: string | number; style: Style }
  | { arrow: false; at: string; label: string };

/** Steps as an array, or read in place (`History#view`). */
export type Steps = readonly Step[] | StepList;

const listOf = (steps: Steps): StepList => ('step' in steps ? steps : stepList(steps as readonly Step[]));

/**
 * Turn steps into rows between participants. A socket whose peer is another
 * socket of this session draws its bytes once (the sender's side); a socket
 * whose peer is outside gets a column named by the peer's address.
 */
export function timelineRows(steps: Steps, only?: Set<string>): { participants: string[]; rows: Row[] } {
  const list = listOf(steps);
  const all = draftRows(list, only);
  return { participants: all.participants, rows: all.rows.map((r) => labelled(list, r)) };
}

/** The rows with labels of bytes left as step indexes (see Draft); only kinds and ids are read of a byte step. */
function draftRows(steps: StepList, only?: Set<string>): { participants: string[]; rows: Draft[] } {
  const n = steps.length;
  const addresses = new Map<string, { local: string; remote: string }>();
  // UDP sockets of this session by bound address: a datagram between two of them is drawn between them.
  const udpAt = new Map<string, string>();
  // The two sockets of a relay link are drawn as the relay's one column: client, relay, target.
  const relayOf = new Map<string, string>();
  // The steps made whole here, by index, made once (a relay's flood is thousands of relay steps).
  const made = new Map<number, Step>();
  for (let i = 0; i < n; i++) {
    const kind = steps.kind(i);
    if (kind !== 'connect' && kind !== 'accept' && kind !== 'bound' && kind !== 'relay') continue;
    const s = steps.step(i);
    made.set(i, s);
    if (s.kind === 'connect' || s.kind === 'accept') addresses.set(s.id, { local: s.local, remote: s.remote });
    if (s.kind === 'bound') udpAt.set(s.local, s.id);
    if (s.kind === 'relay') {
      relayOf.set(s.from, s.id);
      relayOf.set(s.to, s.id);
    } else if (s.kind === 'accept' && s.server?.startsWith('p')) relayOf.set(s.id, s.server);
  }
  // The socket at the other end has our remote as its local and our local as its remote: one lookup, not a scan per socket.
  const byEnds = new Map<string, string>();
  for (const [id, a] of addresses) byEnds.set(`${a.local}\n${a.remote}`, id);
  const peerOf = new Map<string, string>();
  for (const [id, a] of addresses) {
    const other = byEnds.get(`${a.remote}\n${a.local}`);
    peerOf.set(id, other !== undefined && other !== id ? other : a.remote);
  }
  const col = (id: string): string => relayOf.get(id) ?? id;
  const shown = (id: string) => !only || only.has(id) || (relayOf.has(id) && only.has(relayOf.get(id)!));
  const internal = (id: string) => addresses.has(peerOf.get(id) ?? '') || peerOf.get(id)?.startsWith('c') === true;
  const seen = new Set<string>();
  const participants: string[] = [];
  const add = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    participants.push(name);
  };
  const rows: Draft[] = [];
  const arrow = (from: string, to: string, label: string | number, style: Style) => {
    add(from);
    add(to);
    rows.push({ arrow: true, from, to, label, style });
  };
  // What a step's id decides (whether it is drawn, its column, its peer's), worked out again only when the id
  // changes: a flood is thousands of steps of one or two sockets.
  let lastId: string | undefined;
  let drawn = false;
  let me = '';
  let peer = '';
  let inside = false;
  for (let i = 0; i < n; i++) {
    const id = steps.id(i);
    if (id !== lastId) {
      lastId = id;
      drawn = shown(id);
      peer = col(peerOf.get(id) ?? '?');
      me = col(id);
      inside = internal(id) && (!only || only.has(peerOf.get(id) ?? '') || only.has(peer));
    }
    if (!drawn) continue;
    const kind = steps.kind(i);
    // Bytes between sockets: drawn from the kind and the id alone, labelled later if kept.
    if (kind === 'send') {
      arrow(me, peer, i, 'data');
      continue;
    }
    if (kind === 'data') {
      if (!inside) arrow(peer, me, i, 'data');
      continue;
    }
    const s = made.get(i) ?? steps.step(i);
    // A link socket's notes name it: its column is the relay's.
    const noteOf = (label: string) => (me === s.id ? label : `${s.id} ${label}`);
    switch (s.kind) {
      case 'connect':
        arrow(me, peer, me === s.id ? 'connect' : `connect (${s.id})`, 'open');
        break;
      case 'accept':
        if (!inside) arrow(peer, me, me === s.id ? `connect (accepted by ${s.server})` : `connect (${s.id})`, 'open');
        break;
      case 'relay': {
        // In: from the sender to the relay, unless a socket of ours sent it (its send is drawn); out: on to the receiver.
        if (!internal(s.from)) arrow(col(peerOf.get(s.from) ?? '?'), s.id, i, 'data');
        arrow(s.id, col(peerOf.get(s.to) ?? '?'), i, 'data');
        break;
      }
      case 'secure':
        // Both ends report it: drawn once, from the client, unless the client is not ours.
        if (s.role === 'client') arrow(s.id, peer, s.label, 'open');
        else if (!inside) arrow(peer, s.id, s.label, 'open');
        break;
      case 'fin-out':
        arrow(me, peer, 'FIN', 'fin');
        break;
      case 'fin-in':
        if (!inside) arrow(peer, me, 'FIN', 'fin');
        break;
      case 'rst':
        arrow(me, peer, 'RST', 'rst');
        break;
      case 'bound':
        add(s.id);
        break;
      case 'dgram-out':
        arrow(s.id, udpAt.get(s.peer) ?? s.peer, i, 'dgram');
        break;
      case 'dgram-in': {
        const from = udpAt.get(s.peer);
        // Sent by another UDP socket of ours that is drawn: its dgram-out is this arrow already.
        if (from === undefined || (only && !only.has(from))) arrow(from ?? s.peer, s.id, i, 'dgram');
        break;
      }
      default:
        add(me);
        rows.push({ arrow: false, at: me, label: noteOf(s.kind === 'error' ? `error ${s.code}` : s.kind) });
    }
  }
  return { participants, rows };
}

/** A draft with its label: a byte step's made now from its step. */
function labelled(steps: StepList, row: Draft): Row {
  if (typeof row.label === 'string') return row as Row;
  return { ...row, label: bytesLabel(steps.step(row.label) as ByteStep) };
}

type ByteStep = Extract<Step, { kind: 'send' | 'data' | 'dgram-out' | 'dgram-in' | 'relay' }>;

/** `6 B "hello\n"`, or `1.0 MiB in 16 chunks "…"` for a run of chunks. */
function bytesLabel(s: ByteStep): string {
  const unit = s.kind === 'send' ? 'writes' : s.kind === 'data' || s.kind === 'relay' ? 'chunks' : 'datagrams';
  const chunks = s.chunks > 1 ? ` in ${s.chunks} ${unit}` : '';
  return `${formatBytes(s.bytes)}${chunks} "${escapeBytes(s.preview, 16).text}${s.bytes > 16 ? '…' : ''}"`;
}

const COL = 22;
/** Columns drawn at most: 10,000 sockets would make lines of 220,000 characters. */
export const MAX_COLUMNS = 12;
/** Rows drawn at most (the newest); `.timeline --last N` picks fewer. */
export const MAX_ROWS = 1000;

/** What a drawing left out, for the line that says so. */
export interface Omitted {
  participants: number;
  rows: number;
}

/**
 * The diagram for a terminal: participants as columns, one line per row.
 * Bounded: the newest MAX_ROWS rows among at most MAX_COLUMNS columns (see
 * `bounded`); the first line says what was left out.
 */
export function renderTimeline(steps: Steps, only?: Set<string>, limits: { rows?: number } = {}): string {
  const { participants, rows, all } = drawnTimeline(steps, only, limits.rows);
  if (all.rows === 0) return 'nothing to draw yet: connect something and send a few bytes';
  const column = new Map(participants.map((p, i) => [p, i]));
  const omitted: Omitted = { participants: all.participants - participants.length, rows: all.rows - rows.length };
  const center = (p: string) => (column.get(p) ?? 0) * COL + Math.floor(COL / 2);
  const width = participants.length * COL;
  const lane = () => {
    const line = Array<string>(width).fill(' ');
    for (const p of participants) line[center(p)] = '│';
    return line;
  };
  // A participant named by a peer's address or socket path is escaped before it is cut, and
  // cut between characters: a raw `ESC ] 0 ;` cut short would swallow what follows.
  const heads = participants.map((p) => cutEscaped(escapeMessage(p), COL - 2));
  const out = [heads.map((h) => h.padStart(Math.floor(COL / 2) + Math.ceil(h.length / 2)).padEnd(COL)).join('').trimEnd()];
  for (const row of rows) {
    const line = lane();
    if (row.arrow) {
      const a = center(row.from);
      const b = center(row.to);
      const [lo, hi] = a < b ? [a, b] : [b, a];
      const dash = row.style === 'fin' ? '╌' : row.style === 'rst' ? '×' : row.style === 'dgram' ? '┄' : '─';
      for (let i = lo + 1; i < hi; i++) line[i] = dash;
      line[b] = a < b ? '▶' : '◀';
      const room = Math.max(0, hi - lo - 2);
      const full = ` ${escapeMessage(row.label)} `;
      // A label that does not fit is cut with a mark, never silently mid-word.
      const label = full.length <= room ? full : room > 2 ? `${cutEscaped(full, room - 2)}… ` : '';
      const start = lo + 1 + Math.max(0, Math.floor((hi - lo - 1 - label.length) / 2));
      for (let i = 0; i < label.length; i++) line[start + i] = label[i] as string;
    } else {
      const c = center(row.at);
      const label = `[${escapeMessage(row.label)}]`;
      const start = Math.max(0, c - Math.floor(label.length / 2));
      for (let i = 0; i < label.length && start + i < width; i++) line[start + i] = label[i] as string;
    }
    out.push(line.join('').trimEnd());
  }
  const note = omittedNote(omitted, all.participants, all.rows);
  return note === undefined ? out.join('\n') : `${note}\n${out.join('\n')}`;
}

/** The rows a drawing keeps, labelled, and how many rows and participants there were in all. */
export interface DrawnTimeline {
  participants: string[];
  rows: Row[];
  all: { participants: number; rows: number };
}

/**
 * The newest rows (at most `maxRows`, MAX_ROWS) among at most MAX_COLUMNS
 * participants (see `bounded`), labelled; only the kept rows' labels are
 * made. What `.timeline`, its Mermaid form and the classroom page draw.
 */
export function drawnTimeline(steps: Steps, only?: Set<string>, maxRows?: number): DrawnTimeline {
  const list = listOf(steps);
  const all = draftRows(list, only);
  const { participants, rows } = bounded(all, maxRows);
  return { participants, rows: rows.map((r) => labelled(list, r)), all: { participants: all.participants.length, rows: all.rows.length } };
}

/**
 * The newest rows (at most `maxRows`, MAX_ROWS) among at most MAX_COLUMNS
 * participants: walking back from the newest row, a row is kept when its
 * participants are in, or still fit. Columns keep their order of appearance.
 */
function bounded<R extends Draft>(all: { participants: string[]; rows: R[] }, maxRows = MAX_ROWS): { participants: string[]; rows: R[] } {
  const limit = Math.min(maxRows, MAX_ROWS);
  const chosen = new Set<string>();
  const kept: R[] = [];
  for (let i = all.rows.length - 1; i >= 0 && kept.length < limit; i--) {
    const row = all.rows[i] as R;
    const needs = (row.arrow ? [row.from, row.to] : [row.at]).filter((p) => !chosen.has(p));
    if (chosen.size + needs.length > MAX_COLUMNS) continue;
    for (const p of needs) chosen.add(p);
    kept.push(row);
  }
  return { participants: all.participants.filter((p) => chosen.has(p)), rows: kept.reverse() };
}

/** `(showing 12 of 10,000 participants and the last 1,000 of 20,000 rows: …)`, or undefined when nothing was left out. */
function omittedNote(omitted: Omitted, participants: number, rows: number): string | undefined {
  if (omitted.participants === 0 && omitted.rows === 0) return undefined;
  const parts: string[] = [];
  if (omitted.participants > 0) parts.push(`${formatCount(participants - omitted.participants)} of ${formatCount(participants)} participants`);
  if (omitted.rows > 0) parts.push(`${formatCount(rows - omitted.rows)} of ${formatCount(rows)} rows`);
  return `(showing ${parts.join(' and ')}: name sockets to draw them, e.g. .timeline c1 c2, or --last N for the newest rows)`;
}

/** The same story as a Mermaid `sequenceDiagram`, for slides; bounded as renderTimeline is, with the note as a comment. */
export function renderMermaid(steps: Steps, only?: Set<string>, limits: { rows?: number } = {}): string {
  const { participants, rows, all } = drawnTimeline(steps, only, limits.rows);
  const index = new Map(participants.map((p, i) => [p, i]));
  const name = (p: string) => (/^[\w]+$/.test(p) ? p : `P${index.get(p) ?? 0}`);
  const lines = ['sequenceDiagram'];
  const note = omittedNote({ participants: all.participants - participants.length, rows: all.rows - rows.length }, all.participants, all.rows);
  if (note !== undefined) lines.push(`    %% ${note}`);
  // Mermaid's own entity escapes for its syntax characters, after the terminal's table.
  const mermaidText = (s: string) => escapeMessage(s).replace(/[;#"\n]/g, (c) => `#${c.charCodeAt(0)};`);
  for (const p of participants) lines.push(name(p) === p ? `    participant ${p}` : `    participant ${name(p)} as ${mermaidText(p)}`);
  for (const row of rows) {
    if (!row.arrow) lines.push(`    Note over ${name(row.at)}: ${mermaidText(row.label)}`);
    else {
      // `-)`: Mermaid's open (async) arrow, for a datagram that no connection carries.
      const head = row.style === 'fin' ? '-->>' : row.style === 'rst' ? '-x' : row.style === 'dgram' ? '-)' : '->>';
      lines.push(`    ${name(row.from)}${head}${name(row.to)}: ${mermaidText(row.label)}`);
    }
  }
  return lines.join('\n');
}

/** A row of the diagram, for views that draw it their own way (the classroom page). */
export type TimelineRow = Row;
