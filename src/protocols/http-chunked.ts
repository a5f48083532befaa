import { escapeBytes } from '../render/escape.js';
/**
 * Request body framing for `HttpRequestParser` in `http.ts`, with no I/O:
 * which of Content-Length and chunked applies (RFC 9112 §6), and the chunked
 * transfer coding (RFC 9112 §7.1) decoded incrementally.
 */
import { ByteAccumulator } from './http-bytes.js';

const LF = 0x0a;
const CR = 0x0d;
/** A chunk-size line (size and extensions) longer than this is refused. */
const MAX_SIZE_LINE = 1024;
const MAX_PEER_TEXT = 80;

/**
 * Peer text for a one-line message and the 400 body that repeats it: `text`
 * holds the peer's bytes one char per byte (latin1, as the parser reads
 * them); they are shown as every data line shows bytes (UTF-8, controls and
 * invalid bytes as `\xHH`, `\u{…}`: escapeBytes, the one table), cut to
 * MAX_PEER_TEXT bytes. So no raw control byte of the peer's is sent back.
 */
export function clip(text: string): string {
  const { text: shown, omitted } = escapeBytes(Buffer.from(text, 'latin1'), MAX_PEER_TEXT);
  return omitted > 0 ? `${shown}…` : shown;
}

/**
 * Collects the bytes of one LF-terminated line across chunks. The line comes
 * out as latin1 text (one char per byte) without its LF or CRLF.
 */
export class LineReader {
  private readonly bytes = new ByteAccumulator();

  /**
   * Reads from `data` at `from` up to and including the next LF. Returns the
   * line and the offset after it; `'more'` when `data` ended first (the bytes
   * are kept); `'too-long'` when the line passes `maxBytes`.
   */
  take(data: Buffer, from: number, maxBytes: number): { line: string; next: number } | 'more' | 'too-long' {
    const lf = data.indexOf(LF, from);
    const end = lf < 0 ? data.length : lf;
    if (this.bytes.length + end - from > maxBytes + 1) return 'too-long'; // +1: the CR of a CRLF
    this.bytes.append(data, from, end);
    if (lf < 0) return 'more';
    let line = this.bytes.take().toString('latin1');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > maxBytes) return 'too-long';
    return { line, next: lf + 1 };
  }

  /** Bytes of an unfinished line held, in bytes. */
  get length(): number {
    return this.bytes.length;
  }
}

/** The outcome of feeding bytes to a `BodyDecoder`. */
export type BodyStep =
  | { kind: 'more' }
  | { kind: 'done'; body: Buffer; consumed: number }
  | { kind: 'error'; status: 400 | 413 | 431; message: string };

const MORE: BodyStep = { kind: 'more' };

/**
 * Collects one request body. `push()` returns `more` when every byte was
 * consumed and the body is not complete yet, `done` with the body and how
 * many bytes of that push belonged to it, or a terminal `error`. Do not push
 * again after `done` or `error`.
 */
export interface BodyDecoder {
  push(data: Buffer): BodyStep;
  /** Body bytes received so far, and the total when Content-Length announced it. */
  progress(): { received: number; expected?: number };
}

/**
 * A body of known Content-Length (greater than 0). A body that arrives in one
 * chunk is a view into it; one spread over chunks is copied into one buffer
 * (many tiny chunks must not each keep a Buffer object alive).
 */
export class LengthBodyDecoder implements BodyDecoder {
  private readonly bytes = new ByteAccumulator();
  private received = 0;

  constructor(private readonly expected: number) {}

  push(data: Buffer): BodyStep {
    const n = Math.min(this.expected - this.received, data.length);
    this.received += n;
    if (this.received === this.expected && this.bytes.length === 0) {
      return { kind: 'done', body: data.subarray(0, n), consumed: n };
    }
    this.bytes.append(data, 0, n);
    if (this.received < this.expected) return MORE;
    return { kind: 'done', body: this.bytes.take(), consumed: n };
  }

  progress(): { received: number; expected: number } {
    return { received: this.received, expected: this.expected };
  }
}

/**
 * A chunked body: hex sizes with optional `;ext`, data, a final `0` chunk and
 * a trailer section, which is read and ignored.
 */
export class ChunkedBodyDecoder implements BodyDecoder {
  private state: 'size' | 'data' | 'data-cr' | 'data-lf' | 'trailer' = 'size';
  private readonly line = new LineReader();
  private remaining = 0;
  private readonly body = new ByteAccumulator();
  private trailerBytes = 0;

  constructor(private readonly limits: { maxBodyBytes: number; maxTrailerBytes: number }) {}

  push(data: Buffer): BodyStep {
    let i = 0;
    while (i < data.length) {
      switch (this.state) {
        case 'size': {
          const got = this.line.take(data, i, MAX_SIZE_LINE);
          if (got === 'more') return MORE;
          if (got === 'too-long') return fail(400, `chunk size line longer than ${MAX_SIZE_LINE} bytes`);
          i = got.next;
          const size = parseChunkSize(got.line);
          if (size === undefined) {
            return fail(400, `bad chunk size line "${clip(got.line)}": expected a hex size, optionally ";ext"`);
          }
          if (this.body.length + size > this.limits.maxBodyBytes) {
            return fail(413, `chunked body exceeds the limit of ${this.limits.maxBodyBytes} bytes`);
          }
          this.remaining = size;
          this.state = size === 0 ? 'trailer' : 'data';
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, data.length - i);
          this.body.append(data, i, i + n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
        case 'data-lf': {
          const byte = data[i];
          if (byte === LF) this.state = 'size';
          else if (byte === CR && this.state === 'data-cr') this.state = 'data-lf';
          else return fail(400, `expected CRLF after chunk data, got byte 0x${(byte ?? 0).toString(16).padStart(2, '0')}`);
          i++;
          break;
        }
        case 'trailer': {
          const budget = Math.max(0, this.limits.maxTrailerBytes - this.trailerBytes);
          const got = this.line.take(data, i, budget);
          if (got === 'more') return MORE;
          if (got === 'too-long') {
            return fail(431, `trailer section exceeds the limit of ${this.limits.maxTrailerBytes} bytes`);
          }
          this.trailerBytes += got.next - i;
          i = got.next;
          if (got.line === '') {
            return { kind: 'done', body: this.body.take(), consumed: i };
          }
          break;
        }
      }
    }
    return MORE;
  }

  progress(): { received: number } {
    return { received: this.body.length };
  }
}

function fail(status: 400 | 413 | 431, message: string): BodyStep {
  return { kind: 'error', status, message };
}

/** The size of a chunk-size line, Infinity when absurdly large, undefined when malformed. */
function parseChunkSize(line: string): number | undefined {
  const match = /^([0-9A-Fa-f]+)[ \t]*(;[^\r\n\0]*)?$/.exec(line);
  const hex = match?.[1]?.replace(/^0+(?=.)/, '');
  if (hex === undefined) return undefined;
  // More than 13 hex digits cannot be exact as a double; it is over any limit anyway.
  return hex.length > 13 ? Infinity : Number.parseInt(hex, 16);
}

/** Body length from Content-Length, `'chunked'`, or an error (RFC 9112 §6). */
export function bodyFraming(
  headers: Array<[string, string]>,
  version: string,
  maxBodyBytes: number,
): number | 'chunked' | { status: 400 | 413 | 501; message: string } {
  const codings = listOf(headers, 'transfer-encoding').map((coding) => coding.toLowerCase());
  // Not listOf: an empty Content-Length is malformed, not absent.
  const lengths = headers
    .filter(([name]) => name.toLowerCase() === 'content-length')
    .flatMap(([, value]) => value.split(',').map((length) => length.trim()));
  const hasTe = headers.some(([name]) => name.toLowerCase() === 'transfer-encoding');
  if (hasTe && lengths.length > 0) {
    return bad('both Transfer-Encoding and Content-Length: the body length is ambiguous (request smuggling)');
  }
  if (hasTe) {
    if (version === 'HTTP/1.0') return bad('Transfer-Encoding is not allowed in an HTTP/1.0 request');
    const other = codings.find((coding) => coding !== 'chunked');
    if (other !== undefined) {
      return { status: 501, message: `Transfer-Encoding "${clip(other)}" not implemented: only chunked is` };
    }
    if (codings.length !== 1) return bad(`bad Transfer-Encoding "${clip(codings.join(', '))}": expected chunked, once`);
    return 'chunked';
  }
  if (lengths.length === 0) return 0;
  const invalid = lengths.find((length) => !/^\d+$/.test(length));
  if (invalid !== undefined) return bad(`bad Content-Length "${clip(invalid)}": expected a non-negative decimal`);
  const distinct = new Set(lengths.map((length) => length.replace(/^0+(?=.)/, '')));
  if (distinct.size > 1) return bad(`conflicting Content-Length values "${clip([...distinct].join(', '))}"`);
  const length = Number([...distinct][0]);
  if (length > maxBodyBytes) {
    return { status: 413, message: `Content-Length ${clip(String([...distinct][0]))} exceeds the limit of ${maxBodyBytes} bytes` };
  }
  return length;
}

/** Every comma-separated element of the named header's values, trimmed, empty ones dropped (RFC 9110 §5.6.1). */
export function listOf(headers: Array<[string, string]>, lowerName: string): string[] {
  return headers
    .filter(([name]) => name.toLowerCase() === lowerName)
    .flatMap(([, value]) => value.split(','))
    .map((element) => element.trim())
    .filter((element) => element !== '');
}

/** A 400 outcome with `message`. */
export function bad(message: string): { status: 400; message: string } {
  return { status: 400, message };
}
