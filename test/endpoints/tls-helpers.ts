/**
 * Certificates for the TLS tests, made with the library socklab uses
 * (node-forge, src/endpoints/tls-cert.ts) and written to a temp dir that
 * `closeAll` removes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCertificate, type CertificateSpec, type CertificatePair } from '../../src/endpoints/tls-cert.js';
import type { CommandRig } from '../helpers/commands.js';
import type { SessionEvent } from '../../src/session/events.js';
import { tempDir } from '../helpers/loopback.js';

export interface CertFiles extends CertificatePair {
  certFile: string;
  keyFile: string;
}

/** Make a certificate and write it (PEM) to `NAME.pem` / `NAME.key` in `dir`. */
export async function certFiles(name: string, spec: CertificateSpec = {}, dir = tempDir()): Promise<CertFiles> {
  const pair = await makeCertificate(spec);
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(certFile, pair.cert);
  writeFileSync(keyFile, pair.key);
  return { ...pair, certFile, keyFile };
}

/** The port a server of the rig listens on. */
export function portOf(rig: CommandRig, ref: string): number {
  const ep = rig.ctx.session.get(ref);
  if (ep.kind !== 'server') throw new Error(`${ref} is not a server`);
  return Number(ep.address.split(':').at(-1));
}

/** The first `secure` or `error` event of a socket: how its handshake ended. */
export function handshakeEnd(rig: CommandRig, id: string): Promise<SessionEvent> {
  return rig.log.waitFor((ev) => (ev.type === 'secure' || ev.type === 'error') && ev.id === id, 10_000);
}
