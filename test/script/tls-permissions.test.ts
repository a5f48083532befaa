/**
 * Every file a TLS option names (`--cert`, `--key`, `--ca` read; `--cert-out`
 * writes) goes through the script permission check: refused before anything
 * runs without --allow-read / --allow-write, resolved against the script's
 * folder, and checked again when the line runs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { lesson, problems } from '../helpers/script-perms.js';
import { certFiles } from '../endpoints/tls-helpers.js';

afterEach(closeAll);

describe('TLS files in scripts', () => {
  it.each([
    ['.listen 0 --tls --cert /etc/ssl/a.pem --key k.key', /--cert \/etc\/ssl\/a\.pem is an absolute path outside the script's folder: .*--allow-read/],
    ['.listen 0 --tls --cert a.pem --key ../k.key', /--key \.\.\/k\.key leads out of the script's folder: .*--allow-read/],
    ['.listen 0 --tls --client-cert --ca /etc/ssl/certs/ca-certificates.crt', /--ca \/etc\/ssl\/certs\/ca-certificates\.crt is an absolute path .*--allow-read/],
    ['.connect 1 --tls --ca ../ca.pem', /--ca \.\.\/ca\.pem leads out of the script's folder/],
    ['.connect 1 --tls --cert /tmp/me.pem --key me.key', /--cert \/tmp\/me\.pem is an absolute path/],
    ['.listen 0 --tls --cert-out srv.pem', /--cert-out srv\.pem would write a file: .*--allow-write/],
  ])('without permission, %s is refused before anything runs', (line, message) => {
    const { perms } = lesson();
    const found = problems(line, perms);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('files inside the script folder pass; --allow-read lets a path leave it, --allow-write lets --cert-out write', () => {
    expect(problems('.listen 0 --tls --cert a.pem --key a.key\n.connect 1 --tls --ca a.pem', lesson().perms)).toEqual([]);
    expect(problems('.connect 1 --tls --ca /etc/ssl/a.pem', lesson({ read: true }).perms)).toEqual([]);
    expect(problems('.listen 0 --tls --cert-out srv.pem', lesson({ write: true }).perms)).toEqual([]);
  });

  it('when the line runs: relative paths resolve against the script folder, and the check applies again', async () => {
    const { dir, perms } = lesson({ write: true });
    const pair = await certFiles('srv', {}, dir);
    const rig = commandRig();
    rig.ctx.permissions = perms;
    await rig.ok('.listen 127.0.0.1:0 --tls --cert srv.pem --key srv.key --cert-out copy.pem as srv');
    await rig.log.waitFor((e) => e.type === 'note' && e.id === 's1');
    expect(readFileSync(join(dir, 'copy.pem'), 'utf8')).toBe(readFileSync(pair.certFile, 'utf8'));
    await rig.ok('.connect srv --tls --ca srv.pem');
    expect(await rig.log.waitFor((e) => e.type === 'secure' && e.id === 'c1')).toMatchObject({ authorized: true });
    const err = await rig.fail(`.connect srv --tls --ca ${pair.certFile}`);
    expect(err.message).toMatch(/--ca \/.* is an absolute path outside the script's folder: a script does that only when run with --allow-read/);
  });

  it('--cert-out never replaces a file that is not a certificate', async () => {
    const dir = tempDir();
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'my notes\n');
    const rig = commandRig();
    await rig.fail(`.listen 127.0.0.1:0 --tls --cert-out ${notes}`);
    expect(readFileSync(notes, 'utf8')).toBe('my notes\n');
    expect(existsSync(join(dir, 'x.pem'))).toBe(false);
  });
});
