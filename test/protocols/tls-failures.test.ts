/**
 * The TLS failure table: each kind a learner meets (SPEC 11: self-signed,
 * unknown CA, expired, wrong host, handshake failure, protocol mismatch) has
 * a one-line hint naming the option that changes it and an `.explain` text;
 * codes that are not TLS's get nothing from it.
 */
import { describe, expect, it } from 'vitest';
import { tlsFailure } from '../../src/protocols/tls-failures.js';
import { errorHint } from '../../src/render/hints.js';
import { explainEvent } from '../../src/render/explain.js';

const KINDS: Array<[string, string, RegExp]> = [
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed', /--ca FILE.*--insecure/],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed', /self-signed CA.*--ca FILE/],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown-ca', /--ca FILE.*--insecure/],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unknown-ca', /--ca FILE/],
  ['CERT_HAS_EXPIRED', 'expired', /--insecure/],
  ['CERT_NOT_YET_VALID', 'expired', /clocks/],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'hostname', /--servername NAME/],
  ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'handshake', /--cert FILE --key FILE/],
  ['ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL', 'handshake', /--alpn/],
  ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'protocol', /TLS 1\.2 and 1\.3/],
  ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'protocol', /version/],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'not-tls', /--tls/],
  ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'peer-refused', /curl --cacert FILE/],
];

describe('tlsFailure', () => {
  it.each(KINDS)('%s is %s: one line naming the fix; .explain says what happened', (code, kind, fix) => {
    const failure = tlsFailure(code);
    expect(failure?.kind).toBe(kind);
    const hint = errorHint(code) ?? '';
    expect(hint).toMatch(/^TLS: /);
    expect(hint).toMatch(fix);
    expect(hint).not.toContain('\n');
    expect(explainEvent({ type: 'error', t: 0, id: 'c1', code, message: 'x' })).toBe(failure?.explain);
  });

  it('knows nothing of other codes, nor of inherited property names', () => {
    for (const code of ['ECONNREFUSED', 'toString', '__proto__', 'constructor', 'ERR_SSL_SOMETHING_NEW']) expect(tlsFailure(code)).toBeUndefined();
    expect(errorHint('ECONNREFUSED')).toBe('nothing listens there');
  });
});
