/**
 * A peer's certificate names (subject, issuer, SAN, and the SAN in a name
 * mismatch error) reach socklab raw and are shown in the one escape notation
 * of the terminal table (`\x1b`, `\u{202e}`), as payloads are — not OpenSSL's
 * `\1B` nor JSON's `\u001b` (review2 #11). Real TLS on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll } from '../helpers/loopback.js';
import { certFiles, handshakeEnd, portOf } from './tls-helpers.js';

afterEach(closeAll);

const CN = 'evil\x1b[31mRED\x07\u202e<b>, Inc.';

describe('certificate names from a peer', () => {
  it('.show and the secure event: one notation, the raw text in the event', async () => {
    const files = await certFiles('evil', { commonName: CN, names: ['evil\x1b[2Jhost', '127.0.0.1'] });
    const rig = commandRig();
    await rig.ok(`.listen 0 --tls --cert ${files.certFile} --key ${files.keyFile} as t`);
    await rig.ok('.connect t --tls --insecure as ev');
    const secure = await handshakeEnd(rig, 'c1');
    if (secure.type !== 'secure') throw new Error(`no handshake: ${JSON.stringify(secure)}`);
    expect(secure.peerCertificate?.subject).toBe(`CN=${CN}`);
    expect(secure.peerCertificate?.san).toEqual(['DNS:evil\x1b[2Jhost', 'IP Address:127.0.0.1']);
    await rig.ok('.show ev');
    const text = rig.printed.at(-1)!;
    expect(text).toMatch(/^server cert +CN=evil\\x1b\[31mRED\\x07\\u\{202e\}<b>, Inc\.$/m);
    expect(text).toMatch(/^ +names +DNS:evil\\x1b\[2Jhost, IP Address:127\.0\.0\.1$/m);
    expect(text).not.toMatch(/\\1B|\\u001b|\\07|\x1b/);
  });

  it('a name mismatch error lists the names raw (the renderer escapes them), not in Node\'s notation', async () => {
    const files = await certFiles('evil', { commonName: CN, names: ['evil\x1b[2Jhost', 'ok.example'] });
    const rig = commandRig();
    await rig.ok(`.listen 0 --tls --cert ${files.certFile} --key ${files.keyFile} as t`);
    rig.run(`.connect 127.0.0.1:${portOf(rig, 't')} --tls --ca ${files.certFile} --servername wrong.example as bad`);
    const end = await handshakeEnd(rig, 'c1');
    if (end.type !== 'error') throw new Error(`no error: ${JSON.stringify(end)}`);
    expect(end.message).toContain('DNS:evil\x1b[2Jhost, DNS:ok.example');
    expect(end.message).not.toContain('\\u001b');
  });
});
