/**
 * What a data rule matches (SPEC 12: the bytes received since the rule last
 * fired, across chunks), whatever the chunks: a chunk that arrives with
 * nothing waiting is searched in place and only its unmatched rest is kept,
 * and that must find exactly what the window finds when the same bytes come
 * cut otherwise (one byte at a time, 7-byte pieces, one chunk larger than
 * the in-place limit). Data events are emitted straight into a session, so
 * the chunking is exact; the firings are the lines a recording runner gets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseRuleCommand } from '../../src/behaviours/rule-command.js';
import { rulesOf, type RuleEventName } from '../../src/behaviours/rules.js';
import { COMMANDS } from '../../src/commands/index.js';
import type { Pattern } from '../../src/observers/byte-window.js';
import { EXPECT_MIN_KEEP, parseRegexPattern } from '../../src/observers/expect.js';
import { createSession, type Session } from '../../src/session/session.js';
import { recordEvents } from '../helpers/loopback.js';

const sessions: Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) {
    rulesOf(s).close();
    await s.shutdown(200);
  }
});

const regex = (text: string): Pattern => ({ kind: 'regex', regex: parseRegexPattern(text)! });

/**
 * A session with one rule on `all`; `feed` emits data chunks on c1 and resolves to the lines fired
 * once there are `fired` (a regex of unbounded length may search what came last a few ms later).
 */
function rig(pattern: Pattern, command = '.sendln $id $0', event: RuleEventName = 'data') {
  const session = createSession();
  sessions.push(session);
  const engine = rulesOf(session);
  const lines: string[] = [];
  const log = recordEvents(session);
  engine.add({ target: 'all', event, pattern, line: '.on all data …', command: parseRuleCommand(command, COMMANDS) }, { run: async ({ line }) => void lines.push(line) });
  return {
    engine,
    lines,
    async feed(chunks: Array<string | Buffer>, fired = 0): Promise<string[]> {
      for (const c of chunks) session.emit({ type: 'data', t: session.now(), id: 'c1', data: Buffer.isBuffer(c) ? c : Buffer.from(c) });
      if (fired > 0) await log.waitFor((ev) => ev.type === 'rule' && log.of('rule').length >= fired);
      await engine.settled();
      return lines;
    },
  };
}

/** The same bytes cut into pieces of `size`. */
function cut(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe('a data rule fires on the same matches however the bytes are cut', () => {
  it('several lines in one chunk fire in order, each consumed; nothing is kept after the last', async () => {
    const r = rig(regex('/PING (\\d+)\\r?\\n/'), '.sendln $id PONG $1');
    expect(await r.feed(['PING 1\nPING 22\r\nnoise PING 333\n'])).toEqual(['.sendln c1 "PONG 1"', '.sendln c1 "PONG 22"', '.sendln c1 "PONG 333"']);
    expect(r.engine.keptBytes()).toBe(0);
  });

  it('the unmatched rest of a chunk is kept and completed by the next one', async () => {
    const r = rig(regex('/PING (\\d+)\\n/'), '.sendln $id PONG $1');
    expect(await r.feed(['PING 1\nPI'])).toEqual(['.sendln c1 "PONG 1"']);
    expect(r.engine.keptBytes()).toBe(2);
    expect(await r.feed(['NG 2', '\n'], 2)).toEqual(['.sendln c1 "PONG 1"', '.sendln c1 "PONG 2"']);
    expect(r.engine.keptBytes()).toBe(0);
  });

  it('^ is the first byte after the last match, in a chunk as in the window', async () => {
    const r = rig(regex('/^PING (\\d)\\n/'), '.sendln $id $1');
    expect(await r.feed(['PING 1\nPING 2\nxPING 3\n'])).toEqual(['.sendln c1 "1"', '.sendln c1 "2"']);
    // "xPING 3\n" waits at the start of the window: ^ never matches there again.
    expect(r.engine.keptBytes()).toBe(8);
    expect(await r.feed(['PING 4\n'])).toEqual(['.sendln c1 "1"', '.sendln c1 "2"']);
  });

  it('a literal PATTERN split across chunks fires once', async () => {
    const r = rig({ kind: 'bytes', bytes: Buffer.from('PING') }, '.sendln $id got $0');
    expect(await r.feed(['xxPI', 'NGyyPINGPI', 'N', 'G'])).toEqual(['.sendln c1 "got PING"', '.sendln c1 "got PING"', '.sendln c1 "got PING"']);
    expect(r.engine.keptBytes()).toBe(0);
  });

  it('an empty match consumes one byte, so it fires once a byte and stops', async () => {
    const r = rig(regex('/x*/'), '.sendln $id [$0]');
    expect(await r.feed(['ab'])).toEqual(['.sendln c1 "[]"', '.sendln c1 "[]"']);
    expect(await r.feed(['xxb'], 4)).toEqual(['.sendln c1 "[]"', '.sendln c1 "[]"', '.sendln c1 "[xx]"', '.sendln c1 "[]"']);
  });

  it('whole, in 7-byte pieces, a byte at a time, or in one chunk past the in-place limit: the same firings', async () => {
    // Under 1,000 firings (the rule guard), over EXPECT_MIN_KEEP bytes in all.
    const lines = Array.from({ length: 600 }, (_, i) => `${i % 3 === 0 ? 'junk '.repeat(12) : 'P'}PING ${i}${i % 2 === 0 ? '\r' : ''}\n`);
    const text = lines.join('');
    expect(text.length).toBeGreaterThan(EXPECT_MIN_KEEP);
    const expected = lines.map((_, i) => `.sendln c1 "PONG ${i}"`);
    for (const chunks of [[text], cut(text, 7), cut(text, 1), cut(text, 64), cut(text, 5_000)]) {
      const r = rig(regex('/PING (\\d+)\\r?\\n/'), '.sendln $id PONG $1');
      expect(await r.feed(chunks, expected.length)).toEqual(expected);
      expect(r.engine.keptBytes()).toBe(0);
    }
  });
});
