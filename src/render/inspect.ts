import { inspect, type InspectOptions } from 'node:util';
import { escapeMessage } from './escape.js';
import { nodeCrypto } from '../lazy-builtins.js';

/**
 * Escape plain (colourless) util.inspect output with the one escaping table
 * (escapeMessage: newlines stay). util.inspect escapes C0 and C1 controls
 * inside strings but not bidi, invisible or tag characters, nor anything in a
 * Symbol's description, an error's name, message and stack, a function's or
 * a class's name. Every control in `text` comes out escaped.
 */
export function escapeInspected(text: string): string {
  return escapeMessage(text);
}

type Palette = Record<string, [number, number] | undefined>;

/**
 * util.inspect with colours, every control escaped but inspect's own colour
 * codes. A colour code inside the value (`Symbol("\x1b[31m")`, an error name
 * from a getter) cannot be told from inspect's by its text, so for this call
 * each style is painted with a marker holding a fresh random nonce: only a
 * marker becomes a real SGR code, after everything else was escaped.
 */
export function inspectWithColors(value: unknown, options: InspectOptions): string {
  // The nonce is itself a run of two-digit SGR codes: inspect subtracts those
  // (and only those) from a line's length, so the layout is the same as with
  // its real colours.
  const groups = [...nodeCrypto().randomBytes(8)].map((b) => String(b % 100).padStart(2, '0'));
  const nonce = groups.map((g) => `\x1b[${g}m`).join('');
  const colors = inspect.colors as Palette;
  const styles = inspect.styles as Record<string, string>;
  const saved = { ...styles };
  const added: string[] = [];
  try {
    for (const [style, color] of Object.entries(saved)) {
      const codes = colors[color];
      if (codes === undefined) continue;
      const name = `socklab${groups.join('')}${style}`;
      // inspect writes `\x1b[${open}m…\x1b[${close}m`: each code is preceded by the nonce.
      const code = (n: number): string => `${nonce.slice(2)}\x1b[${n}`;
      (colors as Record<string, unknown>)[name] = [code(codes[0]), code(codes[1])];
      added.push(name);
      styles[style] = name;
    }
    const text = inspect(value, { ...options, colors: true });
    let out = '';
    let last = 0;
    for (let at = text.indexOf(nonce); at !== -1; at = text.indexOf(nonce, last)) {
      const sgr = /^\x1b\[\d{1,3}m/.exec(text.slice(at + nonce.length, at + nonce.length + 6))?.[0] ?? '';
      out += escapeMessage(text.slice(last, at)) + sgr;
      last = at + nonce.length + sgr.length;
    }
    return out + escapeMessage(text.slice(last));
  } finally {
    Object.assign(styles, saved);
    for (const name of added) delete (colors as Record<string, unknown>)[name];
  }
}

/** A `node:repl` writer: util.inspect, then the escaping table. `options` is read by the REPL, as its own writer's is. */
export interface EscapingWriter {
  (value: unknown): string;
  options: InspectOptions;
}

/**
 * The writer socklab's REPL prints JavaScript results and thrown errors with
 * (node:repl sends both through `writer`, and adds only `Uncaught ` to an
 * error's). `colors()` is asked on each call, so `.set color` takes effect at
 * once. With colours only inspect's own SGR colour codes stay raw.
 */
export function escapingWriter(colors: () => boolean): EscapingWriter {
  const writer = ((value: unknown) =>
    colors() ? inspectWithColors(value, writer.options) : escapeInspected(inspect(value, { ...writer.options, colors: false }))) as EscapingWriter;
  writer.options = { ...inspect.defaultOptions, showProxy: true };
  return writer;
}
