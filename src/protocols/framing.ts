import { SocklabError } from '../errors.js';

/**
 * Message framing (SPEC 12): how a byte stream is cut into messages, with no
 * I/O. A codec is a plain value; `FrameDecoder` (framing-decoder.ts) cuts
 * chunks into messages and `encodeMessage` frames one message for sending.
 * Any kind of endpoint (a TCP socket, a relay's direction) can use them.
 *
 * Codecs, as `--frame` names them:
 * - `line`: a message ends at LF (0x0a); one CR (0x0d) just before the LF is
 *   stripped (as Node's readline and most line protocols do). Sent: message + LF.
 * - `crlf`: a message ends at CR LF (RFC 5322 / RFC 9112 lines). Sent: message + CR LF.
 * - `delim:HEX`: a message ends at these bytes (1–16 bytes in hex, `delim:00`, `delim:0d0a`).
 * - `len8`, `len16`, `len32`: a length prefix of 1, 2 or 4 bytes, big-endian
 *   (network byte order, RFC 1700), counting the bytes that follow it (the
 *   prefix itself not included); `len16le`, `len32le`: the same, little-endian.
 * - `fixed:N`: every message is exactly N bytes.
 */
export type FrameCodec =
  | { kind: 'delimiter'; name: string; delimiter: Buffer; stripCr: boolean }
  | { kind: 'length'; name: string; size: 1 | 2 | 4; littleEndian: boolean }
  | { kind: 'fixed'; name: string; size: number };

/** A codec with the largest message it accepts. */
export interface Framing {
  codec: FrameCodec;
  /** The largest message payload accepted, bytes (prefix and delimiter not counted). */
  maxMessage: number;
}

/** `--max-message` when none is given: 1 MiB. */
export const DEFAULT_MAX_MESSAGE = 1024 * 1024;
/** The longest `delim:HEX` delimiter, bytes. */
export const MAX_DELIMITER = 16;

const LENGTHS: Record<string, { size: 1 | 2 | 4; littleEndian: boolean }> = {
  len8: { size: 1, littleEndian: false },
  len16: { size: 2, littleEndian: false },
  len16le: { size: 2, littleEndian: true },
  len32: { size: 4, littleEndian: false },
  len32le: { size: 4, littleEndian: true },
};

/** What `--frame` takes, for error lines and help. */
export const FRAME_SPECS = 'line, crlf, delim:HEX (e.g. delim:00, delim:0d0a), len8, len16, len16le, len32, len32le or fixed:N';

/**
 * Read a `--frame` SPEC. Throws `SocklabError` `E_BAD_OPTION` with one line
 * that names what would be right (a bad hex delimiter, `fixed:0`, an unknown name).
 */
export function parseFrameSpec(text: string): FrameCodec {
  const spec = text.trim();
  if (spec === 'line') return { kind: 'delimiter', name: 'line', delimiter: Buffer.from('\n'), stripCr: true };
  if (spec === 'crlf') return { kind: 'delimiter', name: 'crlf', delimiter: Buffer.from('\r\n'), stripCr: false };
  const length = LENGTHS[spec];
  if (length !== undefined) return { kind: 'length', name: spec, ...length };
  if (spec.startsWith('delim:')) {
    const hex = spec.slice('delim:'.length);
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex) || hex.length > MAX_DELIMITER * 2) {
      throw new SocklabError('E_BAD_OPTION', `bad --frame ${quote(spec)}: delim: takes 1 to ${MAX_DELIMITER} bytes as hex digits, two per byte, e.g. delim:00 or delim:0d0a`);
    }
    return { kind: 'delimiter', name: `delim:${hex.toLowerCase()}`, delimiter: Buffer.from(hex, 'hex'), stripCr: false };
  }
  if (spec.startsWith('fixed:')) {
    const n = spec.slice('fixed:'.length);
    if (!/^[1-9]\d{0,9}$/.test(n)) throw new SocklabError('E_BAD_OPTION', `bad --frame ${quote(spec)}: fixed: takes a size in bytes of 1 or more, e.g. fixed:16`);
    return { kind: 'fixed', name: `fixed:${n}`, size: Number(n) };
  }
  throw new SocklabError('E_BAD_OPTION', `unknown --frame ${quote(spec)}: use ${FRAME_SPECS}`);
}

/**
 * A codec and its limit, checked together: `fixed:N` over the limit could
 * never be received. `maxMessage` is in bytes (default 1 MiB). Throws
 * `E_BAD_OPTION`.
 */
export function makeFraming(spec: string, maxMessage = DEFAULT_MAX_MESSAGE): Framing {
  const codec = parseFrameSpec(spec);
  if (!Number.isSafeInteger(maxMessage) || maxMessage < 1) throw new SocklabError('E_BAD_OPTION', `--max-message takes a size in bytes of 1 or more, not ${maxMessage}`);
  if (codec.kind === 'fixed' && codec.size > maxMessage) {
    throw new SocklabError('E_BAD_OPTION', `--frame ${codec.name} is larger than --max-message ${maxMessage}: raise --max-message to ${codec.size} or more`);
  }
  return { codec, maxMessage };
}

/** The largest payload a length prefix of `size` bytes can state. */
export function prefixCapacity(size: 1 | 2 | 4): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

/**
 * Frame one message for sending: the length prefix put before it, or the
 * delimiter after it. Throws `E_BAD_PAYLOAD` when the message cannot be
 * framed so the peer reads it back whole: a delimiter inside it (or, for
 * `line`, a CR at its end, which the reader strips), a size other than N for
 * `fixed:N`, more bytes than the prefix can state (255, 65,535, 4 GiB − 1).
 */
export function encodeMessage(codec: FrameCodec, message: Buffer): Buffer {
  switch (codec.kind) {
    case 'length': {
      const cap = prefixCapacity(codec.size);
      if (message.length > cap) {
        throw new SocklabError('E_BAD_PAYLOAD', `${message.length} B is too long for one ${codec.name} message (at most ${cap} B): send less, or use .send --raw`);
      }
      const out = Buffer.allocUnsafe(codec.size + message.length);
      writeLength(out, codec, message.length);
      // Uint8Array#set, not Buffer#copy: the same bytes without copy()'s argument checks per message.
      out.set(message, codec.size);
      return out;
    }
    case 'fixed':
      if (message.length !== codec.size) {
        throw new SocklabError('E_BAD_PAYLOAD', `a ${codec.name} message is exactly ${codec.size} B; this one is ${message.length} B: pad or cut it, or use .send --raw`);
      }
      return message;
    case 'delimiter': {
      const out = Buffer.concat([message, codec.delimiter]);
      if (out.indexOf(codec.delimiter) !== message.length) {
        throw new SocklabError('E_BAD_PAYLOAD', `the message holds the ${describeDelimiter(codec)} that ends a ${codec.name} message, so the peer would read it as more than one: leave it out (the framing adds it), or use .send --raw`);
      }
      if (codec.stripCr && message[message.length - 1] === 0x0d) {
        throw new SocklabError('E_BAD_PAYLOAD', 'the message ends with \\r, which a line reader strips before the \\n: leave it out (the framing adds \\n), or use .send --raw');
      }
      return out;
    }
  }
}

function writeLength(out: Buffer, codec: Extract<FrameCodec, { kind: 'length' }>, n: number): void {
  if (codec.size === 1) out.writeUInt8(n, 0);
  else if (codec.size === 2) codec.littleEndian ? out.writeUInt16LE(n, 0) : out.writeUInt16BE(n, 0);
  else codec.littleEndian ? out.writeUInt32LE(n, 0) : out.writeUInt32BE(n, 0);
}

/** Read the length prefix at `at` (the caller checked that `size` bytes are there). */
export function readLength(buf: Buffer, at: number, codec: Extract<FrameCodec, { kind: 'length' }>): number {
  if (codec.size === 1) return buf.readUInt8(at);
  if (codec.size === 2) return codec.littleEndian ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  return codec.littleEndian ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
}

/** `\n`, `\r\n` or `delimiter 00 ff`, for messages. */
export function describeDelimiter(codec: Extract<FrameCodec, { kind: 'delimiter' }>): string {
  if (codec.name === 'line') return '\\n';
  if (codec.name === 'crlf') return '\\r\\n';
  return `delimiter ${codec.delimiter.toString('hex').replace(/(..)(?!$)/g, '$1 ')}`;
}

/** A human description of a codec: `len16 (2-byte big-endian length prefix)`. */
export function describeCodec(codec: FrameCodec): string {
  switch (codec.kind) {
    case 'length':
      return `${codec.name} (${codec.size}-byte ${codec.size === 1 ? '' : codec.littleEndian ? 'little-endian ' : 'big-endian '}length prefix)`;
    case 'fixed':
      return `${codec.name} (every message ${codec.size} B)`;
    case 'delimiter':
      return `${codec.name} (messages end with ${describeDelimiter(codec)}${codec.stripCr ? ', a CR before it stripped' : ''})`;
  }
}

// A spec the user typed is quoted with JSON escapes; the printer escapes the line again for the terminal.
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
