import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PageAssets } from './assets.js';
import { nodeCrypto } from '../lazy-builtins.js';

/**
 * The headers of every answer. The page's script and style are files of
 * the package (no inline script or style, nothing from elsewhere), the
 * token in a URL never leaves in a Referer, and no other site may frame
 * the page or read its files.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** What a request asks for, once checked; `refused` carries the status and one line for the person. */
export type Route =
  | { kind: 'asset'; name: string }
  | { kind: 'events'; lastEventId: string | undefined }
  | { kind: 'refused'; status: 403 | 404 | 405; reason: string; note?: string };

/**
 * Decide what a request gets (RFC 9110: GET and HEAD only, 405 with
 * `Allow` otherwise). `token` undefined: the page is on loopback, and the
 * Host header must name loopback too (a DNS-rebinding page from elsewhere
 * cannot read it); otherwise `?token=` must match, compared in constant time.
 * Assets carry no session data and need no token; the page and the stream do.
 */
export function route(req: IncomingMessage, assets: PageAssets, token: string | undefined): Route {
  if (req.method !== 'GET' && req.method !== 'HEAD') return { kind: 'refused', status: 405, reason: 'read-only: only GET and HEAD' };
  const url = new URL(req.url ?? '/', 'http://page.invalid');
  const path = url.pathname === '/' ? '/index.html' : url.pathname;
  const name = path.slice(1);
  const isAsset = assets.has(name) && name !== 'index.html';
  if (!isAsset && path !== '/index.html' && path !== '/events') return { kind: 'refused', status: 404, reason: 'not found' };
  if (token === undefined && !loopbackHost(req.headers.host)) {
    return { kind: 'refused', status: 403, reason: 'this page answers only to 127.0.0.1 or localhost', note: `refused a viewer that named host "${req.headers.host ?? ''}"` };
  }
  if (token !== undefined && !isAsset && !sameToken(url.searchParams.get('token') ?? '', token)) {
    const why = url.searchParams.has('token') ? 'a wrong token' : 'no token';
    return { kind: 'refused', status: 403, reason: 'this page needs the token socklab printed: open the link with ?token=…', note: `refused a viewer from ${req.socket.remoteAddress ?? '?'}: ${why}` };
  }
  if (path === '/events') {
    const header = req.headers['last-event-id'];
    const lastEventId = typeof header === 'string' ? header : (url.searchParams.get('lastEventId') ?? undefined);
    return { kind: 'events', lastEventId };
  }
  return { kind: 'asset', name };
}

/** Answer a refused request: status, one line of text, the security headers; 405 names what is allowed. */
export function refuse(res: ServerResponse, status: number, reason: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...(status === 405 && { Allow: 'GET, HEAD' }) });
  res.end(`${status} ${reason}\n`);
}

// Hashing first gives two buffers of one length, as timingSafeEqual needs, whatever was sent.
function sameToken(given: string, token: string): boolean {
  const digest = (s: string) => nodeCrypto().createHash('sha256').update(s).digest();
  return nodeCrypto().timingSafeEqual(digest(given), digest(token));
}

/** True for `127.0.0.1:P`, `localhost:P`, `[::1]:P` (RFC 9110 7.2: host and optional port). */
function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
