/**
 * The terminal's colours, read back as classes for the page. The page log is
 * the human printer's own output (src/render/printer.ts), so it folds, cuts
 * and escapes exactly as the terminal does; its SGR colour codes come only
 * from picocolors, since the printer shows every ESC a peer sent as `\x1b`.
 */

/** One run of text and its paint: `green`, `red`, `yellow`, `cyan`, `magenta`, `blue`, `dim`, `bold`, or `` for none. */
export type Span = [paint: string, text: string];

// ECMA-48 SGR parameters picocolors writes, by the class the page gives them.
const FOREGROUND: Record<string, string> = { '31': 'red', '32': 'green', '33': 'yellow', '34': 'blue', '35': 'magenta', '36': 'cyan' };

// Built from a constant, never from input: ESC [ digits m, the only sequence picocolors writes.
const SGR = /\x1b\[([0-9;]*)m/g;

/**
 * Split one line of the printer's output into coloured runs. Foreground wins
 * over `dim`, and `dim` over `bold`, as a terminal mixes them; adjacent runs
 * of one paint are merged.
 */
export function toSpans(line: string): Span[] {
  const spans: Span[] = [];
  let fg = '';
  let dim = false;
  let bold = false;
  let at = 0;
  const push = (text: string) => {
    if (text === '') return;
    const paint = fg || (dim ? 'dim' : bold ? 'bold' : '');
    const last = spans[spans.length - 1];
    if (last && last[0] === paint) last[1] += text;
    else spans.push([paint, text]);
  };
  for (const m of line.matchAll(SGR)) {
    push(line.slice(at, m.index));
    at = m.index + m[0].length;
    for (const code of (m[1] ?? '').split(';')) {
      if (code === '1') bold = true;
      else if (code === '2') dim = true;
      else if (code === '22') bold = dim = false;
      else if (code === '39') fg = '';
      else if (code === '0' || code === '') {
        fg = '';
        bold = dim = false;
      }
      else fg = FOREGROUND[code] ?? fg;
    }
  }
  push(line.slice(at));
  return spans;
}
