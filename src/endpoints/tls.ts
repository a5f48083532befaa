import type { X509Certificate } from 'node:crypto';
import net from 'node:net';
import type tls from 'node:tls';
import { SocklabError } from '../errors.js';
import { nodeCrypto, nodeTls } from '../lazy-builtins.js';
import type { CertificateSummary, SecureEvent } from '../session/events.js';
import type { Registry } from '../session/manager.js';
import { LOCAL_NAMES, makeCertificate } from './tls-cert.js';
import type { SocketEndpoint } from './tcp-types.js';
import { splitAltNames, unescapeDistinguishedName } from '../protocols/cert-text.js';

/**
 * TLS wraps the TCP kinds (STYLE): a `.listen --tls` server accepts TCP
 * connections and wraps each in a server-side TLSSocket; a `.connect --tls`
 * client connects TCP and wraps it in a client-side one. The endpoint stays a
 * TCP `server`/`socket` (same ids, states, `.send`, `.close`); its socket is
 * the TLSSocket, so data events carry plaintext. What a relay needs (a server
 * context from options, client options, the `secure` event) is exported here.
 */

/** What `.listen --tls` was given; files are already read (and permitted). */
export class TlsServerConfig {
  /** PEM certificate (chain) and key; both or neither. Without them a certificate is made. */
  cert?: Buffer;
  key?: Buffer;
  /** Where the certificate came from, for messages (`server.pem`). */
  certFile?: string;
  /** ALPN protocols we accept, in our order of preference. */
  alpn?: string[];
  /** Ask every client for a certificate, and show it (never refuse one). */
  clientCert?: boolean;
  /** CAs to verify a client certificate against (default: the system's). */
  ca?: Buffer;
  /** Called with our certificate (PEM) once it is ready (`--cert-out`); may throw. */
  save?: (pem: string) => void;

  constructor(fields: Partial<TlsServerConfig>) {
    Object.assign(this, fields);
  }

  /** As `.show` lists it among the options. */
  toString(): string {
    const parts = [this.cert === undefined ? 'self-signed (made at start)' : `cert ${this.certFile ?? 'given'}`];
    if (this.alpn) parts.push(`alpn ${this.alpn.join(',')}`);
    if (this.clientCert) parts.push('client-cert');
    return `on (${parts.join(', ')})`;
  }
}

/** A TLS server's ready context: made once, before it listens. */
export class TlsServerSetup {
  constructor(
    readonly context: tls.SecureContext,
    readonly config: TlsServerConfig,
    /** Our certificate, PEM (never the key). */
    readonly certPem: string,
    readonly certificate: CertificateSummary,
    /** True when socklab made the certificate now (no `--cert`). */
    readonly made: boolean,
  ) {}
}

/**
 * The server's secure context: from `--cert/--key`, or a fresh self-signed
 * certificate for localhost, 127.0.0.1 and ::1 kept in memory.
 * Throws `E_BAD_OPTION` when the files are no PEM certificate and key, or do not match.
 */
export async function serverSetup(config: TlsServerConfig): Promise<TlsServerSetup> {
  const made = config.cert === undefined ? await makeCertificate({ names: LOCAL_NAMES }) : undefined;
  const cert = made?.cert ?? config.cert!;
  const key = made?.key ?? config.key!;
  let context: tls.SecureContext;
  let x509: X509Certificate;
  try {
    x509 = new (nodeCrypto().X509Certificate)(cert);
  } catch (err) {
    throw new SocklabError('E_BAD_OPTION', `--cert ${config.certFile ?? ''}: not a PEM certificate (-----BEGIN CERTIFICATE-----)`.replace('  ', ' '), { cause: err });
  }
  try {
    context = nodeTls().createSecureContext({ cert, key, ...(config.ca !== undefined && { ca: config.ca }) });
  } catch (err) {
    const why = /mismatch/i.test((err as Error).message) ? 'the key does not belong to that certificate' : 'not a PEM private key, or it is encrypted';
    throw new SocklabError('E_BAD_OPTION', `--key: ${why}; give the key that was made with --cert's certificate`, { cause: err });
  }
  const setup = new TlsServerSetup(context, config, x509.toString(), summarize(x509), made !== undefined);
  config.save?.(setup.certPem);
  return setup;
}

/**
 * Stream high-water mark of socklab's TLS sockets, bytes (both directions;
 * Node 20's default is 16 KiB, Node 22's 64 KiB). A TLS write completes only
 * once its record went down to the TCP socket, never within the call as a
 * plain TCP write usually does, so at 16 KiB each 16 KiB record an echo
 * writes back reports "full": reading pauses until 'drain', once per record.
 * At 64 KiB the records of one TCP read pass before it pauses.
 */
export const TLS_HIGH_WATER = 64 * 1024;
// Node reads `highWaterMark` from the options of TLSSocket and tls.connect; @types/node lists it for neither.
const HIGH_WATER = { highWaterMark: TLS_HIGH_WATER };

/** Wrap a TCP connection a `--tls` server accepted; the handshake starts at once. */
export function acceptTls(raw: net.Socket, setup: TlsServerSetup): tls.TLSSocket {
  const socket = new (nodeTls().TLSSocket)(raw, {
    isServer: true,
    secureContext: setup.context,
    ...HIGH_WATER,
    // Asked for, shown, never refused: the point is to see what the client sends.
    requestCert: setup.config.clientCert === true,
    rejectUnauthorized: false,
    ...(setup.config.alpn && { ALPNProtocols: setup.config.alpn }),
  });
  raws.set(socket, raw);
  roles.set(socket, { role: 'server', certRequested: setup.config.clientCert === true });
  return socket;
}

/** What `.connect --tls` was given; files are already read (and permitted). */
export class TlsClientConfig {
  /** SNI name to ask for and check the certificate against (default: the host, unless an IP). */
  servername?: string;
  alpn?: string[];
  /** CAs to trust instead of the system's (PEM). */
  ca?: Buffer;
  /** The `--ca` file's name, for messages. */
  caFile?: string;
  /** Encrypt without verifying the server's certificate. */
  insecure?: boolean;
  /** A client certificate and its key (PEM). */
  cert?: Buffer;
  key?: Buffer;

  constructor(fields: Partial<TlsClientConfig>) {
    Object.assign(this, fields);
  }

  toString(): string {
    // What was asked for, not the outcome (that is `.show`'s `verified` line).
    const parts = [this.insecure ? 'not verified (--insecure)' : this.ca ? `verification on, against --ca ${this.caFile ?? 'FILE'}` : 'verification on'];
    if (this.servername !== undefined) parts.push(`servername ${this.servername}`);
    if (this.alpn) parts.push(`alpn ${this.alpn.join(',')}`);
    if (this.cert) parts.push('client cert');
    return `on (${parts.join(', ')})`;
  }
}

/** The options node:tls.connect takes for a client config (for `host`: SNI is not sent for an IP). */
export function clientTlsOptions(config: TlsClientConfig, host: string | undefined): tls.ConnectionOptions {
  const servername = config.servername ?? (host !== undefined && net.isIP(host) === 0 ? host : undefined);
  return {
    ...(servername !== undefined && { servername }),
    rejectUnauthorized: config.insecure !== true,
    ...(config.alpn && { ALPNProtocols: config.alpn }),
    ...(config.ca && { ca: config.ca }),
    ...(config.cert && { cert: config.cert }),
    ...(config.key && { key: config.key }),
  };
}

/**
 * Connect TCP (to host:port or a Unix path) and speak TLS on it. The raw TCP
 * socket stays reachable (`rawSocket`) so `.destroy` can reset it.
 */
export function connectTls(options: net.NetConnectOpts, config: TlsClientConfig): tls.TLSSocket {
  const raw = net.connect(options);
  const host = 'host' in options ? options.host : undefined;
  const socket = nodeTls().connect({ socket: raw, ...HIGH_WATER, ...clientTlsOptions(config, host) });
  raws.set(socket, raw);
  roles.set(socket, { role: 'client', ...(config.ca !== undefined && !config.insecure && { caFile: config.caFile ?? 'FILE' }) });
  return socket;
}

const raws = new WeakMap<net.Socket, net.Socket>();
const roles = new WeakMap<net.Socket, { role: 'client' | 'server'; certRequested?: boolean; caFile?: string }>();
/** Sockets we closed ourselves (`.close`, `.destroy`, `.exit`) before their handshake completed. */
const closedByUs = new WeakSet<net.Socket>();

/** Verify codes that mean "no trusted issuer": with --ca, the certificate is not the one in it. */
const NOT_IN_CA = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED']);
const handshakes = new WeakMap<net.Socket, SecureEvent>();

/** The TCP socket under a TLS one (the socket itself when it is plain TCP). */
export function rawSocket(socket: net.Socket): net.Socket {
  return raws.get(socket) ?? socket;
}

/**
 * Note that we are closing a socket ourselves (`.close`, `.destroy`, `.exit`):
 * a handshake it cuts short is then not blamed on the peer.
 */
export function closingOurselves(socket: net.Socket): void {
  if (roles.has(socket) && !handshakes.has(socket)) closedByUs.add(socket);
}

/** The `secure` event of a socket's handshake, once it completed. */
export function handshakeOf(socket: net.Socket): SecureEvent | undefined {
  return handshakes.get(socket);
}

/**
 * Report a TLS socket's handshake as one `secure` event, and make its errors
 * one short line (OpenSSL's messages carry file names and line numbers: its
 * `reason` is what a person reads). Does nothing for a plain socket.
 */
export function watchTls(reg: Registry, ep: Pick<SocketEndpoint, 'id' | 'socket'>): void {
  const socket = ep.socket;
  const role = roles.get(socket);
  // A plain socket has no role: node:tls is not loaded for it.
  if (role === undefined || !(socket instanceof nodeTls().TLSSocket)) return;
  socket.prependListener('error', (err: NodeJS.ErrnoException & { reason?: string; context?: string; cert?: { subjectaltname?: unknown } }) => {
    if (typeof err.reason === 'string' && err.code?.startsWith('ERR_SSL_')) err.message = err.reason;
    else if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' && typeof err.cert?.subjectaltname === 'string') {
      // Node lists the names in its own escaping; shown raw here, the renderers escape them as everything else.
      const san = err.cert.subjectaltname;
      err.message = err.message.split(san).join(splitAltNames(san).join(', '));
    }
    else if (!handshakes.has(socket) && /before secure TLS connection/.test(err.message)) {
      err.message = closedByUs.has(socket) ? 'we closed the connection during the TLS handshake' : 'the peer closed the connection during the TLS handshake';
      if (closedByUs.has(socket)) err.context = 'tls-closed-by-us';
    } else if (role.caFile !== undefined && err.code !== undefined && NOT_IN_CA.has(err.code)) {
      err.message = `${err.message}: not the certificate in --ca ${role.caFile}, nor signed by it`;
      err.context = 'tls-ca';
    }
  });
  socket.once(role.role === 'client' ? 'secureConnect' : 'secure', () => {
    const ev = secureEvent(socket, ep.id, reg.now(), role.role, role.certRequested === true);
    handshakes.set(socket, ev);
    reg.emit(ev);
  });
}

/** The `secure` event of a socket whose handshake just completed. */
export function secureEvent(socket: tls.TLSSocket, id: string, t: number, role: 'client' | 'server', certRequested = false): SecureEvent {
  const peer = socket.getPeerX509Certificate();
  const cipher = socket.getCipher();
  let authorized = socket.authorized;
  // Null (not undefined) on a server socket: `== null` covers both.
  let authorizationError = socket.authorizationError == null ? undefined : String(socket.authorizationError);
  if (role === 'server' && peer !== undefined) {
    // Node sets authorized only for sockets of its own tls.Server; ours wraps a net.Server's
    // connection, so ask the handle as tls.Server does (the verify result of the handshake).
    const verify = (socket as unknown as { _handle?: { verifyError?(): (Error & { code?: string }) | null } })._handle?.verifyError?.();
    authorized = verify === null;
    authorizationError = verify?.code ?? verify?.message;
  }
  const servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
  return {
    type: 'secure',
    t,
    id,
    role,
    protocol: socket.getProtocol() ?? '?',
    cipher: cipher.standardName ?? cipher.name,
    alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
    servername: typeof servername === 'string' && servername !== '' ? servername : null,
    authorized,
    ...(authorizationError !== undefined && !authorized && { authorizationError }),
    peerCertificate: peer === undefined ? null : summarize(peer),
    ...(certRequested && { certRequested: true }),
    reused: socket.isSessionReused(),
  };
}

/** A certificate's fields as socklab shows them (peer text: the renderers escape it). */
export function summarize(cert: X509Certificate): CertificateSummary {
  return {
    subject: names(cert.subject),
    issuer: names(cert.issuer),
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    san: splitAltNames(cert.subjectAltName),
    fingerprint: cert.fingerprint256,
    selfSigned: cert.subject === cert.issuer,
  };
}

// Node lists a distinguished name one attribute per line, each escaped its way (the renderers escape ours).
const names = (dn: string): string => dn.split('\n').map(unescapeDistinguishedName).join(', ');

/** `.show` lines of a TLS socket (none for plain TCP). */
export function tlsDetails(socket: net.Socket): Array<[string, unknown]> {
  if (!roles.has(socket)) return [];
  const hs = handshakes.get(socket);
  if (hs === undefined) return [['tls', 'handshake not complete']];
  const lines: Array<[string, unknown]> = [
    ['tls', `${hs.protocol.replace('TLSv', 'TLS ')}, ${hs.cipher}${hs.reused ? ', session reused' : ', full handshake (not reused)'}`],
    ['alpn', hs.alpn ?? '-'],
    ['sni', hs.servername ?? '-'],
  ];
  const who = hs.role === 'client' ? 'server' : 'client';
  const cert = hs.peerCertificate;
  if (cert === null) lines.push([`${who} cert`, hs.certRequested ? 'none sent' : 'not asked for']);
  else {
    lines.push(
      [`${who} cert`, cert.subject],
      ['  issuer', cert.issuer + (cert.selfSigned ? ' (self-signed)' : '')],
      ['  valid', `${cert.validFrom} → ${cert.validTo}`],
      ['  names', cert.san.join(', ') || '-'],
      ['  sha-256', cert.fingerprint],
    );
  }
  lines.push(['verified', hs.authorized ? 'yes' : `no${hs.authorizationError ? ` (${hs.authorizationError})` : ''}`]);
  return lines;
}

/** `.show` lines of a `--tls` server. */
export function tlsServerDetails(setup: TlsServerSetup | undefined): Array<[string, unknown]> {
  if (setup === undefined) return [];
  const c = setup.certificate;
  return [
    ['tls cert', `${c.subject}${setup.made ? ' (self-signed, made at start, in memory only)' : ''}`],
    ['  names', c.san.join(', ') || '-'],
    ['  valid', `${c.validFrom} → ${c.validTo}`],
    ['  sha-256', c.fingerprint],
    ['alpn', setup.config.alpn?.join(', ') ?? '-'],
    ['client certs', setup.config.clientCert ? 'asked for and shown (never refused)' : 'not asked for'],
  ];
}

/** The note a `--tls` server prints once listening: which certificate, and its fingerprint to pin. */
export function certificateNote(setup: TlsServerSetup): string {
  const c = setup.certificate;
  const what = setup.made
    ? `TLS with a self-signed certificate made now for ${LOCAL_NAMES.join(', ')} (in memory only; --cert-out FILE saves it)`
    : `TLS with certificate ${c.subject}${setup.config.certFile === undefined ? '' : ` from ${setup.config.certFile}`}`;
  return `${what}  SHA-256 ${c.fingerprint}`;
}
