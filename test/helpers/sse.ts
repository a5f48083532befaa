/**
 * A small server-sent-events reader for tests of the classroom page: a real
 * HTTP request (node:http) on loopback, frames parsed as a browser's
 * EventSource parses them, waiting on frames (never on time).
 */
import http from 'node:http';
import { patience } from './patience.js';

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export interface SseStream {
  status: number;
  frames: SseFrame[];
  /** The `log` frames' entries, parsed. */
  logs(): Array<{ seq: number; type: string; id?: string; lines: Array<Array<[string, string]>> }>;
  /** The id of the last frame that carried one (what a browser would send as Last-Event-ID). */
  lastId(): string | undefined;
  waitFor(predicate: (f: SseFrame) => boolean, ms?: number, what?: string): Promise<SseFrame>;
  close(): void;
}

const open = new Set<http.ClientRequest>();

/** For `afterEach`: end every stream a test left open. */
export function closeStreams(): void {
  for (const req of open) req.destroy();
  open.clear();
}

/** Open `url` as an event stream; resolves once the response headers came. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } });
    open.add(req);
    req.once('error', reject);
    req.once('response', (res) => {
      const frames: SseFrame[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let lastId: string | undefined;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const frame: SseFrame = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon === 0) continue;
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') frame.id = lastId = value;
            else if (field === 'event') frame.event = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0) continue;
          frame.data = data.join('\n');
          frames.push(frame);
        }
        for (const w of waiters) w();
      });
      res.on('error', () => {});
      resolve({
        status: res.statusCode ?? 0,
        frames,
        logs: () => frames.filter((f) => f.event === 'log').map((f) => JSON.parse(f.data)),
        lastId: () => lastId,
        waitFor(predicate, ms = 3000, what = 'frame') {
          return new Promise((ok, fail) => {
            const check = () => {
              const found = frames.find(predicate);
              if (!found) return;
              waiters.delete(check);
              clearTimeout(timer);
              ok(found);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no ${what} within ${patience(ms)} ms; frames: ${frames.map((f) => `${f.event}${f.id ? `#${f.id}` : ''}`).join(' ')}`));
            }, patience(ms));
            waiters.add(check);
            check();
          });
        },
        close() {
          req.destroy();
          open.delete(req);
        },
      });
    });
  });
}
