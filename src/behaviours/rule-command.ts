import type { CommandTable } from '../commands/define.js';
import { isCommandLine, MAX_LINE_LENGTH, prepareCommand, preparedCommand, type PreparedCommand } from '../commands/dispatch.js';
import { SocklabError, messageOf } from '../errors.js';
import { parseArgs, splitCommand } from '../parse/command-line.js';
import { decodeEscapes, isQuoted } from '../parse/payload.js';
import { payloadLiteral } from '../parse/payload-literal.js';
import { findCommand } from '../commands/session.js';

/**
 * What a firing substitutes: `$id` the endpoint that fired, `$remote` its
 * peer, `$0` the whole match and `$1…$9` the captures (empty when a group
 * took no part). Byte values are the peer's bytes, as they arrived.
 */
export interface Substitutions {
  id: string;
  remote: Uint8Array | undefined;
  /** `$0 … $9`. */
  groups: ReadonlyArray<Uint8Array | undefined>;
}

/** What one firing runs. */
export interface Firing {
  /** The line, as the `rule` event shows it and an error names it. */
  line: string;
  /**
   * Its command and words, made from the COMMAND read at `.on` time, so the
   * line is not read again; undefined when the runner reads `line` as a
   * typed line is read (JavaScript, or a dot-command without `$0…$9`/`$remote`).
   */
  prepared?: PreparedCommand;
}

/** A rule's line may hold a whole window of escaped capture: up to 4 characters a byte. */
export const RULE_LINE_LIMIT = 5 * MAX_LINE_LENGTH;

/**
 * A rule's COMMAND, read once when the rule is made. `fire()` builds what a
 * firing runs.
 *
 * Security (SPEC 12; the peer chooses the captured bytes): `$id` is one of
 * our ids and may stand anywhere. `$remote` and `$0…$9` may stand only in
 * the payload of a dot-command whose last part is a payload (`.send`,
 * `.sendln`), and only in a text payload; the payload of a firing
 * is then built as bytes (the template's escapes decoded, the peer's bytes
 * as they came) and written back as one `"quoted"` payload literal with every
 * unsafe byte escaped (payloadLiteral). That literal becomes the PAYLOAD
 * word of words read once per `$id` (the command's words before it, with a
 * `""` payload, read and checked as a typed line): the peer's bytes are never
 * split into words. So a capture can never add an option, a second command,
 * an `as NAME`, a path (`file:`), or be read as an escape, and it arrives as
 * exactly the peer's bytes. A JavaScript COMMAND takes `$id` only.
 */
export interface RuleCommand {
  /** As typed. */
  readonly text: string;
  /** True for a JavaScript COMMAND (needs --allow-js in a script). */
  readonly js: boolean;
  /** The command's name without the dot (`sendln`), for dot-commands. */
  readonly name: string | undefined;
  /** True when it substitutes `$remote` (a firing looks the peer up only then). */
  readonly usesRemote: boolean;
  /** The line a firing runs. */
  line(values: Substitutions): string;
  /** The line a firing runs, and its words when they are made without reading it again. */
  fire(values: Substitutions): Firing;
}

/** `$id`, `$remote`, `$0`…`$9`: the substitutions, wherever they stand. */
const TOKEN = /\$(?:id|remote)(?![\w$])|\$[0-9]/g;
const PEER_TOKEN = /\$(?:remote(?![\w$])|[0-9])/;

/** Commands a rule may not run: a rule that makes rules could multiply without bound. */
const NOT_IN_RULES = new Set(['on', 'attach', 'detach', 'record']);

/**
 * Read a rule's COMMAND. `commands` is the table it will run against.
 *
 * @throws SocklabError E_USAGE for a substitution where it may not stand (or
 *   in JavaScript), a command rules may not run, or a command that does not
 *   parse; E_BAD_PAYLOAD for a bad escape in the payload.
 */
export function parseRuleCommand(text: string, commands: CommandTable): RuleCommand {
  const trimmed = text.trim();
  if (!isCommandLine(trimmed)) {
    const peer = PEER_TOKEN.exec(trimmed);
    if (peer) {
      throw new SocklabError('E_USAGE', `${peer[0]} in a JavaScript COMMAND: a peer's bytes never become code; JavaScript takes $id only (read the bytes with .expect, or use a dot-command: .sendln $id PONG $1)`);
    }
    return asTyped(trimmed, true, undefined);
  }
  const { name } = splitCommand(trimmed);
  const command = findCommand(commands, name);
  if (NOT_IN_RULES.has(command.name)) throw new SocklabError('E_USAGE', `.${command.name} cannot be a rule's COMMAND: ${command.name === 'on' ? 'a rule that makes rules could multiply without bound' : 'it only makes sense typed'}`);
  // The line must parse as it will run (with some id for $id): a script is refused before it runs.
  const sample = withId(trimmed, 'c1');
  const peer = PEER_TOKEN.exec(trimmed);
  if (!peer) {
    prepareCommand({ commands }, sample);
    return asTyped(trimmed, false, command.name);
  }
  const restStart = trimmed.length - splitCommand(trimmed).rest.length;
  let args;
  try {
    args = parseArgs(command.args, splitCommand(trimmed).rest, restStart);
  } catch (err) {
    throw onlyInPayload(peer[0], command.name, messageOf(err));
  }
  // Only a PAYLOAD (`.send`, `.sendln`): `.expect`'s PATTERN also reads a trailing `--timeout` from its text.
  const takesPayload = command.args.rest === true && command.args.positionals.at(-1) === 'PAYLOAD';
  const payload = takesPayload && args.positionals.length === command.args.positionals.length ? args.positionals.at(-1) : undefined;
  const payloadAt = payload === undefined ? trimmed.length : trimmed.length - payload.length;
  const early = PEER_TOKEN.exec(trimmed.slice(0, payloadAt));
  if (payload === undefined || early) throw onlyInPayload((early ?? peer)[0], command.name);
  if (/^(?:hex|base64|file):/.test(payload)) {
    throw new SocklabError('E_USAGE', `${peer[0]} in a ${/^\w+/.exec(payload)?.[0]}: payload: substitutions go into a text payload (e.g. .sendln $id PONG $1)`);
  }
  prepareCommand({ commands }, sample);
  const head = trimmed.slice(0, payloadAt);
  const parts = templateParts(isQuoted(payload) ? payload.slice(1, -1) : payload, payloadAt + (isQuoted(payload) ? 2 : 1));
  const optionNames = Object.keys(args.options).join();
  // The words before the payload, read once per `$id` (the last one kept: a rule mostly answers one socket at a time).
  let wordsOf: { id: string; head: string; prepared: PreparedCommand } | undefined;
  const words = (id: string): { id: string; head: string; prepared: PreparedCommand } => {
    if (wordsOf?.id === id) return wordsOf;
    const line = withId(head, id);
    const prepared = prepareCommand({ commands }, `${line}""`, RULE_LINE_LIMIT);
    const back = prepared.args;
    if (back.positionals.at(-1) !== '""' || back.alias !== undefined || Object.keys(back.options).join() !== optionNames) {
      throw new SocklabError('E_USAGE', `rule command ${trimmed}: its words do not read back with one payload at the end; not run`);
    }
    return (wordsOf = { id, head: line, prepared });
  };
  const fire = (v: Substitutions): Firing => {
    const literal = payloadLiteral(payloadBytes(parts, v));
    // Defence in depth: payloadLiteral makes one "…" word; anything else is not run.
    if (!isOneLiteral(literal)) throw new SocklabError('E_USAGE', `rule command ${trimmed}: the substituted payload is not one quoted literal; not run`);
    const { head: line, prepared } = words(v.id);
    const args = { positionals: [...prepared.args.positionals.slice(0, -1), literal], options: { ...prepared.args.options } };
    return { line: line + literal, prepared: preparedCommand(prepared.command, args) };
  };
  return { text: trimmed, js: false, name: command.name, usesRemote: parts.includes('$remote'), fire, line: (v) => fire(v).line };
}

/** A COMMAND whose line the runner reads as a typed line (`$id` replaced): JavaScript, or no peer substitution. */
function asTyped(text: string, js: boolean, name: string | undefined): RuleCommand {
  const line = (v: Substitutions): string => withId(text, v.id);
  return { text, js, name, usesRemote: false, line, fire: (v) => ({ line: line(v) }) };
}

/**
 * True when `literal` is one `"…"` word with no line break in it: every `"`
 * and `\\` inside is escaped (payloadLiteral's output always is).
 */
function isOneLiteral(literal: string): boolean {
  const last = literal.length - 1;
  if (last < 1 || literal.charCodeAt(0) !== 0x22 || literal.charCodeAt(last) !== 0x22) return false;
  for (let i = 1; i < last; i++) {
    const c = literal.charCodeAt(i);
    if (c === 0x5c) {
      // The escaped character must be inside the quotes, not the closing one.
      if (++i >= last) return false;
    } else if (c === 0x22 || c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return false;
  }
  return true;
}

/** The payload's bytes: the template's literal parts and the values of its tokens, in order. */
function payloadBytes(parts: ReadonlyArray<Buffer | string>, v: Substitutions): Uint8Array {
  if (parts.length === 1) {
    const only = parts[0] as Buffer | string;
    return typeof only === 'string' ? valueOf(only, v) : only;
  }
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? valueOf(p, v) : p)));
}

function onlyInPayload(token: string, name: string, why?: string): SocklabError {
  const reason = `${token} may stand only in the PAYLOAD at the end of .send or .sendln, not in .${name}'s other words: a peer's bytes cannot become an option, an id, a name, a pattern or a path`;
  return new SocklabError('E_USAGE', why === undefined ? reason : `${reason} (${why})`);
}

/** Literal bytes and substitution tokens of a text payload template, in order. */
function templateParts(payload: string, column: number): Array<Buffer | string> {
  const parts: Array<Buffer | string> = [];
  let at = 0;
  const literal = (from: number, to?: number): void => {
    const bytes = decodeEscapes(payload.slice(from, to), column + from);
    // An empty literal part adds nothing: `$1` alone is one part, sent without a copy.
    if (bytes.length > 0) parts.push(bytes);
  };
  for (const m of payload.matchAll(TOKEN)) {
    literal(at, m.index);
    parts.push(m[0]);
    at = m.index + m[0].length;
  }
  literal(at);
  return parts;
}

function valueOf(token: string, v: Substitutions): Uint8Array {
  if (token === '$id') return Buffer.from(v.id);
  if (token === '$remote') return v.remote ?? Buffer.alloc(0);
  return v.groups[Number(token.slice(1))] ?? Buffer.alloc(0);
}

/** `$id` replaced: our own id (`c12`), letters and digits only. */
function withId(text: string, id: string): string {
  return text.replace(/\$id(?![\w$])/g, id);
}
