import { SocklabError } from '../errors.js';
import { parseRuleCommand, RULE_LINE_LIMIT, type RuleCommand } from '../behaviours/rule-command.js';
import { BYTE_EVENTS, RULE_EVENTS, rulesOf, type Rule, type RuleEventName, type RuleRunner } from '../behaviours/rules.js';
import type { Pattern } from '../observers/byte-window.js';
import { parseRegexPattern } from '../observers/expect.js';
import { parseArgs, splitCommand, type ParsedArgs } from '../parse/command-line.js';
import { decodePayload } from '../parse/payload.js';
import { payloadFileUse, permittedReader } from '../parse/payload-file.js';
import { createJsEvaluator, type JsEvaluator } from '../script/js-eval.js';
import { isLive, type Endpoint } from '../session/endpoint.js';
import { findCommand } from './session.js';
import { defineCommand, type CommandContext, type CommandTable } from './define.js';
import { checkLineLength, isCommandLine, prepareCommand } from './dispatch.js';

/** The words of `.on TARGET EVENT [PATTERN] COMMAND`, before anything is compiled. */
interface RuleWords {
  target: string;
  event: RuleEventName;
  pattern: string | undefined;
  command: string;
}

const USAGE = '.on [TARGET EVENT [PATTERN] COMMAND]';

/**
 * Split the words of a rule. PATTERN is a `/regex/flags` (it ends at the
 * first `/` outside a character class that is not escaped, as in
 * JavaScript), a `"quoted"` payload, or one word of payload syntax; it is
 * there when the event carries bytes, the text does not start with a
 * dot-command, and a COMMAND follows it. COMMAND is the rest: a
 * dot-command, or JavaScript.
 */
function ruleWords(a: ParsedArgs): RuleWords {
  const [target = '', event = '', rest = ''] = a.positionals;
  if (a.positionals.length < 3) throw new SocklabError('E_USAGE', `missing ${a.positionals.length === 1 ? 'EVENT and ' : ''}COMMAND — usage: ${USAGE}`);
  if (!(RULE_EVENTS as readonly string[]).includes(event)) {
    throw new SocklabError('E_USAGE', `no event "${event}" for a rule: use one of ${RULE_EVENTS.join(', ')} — usage: ${USAGE}`);
  }
  const text = rest.trim();
  // Without bytes to match, only a /regex/ is read as a (refused) PATTERN: the rest is the COMMAND.
  const noPattern = isCommandLine(text) || (!BYTE_EVENTS.has(event) && !text.startsWith('/'));
  const end = noPattern ? 0 : text.startsWith('/') ? regexEnd(text) : text.startsWith('"') ? quoteEnd(text) : wordEnd(text);
  const command = text.slice(end).trim();
  if (end === 0 || (command === '' && !text.startsWith('/') && !text.startsWith('"'))) return { target, event: event as RuleEventName, pattern: undefined, command: text };
  const pattern = text.slice(0, end);
  if (command === '') throw new SocklabError('E_USAGE', `missing COMMAND after the pattern ${pattern} — usage: ${USAGE}`);
  if (!BYTE_EVENTS.has(event)) {
    throw new SocklabError('E_USAGE', `a PATTERN goes with ${[...BYTE_EVENTS].join(', ')} events, not ${event}: write .on ${target} ${event} COMMAND`);
  }
  return { target, event: event as RuleEventName, pattern, command };
}

function regexEnd(text: string): number {
  let inClass = false;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) return i + 1 + (/^[a-z]*/.exec(text.slice(i + 1))?.[0].length ?? 0);
  }
  throw new SocklabError('E_USAGE', `unterminated /regex/ in ${text.slice(0, 40)}: end it with / (write \\/ for a slash inside it)`);
}

function quoteEnd(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  throw new SocklabError('E_USAGE', 'unterminated "quoted" pattern: close it with "');
}

function wordEnd(text: string): number {
  const m = /\s/.exec(text);
  return m === null ? text.length : m.index;
}

/** A PATTERN as `.expect` reads it: `/regex/flags` or payload syntax. */
function readPattern(text: string, readFile?: (path: string) => Buffer): Pattern {
  const regex = parseRegexPattern(text);
  if (regex) return { kind: 'regex', regex };
  const bytes = decodePayload(text, readFile === undefined ? {} : { readFile });
  if (bytes.length === 0) throw new SocklabError('E_BAD_PAYLOAD', 'an empty PATTERN would match everywhere: leave it out to fire on every event');
  return { kind: 'bytes', bytes };
}

/** The line a rule's dot-command COMMAND would run, for checks (`$id` as some id). */
const sampleLine = (command: string): string => command.replace(/\$id(?![\w$])/g, 'c1');

/** How a rule runs its lines: dot-commands through the dispatcher, JavaScript in an evaluator of its own. */
function runnerFor(ctx: CommandContext, js: boolean): RuleRunner {
  // A view of the `.on` line's context (its permissions), without the signal of whatever blocks now.
  const scoped = Object.create(ctx, { signal: { value: undefined } }) as CommandContext;
  let evaluator: JsEvaluator | undefined;
  return {
    async run({ line, prepared }, rule) {
      if (!js) {
        // As typed lines run, but not recorded (the `.on` line is) and without a `command` event: the `rule` event says it.
        // Words made from the COMMAND read at `.on` time (a payload of the peer's bytes) are not read again.
        if (prepared !== undefined) checkLineLength(line, RULE_LINE_LIMIT);
        await (prepared ?? prepareCommand(scoped, line, RULE_LINE_LIMIT)).run(scoped);
        return;
      }
      evaluator ??= createJsEvaluator(scoped, `rule ${rule.id}`);
      scoped.flush?.();
      await evaluator.evaluate(line, false);
    },
    close: () => evaluator?.close(),
  };
}

/**
 * On a relay, `$id` is one of its link sockets (or the relay itself): neither
 * can send, so `.send $id`/`.sendln $id` could never work. Refused when the
 * rule is made, not at each firing.
 */
function refuseOnRelay(ep: Endpoint, command: RuleCommand, commands: CommandTable): void {
  if (ep.kind !== 'relay' || (command.name !== 'send' && command.name !== 'sendln')) return;
  const { rest } = splitCommand(sampleLine(command.text).replace(/\$(?:remote(?![\w$])|[0-9])/g, 'x'));
  const args = parseArgs(findCommand(commands, command.name).args, rest);
  if (args.positionals[0] !== 'c1') return;
  throw new SocklabError('E_USAGE', `on a relay, $id is the link socket that received (c3), which cannot send (its bytes come from the other side of the link): send to the client or the server by name, or use .destroy $id, .pause $id, .close ${ep.id}, .fault ${ep.id}`);
}

function listing(rules: Rule[]): string {
  if (rules.length === 0) return 'no rules: .on TARGET EVENT [PATTERN] COMMAND adds one (.help on)';
  return rules
    .map((r) => {
      const times = `fired ${r.fired} time${r.fired === 1 ? '' : 's'}`;
      const failed = r.failed > 0 ? `, ${r.failed} failed` : '';
      const state = r.suspended === undefined ? '' : `  SUSPENDED: it ${r.suspended}`;
      return `${r.id.padEnd(4)} ${r.line}  (${times}${failed})${state}`;
    })
    .join('\n');
}

export const on = defineCommand({
  name: 'on',
  group: 'scripts',
  summary: 'a trigger rule: when TARGET has EVENT (matching PATTERN), run COMMAND; alone: list rules',
  args: { usage: USAGE, positionals: ['TARGET', 'EVENT', 'COMMAND'], required: 0, rest: true },
  help:
    `TARGET: a socket, a server (each of its connections, now and later), a UDP socket, a relay, or all. EVENT: ${RULE_EVENTS.join(', ')}. ` +
    'PATTERN (data, message, datagram, relay): payload syntax or /regex/flags (RE2, linear time), matched like .expect across the chunks ' +
    'received since the rule last fired on that socket; each match fires once and is consumed (a datagram or message: once, inside it). ' +
    'COMMAND is any dot-command, run as if typed (or JavaScript: in a script only with --allow-js). In COMMAND, $id is the endpoint that fired, ' +
    '$0 the whole match (without a PATTERN: the bytes of the event), $1…$9 the captures, $remote the peer. $id may stand anywhere; ' +
    '$0…$9 and $remote only in the PAYLOAD of .send/.sendln, where they arrive as exactly the peer\'s bytes (never as an option, a name, ' +
    'a path or an escape; write \\x24 for a literal $). A rule that fires more than 1,000 times a second is suspended with a note. ' +
    'On a relay (pN), $id is the link socket that received (the client\'s cN for up, the target\'s for down; for accept/connect/end/close the socket concerned), $remote its peer: ' +
    'commands that make sense there are .destroy $id, .pause $id, .close pN, .fault pN, or .send to another socket by name; .send $id is refused (a link socket cannot send). ' +
    'An error in a rule\'s command is shown once, with the rule\'s id. .on alone lists the rules and how often each fired; .off removes them.',
  examples: ['.on s1 data /^PING (\\d+)\\r?\\n/ .sendln $id PONG $1', '.on s1 accept .sendln $id Welcome!', '.on p1 relay /DELETE/ .destroy $id', '.on'],
  check(a, commands) {
    if (a.positionals.length === 0) return;
    const words = ruleWords(a);
    if (words.pattern !== undefined && !words.pattern.startsWith('file:')) readPattern(words.pattern);
    parseRuleCommand(words.command, commands);
  },
  inner(a) {
    if (a.positionals.length === 0) return undefined;
    const { command } = ruleWords(a);
    return isCommandLine(command) ? sampleLine(command) : command;
  },
  files(a) {
    if (a.positionals.length === 0) return [];
    return payloadFileUse(ruleWords(a).pattern, '.on file:');
  },
  run(ctx, a) {
    const engine = rulesOf(ctx.session);
    if (a.positionals.length === 0) return ctx.print(listing(engine.list()));
    const words = ruleWords(a);
    const command = parseRuleCommand(words.command, ctx.commands);
    if (command.js && ctx.permissions !== undefined && !ctx.permissions.js) {
      throw new SocklabError('E_PERMISSION', 'a rule whose COMMAND is JavaScript: a script does that only when run with --allow-js');
    }
    const pattern = words.pattern === undefined ? undefined : readPattern(words.pattern, permittedReader(ctx.permissions, '.on file:'));
    let target = 'all';
    if (words.target !== 'all') {
      const ep = ctx.session.get(words.target);
      if (!isLive(ep)) throw new SocklabError('E_STATE', `${words.target} is ${ep.state}: a rule on it would never fire`);
      target = ep.id;
      refuseOnRelay(ep, command, ctx.commands);
    }
    const line = `.on ${a.positionals.join(' ')}`;
    const rule = engine.add({ target, event: words.event, pattern, line, command }, runnerFor(ctx, command.js));
    ctx.print(`${rule.id}: on ${target} ${words.event}${words.pattern === undefined ? '' : ` ${words.pattern}`} → ${command.text}`);
  },
});

export const off = defineCommand({
  name: 'off',
  group: 'scripts',
  summary: 'remove a trigger rule (rN) or all of them',
  args: { usage: '.off rN | all', positionals: ['RULE'] },
  help: 'A removed rule fires no more; commands it fired already still run. Its id is not reused. .on lists the rules.',
  examples: ['.off r1', '.off all'],
  check(a) {
    const ref = a.positionals[0] ?? '';
    if (ref !== 'all' && !/^r[1-9]\d*$/.test(ref)) throw new SocklabError('E_USAGE', `"${ref}" is not a rule: give its id (r1, r2, …) or all — usage: .off rN | all`);
  },
  run(ctx, a) {
    const removed = rulesOf(ctx.session).remove(a.positionals[0] ?? '');
    ctx.print(removed.length === 0 ? 'no rules to remove' : `removed ${removed.map((r) => r.id).join(', ')}`);
  },
});
