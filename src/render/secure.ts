import type { SecureEvent } from '../session/events.js';

/**
 * The human line of a `secure` event (SPEC 11):
 * `TLS 1.3 TLS_AES_256_GCM_SHA384  ALPN h2  cert CN=localhost (self-signed: not verified)`.
 * Certificate text is the peer's: the caller escapes the whole line (formatEvent does).
 */
export function describeSecure(ev: SecureEvent): string {
  const parts = [`TLS ${ev.protocol.replace(/^TLSv/, '')} ${ev.cipher}`];
  if (ev.alpn !== null) parts.push(`ALPN ${ev.alpn}`);
  if (ev.role === 'server' && ev.servername !== null) parts.push(`SNI ${ev.servername}`);
  const cert = ev.peerCertificate;
  const label = ev.role === 'client' ? 'cert' : 'client cert';
  if (cert === null) {
    if (ev.role === 'client' || ev.certRequested) parts.push(`no ${label}`);
  } else parts.push(`${label} ${cert.subject} (${verdict(ev)})`);
  if (ev.reused) parts.push('session reused');
  return parts.join('  ');
}

/** `verified`, or why not: `self-signed: not verified`, `not verified: CERT_HAS_EXPIRED`. */
function verdict(ev: SecureEvent): string {
  if (ev.authorized) return 'verified';
  const code = ev.authorizationError;
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || (code === undefined && ev.peerCertificate?.selfSigned)) return 'self-signed: not verified';
  return `not verified${code === undefined ? '' : `: ${code}`}`;
}
