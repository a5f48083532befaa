import { tlsFailure } from '../protocols/tls-failures.js';

/** Why an OS error happened, in words a learner can act on. Keyed by the OS code. */
export const ERROR_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there',
  EADDRINUSE: 'another server already listens on that port: pick another, or 0 for any free one',
  EACCES: 'not allowed: ports below 1024 need privileges (use a port ≥ 1024)',
  EPERM: 'not allowed by the system',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the name server did not answer',
  ECONNRESET: 'the peer aborted the connection with a reset (RST)',
  EPIPE: 'the peer has closed its side and reads no more',
  ETIMEDOUT: 'no answer in time',
  EADDRNOTAVAIL: 'this machine has no such address',
  EHOSTUNREACH: 'no route to that host',
  ENETUNREACH: 'no route to that network',
  EMFILE: 'too many open files: close some sockets or raise `ulimit -n`',
  ENFILE: 'the system is out of file handles',
  ENOENT: 'no such socket file',
  EHTTP: 'answered with an error status',
  EMSGSIZE: 'the datagram is larger than UDP or the path can carry: send less per datagram',
};

/**
 * Hints for a code in a situation where the one above would be wrong, keyed
 * `CODE/context` (the context of an error event, see ErrorContext).
 */
export const CONTEXT_HINTS: Record<string, string> = {
  'EADDRINUSE/socket-file-stale':
    'the socket file exists, but nothing answers on it (left by a process that ended without removing it): remove the file (rm PATH) and listen again',
  'ECONNREFUSED/socket-file-stale': 'the socket file exists, but no server listens on it (a stale file left by a process that ended)',
  'EADDRINUSE/socket-file-live': 'the socket file exists and a server answers on it: pick another path, or stop that server',
  'EADDRINUSE/socket-path-not-socket': 'a Unix socket is created as a new file; socklab never touches a file that is not a socket',
  'ECONNREFUSED/socket-path-not-socket': 'only a socket file can be connected to; a server creates one where nothing exists yet',
  'ENOENT/socket-dir': 'the directory of that socket file does not exist: create it, or pick a path in an existing directory',
  'EACCES/socket-dir': 'the directory of that socket file does not exist: create it, or pick a path in an existing directory',
  'EACCES/socket-dir-denied': 'no permission to create a file in that directory: pick a directory you may write to',
  'EADDRINUSE/local-port': 'that local port is in use (by a server, or a connection to the same address): pick another --local-port, or leave it out',
  'ECONNREFUSED/udp': 'an ICMP port unreachable came back: no socket is bound to that port there; UDP learns it only on a connected socket',
  'EADDRNOTAVAIL/local-port':
    'that local port is still in use towards this address (a connection on it, or one in TIME_WAIT): pick another --local-port, or leave it out',
};

/** The hint for an error: the one for its situation, else the one for its code. */
export function errorHint(code: string, context?: string): string | undefined {
  return (context === undefined ? undefined : CONTEXT_HINTS[`${code}/${context}`]) ?? ERROR_HINTS[code] ?? tlsFailure(code)?.hint;
}
