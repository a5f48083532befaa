/**
 * What a TLS failure means, keyed by Node's error code (OpenSSL's verify codes
 * for certificates, `ERR_SSL_*` for alerts and records, `ERR_TLS_*` for Node's
 * own checks). Pure data: the error line's hint, `.explain`, and any endpoint
 * that speaks TLS (`.connect --tls`, later `.proxy --tls`) use the same table.
 */

/** The kinds of failure a learner meets, each with its own fix. */
export type TlsFailureKind = 'self-signed' | 'unknown-ca' | 'expired' | 'hostname' | 'handshake' | 'protocol' | 'not-tls' | 'peer-refused';

export interface TlsFailure {
  kind: TlsFailureKind;
  /** The reason and the option that changes it, one line (the error line's hint). */
  hint: string;
  /** What happened, for `.explain`. */
  explain: string;
}

const SELF_SIGNED: TlsFailure = {
  kind: 'self-signed',
  hint: 'TLS: the certificate is self-signed, so no CA we trust vouches for it: trust it with --ca FILE (that certificate), or skip the check with --insecure',
  explain:
    'The server sent a certificate signed by its own key. Verification walks from the certificate to a CA we trust (the system list, or --ca FILE) and found none. Pin it: save the server\'s certificate and pass it as --ca FILE (compare the SHA-256 fingerprint the server printed); --insecure encrypts without knowing who answers.',
};

const UNKNOWN_CA: TlsFailure = {
  kind: 'unknown-ca',
  hint: 'TLS: the certificate is signed by a CA we do not trust: pass that CA\'s certificate with --ca FILE, or skip the check with --insecure',
  explain:
    'The certificate names an issuer that is not in our trust list (the system CAs, or --ca FILE), so its signature cannot be checked. Pass the issuing CA with --ca FILE; a server should also send its intermediate certificates.',
};

const EXPIRED: TlsFailure = {
  kind: 'expired',
  hint: 'TLS: the certificate has expired (or is not valid yet): the server needs a new one (check both clocks); --insecure skips the check',
  explain:
    'Every certificate holds a validity period (notBefore, notAfter); outside it verification fails even when the signature is good. The server must renew it, or a clock is wrong. .show cN prints the dates.',
};

const HOSTNAME: TlsFailure = {
  kind: 'hostname',
  hint: 'TLS: the certificate is not for the name we dialled: --servername NAME checks (and asks by SNI for) a name it is for; --insecure skips the check',
  explain:
    'The chain is trusted, but the certificate\'s names (its subject alternative names) do not include the host we connected to. A client checks the name it asked for, the SNI name (--servername) or else the host; the names are in .show cN.',
};

const HANDSHAKE: TlsFailure = {
  kind: 'handshake',
  hint: 'TLS: the peer ended the handshake (no cipher, curve or option both sides accept, or a client certificate it wanted): compare with openssl s_client -connect HOST:PORT, or give --cert FILE --key FILE',
  explain:
    'The handshake failed before any data moved: the two sides found no cipher suite, group or signature algorithm in common, or the server required a client certificate (--cert/--key). openssl s_client -connect HOST:PORT shows what the server offers.',
};

const PROTOCOL: TlsFailure = {
  kind: 'protocol',
  hint: 'TLS: no protocol version both sides accept (socklab speaks TLS 1.2 and 1.3): the peer only offers an older one, or only a newer one',
  explain:
    'Client and server each accept a range of TLS versions; these ranges do not meet. Node accepts TLS 1.2 and 1.3 by default (TLS 1.0 and 1.1 are deprecated, RFC 8996).',
};

const NOT_TLS: TlsFailure = {
  kind: 'not-tls',
  hint: 'TLS: the peer does not speak TLS there (plain bytes where a TLS record should be): use TLS on both sides (--tls, or the TLS port), or on neither',
  explain:
    'Bytes arrived that are not a TLS record (a plain-text greeting, an HTTP request or response, an echo of a hello): one side speaks TLS and the other plain TCP.',
};

const PEER_REFUSED: TlsFailure = {
  kind: 'peer-refused',
  hint: 'TLS: the peer refused our certificate (it does not trust it): give the client this server\'s certificate (curl --cacert FILE, .connect --ca FILE) or use its insecure mode (curl -k, --insecure)',
  explain:
    'The other side checked our certificate and sent an alert: it does not trust the issuer (a self-signed certificate is its own issuer), or the certificate is bad for it. Give the client our certificate to trust; .listen --tls --cert-out FILE saves it.',
};

const FAILURES: Record<string, TlsFailure> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: SELF_SIGNED,
  SELF_SIGNED_CERT_IN_CHAIN: { ...SELF_SIGNED, hint: SELF_SIGNED.hint.replace('the certificate is self-signed', 'the chain ends in a self-signed CA') },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNKNOWN_CA,
  UNABLE_TO_GET_ISSUER_CERT: UNKNOWN_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNKNOWN_CA,
  CERT_UNTRUSTED: UNKNOWN_CA,
  CERT_HAS_EXPIRED: EXPIRED,
  CERT_NOT_YET_VALID: EXPIRED,
  ERR_TLS_CERT_ALTNAME_INVALID: HOSTNAME,
  HOSTNAME_MISMATCH: HOSTNAME,
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: HANDSHAKE,
  ERR_SSL_NO_SHARED_CIPHER: HANDSHAKE,
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: HANDSHAKE,
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: HANDSHAKE,
  ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: {
    ...HANDSHAKE,
    hint: 'TLS: no ALPN protocol both sides accept: change --alpn to one the peer offers (h2, http/1.1, …), or leave it out',
  },
  ERR_SSL_NO_APPLICATION_PROTOCOL: {
    ...HANDSHAKE,
    hint: 'TLS: the client offered no ALPN protocol this server accepts (--alpn): add one it offers to --alpn, or leave --alpn out',
  },
  ERR_SSL_UNSUPPORTED_PROTOCOL: PROTOCOL,
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: PROTOCOL,
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: PROTOCOL,
  ERR_SSL_VERSION_TOO_LOW: PROTOCOL,
  ERR_SSL_WRONG_VERSION_NUMBER: NOT_TLS,
  ERR_SSL_PACKET_LENGTH_TOO_LONG: NOT_TLS,
  ERR_SSL_HTTP_REQUEST: { ...NOT_TLS, hint: 'TLS: the peer sent a plain HTTP request to this TLS server: it should use https://, or listen without --tls' },
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: PEER_REFUSED,
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: PEER_REFUSED,
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: { ...PEER_REFUSED, hint: 'TLS: the peer refused our certificate as expired: make a new one (or leave out --cert: socklab makes a fresh one)' },
};

/** The meaning of a TLS error code, or undefined for a code that is not TLS's. */
export function tlsFailure(code: string): TlsFailure | undefined {
  return Object.hasOwn(FAILURES, code) ? FAILURES[code] : undefined;
}
