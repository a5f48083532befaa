/**
 * tls-hello.lab (SPEC 11): as a script (the verification failure, its fix, the
 * secure line, plaintext echo, .show), and its server against the real peers
 * its header names: `openssl s_client` (pinning the printed fingerprint) and
 * `curl -k` / `curl --cacert` on the same server with --http.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLessons, eventsOf, hasTool, lessonSource, runLesson, serveLesson, socklab, start, tempDir, withListenPort } from '../helpers/lessons.js';
import { join } from 'node:path';

afterEach(cleanupLessons);

const OK = { code: 0, signal: null };

describe('tls-hello.lab', () => {
  it('runs and exits 0: the self-signed failure names --ca and --insecure, --insecure fixes it, the echo is plaintext', async () => {
    const { exit, proc } = await runLesson('tls-hello', withListenPort(lessonSource('tls-hello'), 0));
    expect(exit, proc.describe()).toEqual(OK);
    const out = proc.stdout();
    expect(out).toMatch(/^s1 +TLS with a self-signed certificate made now for localhost, 127\.0\.0\.1, ::1 .* SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
    expect(out).toMatch(/^c1 +TLS 1\.3 TLS_AES_\w+ {2}ALPN h2 {2}cert CN=localhost \(self-signed: not verified\)$/m);
    expect(out).toMatch(/^c2 +← 15 B {2}"hello over TLS\\n"$/m);
    expect(out).toMatch(/^verified +no \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/m);
  });

  it('the commented doubter line, run as a script, fails its line and the run (exit 1): the self-signed failure names --ca and --insecure', async () => {
    const source = withListenPort(lessonSource('tls-hello'), 0).replace(/^\.connect secure --tls --insecure.*$/m, '.connect secure --tls as doubter\n.send doubter "never sent\\n"');
    const { exit, proc } = await runLesson('tls-hello', source);
    expect(exit, proc.describe()).toEqual({ code: 1, signal: null });
    expect(proc.stdout()).toMatch(/^c1 +error DEPTH_ZERO_SELF_SIGNED_CERT self-signed certificate \(TLS: .*--ca FILE.*--insecure\)$/m);
    expect(proc.stdout() + proc.stderr()).toMatch(/tls-hello\.lab:\d+: c1: TLS: self-signed certificate/);
    expect(proc.stdout()).not.toMatch(/never sent/);
  });

  it.skipIf(!hasTool('openssl'))('its server against openssl s_client: the certificate s_client sees has the printed fingerprint; ALPN h2; echo', async () => {
    const srv = await serveLesson('tls-hello');
    const note = await srv.proc.waitForEvent('the certificate note', (e) => e.event === 'note' && String(e.message).includes('SHA-256'));
    const printed = /SHA-256 (\S+)/.exec(String(note.message))?.[1];
    const client = start('openssl', ['s_client', '-connect', srv.hostPort, '-alpn', 'h2'], { stdin: 'pipe' });
    await client.waitForText(/-----END CERTIFICATE-----/);
    const pem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(client.stdout())?.[0] ?? '';
    const { X509Certificate } = await import('node:crypto');
    expect(new X509Certificate(pem).fingerprint256).toBe(printed);
    client.write('ping\n');
    await client.waitForText(/ping\n/);
    const secure = await srv.proc.waitForEvent('secure', (e) => e.event === 'secure');
    expect(secure).toMatchObject({ role: 'server', alpn: 'h2', protocol: 'TLSv1.3', peerCertificate: null });
    client.end();
    expect(await srv.stop(20_000), srv.proc.describe()).toEqual(OK);
  });

  it.skipIf(!hasTool('curl'))('with --http: curl -k, and curl --cacert with the certificate --cert-out saved', async () => {
    const file = join(tempDir(), 'srv.pem');
    const proc = socklab(['--json', '-e', `.listen 0 --tls --http --reply 'hello {data}' --cert-out ${file}`], { stdin: 'pipe' });
    const ev = await proc.waitForEvent('listening', (e) => e.event === 'listening');
    await proc.waitForEvent('the certificate note', (e) => e.event === 'note');
    const url = `https://localhost:${ev.port}/`;
    const resolve = `localhost:${ev.port}:127.0.0.1`;
    const k = start('curl', ['-sS', '-k', '--resolve', resolve, '--data', 'k', url]);
    expect(await k.waitForExit(), k.describe()).toEqual(OK);
    expect(k.stdout()).toBe('hello k');
    const pinned = start('curl', ['-sS', '--cacert', file, '--resolve', resolve, '--data', 'pinned', url]);
    expect(await pinned.waitForExit(), pinned.describe()).toEqual(OK);
    expect(pinned.stdout()).toBe('hello pinned');
    expect(eventsOf(proc, 'secure').map((e) => e.servername)).toEqual(['localhost', 'localhost']);
    proc.end();
    expect(await proc.waitForExit(20_000), proc.describe()).toEqual(OK);
  });
});
