/**
 * TLS against real peers (SPEC 11): `openssl s_client` and `curl` (with
 * `--cacert` and the certificate the server saved, and with `-k`) against a
 * `.listen --tls` server; `.connect --tls` against `openssl s_server`. Each
 * failure a peer causes is one line naming the reason and the option.
 */
import { join } from 'node:path';
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, hasCommand, spawnProcess, type RunningProcess } from '../helpers/cli.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { formatEvent } from '../../src/render/human.js';
import type { SessionEvent } from '../../src/session/events.js';
import { certFiles, handshakeEnd, portOf } from './tls-helpers.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const OPENSSL = hasCommand('openssl');
const CURL = hasCommand('curl');
const human = (ev: SessionEvent): string => formatEvent(ev, { time: false, colors: pc.createColors(false) }) ?? '';

/** `openssl s_server` on 127.0.0.1, a free port; resolves once it accepts. */
async function sServer(args: string[]): Promise<{ proc: RunningProcess; port: number }> {
  const proc = spawnProcess('openssl', ['s_server', '-accept', '127.0.0.1:0', '-naccept', '1', ...args], { keepStdin: true });
  const m = await proc.waitForStdout(/ACCEPT 127\.0\.0\.1:(\d+)/, 20_000);
  return { proc, port: Number(m[1]) };
}

describe.skipIf(!OPENSSL)('openssl s_client → .listen --tls', () => {
  it('verifies the saved certificate, agrees on ALPN, sends SNI and a client certificate; the echo is plaintext', async () => {
    const rig = commandRig();
    const out = join(tempDir(), 'srv.pem');
    const me = await certFiles('me', { commonName: 'alice', names: [] });
    await rig.ok(`.listen 127.0.0.1:0 --tls --reply echo --alpn h2,http/1.1 --client-cert --cert-out ${out} as srv`);
    const client = spawnProcess('openssl', ['s_client', '-connect', `127.0.0.1:${portOf(rig, 'srv')}`, '-servername', 'localhost', '-alpn', 'h2',
      '-CAfile', out, '-verify_return_error', '-cert', me.certFile, '-key', me.keyFile], { keepStdin: true });
    await client.waitForStdout(/Verify return code: 0 \(ok\)/, 20_000);
    expect(client.stdout()).toContain('ALPN protocol: h2');
    client.write('hello over TLS\n');
    // Behind s_client's own session dump, which may still be printing.
    await client.waitForStdout(/hello over TLS\n/, 20_000);
    const ev = await handshakeEnd(rig, 'c1');
    expect(ev).toMatchObject({ type: 'secure', role: 'server', alpn: 'h2', servername: 'localhost', peerCertificate: { subject: 'CN=alice', fingerprint: me.fingerprint } });
    expect(human(ev)).toMatch(/^c1 +TLS 1\.3 \S+ {2}ALPN h2 {2}SNI localhost {2}client cert CN=alice \(self-signed: not verified\)$/);
    expect(rig.log.of('data', 'c1').map((e) => e.data.toString()).join('')).toBe('hello over TLS\n');
    client.end();
    await rig.log.waitFor((e) => e.type === 'close' && e.id === 'c1', 20_000);
  });

  it('protocol mismatch: a TLS 1.1 client is refused by the server socket with one line', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls as srv');
    const client = spawnProcess('openssl', ['s_client', '-connect', `127.0.0.1:${portOf(rig, 'srv')}`, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], { keepStdin: true });
    const ev = await handshakeEnd(rig, 'c1');
    expect(ev.type === 'error' && ev.code).toMatch(/^ERR_SSL_(UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW)$/);
    expect(human(ev)).toMatch(/no protocol version both sides accept/);
    await client.waitForExit(20_000);
  });

  it('a plain-text client (no TLS) on the TLS port: one line, the peer does not speak TLS', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls as srv');
    const nc = spawnProcess('nc', ['127.0.0.1', String(portOf(rig, 'srv'))], { keepStdin: true });
    nc.write('GET / HTTP/1.0\r\n\r\n');
    const ev = await handshakeEnd(rig, 'c1');
    expect(human(ev)).toMatch(/^c1 +error ERR_SSL_HTTP_REQUEST http request \(TLS: the peer sent a plain HTTP request to this TLS server: it should use https:\/\//);
    nc.end();
  });
});

describe.skipIf(!OPENSSL)('.connect --tls → openssl s_server', () => {
  it('--ca, --servername and --alpn: verified, h2, plaintext both ways', async () => {
    const srv = await certFiles('srv', { names: ['service.test'] , commonName: 'service.test' });
    const { proc, port } = await sServer(['-cert', srv.certFile, '-key', srv.keyFile, '-alpn', 'h2']);
    const rig = commandRig();
    await rig.ok(`.connect 127.0.0.1:${port} --tls --ca ${srv.certFile} --servername service.test --alpn h2,http/1.1 as c`);
    const ev = await handshakeEnd(rig, 'c1');
    expect(ev).toMatchObject({ type: 'secure', authorized: true, alpn: 'h2', servername: 'service.test', peerCertificate: { subject: 'CN=service.test' } });
    await rig.ok('.send c "from socklab\\n"');
    await proc.waitForStdout(/from socklab\n/, 20_000);
    proc.write('from openssl\n');
    await rig.ok('.expect c "from openssl\\n"');
    await rig.ok('.close c');
    await rig.log.waitFor((e) => e.type === 'close' && e.id === 'c1', 20_000);
  });

  it('handshake failure: a server offering only a cipher our certificate-less offer cannot meet → one line, no stack', async () => {
    const srv = await certFiles('srv');
    const { proc, port } = await sServer(['-cert', srv.certFile, '-key', srv.keyFile, '-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
    const rig = commandRig();
    await rig.fail(`.connect 127.0.0.1:${port} --tls --insecure`);
    const ev = await handshakeEnd(rig, 'c1');
    expect(ev).toMatchObject({ type: 'error', code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' });
    const line = human(ev);
    expect(line).toMatch(/^c1 +error ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE sslv3 alert handshake failure \(TLS: the peer ended the handshake .*openssl s_client/);
    expect(line).not.toMatch(/\.c:\d+|\n/);
    await proc.waitForExit(20_000);
  });
});

describe.skipIf(!CURL)('curl → .listen --tls --http', () => {
  it('--cacert with the saved certificate verifies (by name and by 127.0.0.1); -k skips; neither fails verification (exit 60)', async () => {
    const rig = commandRig();
    const out = join(tempDir(), 'srv.pem');
    await rig.ok(`.listen 127.0.0.1:0 --tls --http --reply 'you said {data}' --cert-out ${out} as srv`);
    const port = portOf(rig, 'srv');
    const curl = (args: string[]) => spawnProcess('curl', ['-sS', '--max-time', '20', ...args]);
    const byName = curl(['--cacert', out, '--resolve', `localhost:${port}:127.0.0.1`, '--data', 'hi', `https://localhost:${port}/`]);
    expect(await byName.waitForExit(30_000), byName.stderr()).toEqual({ code: 0, signal: null });
    expect(byName.stdout()).toBe('you said hi');
    const byIp = curl(['--cacert', out, '--data', 'ip', `https://127.0.0.1:${port}/`]);
    expect(await byIp.waitForExit(30_000), byIp.stderr()).toEqual({ code: 0, signal: null });
    expect(byIp.stdout()).toBe('you said ip');
    const insecure = curl(['-k', '--data', 'k', `https://127.0.0.1:${port}/`]);
    expect(await insecure.waitForExit(30_000), insecure.stderr()).toEqual({ code: 0, signal: null });
    const refused = curl([`https://127.0.0.1:${port}/`]);
    expect((await refused.waitForExit(30_000)).code).toBe(60);
    const secures = rig.log.events.filter((e) => e.type === 'secure');
    expect(secures.length).toBeGreaterThanOrEqual(3);
    expect(secures.find((e) => e.type === 'secure' && e.servername === 'localhost')).toBeDefined();
  });
});
