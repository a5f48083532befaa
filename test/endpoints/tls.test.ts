/**
 * TLS (SPEC 11) inside one session, real sockets on 127.0.0.1 port 0: a
 * `--tls` server with a certificate made at start or given, a `--tls` client
 * verifying it; the `secure` event (both ends), `.show`, `.explain`,
 * `.timeline`; each verification failure kind as one line naming the reason
 * and the option that changes it, and that option fixing it; plaintext data;
 * hostile certificate text escaped; bad input as one line.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, closedPort, tempDir, track } from '../helpers/loopback.js';
import { formatEvent } from '../../src/render/human.js';
import { explainEvent } from '../../src/render/explain.js';
import type { ErrorEvent, SecureEvent, SessionEvent } from '../../src/session/events.js';
import { certFiles, handshakeEnd, portOf } from './tls-helpers.js';
import { TLS_HIGH_WATER, TlsClientConfig } from '../../src/endpoints/tls.js';

afterEach(closeAll);

const human = (ev: SessionEvent): string => formatEvent(ev, { time: false, colors: pc.createColors(false) }) ?? '';

async function secureOf(rig: CommandRig, id: string): Promise<SecureEvent> {
  const ev = await handshakeEnd(rig, id);
  if (ev.type !== 'secure') throw new Error(`${id}: ${human(ev)}`);
  return ev;
}

async function errorOf(rig: CommandRig, id: string): Promise<ErrorEvent> {
  const ev = await handshakeEnd(rig, id);
  if (ev.type !== 'error') throw new Error(`${id} should have failed: ${human(ev)}`);
  return ev;
}

describe('.listen --tls with a certificate made at start', () => {
  it('prints its SHA-256 fingerprint; --cert-out saves it (no key); a client trusting it with --ca verifies it; echo is plaintext both ways', async () => {
    const rig = commandRig();
    const out = join(tempDir(), 'srv.pem');
    await rig.ok(`.listen 127.0.0.1:0 --tls --reply echo --alpn h2,http/1.1 --cert-out ${out} as srv`);
    const pem = readFileSync(out, 'utf8');
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(pem).not.toContain('PRIVATE KEY');
    const cert = new X509Certificate(pem);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    const note = rig.log.of('note', 's1')[0];
    expect(note?.message).toContain(`SHA-256 ${cert.fingerprint256}`);
    expect(note?.message).toContain('self-signed certificate made now for localhost, 127.0.0.1, ::1 (in memory only');

    await rig.ok(`.connect srv --tls --ca ${out} --alpn h2 as c`);
    const client = await secureOf(rig, 'c1');
    expect(client).toMatchObject({ role: 'client', protocol: 'TLSv1.3', alpn: 'h2', servername: null, authorized: true, reused: false });
    expect(client.peerCertificate).toMatchObject({ subject: 'CN=localhost', fingerprint: cert.fingerprint256, selfSigned: true });
    expect(human(client)).toMatch(/^c1 +TLS 1\.3 TLS_AES_\w+ {2}ALPN h2 {2}cert CN=localhost \(verified\)$/);
    const server = await secureOf(rig, 'c2');
    expect(server).toMatchObject({ role: 'server', alpn: 'h2', peerCertificate: null });
    expect(server.authorizationError).toBeUndefined();
    expect(human(server)).toMatch(/^c2 +TLS 1\.3 \S+ {2}ALPN h2$/);

    await rig.ok('.send c hello');
    await rig.ok('.expect c hello');
    expect(rig.log.of('data', 'c2').map((e) => e.data.toString())).toEqual(['hello']);
    expect(rig.log.of('send', 'c2').map((e) => e.data.toString())).toEqual(['hello']);
  });

  it('an echo of 1 MiB through --tls comes back whole; every TLS socket, relayed too, buffers 64 KiB before it says full', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls --reply echo as srv');
    await rig.ok(`.proxy 127.0.0.1:0 127.0.0.1:${portOf(rig, 'srv')} --tls --tls-upstream --insecure as p`);
    const relay = rig.ctx.session.get('p');
    if (relay.kind !== 'relay') throw new Error('p is no relay');
    const port = Number(relay.address.split(':').at(-1));
    await rig.ok(`.connect 127.0.0.1:${port} --tls --insecure as c`);
    // c1 the client, c2/c3 the relay's link (TLS both sides), c4 the echo server's socket.
    for (const id of ['c1', 'c2', 'c3', 'c4']) await secureOf(rig, id);
    for (const id of ['c1', 'c2', 'c3', 'c4']) {
      const ep = rig.ctx.session.get(id);
      if (ep.kind !== 'socket' && ep.kind !== 'relay-socket') throw new Error(`${id} is a ${ep.kind}`);
      expect([id, ep.socket.writableHighWaterMark, ep.socket.readableHighWaterMark]).toEqual([id, TLS_HIGH_WATER, TLS_HIGH_WATER]);
    }
    // A 16 KiB record per data event: the echo pauses and resumes reading many times, and loses nothing.
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 12)) & 0xff;
    const c1 = rig.ctx.session.get('c1');
    if (c1.kind !== 'socket') throw new Error('c1 is no socket');
    const back: Buffer[] = [];
    let got = 0;
    const whole = new Promise<void>((resolve) => {
      c1.socket.on('data', (d: Buffer) => {
        back.push(d);
        got += d.length;
        if (got >= payload.length) resolve();
      });
    });
    c1.socket.write(payload);
    await whole;
    expect(Buffer.concat(back).equals(payload)).toBe(true);
  });

  it('.show tells protocol, cipher, ALPN, SNI, the peer certificate and verification; .explain the handshake; .timeline marks it', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls --reply echo as srv');
    await rig.ok(`.connect localhost:${portOf(rig, 'srv')} --tls --insecure --family 4 as c`);
    const ev = await secureOf(rig, 'c1');
    await secureOf(rig, 'c2');
    expect(ev).toMatchObject({ servername: 'localhost', authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(human(ev)).toMatch(/cert CN=localhost \(self-signed: not verified\)$/);
    await rig.ok('.show c');
    const show = rig.printed.at(-1) ?? '';
    for (const line of [/^tls +TLS 1\.3, TLS_AES_\w+, full handshake \(not reused\)$/m, /^sni +localhost$/m, /^server cert +CN=localhost$/m,
      /^ {2}issuer +CN=localhost \(self-signed\)$/m, /^ {2}valid +\w{3} .* GMT → \w{3} .* GMT$/m, /^ {2}names +DNS:localhost, IP Address:127\.0\.0\.1/m,
      /^ {2}sha-256 +([0-9A-F]{2}:){31}[0-9A-F]{2}$/m, /^verified +no \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/m, /^options .*tls=on \(not verified \(--insecure\)\)/m]) {
      expect(show).toMatch(line);
    }
    await rig.ok('.show c2');
    expect(rig.printed.at(-1)).toMatch(/^sni +localhost$/m);
    expect(rig.printed.at(-1)).toMatch(/^client cert +not asked for$/m);
    await rig.ok('.show srv');
    expect(rig.printed.at(-1)).toMatch(/^tls cert +CN=localhost \(self-signed, made at start, in memory only\)$/m);
    expect(explainEvent(ev)).toMatch(/ClientHello.*SNI name localhost.*Finished.*--insecure/);
    await rig.ok('.timeline');
    expect(rig.printed.at(-1)).toContain('TLS 1.3 handshake');
  });
});

describe('each verification failure is one line: the reason and the option that changes it; that option fixes it', () => {
  it('self-signed → --ca FILE or --insecure', async () => {
    const rig = commandRig();
    const out = join(tempDir(), 'srv.pem');
    await rig.ok(`.listen 127.0.0.1:0 --tls --cert-out ${out} as srv`);
    // The line fails (SPEC 6): a script stops here, exit 1.
    expect((await rig.fail('.connect srv --tls')).message).toBe('c1: TLS: self-signed certificate');
    const err = await errorOf(rig, 'c1');
    expect(err.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    const line = human(err);
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/self-signed.*--ca FILE.*--insecure/);
    expect(line).not.toMatch(/\bat \S+:\d+/);
    await rig.ok(`.connect srv --tls --ca ${out}`);
    expect((await secureOf(rig, 'c3')).authorized).toBe(true);
  });

  it('unknown CA → --ca FILE (the CA that signed it)', async () => {
    const rig = commandRig();
    const ca = await certFiles('ca', { commonName: 'socklab test CA', ca: true, names: [] });
    const leaf = await certFiles('leaf', { issuer: ca });
    await rig.ok(`.listen 127.0.0.1:0 --tls --cert ${leaf.certFile} --key ${leaf.keyFile} as srv`);
    expect(rig.log.of('note', 's1')[0]?.message).toBe(`TLS with certificate CN=localhost from ${leaf.certFile}  SHA-256 ${leaf.fingerprint}`);
    await rig.fail('.connect srv --tls');
    const err = await errorOf(rig, 'c1');
    expect(err.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(human(err)).toMatch(/signed by a CA we do not trust.*--ca FILE.*--insecure/);
    await rig.ok(`.connect srv --tls --ca ${ca.certFile}`);
    const ok = await secureOf(rig, 'c3');
    expect(ok).toMatchObject({ authorized: true, peerCertificate: { issuer: 'CN=socklab test CA', selfSigned: false } });
  });

  it('expired → the server needs a new one; --insecure skips the check', async () => {
    const rig = commandRig();
    const old = await certFiles('old', { notBefore: new Date(Date.now() - 20 * 86_400_000), notAfter: new Date(Date.now() - 10 * 86_400_000) });
    await rig.ok(`.listen 127.0.0.1:0 --tls --cert ${old.certFile} --key ${old.keyFile} as srv`);
    await rig.fail(`.connect srv --tls --ca ${old.certFile}`);
    const err = await errorOf(rig, 'c1');
    expect(err.code).toBe('CERT_HAS_EXPIRED');
    expect(human(err)).toMatch(/has expired.*--insecure/);
    await rig.ok(`.connect srv --tls --ca ${old.certFile} --insecure`);
    const ok = await secureOf(rig, 'c3');
    expect(ok).toMatchObject({ authorized: false, authorizationError: 'CERT_HAS_EXPIRED' });
    expect(human(ok)).toMatch(/\(not verified: CERT_HAS_EXPIRED\)$/);
  });

  it('hostname mismatch → --servername NAME (a name the certificate is for)', async () => {
    const rig = commandRig();
    const other = await certFiles('other', { commonName: 'other.example', names: ['other.example'] });
    await rig.ok(`.listen 127.0.0.1:0 --tls --cert ${other.certFile} --key ${other.keyFile} as srv`);
    await rig.fail(`.connect srv --tls --ca ${other.certFile}`);
    const err = await errorOf(rig, 'c1');
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(human(err)).toMatch(/not for the name we dialled: --servername NAME/);
    await rig.ok(`.connect srv --tls --ca ${other.certFile} --servername other.example`);
    const ok = await secureOf(rig, 'c3');
    expect(ok).toMatchObject({ authorized: true, servername: 'other.example' });
    expect((await secureOf(rig, 'c4')).servername).toBe('other.example');
  });

  it('handshake failure (no ALPN protocol in common) → change --alpn; both ends say so', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls --alpn h2 as srv');
    await rig.fail('.connect srv --tls --insecure --alpn spdy/1');
    expect(human(await errorOf(rig, 'c1'))).toMatch(/no ALPN protocol both sides accept: change --alpn/);
    expect(human(await errorOf(rig, 'c2'))).toMatch(/ERR_SSL_NO_APPLICATION_PROTOCOL .*--alpn/);
    await rig.ok('.connect srv --tls --insecure --alpn spdy/1,h2');
    expect((await secureOf(rig, 'c3')).alpn).toBe('h2');
  });

  it('protocol mismatch (TLS to a plain TCP server) → TLS on both sides or neither', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --greet "220 plain\\r\\n" as plain');
    await rig.fail('.connect plain --tls');
    const err = await errorOf(rig, 'c1');
    expect(err.code).toBe('ERR_SSL_WRONG_VERSION_NUMBER');
    expect(human(err)).toBe('c1   error ERR_SSL_WRONG_VERSION_NUMBER wrong version number (TLS: the peer does not speak TLS there (plain bytes where a TLS record should be): use TLS on both sides (--tls, or the TLS port), or on neither)');
    expect(explainEvent(err)).toMatch(/not a TLS record/);
  });
});

describe('closing a TLS socket', () => {
  it('.destroy resets the TCP connection beneath (the peer sees ECONNRESET); .close ends it gracefully', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls --reply echo as srv');
    await rig.ok('.connect srv --tls --insecure as a');
    await rig.ok('.send a x');
    await rig.ok('.expect a x');
    await rig.ok('.destroy a');
    expect(await rig.log.waitFor((e) => e.type === 'close' && e.id === 'c1')).toMatchObject({ aborted: true, reset: true });
    expect(await rig.log.waitFor((e) => e.type === 'error' && e.id === 'c2')).toMatchObject({ code: 'ECONNRESET' });
    await rig.ok('.connect srv --tls --insecure as b');
    await rig.ok('.send b y');
    await rig.ok('.expect b y');
    await rig.ok('.close b');
    expect(await rig.log.waitFor((e) => e.type === 'close' && e.id === 'c3')).toMatchObject({ hadError: false });
    expect(await rig.log.waitFor((e) => e.type === 'close' && e.id === 'c4')).toMatchObject({ hadError: false });
    expect(rig.log.of('error', 'c4')).toEqual([]);
  });
});

describe('a client that never starts the handshake', () => {
  it('is an idle connection: .listen --tls --timeout destroys it', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls --timeout 300ms as srv');
    const silent = net.connect(portOf(rig, 'srv'), '127.0.0.1');
    silent.on('error', () => {});
    track(() => void silent.destroy());
    expect(await rig.log.waitFor((e) => e.type === 'timeout' && e.id === 'c1')).toMatchObject({ ms: 300, destroyed: true });
    await rig.log.waitFor((e) => e.type === 'close' && e.id === 'c1');
    expect(rig.log.of('secure')).toEqual([]);
  });
});

describe('a TLS client that cannot connect', () => {
  it('says the OS error, then closes after an error (as a plain TCP client does)', async () => {
    const rig = commandRig();
    const port = await closedPort();
    await rig.fail(`.connect 127.0.0.1:${port} --tls`);
    expect(await rig.log.waitFor((e) => e.type === 'error' && e.id === 'c1')).toMatchObject({ code: 'ECONNREFUSED' });
    const close = await rig.log.waitFor((e) => e.type === 'close' && e.id === 'c1');
    expect(close).toMatchObject({ hadError: true });
    expect(human(close)).toMatch(/closed after an error$/);
  });
});

describe('.connect --tls completes on the handshake (SPEC 6: the next line can rely on it)', () => {
  it('a peer that never answers the ClientHello: --timeout covers the handshake and fails the line', async () => {
    const silent = net.createServer((s) => track(() => void s.destroy()));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    track(() => void silent.close());
    const port = (silent.address() as net.AddressInfo).port;
    const rig = commandRig();
    const err = await rig.fail(`.connect 127.0.0.1:${port} --tls --insecure --timeout 300ms`);
    expect(err.message).toBe(`c1: TLS handshake with 127.0.0.1:${port} not complete after 300 ms`);
    expect(rig.log.of('connect', 'c1')).toHaveLength(1);
    expect(rig.log.of('secure')).toEqual([]);
  });

  it('a send typed before the handshake fails with it: nothing is shown as sent', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls as srv');
    const connecting = rig.run('.connect srv --tls');
    const sending = rig.run('.send c1 secret');
    expect(await connecting).toBe(false);
    expect(await sending).toBe(false);
    expect(rig.log.of('send', 'c1')).toEqual([]);
    expect(rig.log.of('command-error').map((e) => e.message)).toEqual(['c1: TLS: self-signed certificate', 'c1: TLS: self-signed certificate']);
  });

  it('with --insecure, a send typed before the handshake goes out after the secure line', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls --reply echo as srv');
    const connecting = rig.run('.connect srv --tls --insecure');
    const sending = rig.run('.send c1 hi');
    expect(await connecting).toBe(true);
    expect(await sending).toBe(true);
    const order = rig.log.events.filter((e) => (e.type === 'secure' || e.type === 'send') && e.id === 'c1').map((e) => e.type);
    expect(order).toEqual(['secure', 'send']);
  });
});

describe('TLS messages say what was wrong, and whose doing it was (REVIEW2 #7)', () => {
  it('--servername: an IP address or a non-DNS name is refused with one line, before any socket exists', async () => {
    const rig = commandRig();
    await rig.ok('.listen 127.0.0.1:0 --tls as srv');
    expect((await rig.fail('.connect srv --tls --insecure --servername 127.0.0.1')).message).toMatch(/^--servername 127\.0\.0\.1 is an IP address: SNI carries only DNS names \(RFC 6066\); leave it out/);
    expect((await rig.fail('.connect srv --tls --insecure --servername [::1]')).message).toMatch(/is an IP address/);
    expect((await rig.fail('.connect srv --tls --insecure --servername -bad_name.')).message).toBe('--servername "-bad_name." is not a DNS name: give letters, digits and hyphens in dot-separated labels, e.g. --servername example.org');
    expect((await rig.fail('.connect srv --tls --insecure --servername "a b\\x1b[31m"')).message).toMatch(/is not a DNS name/);
    expect((await rig.fail('.proxy 0 srv --tls-upstream --servername 10.0.0.1')).message).toMatch(/is an IP address/);
    expect(rig.log.of('connect')).toEqual([]);
    await rig.ok('.connect srv --tls --insecure --servername localhost');
    expect((await secureOf(rig, 'c1')).servername).toBe('localhost');
  });

  it('with --ca given, a self-signed or unknown certificate is "not the one in --ca FILE"; --ca DIR names the option', async () => {
    const rig = commandRig();
    const other = await certFiles('other');
    await rig.ok('.listen 127.0.0.1:0 --tls as srv');
    const failed = await rig.fail(`.connect srv --tls --ca ${other.certFile}`);
    expect(failed.message).toBe(`c1: TLS: self-signed certificate: not the certificate in --ca ${other.certFile}, nor signed by it`);
    const err = await errorOf(rig, 'c1');
    expect(human(err)).toMatch(/--ca lists the only certificates we trust here: give the server's own certificate \(or the CA that signed it\) as --ca FILE, or skip the check with --insecure\)$/);
    expect(human(err)).not.toMatch(/trust it with --ca FILE \(that certificate\)/);
    const dir = tempDir();
    expect((await rig.fail(`.connect srv --tls --ca ${dir}`)).message).toBe(`--ca ${dir} is a directory: --ca takes a regular file (PEM)`);
  });

  it('.show\'s options say what was asked for ("verification on"), not an outcome', () => {
    expect(new TlsClientConfig({}).toString()).toBe('on (verification on)');
    expect(new TlsClientConfig({ ca: Buffer.from('x'), caFile: 'a.pem', servername: 'x.org' }).toString()).toBe('on (verification on, against --ca a.pem, servername x.org)');
    expect(new TlsClientConfig({ insecure: true }).toString()).toBe('on (not verified (--insecure))');
  });

  it('closing our own client mid-handshake does not blame the peer', async () => {
    // A peer that reads (so it answers our FIN with its own) and never speaks TLS.
    const silent = net.createServer((s) => {
      s.resume();
      track(() => void s.destroy());
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    track(() => void silent.close());
    const rig = commandRig();
    const connecting = rig.run(`.connect 127.0.0.1:${(silent.address() as net.AddressInfo).port} --tls --insecure`);
    await rig.log.waitFor((e) => e.type === 'connect' && e.id === 'c1');
    await rig.ok('.close c1');
    expect(await connecting).toBe(false);
    await rig.log.waitFor((e) => e.type === 'close' && e.id === 'c1');
    const lines = rig.log.of('error', 'c1').map(human);
    expect(lines.join('\n')).not.toMatch(/peer closed|peer aborted/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ECONNRESET we closed the connection during the TLS handshake \(we closed the socket before its TLS handshake completed: nothing was wrong with the peer\)$/);
  });
});

describe('client certificates', () => {
  it('--client-cert asks for one and shows it (not verified: self-signed); a client without one is shown as such', async () => {
    const rig = commandRig();
    const me = await certFiles('me', { commonName: 'alice', names: [] });
    await rig.ok('.listen 127.0.0.1:0 --tls --client-cert --reply echo as srv');
    await rig.ok(`.connect srv --tls --insecure --cert ${me.certFile} --key ${me.keyFile} as c`);
    await rig.ok('.send c hi');
    await rig.ok('.expect c hi');
    const server = await secureOf(rig, 'c2');
    expect(server).toMatchObject({ role: 'server', authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT', certRequested: true });
    expect(server.peerCertificate).toMatchObject({ subject: 'CN=alice', fingerprint: me.fingerprint });
    expect(human(server)).toMatch(/client cert CN=alice \(self-signed: not verified\)$/);
    await rig.ok('.connect srv --tls --insecure as anon');
    await rig.ok('.send anon x');
    await rig.ok('.expect anon x');
    expect(human(await secureOf(rig, 'c4'))).toMatch(/ {2}no client cert$/);
  });

  it('--client-cert --ca FILE verifies it', async () => {
    const rig = commandRig();
    const me = await certFiles('me', { commonName: 'alice', names: [] });
    await rig.ok(`.listen 127.0.0.1:0 --tls --client-cert --ca ${me.certFile} --reply echo as srv`);
    await rig.ok(`.connect srv --tls --insecure --cert ${me.certFile} --key ${me.keyFile} as c`);
    await rig.ok('.send c hi');
    await rig.ok('.expect c hi');
    expect(await secureOf(rig, 'c2')).toMatchObject({ authorized: true });
  });
});

describe('hostile certificate text and bad input', () => {
  it('a subject and SANs holding ESC, newline and bidi characters are escaped on the line and in .show', async () => {
    const rig = commandRig();
    const evil = await certFiles('evil', { commonName: 'evil\x1b[2J\u202eboss', names: ['localhost', 'x\x1b]0;pwned\x07.example'] });
    await rig.ok(`.listen 127.0.0.1:0 --tls --cert ${evil.certFile} --key ${evil.keyFile} --reply echo as srv`);
    await rig.ok('.connect srv --tls --insecure as c');
    const line = human(await secureOf(rig, 'c1'));
    await rig.ok('.show c');
    for (const text of [line, rig.printed.at(-1) ?? '', human(rig.log.of('note', 's1')[0]!)]) {
      expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
    }
    expect(line).toContain('\\u{202e}');
  });

  it('TLS options without --tls, --cert without --key, a bad ALPN list, a missing or non-PEM file: one line each, nothing opens', async () => {
    const rig = commandRig();
    const dir = tempDir();
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    expect((await rig.fail('.listen 0 --cert a.pem --key a.key')).message).toBe('--cert is a TLS option: add --tls');
    expect((await rig.fail('.connect 1 --insecure')).message).toBe('--insecure is a TLS option: add --tls');
    expect((await rig.fail('.listen 0 --tls --cert a.pem')).message).toMatch(/^--cert and --key go together/);
    expect((await rig.fail('.connect 1 --tls --alpn "h2,,x"')).message).toMatch(/^--alpn .*e\.g\. --alpn h2,http\/1\.1/);
    expect((await rig.fail(`.connect 1 --tls --ca ${join(dir, 'none.pem')}`)).message).toBe(`--ca ${join(dir, 'none.pem')}: no such file`);
    expect((await rig.fail(`.connect 1 --tls --ca ${junk}`)).message).toBe('--ca: the file holds no PEM certificate (-----BEGIN CERTIFICATE-----); give PEM certificates');
    expect((await rig.fail(`.listen 0 --tls --cert ${junk} --key ${junk}`)).message).toMatch(/not a PEM certificate/);
    expect(rig.ctx.session.list().filter((ep) => ep.state !== 'closed')).toEqual([]);
  });
});
