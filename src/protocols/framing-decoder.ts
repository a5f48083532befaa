import { SocklabError } from '../errors.js';
import { describeDelimiter, readLength, type FrameCodec, type Framing } from './framing.js';

const EMPTY = Buffer.alloc(0);

/**
 * Cuts a byte stream into messages (SPEC 12), chunk by chunk, with no I/O.
 *
 * It keeps only the bytes of the message not yet complete (copied, so a
 * 64 KiB chunk is not kept alive for its last byte) and never more than the
 * limit: a length prefix over `maxMessage` is refused before anything is
 * allocated for it, and so is a run of bytes with no delimiter longer than
 * `maxMessage` (plus the delimiter's own bytes). Messages that lie whole in a
 * chunk are handed on as views of it, not copies; a receiver that keeps one
 * past the call must copy it.
 */
export class FrameDecoder {
  /** Parts of the unfinished message (or of a length prefix), copied. */
  private parts: Buffer[] = [];
  private held = 0;
  /** Length codecs: the payload size read from the prefix, or -1 while reading the prefix. */
  private need = -1;
  private failed: SocklabError | undefined;

  constructor(readonly framing: Framing) {}

  /** Bytes received that belong to a message not complete yet (its prefix included). */
  get waiting(): number {
    return this.held;
  }

  /** For length and fixed codecs: the size of the message being received, once known. */
  get expected(): number | undefined {
    const codec = this.framing.codec;
    if (codec.kind === 'fixed') return codec.size;
    if (codec.kind === 'length' && this.need >= 0) return this.need + codec.size;
    return undefined;
  }

  /**
   * Feed one chunk; `onMessage` is called once per message completed by it,
   * in order. Throws `SocklabError` `E_LIMIT` when a message passes the
   * limit (the messages before it were handed on first); after that the
   * decoder refuses every chunk with the same error.
   */
  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    if (this.failed) throw this.failed;
    const codec = this.framing.codec;
    if (codec.kind === 'delimiter') this.pushDelimited(codec, chunk, onMessage);
    else this.pushSized(codec, chunk, onMessage);
  }

  private pushSized(codec: Exclude<FrameCodec, { kind: 'delimiter' }>, chunk: Buffer, onMessage: (m: Buffer) => void): void {
    const prefix = codec.kind === 'length' ? codec.size : 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.need < 0) {
        if (codec.kind === 'fixed') this.need = codec.size;
        else if (this.held === 0 && chunk.length - at >= prefix) {
          this.need = this.checkLength(readLength(chunk, at, codec));
          at += prefix;
        } else {
          const take = Math.min(prefix - this.held, chunk.length - at);
          this.keep(chunk.subarray(at, at + take));
          at += take;
          if (this.held < prefix) return;
          const head = Buffer.concat(this.parts, prefix);
          this.parts = [];
          this.held = 0;
          this.need = this.checkLength(readLength(head, 0, codec));
        }
        // The prefix is part of the unfinished message until its payload is complete.
        if (prefix > 0) this.held = prefix;
      }
      const body = this.held - prefix;
      if (body === 0 && chunk.length - at >= this.need) {
        onMessage(this.need === 0 ? EMPTY : chunk.subarray(at, at + this.need));
        at += this.need;
        this.need = -1;
        this.held = 0;
        continue;
      }
      const take = Math.min(this.need - body, chunk.length - at);
      if (take > 0) this.keep(chunk.subarray(at, at + take));
      at += take;
      if (this.held - prefix < this.need) return;
      const message = Buffer.concat(this.parts, this.need);
      this.parts = [];
      this.held = 0;
      this.need = -1;
      onMessage(message);
    }
  }

  private checkLength(n: number): number {
    if (n <= this.framing.maxMessage) return n;
    const codec = this.framing.codec;
    return this.fail(
      `the ${codec.name} length prefix announces a message of ${n} B, over --max-message ${this.framing.maxMessage} B: ` +
        'closing the connection, nothing allocated for it (another protocol, or a wrong --frame? raise --max-message if such messages are real)',
    );
  }

  private pushDelimited(codec: Extract<FrameCodec, { kind: 'delimiter' }>, chunk: Buffer, onMessage: (m: Buffer) => void): void {
    const delim = codec.delimiter;
    let buf = chunk;
    // Bytes of `buf` before this offset are already held in `parts`: a delimiter may span both.
    let carried = 0;
    if (this.held > 0 && delim.length > 1) {
      // The held bytes' tail (shorter than the delimiter) goes before the chunk, once.
      carried = Math.min(delim.length - 1, this.held);
      buf = Buffer.concat([this.tail(carried), chunk]);
    }
    let at = 0;
    for (;;) {
      const end = buf.indexOf(delim, at);
      if (end < 0) break;
      let message: Buffer;
      if (this.held > 0) {
        // The held bytes, then the chunk up to the delimiter; a delimiter that began in the
        // carried tail cuts the held bytes short (concat truncates to the total given).
        message = Buffer.concat([...this.parts, buf.subarray(carried, Math.max(carried, end))], this.held + end - carried);
        this.parts = [];
        this.held = 0;
        carried = 0;
      } else message = buf.subarray(at, end);
      if (codec.stripCr && message.length > 0 && message[message.length - 1] === 0x0d) message = message.subarray(0, message.length - 1);
      if (message.length > this.framing.maxMessage) this.tooLong(codec, message.length);
      onMessage(message);
      at = end + delim.length;
    }
    if (at >= buf.length) return;
    const rest = buf.subarray(Math.max(at, carried));
    if (rest.length > 0) this.keep(rest);
    // A message of maxMessage bytes may wait for its CR and for all but one byte of its delimiter.
    if (this.held > this.framing.maxMessage + delim.length - 1 + (codec.stripCr ? 1 : 0)) this.tooLong(codec, this.held);
  }

  private tooLong(codec: Extract<FrameCodec, { kind: 'delimiter' }>, n: number): never {
    return this.fail(
      `${n} B arrived without the ${describeDelimiter(codec)} that ends a ${codec.name} message, over --max-message ${this.framing.maxMessage} B: ` +
        'closing the connection, the bytes dropped (a wrong --frame? raise --max-message if such messages are real)',
    );
  }

  /** The last `n` bytes held (n ≤ 15: a delimiter's length). */
  private tail(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let need = n;
    for (let i = this.parts.length - 1; i >= 0 && need > 0; i--) {
      const part = this.parts[i] as Buffer;
      const take = Math.min(need, part.length);
      part.copy(out, need - take, part.length - take);
      need -= take;
    }
    return out;
  }

  private keep(bytes: Buffer): void {
    this.parts.push(Buffer.from(bytes));
    this.held += bytes.length;
  }

  private fail(message: string): never {
    this.parts = [];
    this.held = 0;
    this.failed = new SocklabError('E_LIMIT', message);
    throw this.failed;
  }
}
