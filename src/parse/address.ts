import { SocklabError } from '../errors.js';

/** Where to listen or connect: TCP host and port, or a Unix socket path. */
export type Address = { host?: string; port: number; path?: undefined } | { path: string; host?: undefined; port?: undefined };

const USAGE = 'use PORT, HOST:PORT, [IPv6]:PORT or a socket path like ./lab.sock';

/** True when ADDRESS text names a Unix socket path (it has a `/`, or ends in `.sock`). */
export function isSocketPath(text: string): boolean {
  return text.includes('/') || text.endsWith('.sock');
}

/** Parse `9000`, `127.0.0.1:9000`, `localhost:9000`, `[::1]:9000`, `/tmp/lab.sock`. */
export function parseAddress(text: string, purpose: 'listen' | 'connect'): Address {
  if (isSocketPath(text)) return { path: text };
  let host: string | undefined;
  let portText = text;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1];
    if (v6[2] === undefined) throw new SocklabError('E_BAD_ADDRESS', `bad address "${text}": an IPv6 address needs a port, e.g. [::1]:9000`);
    portText = v6[2];
  } else if (text.includes(':')) {
    const at = text.lastIndexOf(':');
    host = text.slice(0, at);
    portText = text.slice(at + 1);
    if (host.includes(':')) throw new SocklabError('E_BAD_ADDRESS', `bad address "${text}": put IPv6 addresses in brackets, e.g. [${host}]:${portText}`);
  }
  if (host === '') throw new SocklabError('E_BAD_ADDRESS', `bad address "${text}": the host is empty; ${USAGE}`);
  return host === undefined ? { port: parsePort(portText, purpose, text) } : { host, port: parsePort(portText, purpose, text) };
}

/** A TCP port: 0–65535 for listen (0 = any free port), 1–65535 for connect. */
export function parsePort(text: string, purpose: 'listen' | 'connect', whole = text): number {
  if (!/^\d+$/.test(text)) throw new SocklabError('E_BAD_ADDRESS', `bad address "${whole}": ${USAGE}`);
  const port = Number(text);
  const min = purpose === 'listen' ? 0 : 1;
  if (port < min || port > 65535) {
    const range = purpose === 'listen' ? '0–65535 (0 picks a free port)' : '1–65535';
    throw new SocklabError('E_BAD_ADDRESS', `port ${text} is out of range: use ${range}`);
  }
  return port;
}
