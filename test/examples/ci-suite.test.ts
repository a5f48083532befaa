/**
 * docs/ci.md's example suite (examples/ci/tests/*.lab) against its example
 * server, the way the CI recipes run them: the server started beside the
 * suite, `--retry` in the scripts waiting for it, variables for the address,
 * a JUnit report for the dashboard.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanupProcesses, runCli, spawnProcess } from '../helpers/cli.js';
import { closeAll, closedPort, tempDir, track } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const SUITE = join(ROOT, 'examples', 'ci', 'tests');
const SERVER = join(ROOT, 'examples', 'ci', 'server.mjs');

describe('examples/ci', () => {
  it('the suite passes against the example server started beside it (no wait: --retry covers its start), with a JUnit report', async () => {
    const port = await closedPort();
    const report = join(tempDir(), 'junit.xml');
    // As in CI: the server is started in the background and the suite at once.
    const server = spawnProcess('node', [SERVER], { env: { PORT: String(port) } });
    const suite = runCli(['test', '--jobs', '2', '--var', `PORT=${port}`, '--report-junit', report, SUITE]);
    const exit = await suite.waitForExit(30_000);
    expect(exit.code, suite.stdout() + suite.stderr() + server.stderr()).toBe(0);
    expect(suite.stdout()).toMatch(/3 passed, 0 failed; 3 files/);
    const names = execFileSync('python3', ['-c', 'import sys, xml.dom.minidom as m; print(" ".join(c.getAttribute("name") for c in m.parse(sys.argv[1]).getElementsByTagName("testcase")))', report]).toString();
    expect(names.trim().split(' ').map((n) => n.replace(/.*\//, ''))).toEqual(['echo.lab', 'greeting.lab', 'ping.lab']);
    expect(readFileSync(report, 'utf8')).toContain('failures="0"');
  });

  it('a server that greets wrongly fails greeting.lab at its .expect line (the suite can fail)', async () => {
    const wrong = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.end('HELLO other-server\r\n');
    });
    wrong.listen(0, '127.0.0.1');
    await once(wrong, 'listening');
    track(() => new Promise<void>((resolve) => wrong.close(() => resolve())));
    const port = (wrong.address() as net.AddressInfo).port;
    const suite = runCli(['test', '--var', `PORT=${port}`, join(SUITE, 'greeting.lab')]);
    expect((await suite.waitForExit(30_000)).code).toBe(1);
    expect(suite.stdout()).toMatch(/FAIL \S*greeting\.lab .*greeting\.lab:4: expect/);
  });
});
