/**
 * `.listen --http` against real clients on loopback (issue 10 item 4):
 * curl, python3's http.client, Node's `http` client and raw sockets. Each
 * case is something a real client does that the server must get right
 * (RFC 9110, RFC 9112): HEAD without a body, 100-continue only for HTTP/1.1,
 * Connection handling, chunked bodies with trailers, ambiguous or bad framing,
 * limits, pipelining, and requests left incomplete (said in a note and `.show`).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, collect, is, peerClient, receive, tempDir, track } from '../helpers/loopback.js';
import type { NoteEvent } from '../../src/session/events.js';

const run = promisify(execFile);

afterEach(closeAll);

/** A session with `.listen 0 --http --reply …` running; the port it got. */
async function httpServer(reply = `'You said "{data}"'`, more = ''): Promise<{ rig: CommandRig; port: number }> {
  const rig = commandRig();
  await rig.ok(`.listen 0 --http --reply ${reply} ${more}`.trim());
  const listening = await rig.log.waitFor(is('listening'));
  return { rig, port: listening.port! };
}

const notes = (rig: CommandRig): string[] => rig.log.of('note').map((ev) => ev.message);
const waitForNote = (rig: CommandRig, text: string): Promise<NoteEvent> =>
  rig.log.waitFor((ev): ev is NoteEvent => ev.type === 'note' && ev.message.includes(text), 5000);

/** The `http` line of `.show ID`. */
async function showHttp(rig: CommandRig, id: string): Promise<string> {
  rig.printed.length = 0;
  await rig.ok(`.show ${id}`);
  return /^http +(.*)$/m.exec(rig.printed.join('\n'))?.[1] ?? '(no http line)';
}

/** Write `request` on a fresh connection, FIN, and return all the server sent before closing. */
async function exchange(port: number, request: string): Promise<string> {
  const socket = await peerClient(port);
  const all = collect(socket);
  socket.end(Buffer.from(request, 'latin1'));
  return (await all.ended).toString('latin1');
}

describe('HEAD gets the headers GET would get, and no body (RFC 9110 §9.3.2)', () => {
  it('curl --head sees Content-Length of the GET body and no excess bytes', async () => {
    const { port } = await httpServer(`'hello there'`);
    const { stdout, stderr } = await run('curl', ['-sS', '-v', '--head', '--max-time', '5', `http://127.0.0.1:${port}/`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toContain('Content-Length: 11\r\n');
    expect(stderr).not.toMatch(/excess/i);
  });

  it("Node's http client reads HEAD then GET on one kept-alive connection", async () => {
    const { rig, port } = await httpServer(`'hello there'`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    track(() => agent.destroy());
    const ask = (method: string) =>
      new Promise<{ status: number; length?: string; body: string }>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', method, agent }, (res) => {
          let body = '';
          res.setEncoding('latin1').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'], body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await ask('HEAD')).toEqual({ status: 200, length: '11', body: '' });
    expect(await ask('GET')).toEqual({ status: 200, length: '11', body: 'hello there' });
    expect(rig.log.of('accept')).toHaveLength(1);
    expect(notes(rig)).toContain('HTTP HEAD / (0 B body) → 200, headers only (HEAD; Content-Length 11)');
  });

  it('python3 http.client reads HEAD then GET on one connection', async () => {
    const { port } = await httpServer(`'hello there'`);
    const script = [
      'import http.client, sys',
      'c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)',
      'c.request("HEAD", "/"); r = c.getresponse(); print(r.status, r.getheader("Content-Length"), repr(r.read()))',
      'c.request("GET", "/"); r = c.getresponse(); print(r.status, repr(r.read()))',
    ].join('\n');
    const { stdout } = await run('python3', ['-c', script, String(port)]);
    expect(stdout).toBe("200 11 b''\n200 b'hello there'\n");
  });
});

describe('Expect: 100-continue (RFC 9110 §10.1.1)', () => {
  it('curl -0 (HTTP/1.0) with Expect: 100-continue gets no 100 Continue, only the answer', async () => {
    const { port } = await httpServer(`'got {len} bytes'`);
    const file = join(tempDir(), 'body.bin');
    writeFileSync(file, Buffer.alloc(2000, 0x61));
    const { stdout, stderr } = await run('curl', ['-sS', '-v', '-0', '--max-time', '5', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `http://127.0.0.1:${port}/`]);
    expect(stderr).toContain('> POST / HTTP/1.0');
    expect(stderr).not.toContain('100 Continue');
    expect(stdout).toBe('got 2000 bytes');
  });

  it('a raw HTTP/1.0 request with Expect gets the 200 first; HTTP/1.1 gets 100 first', async () => {
    const { port } = await httpServer(`'got {len}'`);
    const head = (version: string) => `POST / ${version}\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhi`;
    expect(await exchange(port, head('HTTP/1.0'))).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ngot 2$/);
    expect(await exchange(port, head('HTTP/1.1'))).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  });
});

describe('a request the peer never finishes is said, in a note and in .show', () => {
  it('Content-Length 200, 5 bytes, then FIN', async () => {
    const { rig, port } = await httpServer();
    const socket = await peerClient(port);
    socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\nhello');
    await rig.log.waitFor((ev) => ev.type === 'data' && ev.data.includes('hello'));
    expect(await showHttp(rig, 'c1')).toBe('0 requests answered; pending: 5 of 200 B of the body of POST /up (Content-Length 200)');
    socket.end();
    const note = await waitForNote(rig, 'incomplete');
    expect(note.message).toBe('HTTP: the peer ended (FIN) with an incomplete request, never answered: 5 of 200 B of the body of POST /up (Content-Length 200)');
    // The note follows the FIN line and comes before the close.
    await rig.log.waitFor(is('close', 'c1'));
    const order = rig.log.events.filter((ev) => ev.type === 'end' || ev.type === 'close' || ev === note).map((ev) => ev.type);
    expect(order).toEqual(['end', 'note', 'close']);
  });

  it('Content-Length 200, 5 bytes, then the idle timeout (--timeout) destroys the socket', async () => {
    const { rig, port } = await httpServer(`'x'`, '--timeout 300ms');
    const socket = await peerClient(port);
    socket.write('POST /slow HTTP/1.1\r\nContent-Length: 200\r\n\r\nhello');
    const note = await waitForNote(rig, 'incomplete');
    expect(note.message).toBe('HTTP: the connection closed with an incomplete request, never answered: 5 of 200 B of the body of POST /slow (Content-Length 200)');
    expect(rig.log.of('timeout', 'c1')).toHaveLength(1);
  });

  it('a chunked body without its last chunk, sent by python3, then FIN', async () => {
    const { rig, port } = await httpServer();
    const script = [
      'import socket, sys',
      's = socket.create_connection(("127.0.0.1", int(sys.argv[1])))',
      's.sendall(b"POST /c HTTP/1.1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n")',
      's.shutdown(socket.SHUT_WR); s.recv(100); s.close()',
    ].join('\n');
    await run('python3', ['-c', script, String(port)]);
    const note = await waitForNote(rig, 'incomplete');
    expect(note.message).toContain('5 B of the body of POST /c (chunked; the last, zero-size chunk has not come)');
  });

  it('stray bytes after a bodiless GET: answered GET, then the bytes are pending, then said at FIN', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    const socket = await peerClient(port);
    const reply = receive(socket, '\r\n\r\nok');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nhello');
    await reply;
    await rig.log.waitFor((ev) => ev.type === 'note' && ev.message.startsWith('HTTP GET /'));
    expect(await showHttp(rig, 'c1')).toMatch(/^1 request answered; pending: 5 B of a request head with no blank line after it yet: "hello" \(a body sent without Content-Length/);
    socket.end();
    expect((await waitForNote(rig, 'incomplete')).message).toContain('5 B of a request head with no blank line after it yet: "hello"');
  });

  it('bytes after a request with Connection: close are ignored, and said once', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    const got = await exchange(port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /two HTTP/1.1\r\n\r\n');
    expect(got.match(/HTTP\/1\.1 200/g)).toHaveLength(1);
    expect(got).toContain('Connection: close\r\n');
    expect(notes(rig).filter((n) => n.includes('ignoring bytes'))).toEqual([
      'HTTP: ignoring bytes that follow a request with Connection: close (RFC 9112 §9.6: no more requests on this connection)',
    ]);
    await rig.log.waitFor(is('close', 'c1'));
    expect(await showHttp(rig, 'c1')).toBe('1 request answered; 21 B ignored after the last request');
  });

  it('an answered connection with nothing pending says nothing at close', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    await exchange(port, 'GET / HTTP/1.1\r\n\r\n');
    await rig.log.waitFor(is('close', 'c1'));
    expect(notes(rig).filter((n) => n.includes('incomplete'))).toEqual([]);
  });
});

describe('Connection handling (RFC 9112 §9.3)', () => {
  it('HTTP/1.0 without keep-alive is answered with Connection: close and the server ends', async () => {
    const { port } = await httpServer(`'ok'`);
    const { stdout, stderr } = await run('curl', ['-sS', '-v', '-0', '--max-time', '5', `http://127.0.0.1:${port}/`]);
    expect(stdout).toBe('ok');
    expect(stderr).toContain('< Connection: close');
  });

  it('HTTP/1.0 with Connection: keep-alive keeps the connection for a second request', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    const socket = await peerClient(port);
    const first = receive(socket, '\r\n\r\nok');
    socket.write('GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect(await first).toContain('Connection: keep-alive\r\n');
    const all = collect(socket);
    socket.write('GET /2 HTTP/1.0\r\n\r\n');
    expect((await all.ended).toString()).toMatch(/Connection: close\r\n\r\nok$/);
    expect(rig.log.of('accept')).toHaveLength(1);
  });

  it('Connection: close from python3 http.client: answered with close, the server ends its side', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    const script = [
      'import http.client, sys',
      'c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)',
      'c.request("GET", "/", headers={"Connection": "close"}); r = c.getresponse()',
      'print(r.status, r.getheader("Connection"), r.read().decode(), r.will_close)',
    ].join('\n');
    expect((await run('python3', ['-c', script, String(port)])).stdout).toBe('200 close ok True\n');
    await rig.log.waitFor(is('shutdown', 'c1'));
  });
});

describe('bodies and framing (RFC 9112 §6, §7.1)', () => {
  it("a chunked body with trailers from Node's http client is decoded; the trailer is read and ignored", async () => {
    const { port } = await httpServer(`'You said "{data}"'`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', headers: { 'Transfer-Encoding': 'chunked', Trailer: 'X-Sum' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('chunk one, ');
      req.write('chunk two');
      req.addTrailers({ 'X-Sum': 'abc' });
      req.end();
    });
    expect(body).toBe('You said "chunk one, chunk two"');
  });

  it('both Transfer-Encoding and Content-Length: 400, the reason said, connection closed', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    const got = await exchange(port, 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*Connection: close\r\n\r\nboth Transfer-Encoding and Content-Length/);
    const error = await rig.log.waitFor(is('error', 'c1'));
    expect(error.message).toMatch(/^HTTP 400: both Transfer-Encoding and Content-Length/);
  });

  it.each([
    ['negative', 'Content-Length: -1', 'bad Content-Length "-1"'],
    ['not digits', 'Content-Length: 12abc', 'bad Content-Length "12abc"'],
    ['two different values', 'Content-Length: 5\r\nContent-Length: 6', 'conflicting Content-Length values "5, 6"'],
    ['a list of different values', 'Content-Length: 5, 6', 'conflicting Content-Length values "5, 6"'],
    ['empty', 'Content-Length:', 'bad Content-Length ""'],
  ])('bad Content-Length (%s): 400 with what was wrong', async (_name, header, message) => {
    const { port } = await httpServer(`'ok'`);
    const got = await exchange(port, `POST / HTTP/1.1\r\n${header}\r\n\r\nhello`);
    expect(got).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(got).toContain(message);
  });

  it('the same Content-Length twice is one length (RFC 9110 §8.6)', async () => {
    const { port } = await httpServer(`'{data}'`);
    expect(await exchange(port, 'POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nConnection: close\r\n\r\nhello')).toMatch(/\r\n\r\nhello$/);
  });

  it("an over-long header line: 431 to Node's http client; an over-long request line: 414", async () => {
    const { port } = await httpServer(`'ok'`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', headers: { 'X-Big': 'a'.repeat(20_000) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
    expect(await exchange(port, `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n\r\n`)).toMatch(/^HTTP\/1\.1 414 URI Too Long\r\n/);
  });

  it('pipelined requests in one write are answered in order, in one write', async () => {
    const { rig, port } = await httpServer(`'[{data}]'`);
    const requests = ['a', 'bb', 'ccc'].map((body) => `POST /${body} HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const got = await exchange(port, requests.join('') + 'GET /last HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect([...got.matchAll(/\r\n\r\n(\[[a-c]*\])/g)].map((m) => m[1])).toEqual(['[a]', '[bb]', '[ccc]', '[]']);
    expect(rig.log.of('send', 'c1')).toHaveLength(1);
  });

  it('1,000 pipelined GETs: 20 request notes, the rest folded into a summary that counts them, before the close', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    const got = await exchange(port, 'GET / HTTP/1.1\r\n\r\n'.repeat(999) + 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(got.match(/\r\n\r\nok/g)).toHaveLength(1000);
    await rig.log.waitFor(is('close', 'c1'));
    const one = notes(rig).filter((n) => n === 'HTTP GET / (0 B body) → 200, 2 B');
    const folded = notes(rig).flatMap((n) => /^HTTP ([\d,]+) more requests answered in [\d.]+ s \(0 B of request bodies, 1\.9 KiB of response bodies; folded/.exec(n)?.[1] ?? []);
    expect(one).toHaveLength(20);
    expect(folded.map((n) => Number(n.replace(/,/g, '')))).toEqual([980]);
    const last = rig.log.events.filter((ev) => 'id' in ev && ev.id === 'c1').at(-2);
    expect(last?.type === 'note' && last.message).toMatch(/^HTTP 980 more requests/);
  });

  it('a 10 KiB request target is cut in the note, as every quote of the peer is', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    await exchange(port, `GET /${'a'.repeat(10_000)} HTTP/1.1\r\nConnection: close\r\n\r\n`);
    const note = await waitForNote(rig, 'HTTP GET');
    expect(note.message).toBe(`HTTP GET /${'a'.repeat(79)}… (0 B body) → 200, 2 B`);
  });

  it('a malformed request line quoting "EHTTP" keeps its whole message (no code-like prefix of ours)', async () => {
    const { rig, port } = await httpServer(`'ok'`);
    await exchange(port, 'EHTTP is not a request\r\n\r\n');
    const error = await rig.log.waitFor(is('error', 'c1'));
    expect(error.code).toBe('EHTTP');
    expect(error.message).toBe('HTTP 400: bad request line "EHTTP is not a request": expected METHOD TARGET HTTP/1.1');
  });
});
