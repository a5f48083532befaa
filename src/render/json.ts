import { isAscii } from 'node:buffer';
import { escapeJsonHidden } from './escape.js';
import type { SessionEvent } from '../session/events.js';

type Fields<T> = (ev: T) => Record<string, unknown>;
type Table = { [K in SessionEvent['type']]: Fields<Extract<SessionEvent, { type: K }>> | null };

const withAlias = (alias: string | undefined) => (alias === undefined ? {} : { alias });

// SPEC section 5, one entry per event; null = not part of the JSON stream.
const FIELDS: Table = {
  listening: (ev) => ({
    id: ev.id,
    ...(ev.kind !== undefined && { kind: ev.kind }),
    address: ev.address,
    ...(ev.target !== undefined && { target: ev.target }),
    ...(ev.path !== undefined ? { path: ev.path } : { port: ev.port }),
    ...withAlias(ev.alias),
  }),
  connect: (ev) => ({ id: ev.id, local: ev.local, remote: ev.remote, ...withAlias(ev.alias) }),
  accept: (ev) => ({ id: ev.id, server: ev.server, local: ev.local, remote: ev.remote }),
  send: (ev) => ({ id: ev.id, bytes: ev.data.length, base64: ev.data.toString('base64'), ...(ev.to !== undefined && { to: ev.to }) }),
  datagram: (ev) => ({ id: ev.id, from: ev.from, bytes: ev.data.length, base64: ev.data.toString('base64'), text: ev.data.toString('utf8') }),
  relay: (ev) => ({
    id: ev.id,
    from: ev.from,
    to: ev.to,
    dir: ev.dir,
    bytes: ev.data.length,
    base64: ev.data.toString('base64'),
    text: ev.data.toString('utf8'),
    ...(ev.fault !== undefined && { fault: ev.fault }),
  }),
  data: (ev) => ({ id: ev.id, bytes: ev.data.length, base64: ev.data.toString('base64'), text: ev.data.toString('utf8') }),
  message: (ev) => ({ id: ev.id, bytes: ev.data.length, base64: ev.data.toString('base64'), text: ev.data.toString('utf8') }),
  secure: (ev) => ({
    id: ev.id,
    role: ev.role,
    protocol: ev.protocol,
    cipher: ev.cipher,
    alpn: ev.alpn,
    servername: ev.servername,
    authorized: ev.authorized,
    ...(ev.authorizationError !== undefined && { authorizationError: ev.authorizationError }),
    peerCertificate: ev.peerCertificate,
    reused: ev.reused,
  }),
  end: (ev) => ({ id: ev.id }),
  shutdown: (ev) => ({ id: ev.id }),
  stop: (ev) => ({ id: ev.id, open: ev.open, ...(ev.destroyed !== undefined && { destroyed: ev.destroyed }) }),
  close: (ev) => ({ id: ev.id, hadError: ev.hadError, ...(ev.stillSending === true && { stillSending: true }) }),
  error: (ev) => ({ ...(ev.id !== undefined && { id: ev.id }), code: ev.code, message: ev.message }),
  timeout: (ev) => ({ id: ev.id, ms: ev.ms }),
  command: (ev) => ({ line: ev.line }),
  'command-error': (ev) => ({ line: ev.line, code: ev.code, message: ev.message, ...(ev.source !== undefined && { source: ev.source }) }),
  'expect-ok': (ev) => ({ id: ev.id, line: ev.line, received: ev.received.toString('base64') }),
  'expect-fail': (ev) => ({ id: ev.id, line: ev.line, received: ev.received.toString('base64') }),
  note: (ev) => ({ ...(ev.id !== undefined && { id: ev.id }), message: ev.message }),
  rule: (ev) => ({ rule: ev.rule, id: ev.id, command: ev.command }),
};

// JSON.stringify escapes only U+0000–U+001F and lone surrogates; every other
// character of the one escaping table (DEL, C1 — U+009B is a CSI on many
// terminals —, bidi, invisible, tag and private-use characters) gets \uXXXX
// too, in every string field, so no value can act on a terminal that shows it.
/**
 * One NDJSON line (without the newline) for an event: `t`, `event`, then the
 * event's fields, with every control character escaped.
 */
export function toJsonLine(ev: SessionEvent): string | undefined {
  // The data path: built by hand, so only `text` is scanned for unsafe characters
  // (ids are ours; base64 and numbers are plain ASCII).
  if (ev.type === 'data' || ev.type === 'message') {
    // A framed socket's chunks are said as its messages (SPEC 12): every byte of a message is in one.
    if (ev.type === 'data' && ev.framed) return undefined;
    return `{"t":${ev.t},"event":"${ev.type}","id":"${ev.id}","bytes":${ev.data.length},"base64":"${ev.data.toString('base64')}","text":${safeString(ev.data.toString('utf8'))}}`;
  }
  if (ev.type === 'send' && ev.to === undefined) return `{"t":${ev.t},"event":"send","id":"${ev.id}","bytes":${ev.data.length},"base64":"${ev.data.toString('base64')}"}`;
  const fields = FIELDS[ev.type] as Fields<SessionEvent> | null;
  if (!fields) return undefined;
  return escapeJsonHidden(JSON.stringify({ t: ev.t, event: ev.type, ...fields(ev) }));
}

function safeString(text: string): string {
  return escapeJsonHidden(JSON.stringify(text));
}

/** The JSON renderer as a subscriber: one line per event, written at once. */
export function jsonPrinter(write: (text: string) => void): (ev: SessionEvent) => void {
  return (ev) => {
    const line = toJsonLine(ev);
    if (line !== undefined) write(line + '\n');
  };
}

/**
 * The same line as toJsonLine, with its newline, as UTF-8 bytes ready to
 * write: what `--json` writes to stdout. Byte for byte what `toJsonLine(ev) +
 * '\n'` encodes to; undefined for the same events.
 *
 * The data path (`data`, `message`, TCP `send`) fills one Buffer instead: the
 * base64 and, when the chunk is ASCII, the JSON of `text` are ASCII strings
 * copied in as latin1 (a plain copy), so the stream never UTF-8-encodes a
 * line of ~2.4 bytes per payload byte (half of `--json`'s time went there).
 */
export function toJsonBytes(ev: SessionEvent): Buffer | undefined {
  const send = ev.type === 'send' && ev.to === undefined;
  if (!send && ev.type !== 'message' && (ev.type !== 'data' || ev.framed === true)) {
    const line = toJsonLine(ev);
    return line === undefined ? undefined : Buffer.from(line + '\n');
  }
  const data = (ev as Extract<SessionEvent, { type: 'data' | 'message' | 'send' }>).data;
  let text: string | undefined;
  if (!send) {
    // Outside ASCII the UTF-8 decoding, the escaping and the encoding all matter: the line's own path.
    if (!isAscii(data)) return Buffer.from(toJsonLine(ev) + '\n');
    // In ASCII only DEL is escaped beyond what JSON.stringify escapes; either way the result is ASCII.
    const json = JSON.stringify(data.toString('latin1'));
    text = data.indexOf(0x7f) < 0 ? json : escapeJsonHidden(json);
  }
  const head = `{"t":${ev.t},"event":"${ev.type}","id":"${(ev as { id: string }).id}","bytes":${data.length},"base64":"`;
  const base64 = data.toString('base64');
  const headBytes = Buffer.byteLength(head);
  const tail = text === undefined ? '"}\n' : '","text":';
  const out = Buffer.allocUnsafe(headBytes + base64.length + tail.length + (text === undefined ? 0 : text.length + 2));
  let at = out.write(head, 0, 'utf8');
  at += out.write(base64, at, 'latin1');
  at += out.write(tail, at, 'latin1');
  if (text !== undefined) {
    at += out.write(text, at, 'latin1');
    out.write('}\n', at, 'latin1');
  }
  return out;
}

/**
 * The JSON renderer writing bytes (toJsonBytes): one line per event, written
 * at once. (An echo's `send` carries the very Buffer of the `data` line before
 * it, but its base64 is made again: JavaScript may have changed the Buffer in
 * between, and the line must show the bytes that were sent. Review 3 #1.)
 */
export function jsonBytesPrinter(write: (line: Buffer) => void): (ev: SessionEvent) => void {
  return (ev) => {
    const line = toJsonBytes(ev);
    if (line !== undefined) write(line);
  };
}
