/**
 * A rule's COMMAND (SPEC 12): where substitutions may stand, and what a
 * firing's line is. The peer chooses the captured bytes, so `$0…$9` and
 * `$remote` go only into a PAYLOAD, as one escaped literal that reads back
 * as exactly those bytes and as nothing else (no option, second command,
 * name, path or escape).
 */
import { describe, expect, it } from 'vitest';
import { parseRuleCommand, RULE_LINE_LIMIT, type Substitutions } from '../../src/behaviours/rule-command.js';
import { prepareCommand } from '../../src/commands/dispatch.js';
import { COMMANDS } from '../../src/commands/index.js';
import { parseArgs, splitCommand } from '../../src/parse/command-line.js';
import { decodePayload } from '../../src/parse/payload.js';
import { thrown } from '../helpers/errors.js';

function expectSocklabError(fn: () => unknown, code: string, message: RegExp): void {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  expect(err.message).toMatch(message);
}

const values = (capture: string | Buffer, id = 'c2'): Substitutions => ({
  id,
  remote: Buffer.from('127.0.0.1:5555'),
  groups: [Buffer.from('whole'), typeof capture === 'string' ? Buffer.from(capture) : capture],
});

/** The words the line reads back as, and the bytes its payload sends. */
function readBack(line: string): { name: string; positionals: string[]; options: object; alias?: string; payload: Buffer } {
  const { name, rest } = splitCommand(line);
  const args = parseArgs(COMMANDS.get(name)!.args, rest);
  return { name, positionals: args.positionals, options: args.options, alias: args.alias, payload: decodePayload(args.positionals.at(-1) ?? '') };
}

describe('parseRuleCommand: where substitutions may stand', () => {
  it('$id anywhere; $1 in the payload of .sendln becomes one quoted literal', () => {
    const cmd = parseRuleCommand('.sendln $id PONG $1', COMMANDS);
    expect(cmd.js).toBe(false);
    expect(cmd.line(values('7'))).toBe('.sendln c2 "PONG 7"');
    expect(parseRuleCommand('.close $id', COMMANDS).line(values(''))).toBe('.close c2');
    expect(parseRuleCommand('.send --repeat 2 $id "[$0|$1|$remote|$id]"', COMMANDS).line(values('x'))).toBe('.send --repeat 2 c2 "[whole|x|127.0.0.1:5555|c2]"');
  });

  it('a group that took no part, or one the pattern does not have, is empty', () => {
    const cmd = parseRuleCommand('.sendln $id <$1><$9>', COMMANDS);
    expect(cmd.line({ id: 'c1', remote: undefined, groups: [Buffer.from('x'), undefined] })).toBe('.sendln c1 "<><>"');
  });

  it('refuses a peer substitution outside the payload: option, target, .expect pattern, a command without payload', () => {
    const refused = [
      '.send --repeat $1 $id x',
      '.send $1 hello',
      '.sendln $remote hi',
      '.expect $id $1',
      '.close $1',
      '.connect $remote',
      '.send --to $1 u1 x',
    ];
    for (const text of refused) {
      expectSocklabError(() => parseRuleCommand(text, COMMANDS), 'E_USAGE', /may stand only in the PAYLOAD at the end of \.send or \.sendln/);
    }
  });

  it('refuses a substitution in a hex:, base64: or file: payload, in JavaScript, and rules that make rules', () => {
    expectSocklabError(() => parseRuleCommand('.send $id file:$1', COMMANDS), 'E_USAGE', /in a file: payload: substitutions go into a text payload/);
    expectSocklabError(() => parseRuleCommand('.send $id hex:$1', COMMANDS), 'E_USAGE', /hex: payload/);
    expectSocklabError(() => parseRuleCommand('console.log("$1")', COMMANDS), 'E_USAGE', /a peer's bytes never become code/);
    expectSocklabError(() => parseRuleCommand('.on $id data .close $id', COMMANDS), 'E_USAGE', /multiply without bound/);
    expectSocklabError(() => parseRuleCommand('.lisen 0', COMMANDS), 'E_UNKNOWN_COMMAND', /did you mean \.listen/);
    expectSocklabError(() => parseRuleCommand('.send $id bad\\q $1', COMMANDS), 'E_BAD_PAYLOAD', /bad escape "\\q"/);
    // JavaScript takes $id only, as text of our own.
    expect(parseRuleCommand('console.log("$id")', COMMANDS).line(values(''))).toBe('console.log("c2")');
  });
});

describe('hostile captures arrive as exactly the peer\'s bytes, in the payload, and nothing else', () => {
  const hostile: Array<[string, string | Buffer]> = [
    ['an option', '--repeat 99999'],
    ['a second target and option', 'c1 --chunk 1 --delay 1h'],
    ['an escape', '\\x41\\n\\u{1F600}'],
    ['quotes', '" "\'\' "'],
    ['a closing quote and a new command', '"\n.exit\n'],
    ['newlines and CR', 'a\r\nb\n.close all\n'],
    ['an alias', 'x as srv'],
    ['a path', 'file:/etc/passwd'],
    ['payload prefixes', 'hex:41 base64:QQ=='],
    ['$1 inside the capture', '$1 $id $0 $remote ${HOME}'],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x00, 0x1b])],
    ['a comment', '# not a comment'],
    ['spaces at the edges', '   padded   '],
    ['1 MiB', Buffer.alloc(1024 * 1024, 'A\\"\xff')],
  ];
  it.each(hostile)('%s', (_what, capture) => {
    const cmd = parseRuleCommand('.sendln $id got: $1', COMMANDS);
    const bytes = typeof capture === 'string' ? Buffer.from(capture) : capture;
    const line = cmd.line(values(bytes));
    expect(line.split('\n')).toHaveLength(1);
    const back = readBack(line);
    expect(back.name).toBe('sendln');
    expect(back.options).toEqual({});
    expect(back.alias).toBeUndefined();
    expect(back.positionals).toHaveLength(2);
    expect(back.positionals[0]).toBe('c2');
    expect(back.payload.equals(Buffer.concat([Buffer.from('got: '), bytes]))).toBe(true);
    // What a firing runs: the words its line reads as when typed, made without reading the line again.
    const firing = cmd.fire(values(bytes));
    expect(firing.line).toBe(line);
    const typed = prepareCommand({ commands: COMMANDS }, line, RULE_LINE_LIMIT);
    expect(firing.prepared?.command).toBe(typed.command);
    expect(firing.prepared?.args).toEqual(typed.args);
  });
});

describe('a firing\'s words, made from the COMMAND read once', () => {
  it('with options and several substitutions: the words the typed line reads as, for each $id in turn', () => {
    const cmd = parseRuleCommand('.send --repeat 2 --chunk 3 $id "[$0|$1|$remote|$id]\\n"', COMMANDS);
    expect(cmd.usesRemote).toBe(true);
    for (const id of ['c2', 'c3', 'c2', 'c17', 'c17']) {
      const firing = cmd.fire(values('--eol " as x', id));
      expect(firing.line).toBe(`.send --repeat 2 --chunk 3 ${id} "[whole|--eol \\" as x|127.0.0.1:5555|${id}]\\n"`);
      const typed = prepareCommand({ commands: COMMANDS }, firing.line, RULE_LINE_LIMIT);
      expect(firing.prepared?.args).toEqual(typed.args);
      expect(firing.prepared?.args.positionals[0]).toBe(id);
    }
  });

  it('a COMMAND without $remote does not ask for the peer; one without a peer substitution is read as typed', () => {
    expect(parseRuleCommand('.sendln $id PONG $1', COMMANDS).usesRemote).toBe(false);
    const close = parseRuleCommand('.close $id', COMMANDS).fire(values(''));
    expect(close).toEqual({ line: '.close c2' });
  });
});
