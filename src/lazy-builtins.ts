import { createRequire } from 'node:module';

/**
 * Node's built-in modules that the first prompt does not need, loaded on
 * first use (issue 17 item 3). `node:crypto` and `node:tls` alone cost more
 * than 15 M instructions at start-up; a session that never uses TLS, UDP,
 * `.serve` or a coloured JavaScript value never loads them. Each getter is
 * synchronous (a built-in `require`), so a command that loads one behaves as
 * before; its first call costs the module's load once (docs/performance.md,
 * "Round 2, session 3").
 */
// Made at the first load: createRequire resolves a file URL (~0.6 M instructions at start-up).
let requireHere: NodeJS.Require | undefined;
const load = (id: string): unknown => (requireHere ??= createRequire(import.meta.url))(id);

let tlsModule: typeof import('node:tls') | undefined;
let cryptoModule: typeof import('node:crypto') | undefined;
let dgramModule: typeof import('node:dgram') | undefined;
let dnsModule: typeof import('node:dns') | undefined;

/** `node:tls`, loaded on the first call. */
export function nodeTls(): typeof import('node:tls') {
  return (tlsModule ??= load('node:tls') as typeof import('node:tls'));
}

/** `node:crypto`, loaded on the first call. */
export function nodeCrypto(): typeof import('node:crypto') {
  return (cryptoModule ??= load('node:crypto') as typeof import('node:crypto'));
}

/** `node:dgram`, loaded on the first call. */
export function nodeDgram(): typeof import('node:dgram') {
  return (dgramModule ??= load('node:dgram') as typeof import('node:dgram'));
}

/** `node:dns`, loaded on the first call. */
export function nodeDns(): typeof import('node:dns') {
  return (dnsModule ??= load('node:dns') as typeof import('node:dns'));
}
