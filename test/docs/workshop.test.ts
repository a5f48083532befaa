/**
 * docs/workshop.md cannot drift from the command table: every line typed at a
 * `socklab> ` prompt in a ```socklab block must still parse (checkScript),
 * JavaScript lines must be valid JavaScript, attached prompts (`client> `) only
 * appear between `.attach client` and `.detach`, and every lesson of examples/
 * is walked through, with its own command lines.
 *
 * The convention is documented at the top of the workshop ("How to read this
 * file"): in a ```socklab block, a line starting with the prompt is typed, the
 * rest is output.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { commandList } from '../../src/commands/session.js';
import { isBlankOrComment, isCommandLine } from '../../src/commands/dispatch.js';
import { checkScript } from '../../src/script/check.js';
import { ROOT } from '../helpers/cli.js';

interface Block {
  lang: string;
  /** 1-based line of the opening fence. */
  line: number;
  lines: string[];
}

interface Typed {
  /** 1-based line in the document. */
  line: number;
  /** `socklab`, or the socket name while attached. */
  prompt: string;
  text: string;
  /** The transcript shows it failing: the next line is a command error (`!    …`). */
  failed: boolean;
}

/** Fenced blocks (``` at the start of a line) with their language. */
function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  markdown.split('\n').forEach((text, i) => {
    const fence = /^```(\S*)\s*$/.exec(text);
    if (open) {
      if (fence && fence[1] === '') {
        blocks.push(open);
        open = undefined;
      } else open.lines.push(text);
    } else if (fence) open = { lang: fence[1] ?? '', line: i + 1, lines: [] };
  });
  if (open) throw new Error(`unclosed fence at line ${open.line}`);
  return blocks;
}

/**
 * The typed lines of the ```socklab blocks, in order. `socklab> ` is always a
 * prompt; `NAME> ` only while attached to NAME (`.attach NAME` … `.detach`).
 */
function typedLines(blocks: Block[]): { typed: Typed[]; problems: string[] } {
  const typed: Typed[] = [];
  const problems: string[] = [];
  let attached: string | undefined;
  for (const block of blocks) {
    if (block.lang !== 'socklab') continue;
    block.lines.forEach((text, i) => {
      const line = block.line + 1 + i;
      const m = /^([A-Za-z_$][\w$]*)>(?: (.*))?$/.exec(text);
      if (!m) return;
      const prompt = m[1]!;
      const input = m[2] ?? '';
      if (prompt !== 'socklab' && prompt !== attached) {
        // socklab prints no line of this shape, so it is a prompt of a socket we are not attached to.
        problems.push(`line ${line}: "${prompt}> " prompt while not attached to ${prompt}`);
        return;
      }
      typed.push({ line, prompt, text: input, failed: block.lines[i + 1]?.startsWith('!    ') === true });
      const cmd = /^\s*\.(attach|detach)\b\s*(\S*)/.exec(input);
      if (cmd?.[1] === 'attach') attached = cmd[2];
      if (cmd?.[1] === 'detach') attached = undefined;
    });
  }
  return { typed, problems };
}

/**
 * Problems with the lines typed at `socklab> `: commands that do not parse,
 * JavaScript that does not compile. `docLines` are the document's lines, to
 * compare the error a failing line shows with the one socklab gives.
 */
function checkTyped(typed: Typed[], docLines: string[]): string[] {
  const commands = typed.filter((t) => t.prompt === 'socklab' && isCommandLine(t.text));
  // One script whose line numbers are the document's: checkScript's messages then point into the doc.
  const last = Math.max(0, ...commands.map((c) => c.line));
  const source = Array.from({ length: last }, () => '');
  for (const c of commands) source[c.line - 1] = c.text;
  const problems: string[] = [];
  for (const p of checkScript(source.join('\n'), COMMANDS, false).problems) {
    const shown = commands.find((c) => c.line === p.number);
    // A line the transcript shows failing may fail to parse, but then with the message it shows.
    if (shown?.failed) {
      const printed = docLines[p.number]; // the line after it (0-based index = 1-based number)
      if (printed !== `!    ${p.message}`) problems.push(`line ${p.number + 1}: shows ${JSON.stringify(printed)}, socklab says ${JSON.stringify(`!    ${p.message}`)}`);
    } else problems.push(`line ${p.number}: ${p.message}`);
  }
  for (const t of typed) {
    if (t.prompt !== 'socklab' || isCommandLine(t.text) || isBlankOrComment(t.text)) continue;
    try {
      new vm.Script(t.text);
    } catch (err) {
      problems.push(`line ${t.line}: JavaScript does not compile: ${t.text} (${(err as Error).message})`);
    }
  }
  return problems;
}

const DOC = readFileSync(join(ROOT, 'docs', 'workshop.md'), 'utf8');
const BLOCKS = fencedBlocks(DOC);
const LESSONS = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.lab'))
  .sort();

/** The part of the document under the `## ` heading that names `file`. */
function section(file: string): string {
  const parts = DOC.split(/^(?=## )/m);
  const found = parts.filter((p) => p.split('\n')[0]!.includes(`examples/${file}`));
  expect(found, `one "## …" heading names examples/${file}`).toHaveLength(1);
  return found[0]!;
}

// Lesson lines the walkthrough types differently, and why (anything else must be typed as in the file).
const TYPED_DIFFERENTLY: Record<string, Record<string, string>> = {};

describe('docs/workshop.md', () => {
  it('quotes the .help list exactly as the command table prints it (review 11)', () => {
    const start = DOC.indexOf('socklab> .help\n');
    expect(start).toBeGreaterThan(-1);
    const body = DOC.slice(start + 'socklab> .help\n'.length, DOC.indexOf('socklab> .help listen', start));
    expect(body).toBe(`${commandList(COMMANDS)}\n`);
  });

  it('quotes the build script package.json runs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { build: string } };
    expect(DOC).toContain(`> socklab@0.1.0 build\n> ${pkg.scripts.build}\n`);
  });

  it('explains its block convention before the first block', () => {
    const convention = DOC.indexOf('## How to read this file');
    expect(convention).toBeGreaterThan(-1);
    expect(DOC.indexOf('```socklab')).toBeGreaterThan(convention);
    expect(DOC.slice(convention, DOC.indexOf('```'))).toContain('A **`socklab` block**');
  });

  it('has socklab transcripts with typed lines', () => {
    const { typed } = typedLines(BLOCKS);
    expect(BLOCKS.filter((b) => b.lang === 'socklab').length).toBeGreaterThanOrEqual(20);
    expect(typed.filter((t) => isCommandLine(t.text)).length).toBeGreaterThanOrEqual(100);
  });

  it('every line typed at socklab> parses against the command table; JavaScript lines compile', () => {
    const { typed, problems } = typedLines(BLOCKS);
    expect(problems).toEqual([]);
    expect(checkTyped(typed, DOC.split('\n'))).toEqual([]);
  });

  it('attached prompts: lines typed at client> follow .attach client and end at .detach', () => {
    const { typed } = typedLines(BLOCKS);
    const attached = typed.filter((t) => t.prompt !== 'socklab');
    expect(attached.map((t) => `${t.prompt}> ${t.text}`)).toEqual(['client> hi, typed like telnet', 'client> 1+1', 'client> .detach']);
  });

  it(`walks through every lesson in examples/ (${LESSONS.length}), typing its command lines`, () => {
    expect(LESSONS).toHaveLength(18);
    const { typed } = typedLines(BLOCKS);
    for (const file of LESSONS) {
      const text = section(file);
      const start = DOC.indexOf(text);
      const firstLine = DOC.slice(0, start).split('\n').length;
      const lastLine = firstLine + text.split('\n').length;
      const mine = new Set(typed.filter((t) => t.line >= firstLine && t.line < lastLine).map((t) => t.text.trim()));
      const lesson = readFileSync(join(ROOT, 'examples', file), 'utf8')
        .split('\n')
        .filter((l) => !isBlankOrComment(l))
        .map((l) => l.trim());
      const missing = lesson
        .map((l) => TYPED_DIFFERENTLY[file]?.[l] ?? l)
        .filter((l) => !mine.has(l));
      expect(missing, `lines of examples/${file} not typed in its section`).toEqual([]);
    }
  });

  it('every examples/*.lab it names exists', () => {
    const named = new Set(DOC.match(/examples\/[a-z0-9-]+\.lab/g) ?? []);
    expect(named.size).toBe(18);
    for (const path of named) expect(LESSONS).toContain(path.slice('examples/'.length));
  });
});

describe('the checker itself (so the doc test can fail)', () => {
  const sample = [
    'text',
    '```socklab',
    'socklab> .listen 0 --reply echo',
    's1   listening on 127.0.0.1:1234',
    'socklab> .lisen 0',
    'socklab> .send c1',
    'socklab> c1.remotePort +',
    'socklab> .attach c1',
    'c1> not a command, sent to c1',
    'c1> .detach',
    'socklab> .lisen 1',
    '!    unknown command .lisen: did you mean .listen? .help lists the commands',
    'socklab> .lisen 2',
    '!    some other message',
    '```',
    '',
    '```socklab',
    'c1> typed while detached',
    '```',
  ].join('\n');

  it('finds commands that do not parse, JavaScript that does not compile, and stale error messages, by document line', () => {
    const { typed, problems } = typedLines(fencedBlocks(sample));
    expect(typed.map((t) => t.line)).toEqual([3, 5, 6, 7, 8, 9, 10, 11, 13]);
    const found = checkTyped(typed, sample.split('\n'));
    expect(found).toHaveLength(4);
    expect(found[0]).toMatch(/^line 5: unknown command \.lisen: did you mean \.listen\?/);
    expect(found[1]).toMatch(/^line 6: missing PAYLOAD/);
    // `.lisen 1` shows the error socklab gives: accepted. `.lisen 2` shows another one.
    expect(found[2]).toBe('line 14: shows "!    some other message", socklab says "!    unknown command .lisen: did you mean .listen? .help lists the commands"');
    expect(found[3]).toMatch(/^line 7: JavaScript does not compile/);
    expect(problems).toEqual(['line 18: "c1> " prompt while not attached to c1']);
  });
});
