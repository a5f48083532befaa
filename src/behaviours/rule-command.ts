import type { CommandTable } from '../commands/define.js';
import { isCommandLine, prepareCommand } from '../commands/dispatch.js';
import { SocklabError, messageOf } from '../errors.js';
import { parseArgs, splitCommand, type ParsedArgs } from '../parse/command-line.js';
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

/**
 * A rule's COMMAND, read once when the rule is made. `line()` builds the
 * line a firing runs.
 *
 * Security (SPEC 12; the peer chooses the captured bytes): `$id` is one of
 * our ids and may stand anywhere. `$remote` and `$0…$9` may stand only in
 * the payload of a dot-command whose last part is a payload (`.send`,
 * `.sendln`), and only in a text payload; the payload of a firing
 * is then built as bytes (the template's escapes decoded, the peer's bytes
 * as they came) and written back as one `"quoted"` payload literal with every
 * unsafe byte escaped (payloadLiteral). So a capture can never add an
 * option, a second command, an `as NAME`, a path (`file:`), or be read as
 * an escape, and it arrives as exactly the peer's bytes. A JavaScript
 * COMMAND takes `$id` only.
 */
export interface RuleCommand {
  /** As typed. */
  readonly text: string;
  /** True for a JavaScript COMMAND (needs --allow-js in a script). */
  readonly js: boolean;
  /** The command's name without the dot (`sendln`), for dot-commands. */
  readonly name: string | undefined;
  /** The line a firing runs. */
  line(values: Substitutions): string;
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
    return { text: trimmed, js: true, name: undefined, line: (v) => withId(trimmed, v.id) };
  }
  const { name } = splitCommand(trimmed);
  const command = findCommand(commands, name);
  if (NOT_IN_RULES.has(command.name)) throw new SocklabError('E_USAGE', `.${command.name} cannot be a rule's COMMAND: ${command.name === 'on' ? 'a rule that makes rules could multiply without bound' : 'it only makes sense typed'}`);
  // The line must parse as it will run (with some id for $id): a script is refused before it runs.
  const sample = withId(trimmed, 'c1');
  const peer = PEER_TOKEN.exec(trimmed);
  if (!peer) {
    prepareCommand({ commands }, sample);
    return { text: trimmed, js: false, name: command.name, line: (v) => withId(trimmed, v.id) };
  }
  const restStart = trimmed.length - splitCommand(trimmed).rest.length;
  let args: ParsedArgs;
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
  return {
    text: trimmed,
    js: false,
    name: command.name,
    line(v) {
      const literal = payloadLiteral(Buffer.concat(parts.map((p) => (typeof p === 'string' ? valueOf(p, v) : p))));
      const line = withId(head, v.id) + literal;
      // Defence in depth: the built line must read back as the same words with this one payload.
      const back = parseArgs(command.args, splitCommand(line).rest);
      if (back.positionals.at(-1) !== literal || back.alias !== undefined || Object.keys(back.options).join() !== Object.keys(args.options).join()) {
        throw new SocklabError('E_USAGE', `rule command ${trimmed}: the substituted line does not read back as one payload; not run`);
      }
      return line;
    },
  };
}

function onlyInPayload(token: string, name: string, why?: string): SocklabError {
  const reason = `${token} may stand only in the PAYLOAD at the end of .send or .sendln, not in .${name}'s other words: a peer's bytes cannot become an option, an id, a name, a pattern or a path`;
  return new SocklabError('E_USAGE', why === undefined ? reason : `${reason} (${why})`);
}

/** Literal bytes and substitution tokens of a text payload template, in order. */
function templateParts(payload: string, column: number): Array<Buffer | string> {
  const parts: Array<Buffer | string> = [];
  let at = 0;
  for (const m of payload.matchAll(TOKEN)) {
    parts.push(decodeEscapes(payload.slice(at, m.index), column + at), m[0]);
    at = m.index + m[0].length;
  }
  parts.push(decodeEscapes(payload.slice(at), column + at));
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
