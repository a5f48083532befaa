/**
 * The rows of the sequence diagram, from the history's steps: who talks to
 * whom, and the labels (`.timeline`, its Mermaid form and the classroom page
 * draw them, see timeline.ts).
 */
import type { Step, StepList } from '../observers/history.js';
import { escapeBytes } from './escape.js';
import { formatBytes } from './units.js';

/** `dgram`: a UDP datagram, an arrow with no connection behind it. */
export type Style = 'data' | 'fin' | 'rst' | 'open' | 'dgram';

/** One row of the diagram: an arrow between two columns, or a note on one. */
export type Row =
  | { arrow: true; from: string; to: string; label: string; style: Style }
  | { arrow: false; at: string; label: string };

/**
 * A row before its label is made: an arrow of bytes has the index of its
 * step instead, labelled only when it is drawn (a flood's 5,000 steps make
 * 5,000 rows, and a drawing keeps the newest 300 or 1,000).
 */
export type Draft =
  | { arrow: true; from: string; to: string; label: string | number; style: Style }
  | { arrow: false; at: string; label: string };

/** Steps as an array, or read in place (`History#view`). */
export type Steps = readonly Step[] | StepList;

/** An array of steps read as a StepList. */
function stepList(steps: readonly Step[]): StepList {
  return {
    length: steps.length,
    kind: (i) => (steps[i] as Step).kind,
    id: (i) => (steps[i] as Step).id,
    step: (i) => steps[i] as Step,
  };
}

/** `steps` as a StepList. */
export const listOf = (steps: Steps): StepList => ('step' in steps ? steps : stepList(steps as readonly Step[]));

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
export function draftRows(steps: StepList, only?: Set<string>): { participants: string[]; rows: Draft[] } {
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
export function labelled(steps: StepList, row: Draft): Row {
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
