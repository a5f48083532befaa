/**
 * Issue #5.7, safe defaults. Covered elsewhere and not repeated here: the
 * 8 MiB cap on queued bytes (flood.test.ts, against the built CLI), the
 * 10 s connect timeout (cycles-and-timeouts.test.ts), line and payload limits
 * (bad-input.test.ts), `.record` appending and never truncating
 * (test/script/record-replay.test.ts), the "reachable from the network" line
 * (test/render/human.test.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/render/human.js';
import { isLoopback } from '../../src/session/session.js';
import { closeAll, is, newSession, tempDir } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';

afterEach(closeAll);

describe('loopback unless a host is given', () => {
  it('.listen without a host binds 127.0.0.1 and says nothing about the network', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    await s1.ready;
    const ev = await log.waitFor(is('listening', 's1'));
    expect(ev).toMatchObject({ address: '127.0.0.1', exposed: false });
    expect(s1.server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(formatEvent(ev, { time: false, colors: pc.createColors(false) })).not.toContain('reachable');
  });

  it('wildcard and other non-loopback addresses count as exposed (the listening line then says so)', () => {
    for (const address of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'fe80::1', '::ffff:192.0.2.1']) expect(isLoopback(address), address).toBe(false);
    for (const address of ['127.0.0.1', '127.4.5.6', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address), address).toBe(true);
  });
});

describe("Node's .load, .save and .editor are gone: no file reaches eval by surprise", () => {
  it('.load does not evaluate the file, .save writes nothing, .editor starts no editor mode', async () => {
    const dir = tempDir();
    const script = join(dir, 'evil.js');
    writeFileSync(script, 'globalThis.socklabLoaded = "loaded";\n');
    const saved = join(dir, 'saved.js');
    const h = startHarness();
    for (const [command, name] of [[`.load ${script}`, 'load'], [`.save ${saved}`, 'save'], ['.editor', 'editor']] as const) {
      h.mark();
      h.type(command);
      await h.waitFor(`unknown command .${name}`);
    }
    // An editor mode would swallow this line until Ctrl+D; the REPL answers it at once.
    h.mark();
    h.type('typeof globalThis.socklabLoaded');
    await h.waitFor("'undefined'");
    expect(existsSync(saved)).toBe(false);
  });
});
