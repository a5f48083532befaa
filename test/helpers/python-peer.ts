/**
 * A real peer in Python for tests of what socklab says happened on the wire:
 * Python's socket module reports what the kernel reports (ConnectionResetError
 * for an RST, b'' for a FIN), without Node's and libuv's view in between.
 * The peer takes commands on stdin, one per line, and answers on stdout.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { track } from './loopback.js';

// listen: print the port, accept one connection, then obey stdin:
//   send N          sendall N bytes of 'x'
//   rst             close with SO_LINGER {1,0}: an RST, whatever is queued
//   fin             shutdown(SHUT_WR) and close: a FIN
//   read            read to the end; print "EOF n", or "RESET n" on ConnectionResetError
//   chunks          like read, but print each recv's size as "chunk n" (write boundaries)
const SCRIPT = String.raw`
import socket, struct, sys
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(1)
print('port', ls.getsockname()[1], flush=True)
s, _ = ls.accept()
print('accepted', flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == 'send':
        s.sendall(b'x' * int(cmd[1])); print('sent', flush=True)
    elif cmd[0] == 'rst':
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close(); print('closed', flush=True)
    elif cmd[0] == 'fin':
        s.shutdown(socket.SHUT_WR); s.close(); print('closed', flush=True)
    elif cmd[0] in ('read', 'chunks'):
        got = 0
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    print('EOF', got, flush=True); break
                got += len(b)
                if cmd[0] == 'chunks': print('chunk', b.decode('latin1').encode('unicode_escape').decode(), flush=True)
        except ConnectionResetError:
            print('RESET', got, flush=True)
`;

export interface PythonPeer {
  port: number;
  /** Send a command line; resolves with the next output line that starts with one of `answers`. */
  ask(command: string, answers: string[]): Promise<string>;
  /** Every line printed so far. */
  lines: string[];
  /** Resolves once the peer accepted a connection. */
  accepted: Promise<string>;
}

/** Start a Python server peer on 127.0.0.1, port 0; stopped by closeAll. */
export async function pythonPeer(): Promise<PythonPeer> {
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-u', '-c', SCRIPT]);
  track(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
      await once(child, 'exit');
    }
  });
  const lines: string[] = [];
  const waiters: Array<{ prefixes: string[]; resolve: (line: string) => void }> = [];
  let seen = 0;
  let buffer = '';
  const deliver = (): void => {
    for (const w of [...waiters]) {
      const found = lines.slice(seen).find((l) => w.prefixes.some((p) => l.startsWith(p)));
      if (found !== undefined) {
        seen = lines.indexOf(found, seen) + 1;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
    deliver();
  });
  const next = (prefixes: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      waiters.push({ prefixes, resolve });
      child.once('exit', () => reject(new Error(`python peer exited; it printed:\n${lines.join('\n')}`)));
      deliver();
    });
  const port = Number((await next(['port'])).split(' ')[1]);
  return {
    port,
    lines,
    accepted: next(['accepted']),
    ask(command, answers) {
      const answer = next(answers);
      child.stdin.write(`${command}\n`);
      return answer;
    },
  };
}
