import { firstRows } from '../commands/view.js';
import { escapeMessage } from '../render/escape.js';
import { drawnTimeline, type TimelineRow } from '../render/timeline.js';
import { formatAge, formatBytes, formatCount } from '../render/units.js';
import { kindOf } from '../session/endpoint.js';
import type { Session } from '../session/session.js';

/** Endpoint rows the page's table shows; the rest is counted in a line under it. */
export const PAGE_TABLE_ROWS = 100;
/** Diagram rows the page draws (the newest); the terminal's `.timeline` bounds columns the same way. */
export const PAGE_DIAGRAM_ROWS = 300;

/** The endpoints table as `.ls` shows it: a header and rows of escaped strings. */
export interface TableSnapshot {
  header: string[];
  rows: string[][];
  /** `… 4,980 more` when rows were left out. */
  more?: string;
}

/** The sequence diagram: participants (columns) and rows, every string escaped. */
export interface DiagramSnapshot {
  participants: string[];
  rows: TimelineRow[];
  /** What was left out, as `.timeline` says it. */
  omitted?: string;
}

const HEADER = ['id', 'name', 'kind', 'local', 'remote', 'state', 'in', 'out', 'queued', 'age'];

/** The endpoints table now: each kind's own `.ls` row (live first past PAGE_TABLE_ROWS, as `.ls` does). */
export function tableSnapshot(session: Session, now = session.now()): TableSnapshot {
  const all = session.list();
  const shown = all.length <= PAGE_TABLE_ROWS ? all : firstRows(all, PAGE_TABLE_ROWS);
  const bytes = (n: number | undefined) => (n === undefined ? '' : formatBytes(n));
  const rows = shown.map((ep) => {
    const r = kindOf(ep).row(ep);
    const age = formatAge((ep.closedAt ?? now) - ep.createdAt);
    return [ep.id, ep.alias ?? '', r.label, r.local, r.remote, r.state, bytes(r.bytesIn), bytes(r.bytesOut), bytes(r.queued), age].map((s) => escapeMessage(s));
  });
  const left = all.length - shown.length;
  return { header: HEADER, rows, ...(left > 0 && { more: `… ${formatCount(left)} more (.ls in the terminal lists them)` }) };
}

/**
 * The diagram now, from the session's own timeline model (what `.timeline` draws), newest rows first kept.
 * Read from the history's columns in place: only the rows drawn are labelled (a flood keeps 5,000 steps).
 */
export function diagramSnapshot(session: Session): DiagramSnapshot {
  const { participants, rows, all } = drawnTimeline(session.history.view, undefined, PAGE_DIAGRAM_ROWS);
  const text = (s: string) => escapeMessage(s);
  const left = all.rows - rows.length;
  const hidden = all.participants - participants.length;
  const omitted = left > 0 || hidden > 0 ? `showing the newest ${formatCount(rows.length)} of ${formatCount(all.rows)} rows${hidden > 0 ? ` and ${formatCount(participants.length)} of ${formatCount(all.participants)} participants` : ''}` : undefined;
  return {
    participants: participants.map(text),
    rows: rows.map((r) => (r.arrow ? { ...r, from: text(r.from), to: text(r.to), label: text(r.label) } : { ...r, at: text(r.at), label: text(r.label) })),
    ...(omitted !== undefined && { omitted }),
  };
}
