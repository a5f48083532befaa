// A tiny line protocol server to test in CI (examples/ci, docs/ci.md).
// Greets each client, then answers line by line:
//   PING → PONG,  ECHO <text> → <text>,  TIME → the server's clock,  QUIT → BYE and close.
// Listens on 127.0.0.1:$PORT (0 = any free port) and prints "listening on PORT".
import net from 'node:net';

const server = net.createServer((socket) => {
  socket.setEncoding('utf8');
  socket.write('HELLO demo-server 1.0\r\n');
  let buffered = '';
  socket.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      if (line === 'PING') socket.write('PONG\r\n');
      else if (line.startsWith('ECHO ')) socket.write(`${line.slice(5)}\r\n`);
      else if (line === 'TIME') socket.write(`${new Date().toISOString()}\r\n`);
      else if (line === 'QUIT') socket.end('BYE\r\n');
      else socket.write(`ERR unknown command\r\n`);
    }
  });
  socket.on('error', () => {});
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
