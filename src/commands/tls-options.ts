import { constants, lstatSync, openSync, closeSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { SocklabError } from '../errors.js';
import { nodeCrypto, nodeTls } from '../lazy-builtins.js';
import type { OptionSpec, ParsedArgs } from '../parse/command-line.js';
import { readPayloadFile } from '../parse/payload-file.js';
import { checkFile, type FileUse, type Permissions } from '../script/permissions.js';
import { TlsClientConfig, TlsServerConfig } from '../endpoints/tls.js';

/**
 * The `--tls…` options of `.listen` and `.connect` (SPEC 11): their table
 * rows, their checks, the files they read or write (each through the script
 * permission check), and the TLS config they build.
 */

const FILE = 'FILE';

/** `.listen`'s TLS options. */
export const LISTEN_TLS_OPTIONS: Record<string, OptionSpec> = {
  tls: { type: 'flag', help: 'speak TLS: without --cert, a fresh self-signed certificate for localhost, 127.0.0.1, ::1 is made (in memory) and its SHA-256 fingerprint printed' },
  cert: { type: 'string', value: FILE, help: 'with --tls: the certificate (PEM, chain allowed) to serve; needs --key' },
  key: { type: 'string', value: FILE, help: 'with --tls: the private key of --cert (PEM, not encrypted)' },
  alpn: { type: 'string', value: 'LIST', help: 'with --tls: ALPN protocols to accept, comma-separated (h2,http/1.1)' },
  'client-cert': { type: 'flag', help: 'with --tls: ask each client for a certificate and show it (never refused)' },
  ca: { type: 'string', value: FILE, help: 'with --client-cert: CAs to verify client certificates against (default: the system\'s)' },
  'cert-out': { type: 'string', value: FILE, help: 'with --tls: save the server certificate (never the key) to FILE, for curl --cacert or .connect --ca' },
};

/** `.connect`'s TLS options. */
export const CONNECT_TLS_OPTIONS: Record<string, OptionSpec> = {
  tls: { type: 'flag', help: 'speak TLS once connected; the server certificate is verified (--insecure to skip)' },
  servername: { type: 'string', value: 'NAME', help: 'with --tls: the SNI name (a DNS name, not an IP address) to ask for and to check the certificate against (default: the host)' },
  alpn: { type: 'string', value: 'LIST', help: 'with --tls: ALPN protocols to offer, comma-separated (h2,http/1.1)' },
  ca: { type: 'string', value: FILE, help: 'with --tls: trust the CAs (or the self-signed certificate) in FILE instead of the system\'s' },
  insecure: { type: 'flag', help: 'with --tls: do not verify the server certificate (encrypted, but to whoever answers)' },
  cert: { type: 'string', value: FILE, help: 'with --tls: a client certificate (PEM); needs --key' },
  key: { type: 'string', value: FILE, help: 'with --tls: the private key of --cert (PEM)' },
};

const str = (a: ParsedArgs, k: string): string | undefined => a.options[k] as string | undefined;
const ALPN_NAME = /^[\x21-\x7e]{1,255}$/;

/** Checks that need no files: TLS options without --tls, --cert without --key, a bad ALPN list. Throws E_USAGE. */
export function checkTlsOptions(a: ParsedArgs, options: Record<string, OptionSpec>): void {
  const given = Object.keys(options).filter((k) => k !== 'tls' && a.options[k] !== undefined && a.options[k] !== false);
  if (a.options.tls !== true && given.length > 0) {
    throw new SocklabError('E_USAGE', `--${given[0]} is a TLS option: add --tls`);
  }
  if ((str(a, 'cert') === undefined) !== (str(a, 'key') === undefined)) {
    throw new SocklabError('E_USAGE', '--cert and --key go together: the certificate (PEM) and its private key, e.g. --cert server.pem --key server.key');
  }
  if (a.options.ca !== undefined && options['client-cert'] !== undefined && a.options['client-cert'] !== true) {
    throw new SocklabError('E_USAGE', '--ca on .listen verifies client certificates: add --client-cert');
  }
  parseAlpn(str(a, 'alpn'));
  checkServername(str(a, 'servername'));
}

// RFC 1123 host name: labels of letters, digits and inner hyphens, 1–63 each, 253 in all.
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * SNI carries a DNS host name only (RFC 6066 3): an IP address is refused
 * (Node would send nothing and print a deprecation warning), and so is
 * anything that is not a host name. Throws E_USAGE.
 */
export function checkServername(name: string | undefined): void {
  if (name === undefined) return;
  if (net.isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0) {
    throw new SocklabError('E_USAGE', `--servername ${name} is an IP address: SNI carries only DNS names (RFC 6066); leave it out, and the certificate is checked against the address you connect to`);
  }
  if (!DNS_NAME.test(name)) {
    throw new SocklabError('E_USAGE', `--servername ${JSON.stringify(name)} is not a DNS name: give letters, digits and hyphens in dot-separated labels, e.g. --servername example.org`);
  }
}

function parseAlpn(list: string | undefined): string[] | undefined {
  if (list === undefined) return undefined;
  const names = list.split(',').map((s) => s.trim());
  const bad = names.find((n) => !ALPN_NAME.test(n));
  if (bad !== undefined) throw new SocklabError('E_USAGE', `--alpn ${JSON.stringify(list)}: give protocol names separated by commas, e.g. --alpn h2,http/1.1`);
  return names;
}

/** The files the TLS options read (`--cert`, `--key`, `--ca`) and write (`--cert-out`), for the script check. */
export function tlsFileUses(a: ParsedArgs): FileUse[] {
  const uses: FileUse[] = [];
  for (const k of ['cert', 'key', 'ca']) {
    const path = str(a, k);
    if (path !== undefined) uses.push({ path, access: 'read', what: `--${k}` });
  }
  const out = str(a, 'cert-out');
  if (out !== undefined) uses.push({ path: out, access: 'write', what: '--cert-out' });
  return uses;
}

/** Read a permitted PEM file (a regular file of at most 1 MiB). Throws E_PERMISSION, E_IO. */
function readPem(perms: Permissions | undefined, a: ParsedArgs, k: string): Buffer | undefined {
  const path = str(a, k);
  if (path === undefined) return undefined;
  const full = checkFile(perms, { path, access: 'read', what: `--${k}` });
  try {
    return readPayloadFile(full, 1024 * 1024);
  } catch (err) {
    if (err instanceof SocklabError) {
      // The payload reader's words ("a file: payload", "a payload") name the option instead.
      const message = err.message.replace(/^file:/, `--${k} `).replace('a file: payload is read from a regular file', `--${k} takes a regular file (PEM)`).replace('of a payload: send it in smaller parts', `of --${k}: give a PEM file`);
      throw new SocklabError(err.code, message, { cause: err });
    }
    const code = (err as NodeJS.ErrnoException).code;
    throw new SocklabError('E_IO', `--${k} ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { cause: err });
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * A file of trusted certificates must hold at least one, each well-formed:
 * node:tls skips what it cannot read, and a `--ca` that trusts nothing would
 * fail later as an unknown CA. Throws E_BAD_OPTION.
 */
function checkCertificates(pem: Buffer | undefined, option: string): Buffer | undefined {
  if (pem === undefined) return undefined;
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  const bad = blocks.findIndex((block) => {
    try {
      new (nodeCrypto().X509Certificate)(block);
      return false;
    } catch {
      return true;
    }
  });
  if (blocks.length === 0 || bad >= 0) {
    const what = blocks.length === 0 ? 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)' : `certificate ${bad + 1} of ${blocks.length} is not well-formed`;
    throw new SocklabError('E_BAD_OPTION', `${option}: the file ${what}; give PEM certificates`);
  }
  return pem;
}

/** The server's TLS config for `.listen … --tls`, or undefined without --tls; it saves --cert-out when ready. */
export function listenTls(perms: Permissions | undefined, a: ParsedArgs): TlsServerConfig | undefined {
  if (a.options.tls !== true) return undefined;
  const out = str(a, 'cert-out');
  const path = out === undefined ? undefined : checkFile(perms, { path: out, access: 'write', what: '--cert-out' });
  return new TlsServerConfig({
    cert: readPem(perms, a, 'cert'),
    key: readPem(perms, a, 'key'),
    certFile: str(a, 'cert'),
    alpn: parseAlpn(str(a, 'alpn')),
    clientCert: a.options['client-cert'] === true,
    ca: checkCertificates(readPem(perms, a, 'ca'), '--ca'),
    ...(path !== undefined && { save: (pem: string) => saveCertificate(path, out!, pem) }),
  });
}

/**
 * Write the certificate to `path`. A file already there is replaced only when
 * it holds a certificate (a re-run of the same line), never anything else.
 */
function saveCertificate(path: string, shown: string, pem: string): void {
  let existing: Buffer | undefined;
  try {
    if (lstatSync(path).isFile()) existing = readFileSync(path);
    else throw new SocklabError('E_IO', `--cert-out ${shown} exists and is not a regular file: pick another name`);
  } catch (err) {
    if (err instanceof SocklabError) throw err;
  }
  if (existing !== undefined && !existing.toString('latin1').trimStart().startsWith('-----BEGIN CERTIFICATE-----')) {
    throw new SocklabError('E_IO', `--cert-out ${shown} exists and is not a certificate: it is left alone; pick another name`);
  }
  try {
    if (existing === undefined) closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644));
    writeFileSync(path, pem);
  } catch (err) {
    throw new SocklabError('E_IO', `--cert-out ${shown}: ${(err as Error).message}`, { cause: err });
  }
}

/** The client's TLS config for `.connect … --tls`, or undefined without --tls. */
export function connectTlsConfig(perms: Permissions | undefined, a: ParsedArgs): TlsClientConfig | undefined {
  if (a.options.tls !== true) return undefined;
  checkServername(str(a, 'servername'));
  const config = new TlsClientConfig({
    servername: str(a, 'servername'),
    caFile: str(a, 'ca'),
    alpn: parseAlpn(str(a, 'alpn')),
    ca: checkCertificates(readPem(perms, a, 'ca'), '--ca'),
    insecure: a.options.insecure === true,
    cert: checkCertificates(readPem(perms, a, 'cert'), '--cert'),
    key: readPem(perms, a, 'key'),
  });
  try {
    // Here, not in connect: a bad file is the command's one error line, before any socket exists.
    nodeTls().createSecureContext({ ...(config.ca && { ca: config.ca }), ...(config.cert && { cert: config.cert, key: config.key }) });
  } catch (err) {
    throw new SocklabError('E_BAD_OPTION', `${config.cert ? '--cert/--key' : '--ca'}: ${(err as Error).message.replace(/^error:[0-9A-F]+:/, '')}; give PEM files (a key that belongs to the certificate)`, { cause: err });
  }
  return config;
}
