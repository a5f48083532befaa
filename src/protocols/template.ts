import { SocklabError } from '../errors.js';
import { decodeEscapes, decodePayload, type PayloadOptions } from '../parse/payload.js';
import { readPayloadFile } from '../parse/payload-file.js';

/** What a reply template sees of one `data` event. */
export interface ReplyContext {
  /** The chunk as received: one `data` event, not a message. */
  data: Buffer;
  /** The id of the socket that received it (`c3`). */
  id: string;
  /** The peer's address (`127.0.0.1:51234`). */
  remote: string;
}

/**
 * A compiled reply template: one call per data event (chunk). The returned
 * Buffer may be shared between calls (a fixed reply, or `{data}` itself), so
 * callers must not modify it.
 */
export type Template = (ctx: ReplyContext) => Buffer;

type Part = Buffer | Template;

// A Map, not an object literal, so `{constructor}` is unknown, not Object's.
const PLACEHOLDERS = new Map<string, Template>([
  ['data', (ctx) => ctx.data],
  ['upper', (ctx) => Buffer.from(ctx.data.toString('utf8').toUpperCase(), 'utf8')],
  ['lower', (ctx) => Buffer.from(ctx.data.toString('utf8').toLowerCase(), 'utf8')],
  ['len', (ctx) => Buffer.from(String(ctx.data.length), 'latin1')],
  ['hex', (ctx) => Buffer.from(ctx.data.toString('hex'), 'latin1')],
  ['id', (ctx) => Buffer.from(ctx.id, 'utf8')],
  ['remote', (ctx) => Buffer.from(ctx.remote, 'utf8')],
]);

const VALID = [...PLACEHOLDERS.keys()].map((name) => `{${name}}`).join(' ');
const OPEN_BRACE = Buffer.from('{');
const CLOSE_BRACE = Buffer.from('}');

/**
 * Compile a reply template like `You said "{upper}"` or `你好{data}`, once,
 * into parts so each call only concatenates.
 *
 * Placeholders: `{data}` (the bytes as received, binary-safe), `{upper}` and
 * `{lower}` (data as UTF-8 text, case-changed and re-encoded; invalid UTF-8
 * becomes U+FFFD), `{len}` (decimal byte count), `{hex}` (lowercase hex, no
 * spaces), `{id}`, `{remote}`. Literal parts take payload escapes (`\n`,
 * `\xff`, `\u{1F600}`); `{{` and `}}` are literal braces; quotes are literal.
 * A spec starting with `hex:`, `base64:` or `file:` and holding no braces is a
 * fixed reply decoded by `decodePayload` (a file is read now, once).
 *
 * Throws `SocklabError` `E_BAD_PAYLOAD` for an unknown placeholder, an
 * unmatched brace or a bad escape (and what `decodePayload` throws).
 */
export function compileTemplate(spec: string, options?: PayloadOptions): Template {
  if (/^(hex|base64|file):/.test(spec) && !spec.includes('{') && !spec.includes('}')) {
    const fixed = decodePayload(spec, { readFile: readPayloadFile, ...options });
    return () => fixed;
  }
  const parts = parseTemplate(spec);
  const [first] = parts;
  if (first === undefined) {
    const empty = Buffer.alloc(0);
    return () => empty;
  }
  if (parts.length === 1) return typeof first === 'function' ? first : () => first;
  return (ctx) => {
    const pieces = new Array<Buffer>(parts.length);
    let total = 0;
    for (let k = 0; k < parts.length; k++) {
      const part = parts[k] as Part;
      const piece = typeof part === 'function' ? part(ctx) : part;
      pieces[k] = piece;
      total += piece.length;
    }
    return Buffer.concat(pieces, total);
  };
}

/** Split a template into literal Buffers (adjacent ones merged) and placeholder functions. */
function parseTemplate(spec: string): Part[] {
  const parts: Part[] = [];
  let literal: Buffer[] = [];
  let segmentStart = 0;
  const endSegment = (end: number): void => {
    if (end > segmentStart) literal.push(decodeEscapes(spec.slice(segmentStart, end), columnOf(spec, segmentStart)));
  };
  const endLiteral = (): void => {
    if (literal.length > 0) parts.push(Buffer.concat(literal));
    literal = [];
  };

  let i = 0;
  while (i < spec.length) {
    const c = spec[i];
    const next = spec[i + 1];
    if (c === '\\' && (next === '{' || next === '}')) {
      const hint = next === '{' ? '{{' : '}}';
      throw new SocklabError('E_BAD_PAYLOAD', `bad escape "\\${next}" at column ${columnOf(spec, i)} of the template: write ${hint} for a literal brace`);
    } else if (c === '\\') {
      // Step over the whole escape so the braces of `\u{e9}` are not placeholders.
      const close = next === 'u' && spec[i + 2] === '{' ? spec.indexOf('}', i + 3) : -1;
      i = close >= 0 ? close + 1 : i + 2;
    } else if ((c === '{' && next === '{') || (c === '}' && next === '}')) {
      endSegment(i);
      literal.push(c === '{' ? OPEN_BRACE : CLOSE_BRACE);
      i += 2;
      segmentStart = i;
    } else if (c === '}') {
      throw new SocklabError('E_BAD_PAYLOAD', `single "}" at column ${columnOf(spec, i)} of the template: write }} for a literal brace`);
    } else if (c === '{') {
      const close = spec.indexOf('}', i + 1);
      if (close < 0) {
        throw new SocklabError(
          'E_BAD_PAYLOAD',
          `unclosed "{" at column ${columnOf(spec, i)} of the template: use one of ${VALID}, or {{ for a literal brace`,
        );
      }
      const name = spec.slice(i + 1, close);
      const placeholder = PLACEHOLDERS.get(name);
      if (placeholder === undefined) {
        throw new SocklabError(
          'E_BAD_PAYLOAD',
          `unknown placeholder {${name}} at column ${columnOf(spec, i)}: use one of ${VALID}, or {{ and }} for literal braces`,
        );
      }
      endSegment(i);
      endLiteral();
      parts.push(placeholder);
      i = close + 1;
      segmentStart = i;
    } else {
      i++;
    }
  }
  endSegment(spec.length);
  endLiteral();
  return parts;
}

/** 1-based column of `text[index]`, counted in code points as a user sees them. */
function columnOf(text: string, index: number): number {
  return [...text.slice(0, index)].length + 1;
}
