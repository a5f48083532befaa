import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SocklabError } from '../../src/errors.js';
import { thrown } from '../helpers/errors.js';
import { type HttpParseResult, HttpRequestParser, formatResponse, reasonPhrase } from '../../src/protocols/http.js';

const execFileAsync = promisify(execFile);

function parse(text: string | Buffer, limits?: { maxHeaderBytes?: number; maxBodyBytes?: number }): HttpParseResult[] {
  return new HttpRequestParser(limits).push(Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'));
}

function requests(results: HttpParseResult[]) {
  return results.map((result) => {
    if (result.kind === 'continue') throw new Error('expected a request, got 100-continue');
    if (result.kind === 'ignored') throw new Error(`expected a request, got ${result.bytes} B ignored`);
    if (result.kind !== 'request') throw new Error(`expected a request, got ${result.status} ${result.message}`);
    return result.request;
  });
}

const curlPost =
  'POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8888\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n' +
  'Content-Length: 5\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nhello';

describe('HttpRequestParser.push', () => {
  it('parses a simple GET', () => {
    const [request] = requests(parse('GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\n\r\n'));
    const headers = [['Host', 'example.com'], ['X-Empty', '']];
    expect(request).toEqual({ method: 'GET', target: '/path?q=1', version: 'HTTP/1.1', headers, body: Buffer.alloc(0), keepAlive: true });
  });

  it('reads a Content-Length body, as curl -d sends it', () => {
    const [request] = requests(parse(curlPost));
    expect(request?.method).toBe('POST');
    expect(request?.body.toString()).toBe('hello');
    expect(request?.headers).toContainEqual(['Content-Type', 'application/x-www-form-urlencoded']);
  });

  it('waits for the whole body before returning the request', () => {
    const parser = new HttpRequestParser();
    expect(parser.push(Buffer.from(curlPost.slice(0, -2)))).toEqual([]);
    expect(requests(parser.push(Buffer.from('lo')))[0]?.body.toString()).toBe('hello');
  });

  it('decodes a chunked body, ignoring extensions and trailers', () => {
    const text =
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '4;name=value\r\nWiki\r\n05 ; ext\r\npedia\r\n0\r\nX-Checksum: abc\r\n\r\n';
    expect(requests(parse(text))[0]?.body.toString()).toBe('Wikipedia');
  });

  it('returns two pipelined keep-alive requests from one chunk', () => {
    const got = requests(parse(`${curlPost}GET /two HTTP/1.1\r\nHost: x\r\n\r\n`));
    const summary = got.map((r) => [r.method, r.target, r.body.toString(), r.keepAlive]);
    expect(summary).toEqual([['POST', '/echo', 'hello', true], ['GET', '/two', '', true]]);
  });

  it('decides keep-alive by version and Connection', () => {
    const keepAlive = (head: string) => requests(parse(`${head}\r\n\r\n`))[0]?.keepAlive;
    expect(keepAlive('GET / HTTP/1.0')).toBe(false);
    expect(keepAlive('GET / HTTP/1.0\r\nConnection: Keep-Alive')).toBe(true);
    expect(keepAlive('GET / HTTP/1.1\r\nConnection: close')).toBe(false);
    expect(keepAlive('GET / HTTP/1.1\r\nConnection: upgrade, close')).toBe(false);
  });

  it('processes nothing after a request that closes the connection, and counts what it ignored', () => {
    const [first, ...rest] = parse('GET / HTTP/1.0\r\n\r\nGET /ignored HTTP/1.0\r\n\r\n');
    expect(first?.kind === 'request' && [first.request.version, first.request.target]).toEqual(['HTTP/1.0', '/']);
    expect(rest).toEqual([{ kind: 'ignored', bytes: 25, after: 'close' }]);
  });

  it('accepts bare LF line endings and skips empty lines before a request', () => {
    const got = requests(parse('\r\n\nPOST / HTTP/1.1\nContent-Length: 2\n\nhi'));
    expect(got[0]?.body.toString()).toBe('hi');
  });

  it('parses the same fed one byte at a time', () => {
    const stream = Buffer.from(`${curlPost}GET /two HTTP/1.1\n\n`);
    const parser = new HttpRequestParser();
    expect([...stream].flatMap((byte) => parser.push(Buffer.from([byte])))).toEqual(parse(stream));
  });

  it('parses the same however a valid pipelined stream is split', () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/);
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH'),
      path: fc.stringMatching(/^\/[a-z0-9/?=&%-]{0,20}$/),
      headers: fc.array(fc.tuple(token.filter((t) => !/^(content-length|transfer-encoding|connection)$/i.test(t)), fc.stringMatching(/^[ -~]{0,20}$/)), { maxLength: 4 }),
      body: fc.uint8Array({ maxLength: 40 }),
      chunkSizes: fc.option(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 })),
      eol: fc.constantFrom('\r\n', '\n'),
    });
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 20 }), (specs, cuts) => {
        const pieces: Buffer[] = [];
        for (const spec of specs) {
          const lines = [`${spec.method} ${spec.path} HTTP/1.1`, ...spec.headers.map(([n, v]) => `${n}: ${v.trim()}`)];
          const body = Buffer.from(spec.body);
          lines.push(spec.chunkSizes ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`);
          pieces.push(Buffer.from(lines.join(spec.eol) + spec.eol + spec.eol, 'latin1'));
          pieces.push(spec.chunkSizes ? chunked(body, spec.chunkSizes) : body);
        }
        const stream = Buffer.concat(pieces);
        const whole = requests(parse(stream)).map((r) => [r.method, r.target, Buffer.from(r.body)]);
        expect(whole).toEqual(specs.map((s) => [s.method, s.path, Buffer.from(s.body)]));
        const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
        const parser = new HttpRequestParser();
        const split = [0, ...points].flatMap((from, i) => parser.push(stream.subarray(from, points[i] ?? stream.length)));
        expect(split).toEqual(parse(stream));
      }),
    );
  });
});

describe('HttpRequestParser fuzz: arbitrary bytes, split anywhere', () => {
  // Fragments that reach the parser's branches, mixed with any byte at all.
  const FRAGMENTS = ['GET', 'POST', 'HEAD', ' ', '/', '/x', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2', '\r\n', '\n', '\r', ': ', 'Host', 'Content-Length: ',
    'Transfer-Encoding: chunked', 'Connection: close', 'Connection: keep-alive', 'Expect: 100-continue', '0', '5', '-1', 'ff', ';ext', '\x00', '\xff', '\x1b[2J', 'EHTTP', '\t', 'a'];
  const fragment = fc.oneof(fc.constantFrom(...FRAGMENTS), fc.uint8Array({ maxLength: 3 }).map((b) => Buffer.from(b).toString('latin1')));

  /** The results with consecutive `ignored` counts merged (how bytes are split changes how they are counted, not how many). */
  const normal = (results: HttpParseResult[]) =>
    results.reduce<unknown[]>((out, r) => {
      const last = out.at(-1) as { kind?: string; bytes?: number } | undefined;
      // After an error only later chunks count as ignored: that depends on the split by design.
      if (r.kind === 'ignored' && r.after === 'error') return out;
      if (r.kind === 'ignored' && last?.kind === 'ignored') last.bytes! += r.bytes;
      else out.push(r.kind === 'request' ? { ...r.request, body: r.request.body.toString('latin1') } : { ...r });
      return out;
    }, []);

  it('never throws, gives the same results however the bytes are split, and holds no more than the limits', () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 12 }), (parts, cuts) => {
        const stream = Buffer.from(parts.join(''), 'latin1');
        const limits = { maxHeaderBytes: 64, maxBodyBytes: 64 };
        const whole = new HttpRequestParser(limits).push(stream);
        const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
        const parser = new HttpRequestParser(limits);
        const split = [0, ...points].flatMap((from, i) => parser.push(stream.subarray(from, points[i] ?? stream.length)));
        expect(normal(split)).toEqual(normal(whole));
        expect(whole.filter((r) => r.kind === 'error').length).toBeLessThanOrEqual(1);
        const pending = parser.pending();
        if (pending?.part === 'head') expect(pending.bytes).toBeLessThanOrEqual(64);
        if (pending?.part === 'body') expect(pending.received).toBeLessThanOrEqual(64);
      }),
      { numRuns: 500 },
    );
  });
});

describe('HttpRequestParser.pending', () => {
  it('says what is held: nothing, part of a head, part of a body', () => {
    const parser = new HttpRequestParser();
    expect(parser.pending()).toBeUndefined();
    parser.push(Buffer.from('\r\nGET /a'));
    expect(parser.pending()).toEqual({ part: 'head', bytes: 6, start: Buffer.from('GET /a') });
    parser.push(Buffer.from(' HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc'));
    expect(parser.pending()).toEqual({ part: 'body', method: 'GET', target: '/a', received: 3, expected: 10 });
    parser.push(Buffer.from('defghij'));
    expect(parser.pending()).toBeUndefined();
    parser.push(Buffer.from('POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'));
    expect(parser.pending()).toEqual({ part: 'body', method: 'POST', target: '/c', received: 3 });
  });
});

/** `body` in the chunked coding, cut into chunks of the given sizes (cycled). */
function chunked(body: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < body.length; i++) {
    const piece = body.subarray(at, at + (sizes[i % sizes.length] ?? 1));
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    at += piece.length;
  }
  return Buffer.concat([...parts, Buffer.from('0\r\n\r\n')]);
}

describe('HttpRequestParser errors', () => {
  const post = (headers: string, body = '') => `POST / HTTP/1.1\r\n${headers}\r\n\r\n${body}`;
  it.each([
    ['GARBAGE\r\n\r\n', 400, 'bad request line "GARBAGE": expected METHOD TARGET HTTP/1.1'],
    ['GET  / HTTP/1.1\r\n\r\n', 400, 'bad request line "GET  / HTTP/1.1": expected METHOD TARGET HTTP/1.1'],
    ['GET / HTTP/2.0\r\n\r\n', 505, 'HTTP version "HTTP/2.0" not supported: expected HTTP/1.0 or HTTP/1.1'],
    ['GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400, 'whitespace before the colon in header "Host " is not allowed'],
    ['GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n', 400, 'obsolete line folding (a header line starting with whitespace) is not allowed: "  folded"'],
    ['GET / HTTP/1.1\r\nno colon here\r\n\r\n', 400, 'bad header line "no colon here": expected NAME: VALUE'],
    ['GET / HTTP/1.1\r\nBad@Name: x\r\n\r\n', 400, 'bad header name "Bad@Name": expected a token'],
    ['GET / HTTP/1.1\r\nX: a\rb\r\n\r\n', 400, 'control character in the value of header "X"'],
    [post('Content-Length: -1'), 400, 'bad Content-Length "-1": expected a non-negative decimal'],
    [post('Content-Length:'), 400, 'bad Content-Length "": expected a non-negative decimal'],
    [post('Content-Length: 5\r\nContent-Length: 6'), 400, 'conflicting Content-Length values "5, 6"'],
    [post('Content-Length: 99999999999999999999'), 413, 'Content-Length 99999999999999999999 exceeds the limit of 8388608 bytes'],
    [post('Transfer-Encoding: chunked\r\nContent-Length: 3', 'abc'), 400, 'both Transfer-Encoding and Content-Length: the body length is ambiguous (request smuggling)'],
    [post('Transfer-Encoding: gzip, chunked'), 501, 'Transfer-Encoding "gzip" not implemented: only chunked is'],
    [post('Transfer-Encoding: chunked, chunked'), 400, 'bad Transfer-Encoding "chunked, chunked": expected chunked, once'],
    ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'Transfer-Encoding is not allowed in an HTTP/1.0 request'],
    [post('Transfer-Encoding: chunked', 'zz\r\n'), 400, 'bad chunk size line "zz": expected a hex size, optionally ";ext"'],
    [post('Transfer-Encoding: chunked', '2\r\nabX'), 400, 'expected CRLF after chunk data, got byte 0x58'],
    [post('Transfer-Encoding: chunked', 'ffffffffffffffff\r\n'), 413, 'chunked body exceeds the limit of 8388608 bytes'],
  ] as const)('%j → %i', (input, status, message) => {
    expect(parse(input)).toEqual([{ kind: 'error', status, message }]);
  });

  it('answers 431 past maxHeaderBytes (head complete or not) and 413 past maxBodyBytes', () => {
    const big = `GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}\r\n`;
    const message = 'header section exceeds the limit of 64 bytes';
    expect(parse(big, { maxHeaderBytes: 64 })).toEqual([{ kind: 'error', status: 431, message }]);
    expect(parse(`${big}\r\n`, { maxHeaderBytes: 64 })).toEqual([{ kind: 'error', status: 431, message }]);
    expect(parse(post('Content-Length: 11'), { maxBodyBytes: 10 })).toMatchObject([{ status: 413 }]);
  });

  it('cuts peer text at 80 characters', () => {
    const [result] = parse(`${'X'.repeat(200)}\r\n\r\n`);
    expect(result).toMatchObject({ status: 400, message: `bad request line "${'X'.repeat(80)}…": expected METHOD TARGET HTTP/1.1` });
  });

  it('returns requests before the error, then nothing more', () => {
    const parser = new HttpRequestParser();
    const results = parser.push(Buffer.from('GET /ok HTTP/1.1\r\n\r\nBAD\r\n\r\n'));
    expect(results.map((r) => r.kind)).toEqual(['request', 'error']);
    expect(parser.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toEqual([{ kind: 'ignored', bytes: 18, after: 'error' }]);
  });
});

describe('formatResponse', () => {
  it('serializes status line, default headers and body exactly', () => {
    const bytes = formatResponse(200, Buffer.from('You said "hi"'));
    expect(bytes.toString('latin1')).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nYou said "hi"',
    );
  });

  it('counts bytes, not characters, and honours the options', () => {
    const bytes = formatResponse(404, Buffer.from('你好'), { keepAlive: false, contentType: 'text/html', headers: [['X-Lab', '1']] });
    const head = 'HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 6\r\nConnection: close\r\nX-Lab: 1\r\n\r\n';
    expect(bytes).toEqual(Buffer.from(`${head}你好`));
  });

  it('refuses headers that would break or reframe the response', () => {
    for (const header of [['X', 'a\r\nInjected: 1'], ['Content-Length', '1'], ['Bad Name', 'x']] as Array<[string, string]>) {
      const attempt = () => formatResponse(200, Buffer.alloc(0), { headers: [header] });
      expect(attempt).toThrow(SocklabError);
      expect(attempt).toThrow(expect.objectContaining({ code: 'E_BAD_OPTION' }));
    }
  });

  it('HEAD: the headers GET would get, Content-Length of its body, and no body (RFC 9110 §9.3.2)', () => {
    const get = formatResponse(200, Buffer.from('hello'));
    const head = formatResponse(200, Buffer.from('hello'), { head: true });
    expect(head.toString()).toBe(get.toString().slice(0, -'hello'.length));
    expect(head.toString()).toContain('Content-Length: 5\r\n');
  });

  it('1xx and 204 carry no framing headers and no body; 304 no body; a body for them is refused', () => {
    expect(formatResponse(100, Buffer.alloc(0)).toString()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    expect(formatResponse(204, Buffer.alloc(0), { headers: [['X-A', '1']] }).toString()).toBe('HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n');
    expect(formatResponse(304, Buffer.alloc(0)).toString()).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n[^]*\r\n\r\n$/);
    for (const status of [100, 204, 304]) {
      expect(thrown(() => formatResponse(status, Buffer.from('x'))).message).toBe(`an HTTP ${status} response has no body, but 1 B were given`);
    }
  });

  it('names reason phrases', () => {
    expect([200, 400, 413, 431, 505, 299].map(reasonPhrase)).toEqual(
      ['OK', 'Bad Request', 'Content Too Large', 'Request Header Fields Too Large', 'HTTP Version Not Supported', ''],
    );
  });
});

describe('against curl', () => {
  let server: Server | undefined;
  const sockets = new Set<Socket>();

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  async function youSaidServer(): Promise<string> {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {}); // a reset by curl must not fail the test run; curl's exit status tells
      const parser = new HttpRequestParser();
      socket.on('data', (chunk: Buffer) => {
        for (const result of parser.push(chunk)) {
          if (result.kind === 'continue') {
            socket.write('HTTP/1.1 100 Continue\r\n\r\n');
            continue;
          }
          if (result.kind === 'ignored') continue;
          const { status, body, keepAlive } =
            result.kind === 'error'
              ? { status: result.status, body: Buffer.from(`${result.message}\n`), keepAlive: false }
              : { status: 200, body: Buffer.from(`You said "${result.request.body}"`), keepAlive: result.request.keepAlive };
          socket.write(formatResponse(status, body, { keepAlive }));
          if (!keepAlive) socket.end();
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  const curl = (...args: string[]) => execFileAsync('/usr/bin/curl', ['--silent', '--show-error', '--max-time', '5', ...args]);

  it('answers curl --data with You said "<body>"', async () => {
    const url = await youSaidServer();
    const { stdout } = await curl('--data', 'hi', url);
    expect(stdout).toBe('You said "hi"');
  });

  it('answers a chunked upload and two requests on one kept-alive connection', async () => {
    const url = await youSaidServer();
    expect((await curl('-H', 'Transfer-Encoding: chunked', '--data', 'chunky', url)).stdout).toBe('You said "chunky"');
    const { stdout, stderr } = await curl('--verbose', '--data', 'again', url, url);
    expect(stdout).toBe('You said "again"You said "again"');
    expect(stderr).toMatch(/Re-using existing connection/i);
  });
});

describe('Expect: 100-continue', () => {
  it('answers the head first (continue), then the request once its body is in', () => {
    const parser = new HttpRequestParser();
    const head = 'POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n';
    expect(parser.push(Buffer.from(head, 'latin1'))).toEqual([{ kind: 'continue' }]);
    const [result] = parser.push(Buffer.from('hello'));
    expect(result?.kind).toBe('request');
    expect(result?.kind === 'request' && result.request.body.toString()).toBe('hello');
  });

  it('says nothing for a request without a body or without the header', () => {
    expect(parse('GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n').map((r) => r.kind)).toEqual(['request']);
    expect(parse('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi').map((r) => r.kind)).toEqual(['request']);
  });
});
