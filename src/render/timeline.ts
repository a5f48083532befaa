import { cutEscaped, escapeMessage } from './escape.js';
import { formatCount } from './units.js';
import { draftRows, labelled, listOf, type Draft, type Row, type Steps } from './timeline-rows.js';

export { timelineRows, type Steps } from './timeline-rows.js';

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
