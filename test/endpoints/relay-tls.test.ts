/**
 * `.proxy --tls` and `--tls-upstream` (SPEC 10, 11): the relay terminates TLS
 * from clients and relays plaintext, or speaks TLS to its target — the "see
 * inside my HTTPS client's traffic" setup. Real peers: curl and openssl
 * s_client trust the certificate the relay printed and saved.
 */
import { join } from 'node:path';
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, hasCommand, spawnProcess } from '../helpers/cli.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, collect, is, peerClient, tempDir } from '../helpers/loopback.js';
import { formatEvent } from '../../src/render/human.js';
import type { RelayEvent, SecureEvent } from '../../src/session/events.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const CURL = hasCommand('curl');
const OPENSSL = hasCommand('openssl');

function portOf(rig: CommandRig, ref: string): number {
  const ep = rig.ctx.session.get(ref);
  if (ep.kind !== 'relay' && ep.kind !== 'server') throw new Error(`${ref} listens nowhere`);
  return Number(ep.address.split(':').at(-1));
}

const relayed = (rig: CommandRig, dir: 'up' | 'down'): string =>
  Buffer.concat(rig.log.of('relay').filter((ev: RelayEvent) => ev.dir === dir).map((ev) => ev.data)).toString();

const secureOf = (rig: CommandRig, id: string): Promise<SecureEvent> =>
  rig.log.waitFor((ev): ev is SecureEvent => ev.type === 'secure' && ev.id === id, 20_000);

describe.skipIf(!CURL)('curl → .proxy --tls → a plain HTTP server', () => {
  it('curl trusts the saved certificate; the relay shows the request and answer in plaintext', async () => {
    const rig = commandRig();
    const pem = join(tempDir(), 'relay.pem');
    await rig.ok(`.listen 0 --http --reply 'You said "{data}"' as web`);
    await rig.ok(`.proxy 0 web --tls --cert-out ${pem} as watch`);
    const note = rig.log.of('note', 'p1').find((ev) => /SHA-256 [0-9A-F:]{95}/.test(ev.message));
    expect(note, 'the fingerprint to pin').toBeDefined();
    const curl = spawnProcess('curl', ['-sS', '--max-time', '20', '--cacert', pem, '--data', 'hello', `https://127.0.0.1:${portOf(rig, 'watch')}/`]);
    expect(await curl.waitForExit(30_000), curl.stderr()).toEqual({ code: 0, signal: null });
    expect(curl.stdout()).toBe('You said "hello"');
    const secure = await secureOf(rig, 'c1');
    expect(secure).toMatchObject({ role: 'server', authorized: false });
    expect(relayed(rig, 'up')).toMatch(/^POST \/ HTTP\/1\.1\r\n[^]*\r\n\r\nhello$/);
    expect(relayed(rig, 'down')).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*You said "hello"$/);
    // Without the certificate, curl refuses the relay (exit 60: peer certificate cannot be authenticated).
    const refused = spawnProcess('curl', ['-sS', '--max-time', '20', `https://127.0.0.1:${portOf(rig, 'watch')}/`]);
    expect((await refused.waitForExit(30_000)).code).toBe(60);
  });
});

describe.skipIf(!OPENSSL)('openssl s_client → .proxy --tls → a plain echo server', () => {
  it('verifies (return code 0) and the echo comes back through the relay', async () => {
    const rig = commandRig();
    const pem = join(tempDir(), 'relay.pem');
    await rig.ok('.listen 0 --reply echo as echo');
    await rig.ok(`.proxy 0 echo --tls --alpn http/1.1 --cert-out ${pem}`);
    const client = spawnProcess('openssl', ['s_client', '-connect', `127.0.0.1:${portOf(rig, 'p1')}`, '-CAfile', pem, '-verify_return_error', '-alpn', 'http/1.1'], { keepStdin: true });
    await client.waitForStdout(/Verify return code: 0 \(ok\)/, 20_000);
    client.write('ping through TLS\n');
    await client.waitForStdout(/ping through TLS\n/, 20_000);
    expect((await secureOf(rig, 'c1')).alpn).toBe('http/1.1');
    expect(relayed(rig, 'up')).toBe('ping through TLS\n');
    client.end();
  });
});

describe('.proxy --tls-upstream → a .listen --tls server', () => {
  it('--ca with the server\'s saved certificate: verified; a plain client talks through it', async () => {
    const rig = commandRig();
    const pem = join(tempDir(), 'srv.pem');
    await rig.ok(`.listen 0 --tls --reply echo --cert-out ${pem} as srv`);
    await rig.ok(`.proxy 0 srv --tls-upstream --ca ${pem} --servername localhost`);
    const client = await peerClient(portOf(rig, 'p1'), { allowHalfOpen: true });
    const got = collect(client);
    client.write('plain in, TLS out\n');
    const secure = await secureOf(rig, 'c2');
    expect(secure).toMatchObject({ role: 'client', authorized: true, servername: 'localhost' });
    await rig.log.waitFor((ev) => ev.type === 'relay' && ev.dir === 'down', 20_000);
    client.end();
    expect((await got.ended).toString()).toBe('plain in, TLS out\n');
  });

  it('without --ca, the self-signed target fails verification: one line naming --ca/--insecure, and the client is closed', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --tls --reply echo as srv');
    await rig.ok('.proxy 0 srv --tls-upstream');
    const client = await peerClient(portOf(rig, 'p1'));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => {});
    client.write('never relayed\n');
    const err = await rig.log.waitFor(is('error', 'c2'), 20_000);
    const line = formatEvent(err, { time: false, colors: pc.createColors(false) }) ?? '';
    expect(line).toMatch(/^c2 +error \S+ self-signed certificate .*--ca FILE.*--insecure/);
    expect(line).not.toMatch(/\n|\.c:\d+/);
    await closed;
    await rig.log.waitFor(is('close', 'c1'), 20_000);
    // The link opens on the target's secure line: nothing is shown as relayed to a target that failed.
    expect(rig.log.of('relay')).toEqual([]);
  });

  it('--insecure: encrypted, not verified, and it says so', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --tls --reply echo as srv');
    await rig.ok('.proxy 0 srv --tls-upstream --insecure');
    const client = await peerClient(portOf(rig, 'p1'));
    client.write('x');
    expect(await secureOf(rig, 'c2')).toMatchObject({ authorized: false });
    await rig.log.waitFor((ev) => ev.type === 'relay' && ev.dir === 'down', 20_000);
    client.destroy();
  });
});

describe('.proxy TLS options: one clear line when misused', () => {
  it.each([
    ['.proxy 0 127.0.0.1:9 --ca x.pem', /--ca is about the target's TLS: add --tls-upstream/],
    ['.proxy 0 127.0.0.1:9 --insecure', /--insecure is about the target's TLS: add --tls-upstream/],
    ['.proxy 0 127.0.0.1:9 --cert a.pem --key a.key', /--cert is a TLS option: add --tls/],
    ['.proxy 0 127.0.0.1:9 --tls --cert a.pem', /--cert and --key go together/],
    ['.proxy 0 127.0.0.1:9 --tls --alpn "a b"', /--alpn/],
  ])('%s', async (line, message) => {
    const rig = commandRig();
    const err = await rig.fail(line);
    expect(err.message).toMatch(message);
    expect(rig.ctx.session.list()).toHaveLength(0);
  });

  it('a --ca file that is not a certificate is refused before anything listens', async () => {
    const rig = commandRig();
    const err = await rig.fail(`.proxy 0 127.0.0.1:9 --tls-upstream --ca ${join(tempDir(), 'missing.pem')}`);
    expect(err.message).toMatch(/--ca .*no such file/);
    expect(rig.ctx.session.list()).toHaveLength(0);
  });
});
