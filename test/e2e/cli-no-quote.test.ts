/**
 * A refused or failing JavaScript line is named by FILE:LINE, never quoted
 * (review #6): `.replay ../.env` must not print the secret on stderr, in
 * --json or in a CI log. The built CLI, real files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const SECRETS = {
  '.env': 'AWS_SECRET=abc123\n',
  id_ed25519: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
  passwd: 'root:x:0:0:root:/root:/bin/bash\n',
};
const LEAKS = /abc123|AWS_SECRET|OPENSSH|b3Blbn|root:x/;

/** A home with a secret beside the folder a lesson is downloaded to. */
function layout(secret: keyof typeof SECRETS, lab: string): string {
  const root = tempDir();
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'dl'));
  writeFileSync(join(root, 'home', secret), SECRETS[secret]);
  writeFileSync(join(root, 'dl', 'lesson.lab'), lab.replace('SECRET', `../home/${secret}`));
  return join(root, 'dl', 'lesson.lab');
}

describe('a script line is named, never quoted, when it may be a secret', () => {
  for (const secret of Object.keys(SECRETS) as Array<keyof typeof SECRETS>) {
    for (const flags of [['--allow-read'], ['--allow-read', '--json'], ['--allow-read', '--allow-js'], ['--allow-read', '--allow-js', '--json']]) {
      it(`.replay of ${secret} with ${flags.join(' ')}: the file and line are named, the content is not`, async () => {
        const p = runCli(['--no-time', ...flags, layout(secret, '.replay SECRET\n')]);
        const exit = await p.waitForExit(20_000);
        const out = p.stdout() + p.stderr();
        expect(exit.code, out).not.toBe(0);
        expect(out).toMatch(new RegExp(`lesson\\.lab(:1)? → \\.\\./home/${secret.replace('.', '\\.')}:\\d|lesson\\.lab:1|${secret.replace('.', '\\.')}:\\d`));
        expect(out).not.toMatch(LEAKS);
      });
    }
  }

  it('a lesson author still learns which line is wrong, and a real script keeps its JS error messages', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'a.lab'), '.listen 0\nc1.write("x")\n');
    const refused = runCli(['--no-time', join(root, 'a.lab')]);
    expect((await refused.waitForExit(20_000)).code).toBe(2);
    expect(refused.stdout()).toMatch(/a\.lab:2: JavaScript line refused \(13 characters, not quoted\): scripts run JavaScript only with --allow-js/);
    writeFileSync(join(root, 'b.lab'), '.listen 0\nnotDefinedHere\n');
    const failed = runCli(['--no-time', '--allow-js', join(root, 'b.lab')]);
    expect((await failed.waitForExit(20_000)).code).toBe(1);
    expect(failed.stdout()).toMatch(/b\.lab:2: notDefinedHere is not defined/);
  });
});
