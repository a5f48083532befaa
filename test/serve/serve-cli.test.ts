/**
 * `--serve` on the built CLI: in the REPL, with a script (the person's flag
 * is the consent a script lacks), bad addresses, and the page's files in
 * the package.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, ROOT, runCli } from '../helpers/cli.js';
import { closeAll, tempDir, track } from '../helpers/loopback.js';
import { closeStreams, openSse } from '../helpers/sse.js';
import { COMMANDS } from '../../src/commands/index.js';
import { checkScript } from '../../src/script/check.js';
import { scriptPermissions } from '../../src/script/permissions.js';

const run = promisify(execFile);

afterEach(async () => {
  closeStreams();
  await cleanupProcesses();
  await closeAll();
});

async function status(url: string): Promise<number> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', url]);
  return Number(stdout);
}

describe('socklab --serve', () => {
  it('serves the REPL session: what is typed shows on the page, .exit stops it', async () => {
    const proc = runCli(['--no-time', '--serve', '0', '-e', '.listen 0 --reply echo'], { keepStdin: true });
    const [, url] = (await proc.waitForStdout(/serving the page at (http:\/\/127\.0\.0\.1:\d+\/)/)) as string[];
    const stream = await openSse(`${url}events`);
    await stream.waitFor((f) => f.data.includes('listening on'));
    proc.write('.connect s1\n');
    await stream.waitFor((f) => f.data.includes('"type":"connect"'));
    proc.write('.exit\n');
    expect((await proc.waitForExit()).code).toBe(0);
  });

  it('lets a script be watched from the network only through the flag; the page then needs its token', async () => {
    const dir = tempDir();
    const script = join(dir, 'lesson.lab');
    writeFileSync(script, '.listen 0 as srv\n.wait srv accept --timeout 60s\n');
    const proc = runCli(['--no-time', '--serve', '0.0.0.0:0', script]);
    const [, port, token] = (await proc.waitForStdout(/serving the page at http:\/\/\S+:(\d+)\/\?token=([\w-]+)/)) as string[];
    expect(await status(`http://127.0.0.1:${port}/`)).toBe(403);
    expect(await status(`http://127.0.0.1:${port}/?token=${token}`)).toBe(200);
    await proc.waitForStdout(/refused a viewer from \S+: no token/);
    const [, srvPort] = (await proc.waitForStdout(/listening on 127\.0\.0\.1:(\d+)/)) as string[];
    const peer = net.connect(Number(srvPort), '127.0.0.1');
    track(() => void peer.destroy());
    expect((await proc.waitForExit()).code).toBe(0);

    writeFileSync(script, '.serve 0.0.0.0:0\n');
    const refused = runCli([script]);
    expect((await refused.waitForExit()).code).not.toBe(0);
    expect(refused.stdout() + refused.stderr()).toContain('a script may serve the page on 127.0.0.1 only');
  });

  it.each(['0.0.0.0:0', '[::]:0', 'example.com:0'])('a script\'s .serve %s is refused at check time: exit 2, nothing ran (review2 #4)', async (address) => {
    const dir = tempDir();
    const script = join(dir, 'wide.lab');
    writeFileSync(script, `.listen 0 as srv\n.serve ${address}\n`);
    const refused = runCli(['--no-time', script]);
    expect((await refused.waitForExit()).code).toBe(2);
    expect(refused.stdout() + refused.stderr()).toMatch(/wide\.lab:2: a script may serve the page on 127\.0\.0\.1 only, not \S+: to show it to the network, start socklab --serve/);
    expect(refused.stdout()).not.toContain('listening');
  });

  it('a rule\'s .serve on the network is refused at check time too; 127.0.0.1 and localhost pass the check', () => {
    const perms = scriptPermissions(join(tempDir(), 'r.lab'), { js: false, read: false, write: false });
    const problems = (source: string) => checkScript(source, COMMANDS, perms).problems.map((p) => p.message);
    expect(problems('.listen 0 as s\n.on s accept .serve 0.0.0.0:0')).toEqual([expect.stringMatching(/may serve the page on 127\.0\.0\.1 only, not 0\.0\.0\.0/)]);
    expect(problems('.serve 127.0.0.1:0\n.serve localhost:0\n.serve 0\n.serve stop')).toEqual([]);
  });

  it('a bad --serve address is a usage error (exit 2) with one clear line', async () => {
    const proc = runCli(['--serve', 'nine']);
    expect((await proc.waitForExit()).code).toBe(2);
    expect(proc.stderr()).toContain('bad address "nine"');
  });

  it('the package carries the page: npm pack lists its files under dist/', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    for (const name of ['index.html', 'app.js', 'style.css', 'favicon.svg']) expect(files).toContain(`dist/serve/page/${name}`);
  });
});
