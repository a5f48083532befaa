/** Why an OS error happened, in words a learner can act on. Keyed by the OS code. */
export const ERROR_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there',
  EADDRINUSE: 'another server already listens on that port: pick another, or 0 for any free one',
  EACCES: 'not allowed: ports below 1024 need privileges (use a port ≥ 1024); a socket file needs a directory you may write to',
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
};
