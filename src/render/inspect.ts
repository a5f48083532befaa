import { inspect, type InspectOptions } from 'node:util';
import { escapeMessage } from './escape.js';

// The SGR colours util.inspect paints its styles with (`string` green, `number`
// yellow…): the only escape sequences a REPL value may keep.
const STYLE_CODES = new Set<number>(
  Object.values(inspect.styles).flatMap((name) => (inspect.colors as Record<string, [number, number] | undefined>)[name] ?? []),
);
const SGR = /\x1b\[(\d{1,3})m/g;

/**
 * Escape the text util.inspect produced, with the one escaping table
 * (escapeMessage: newlines stay). util.inspect escapes C0 and C1 controls
 * inside strings but not bidi, invisible or tag characters, nor anything in an
 * error's message and stack, a function's or a class's name. With `colors`,
 * inspect's own SGR colour codes are kept; any other escape sequence — a
 * cursor move, a title, a colour outside inspect's palette — is shown escaped.
 */
export function escapeInspected(text: string, colors: boolean): string {
  if (!colors) return escapeMessage(text);
  let out = '';
  let last = 0;
  for (const m of text.matchAll(SGR)) {
    out += escapeMessage(text.slice(last, m.index));
    out += STYLE_CODES.has(Number(m[1])) ? m[0] : escapeMessage(m[0]);
    last = m.index + m[0].length;
  }
  return out + escapeMessage(text.slice(last));
}

/** A `node:repl` writer: util.inspect, then the escaping table. `options` is read by the REPL, as its own writer's is. */
export interface EscapingWriter {
  (value: unknown): string;
  options: InspectOptions;
}

/**
 * The writer socklab's REPL prints JavaScript results and thrown errors with
 * (node:repl sends both through `writer`). `colors()` is asked on each call,
 * so `.set color` takes effect at once.
 */
export function escapingWriter(colors: () => boolean): EscapingWriter {
  const writer = ((value: unknown) => {
    const useColors = colors();
    return escapeInspected(inspect(value, { ...writer.options, colors: useColors }), useColors);
  }) as EscapingWriter;
  writer.options = { ...inspect.defaultOptions, showProxy: true };
  return writer;
}
