import type { Session } from '../session/session.js';

/**
 * Lines that ran to success, as a script would replay them. Not an event of
 * the session's stream (renderers and `--json` readers have no use for it):
 * an internal signal for `.record`, which keeps only lines that succeeded.
 * The dispatcher signals a dot-command line once its command completed; the
 * REPL's attachment signals a typed line as the `.sendln ID "…"` it was.
 */
const listeners = new WeakMap<Session, Set<(line: string) => void>>();

/** Hear every line that succeeds in `session`; returns the unsubscribe function. */
export function onSucceeded(session: Session, listener: (line: string) => void): () => void {
  let set = listeners.get(session);
  if (!set) listeners.set(session, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/** Say that `line` (a replayable script line) succeeded in `session`. */
export function succeeded(session: Session, line: string): void {
  for (const listener of listeners.get(session) ?? []) listener(line);
}

/**
 * Payload syntax for a typed text that replays to the same UTF-8 bytes:
 * always quoted (so `file:…`, `hex:…` and edge spaces stay plain text),
 * with `\` and `"` escaped, and every control, format, separator, mark or
 * unassigned character written as `\u{…}` so the script shows no invisible
 * or terminal-controlling character. A lone surrogate becomes U+FFFD, as
 * UTF-8 encoding sends it.
 */
export function quotePayload(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0xfffd;
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\u{fffd}';
    else if (ch !== ' ' && /[\p{C}\p{Z}\p{M}\u{fe00}-\u{fe0f}\u{3164}\u{115f}\u{1160}\u{ffa0}]/u.test(ch)) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}
