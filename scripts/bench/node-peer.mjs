// The bare-Node baselines, run as a child process so they are measured the
// same way as the socklab CLI. Usage:
//   node node-peer.mjs echo            socket.pipe(socket)
//   node node-peer.mjs sink            read and drop (auto-ends after the peer's FIN)
//   node node-peer.mjs sender BYTES    write BYTES to whoever connects, end, report
//   node node-peer.mjs reader PORT     connect, read and drop until the peer's FIN
//   node node-peer.mjs udp-echo        a dgram socket answering each datagram to its sender
//   node node-peer.mjs len16-echo      cut the stream into len16 messages, answer each as one len16 message
//   node node-peer.mjs line-echo       split the stream into lines, write each line back
//   node node-peer.mjs tls-echo CERT KEY  node:tls server, socket.pipe(socket) on the plaintext
//   node node-peer.mjs relay PORT      a bare relay to 127.0.0.1:PORT: client.pipe(upstream), upstream.pipe(client)
//   node node-peer.mjs relay-domain PORT  the same after creating one domain (as node:repl does): its async hooks' cost
//   node node-peer.mjs relay-in-domain PORT  the same made inside an entered domain (a REPL command's sockets)
// Servers listen on 127.0.0.1:0 and print `listening on 127.0.0.1:PORT`,
// the same shape as socklab's listening line, so the bench parses both alike.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const [mode, arg] = process.argv.slice(2);
const CHUNK = 64 * 1024;
// Exit cleanly on the bench's SIGTERM, so `node --cpu-prof` can write its profile.
process.on('SIGTERM', () => process.exit(0));

/** A probe relay's two sockets: an error on either destroys both. */
function resetTogether(a, b) {
  const reset = () => [a, b].forEach((s) => s.destroy());
  a.on('error', reset);
  b.on('error', reset);
}

/** The upstream socket of a probe relay to 127.0.0.1:PORT (`arg`). */
const upstreamTo = (extra = {}) => net.connect({ port: Number(arg), host: '127.0.0.1', allowHalfOpen: true, noDelay: true, ...extra });

function listen(server) {
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
  });
}

switch (mode) {
  case 'relay-domain':
    (await import('node:domain')).create();
  // falls through
  case 'relay-in-domain':
    // The server made inside a domain (as a node:repl command does): each callback of its sockets enters it.
    if (mode === 'relay-in-domain') (await import('node:domain')).create().enter();
  // falls through
  case 'relay':
    listen(
      net.createServer({ allowHalfOpen: true }, (client) => {
        client.setNoDelay(true);
        const upstream = upstreamTo();
        client.pipe(upstream);
        upstream.pipe(client);
        resetTogether(client, upstream);
      }),
    );
    break;
  case 'relay-onread':
    // Probe: the upstream side reads into one reused buffer (`onread`), each chunk copied before it is written.
    listen(
      net.createServer({ allowHalfOpen: true }, (client) => {
        client.setNoDelay(true);
        const upstream = upstreamTo({ onread: { buffer: Buffer.allocUnsafe(CHUNK), callback: (n, buf) => void client.write(Buffer.from(buf.subarray(0, n))) } });
        client.pipe(upstream);
        upstream.on('end', () => client.end());
        resetTogether(client, upstream);
      }),
    );
    break;
  case 'relay-reuse':
    // Probe: both sides read into one buffer each (onread) and write straight from it, no copy (what a relay
    // could do if nothing kept a chunk past its write; wrong if a write does not complete at once: a probe only).
    listen(
      net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (accepted) => {
        let upstream;
        const client = new net.Socket({
          handle: accepted._handle, allowHalfOpen: true,
          onread: { buffer: Buffer.allocUnsafe(CHUNK), callback: (n, buf) => upstream.write(buf.subarray(0, n)) || true },
        });
        accepted._handle = null;
        client.setNoDelay(true);
        upstream = upstreamTo({ onread: { buffer: Buffer.allocUnsafe(CHUNK), callback: (n, buf) => client.write(buf.subarray(0, n)) || true } });
        resetTogether(client, upstream);
      }),
    );
    break;
  case 'echo':
    listen(net.createServer((socket) => socket.pipe(socket)));
    break;
  case 'len16-echo':
    // The same work as socklab's --frame len16 --reply '{data}': cut, then frame each answer.
    listen(
      net.createServer((socket) => {
        let held = Buffer.alloc(0);
        socket.on('data', (chunk) => {
          let buf = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const n = buf.readUInt16BE(0);
            const message = buf.subarray(2, 2 + n);
            const out = Buffer.allocUnsafe(2 + n);
            out.writeUInt16BE(n, 0);
            message.copy(out, 2);
            socket.write(out);
            buf = buf.subarray(2 + n);
          }
          held = Buffer.from(buf);
        });
      }),
    );
    break;
  case 'sink':
    listen(net.createServer((socket) => socket.resume()));
    break;
  case 'sender': {
    const total = Number(arg);
    const chunk = Buffer.alloc(CHUNK, 'socklab bench payload 0123456789\n');
    listen(
      net.createServer((socket) => {
        const start = process.hrtime.bigint();
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            const n = Math.min(CHUNK, total - sent);
            sent += n;
            if (!socket.write(n === CHUNK ? chunk : chunk.subarray(0, n))) return void socket.once('drain', pump);
          }
          socket.end();
        };
        // The reader's FIN comes after it has read everything: that is the finish line.
        socket.on('end', () => {
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          process.stdout.write(`result ${JSON.stringify({ ms, bytes: sent })}\n`);
        });
        socket.on('error', (err) => process.stdout.write(`error ${err.code ?? err.message}\n`));
        socket.resume();
        pump();
      }),
    );
    break;
  }
  case 'reader': {
    const socket = net.connect(Number(arg), '127.0.0.1');
    socket.resume();
    socket.on('connect', () => process.stdout.write('connected\n'));
    socket.on('close', () => process.exit(0));
    socket.on('error', () => process.exit(1));
    break;
  }
  case 'line-echo':
    listen(
      net.createServer((socket) => {
        let rest = Buffer.alloc(0);
        socket.on('data', (chunk) => {
          let buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
          for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10)) {
            socket.write(buf.subarray(0, nl + 1));
            buf = buf.subarray(nl + 1);
          }
          rest = buf;
        });
      }),
    );
    break;
  case 'udp-echo': {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
    socket.bind(0, '127.0.0.1', () => process.stdout.write(`listening on 127.0.0.1:${socket.address().port}\n`));
    break;
  }
  case 'tls-echo': {
    const [cert, key] = [arg, process.argv[4]].map((f) => readFileSync(f));
    const server = tls.createServer({ cert, key }, (socket) => {
      socket.on('error', () => {});
      socket.pipe(socket);
    });
    server.on('tlsClientError', () => {});
    listen(server);
    break;
  }
  default:
    process.stderr.write(`node-peer.mjs: unknown mode ${mode}\n`);
    process.exit(2);
}
