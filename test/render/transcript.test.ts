/**
 * Transcripts (SPEC section 13): the Markdown parsed by markdown-it (the
 * CommonMark parser many renderers use) must hold exactly three fenced blocks,
 * no HTML and no link whatever a peer sent; the Mermaid block is well-formed.
 * Then `.transcript` in the REPL and in scripts, and `--transcript` on the CLI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { afterEach, describe, expect, it } from 'vitest';
import { renderTranscript } from '../../src/render/transcript.js';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const md = new MarkdownIt({ html: true, linkify: true });

/** Every token, children included. */
function tokens(markdown: string): Array<{ type: string; info: string; content: string }> {
  return md.parse(markdown, {}).flatMap((t) => [t, ...(t.children ?? [])]);
}

/** The checks every transcript must pass. */
function checkSafe(markdown: string): { fences: Array<{ info: string; content: string }> } {
  const all = tokens(markdown);
  expect(all.filter((t) => /html|link_open|image/.test(t.type)).map((t) => t.type)).toEqual([]);
  const fences = all.filter((t) => t.type === 'fence').map((t) => ({ info: t.info, content: t.content }));
  expect(fences.map((f) => f.info)).toEqual(['text', 'text', 'mermaid']);
  checkMermaid(fences[2]?.content ?? '');
  return { fences };
}

/** A line-by-line grammar of what renderMermaid writes. */
function checkMermaid(diagram: string): void {
  const lines = diagram.replace(/\n$/, '').split('\n');
  expect(lines[0]).toBe('sequenceDiagram');
  for (const line of lines.slice(1)) {
    expect(line).toMatch(/^ {4}(%% [^\n]*|participant \w+( as [^<>&\n]+)?|Note over \w+: [^<>&\n]*|\w+(-->>|->>|-x)\w+: [^<>&\n]*)$/);
  }
}

const HOSTILE = [
  '````\n# heading\n<script>alert(1)</script>',
  '[click](javascript:alert(1)) ![x](http://e.com/i.png) <http://e.com> https://e.com',
  '<img src=x onerror=alert(1)>&lt;',
  '\u001b]8;;http://e.com\u0007link\u001b]8;;\u0007 \u202e',
];

describe('renderTranscript', () => {
  it('hostile peer text in commands, log and diagram: three fences, no HTML, no links, fences intact', () => {
    for (const h of HOSTILE) {
      const markdown = renderTranscript({
        started: 0,
        commands: [`.send c1 "${h}"`],
        log: `c1 ← "${h}"\n${h}\n`,
        mermaid: `sequenceDiagram\n    participant c1\n    participant P1 as ${h.replace(/\n/g, ' ')}\n    c1->>P1: ${h.replace(/\n/g, ' ')}`,
      });
      const { fences } = checkSafe(markdown);
      // The peer's text is still there to read, inside the fences.
      expect(fences[1]?.content).toContain(h.includes('\u001b') ? 'link' : h.slice(0, 4).replace(/\n.*/s, ''));
    }
  });

  it('property: any log and command text keeps the structure', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 80 }), (commands, log) => {
        checkSafe(renderTranscript({ started: 0, commands, log, mermaid: 'sequenceDiagram' }));
      }),
      { numRuns: 200 },
    );
  });
});

describe('.transcript and --transcript', () => {
  it('REPL: .transcript FILE.md … .transcript stop writes the session: commands, events, a diagram of the bytes', async () => {
    const rig = commandRig({ interactive: true });
    const file = join(tempDir(), 'session.md');
    await rig.ok(`.transcript ${file}`);
    await rig.ok('.listen 0 --reply echo as srv');
    await rig.ok('.connect srv as c');
    await rig.run('.wait c data --timeout 50ms');
    await rig.ok('.sendln c <b>[hi](http://x)</b>');
    await rig.ok('.expect c "hi"');
    await rig.ok('.transcript stop');
    const { fences } = checkSafe(readFileSync(file, 'utf8'));
    expect(fences[0]?.content).toContain('.sendln c <b>[hi](http://x)</b>');
    expect(fences[1]?.content).toMatch(/s1 +listening/);
    expect(fences[2]?.content).toMatch(/->>\w+: \d+ B #34;#60;b#62;/);
    expect((await rig.fail('.transcript stop')).message).toMatch(/no transcript is being written/);
  });

  it('in a script .transcript needs --allow-write (refused before anything runs, exit 2); --transcript on the CLI does not', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't.lab'), '.transcript out.md\n.listen 0 as srv\n');
    const refused = runCli(['--no-time', join(dir, 't.lab')]);
    expect((await refused.waitForExit(10_000)).code).toBe(2);
    expect(refused.stdout() + refused.stderr()).toMatch(/t\.lab:1: \.transcript out\.md would write a file: a script does that only when run with --allow-write/);
    const allowed = runCli(['--no-time', '--allow-write', join(dir, 't.lab')]);
    expect((await allowed.waitForExit(10_000)).code).toBe(0);
    checkSafe(readFileSync(join(dir, 'out.md'), 'utf8'));
    const cli = runCli(['--no-time', '--transcript', join(dir, 'cli.md'), '-e', '.listen 0 as srv', '-e', '.connect srv', '--exit']);
    expect((await cli.waitForExit(10_000)).code).toBe(0);
    const { fences } = checkSafe(readFileSync(join(dir, 'cli.md'), 'utf8'));
    expect(fences[0]?.content).toBe('.listen 0 as srv\n.connect srv\n');
    expect(fences[1]?.content).toMatch(/c1 +closed/);
  });
});
