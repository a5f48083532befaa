import { createRequire } from 'node:module';
import net from 'node:net';
import { parseSs, type SsAddress, type SsSocket } from '../protocols/ss.js';

/**
 * The kernel's view of socklab's TCP connections: runs `ss -tinoH` (iproute2,
 * Linux) once for every connection asked about, with a filter on their
 * 4-tuples, and parses what it prints (`src/protocols/ss.ts`). Asynchronous:
 * no caller blocks the event loop on it; `execFile` (no shell), a timeout and
 * a bound on what is read.
 */

/** A TCP connection as the kernel names it: our address and port, the peer's. */
export interface KernelKey {
  local: { host: string; port: number };
  remote: { host: string; port: number };
}

/** What `ss` answered, or why there is no answer. */
export type KernelView =
  | {
      ok: true;
      /** The kernel's socket for this 4-tuple seen from `key.local` (our side), if it has one. */
      find(key: KernelKey): SsSocket | undefined;
      /** The other side of the same connection (the peer's socket, when it is on this machine). */
      findPeer(key: KernelKey): SsSocket | undefined;
      /** Summary lines of ss's output socklab could not read. */
      unreadable: number;
    }
  | {
      ok: false;
      /** One plain line: why the kernel's view is not available (never a stack). */
      reason: string;
    };

/** How `ss` is run; every member has a default (tests change them). */
export interface KernelViewOptions {
  /** `process.platform` unless told. */
  platform?: NodeJS.Platform;
  /** The environment ss runs with (PATH finds it); process.env unless told. */
  env?: NodeJS.ProcessEnv;
  /** Give up after this long, ms (default {@link SS_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** How long ss may take before socklab gives up on it, ms (it answers in a few ms on an idle machine). */
export const SS_TIMEOUT_MS = 5000;
/** The most ss output read, bytes: ss writes ~1 KiB a socket (its -i line is padded), so ~16,000 sockets. */
export const SS_MAX_OUTPUT = 16 * 1024 * 1024;
/** Past this many connections one filter would be long: ss lists every TCP socket instead and socklab picks. */
export const MAX_FILTERED_KEYS = 256;

/** The plain statement where the kernel's view cannot be had. */
export const NEEDS_SS = "the kernel's view needs `ss` from iproute2 on Linux";

/**
 * The key of a connection from the `host:port` strings socklab shows
 * (`127.0.0.1:9000`, `[::1]:9000`); undefined for anything that is not an IP
 * address and port (a Unix socket path, a socket not connected yet).
 */
export function kernelKeyOf(local: string, remote: string): KernelKey | undefined {
  const l = splitHostPort(local);
  const r = splitHostPort(remote);
  return l === undefined || r === undefined ? undefined : { local: l, remote: r };
}

function splitHostPort(text: string): { host: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = text.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(text.slice(colon + 1));
  if (net.isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: host.toLowerCase(), port };
}

/** `127.0.0.1:9000` / `[::1]:9000`, as ss's filter takes them. */
function ssAddress(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * The ss filter for these connections, both directions (the peer's socket
 * is on this machine on loopback): `( src A and dst B ) or ( src B and dst A ) …`.
 */
export function ssFilter(keys: readonly KernelKey[]): string {
  const terms = keys.flatMap((k) => [
    `( src ${ssAddress(k.local)} and dst ${ssAddress(k.remote)} )`,
    `( src ${ssAddress(k.remote)} and dst ${ssAddress(k.local)} )`,
  ]);
  return [...new Set(terms)].join(' or ');
}

/**
 * The arguments of the one ss call for these connections. Always `state
 * all`: with one state named, ss leaves the state column out.
 */
export function ssArguments(keys: readonly KernelKey[]): string[] {
  const args = ['-tinoH', 'state', 'all'];
  if (keys.length <= MAX_FILTERED_KEYS) args.push(ssFilter(keys));
  return args;
}

const tupleOf = (local: SsAddress | KernelKey['local'], peer: SsAddress | KernelKey['remote']): string =>
  `${local.host}|${local.port ?? '*'}|${peer.host}|${peer.port ?? '*'}`;

/**
 * Ask the kernel about these connections: one `ss` call for all of them.
 * Never rejects: a missing ss, another platform, a timeout or a failure
 * becomes `{ ok: false, reason }`.
 */
export async function queryKernel(keys: readonly KernelKey[], options: KernelViewOptions = {}): Promise<KernelView> {
  const platform = options.platform ?? process.platform;
  if (platform !== 'linux') return { ok: false, reason: `${NEEDS_SS} (this system is ${platform})` };
  if (keys.length === 0) return { ok: true, find: () => undefined, findPeer: () => undefined, unreadable: 0 };
  const run = await runSs(ssArguments(keys), options);
  if (!run.ok) return run;
  const parsed = parseSs(run.stdout);
  const byTuple = new Map<string, SsSocket>();
  for (const s of parsed.sockets) byTuple.set(tupleOf(s.local, s.peer), s);
  return {
    ok: true,
    find: (k) => byTuple.get(tupleOf(k.local, k.remote)),
    findPeer: (k) => byTuple.get(tupleOf(k.remote, k.local)),
    unreadable: parsed.unreadable,
  };
}

/** Run ss with these arguments: its output, or the one line that says why not. */
function runSs(args: string[], options: KernelViewOptions): Promise<{ ok: true; stdout: string } | { ok: false; reason: string }> {
  const timeout = options.timeoutMs ?? SS_TIMEOUT_MS;
  return new Promise((resolve) => {
    // node:child_process is loaded on the first `ss` run, not at start-up.
    const { execFile } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    execFile(
      'ss',
      args,
      { timeout, maxBuffer: SS_MAX_OUTPUT, env: options.env ?? process.env, encoding: 'utf8', windowsHide: true },
      (err, stdout, stderr) => {
        if (err === null) return resolve({ ok: true, stdout });
        resolve({ ok: false, reason: failure(err, stderr, timeout) });
      },
    );
  });
}

function failure(err: { code?: string | number | null; killed?: boolean; signal?: string | null }, stderr: string, timeout: number): string {
  if (err.code === 'ENOENT') return `${NEEDS_SS} (no ss on PATH: install iproute2)`;
  if (err.code === 'EACCES') return `${NEEDS_SS} (ss on PATH cannot be run: permission denied)`;
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return `ss printed more than ${SS_MAX_OUTPUT} bytes: too many sockets to read`;
  if (err.killed === true || err.signal === 'SIGTERM') return `ss did not answer within ${timeout} ms: try again`;
  const said = stderr.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 200);
  return `ss failed${said === undefined ? ` (exit ${String(err.code)})` : `: ${said}`}`;
}
