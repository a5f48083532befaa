import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import type forgeModule from 'node-forge';
import { nodeCrypto } from '../lazy-builtins.js';

/**
 * X.509 certificates made in memory: the self-signed one a `.listen --tls`
 * server uses when no `--cert` is given, and (in tests) expired, wrong-host and
 * CA-signed ones. Keys come from Node's crypto (native, fast); node-forge only
 * builds and signs the certificate. It signs with SHA-1 unless told: we always
 * pass SHA-256 (RFC 8446 4.4.2.2 forbids SHA-1 signatures in TLS 1.3 chains).
 */

/** A certificate and its private key, both PEM; `fingerprint` is SHA-256 as `AB:CD:…`. */
export interface CertificatePair {
  cert: string;
  key: string;
  fingerprint: string;
}

/** What to put in a certificate. Dates default to one minute ago → 30 days on. */
export interface CertificateSpec {
  /** The subject's common name (default `localhost`). */
  commonName?: string;
  /** Subject alternative names: host names and IP literals (default localhost, 127.0.0.1, ::1). */
  names?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** A CA certificate (basicConstraints cA) that may sign others. */
  ca?: boolean;
  /** Sign with this CA instead of the certificate's own key (self-signed). */
  issuer?: CertificatePair;
}

/** The names a made-up server certificate covers: what a client on this machine dials. */
export const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Make a certificate (RSA 2048, SHA-256) and its key, in memory only. */
export async function makeCertificate(spec: CertificateSpec = {}): Promise<CertificatePair> {
  // node-forge is large: loaded on the first certificate made, not at start-up.
  const forge = createRequire(import.meta.url)('node-forge') as typeof forgeModule;
  const crypto = nodeCrypto();
  const { privateKey, publicKey } = await promisify(crypto.generateKeyPair)('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // A random positive serial (RFC 5280 4.1.2.2): browsers refuse two certificates of one issuer with the same one.
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  cert.validity.notBefore = spec.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notAfter = spec.notAfter ?? new Date(Date.now() + 30 * 86_400_000);
  // As UTF8String (forge encodes it): its default PrintableString cannot hold most text.
  const subject = [{ name: 'commonName', value: spec.commonName ?? 'localhost', valueTagClass: forge.asn1.Type.UTF8 as unknown as forgeModule.asn1.Class }];
  cert.setSubject(subject);
  const names = spec.names ?? LOCAL_NAMES;
  const extensions: object[] = [{ name: 'basicConstraints', cA: spec.ca === true, critical: true }];
  extensions.push({ name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true, keyCertSign: spec.ca === true });
  if (names.length > 0) extensions.push({ name: 'subjectAltName', altNames: names.map(altName) });
  cert.setExtensions(extensions);
  let signer: forgeModule.pki.PrivateKey;
  if (spec.issuer) {
    const issuer = forge.pki.certificateFromPem(spec.issuer.cert);
    cert.setIssuer(issuer.subject.attributes);
    signer = forge.pki.privateKeyFromPem(spec.issuer.key);
  } else {
    cert.setIssuer(subject);
    signer = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  }
  cert.sign(signer, forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
  return { cert: pem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), fingerprint: new crypto.X509Certificate(pem).fingerprint256 };
}

function altName(name: string): { type: number; value?: string; ip?: string } {
  // GeneralName tags (RFC 5280 4.2.1.6): 2 dNSName, 7 iPAddress.
  return isIP(name) === 0 ? { type: 2, value: name } : { type: 7, ip: name };
}
