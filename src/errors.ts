/**
 * The one error class of socklab. Expected failures (bad input, unknown ids,
 * timeouts, refused expectations) are `SocklabError`s with a stable `code`;
 * operating-system errors keep their own code (`ECONNREFUSED`) on `cause`.
 */
export type SocklabErrorCode =
  | 'E_USAGE' // a command's words are off: missing or extra arguments
  | 'E_UNKNOWN_COMMAND'
  | 'E_UNKNOWN_ID'
  | 'E_BAD_OPTION'
  | 'E_BAD_PAYLOAD'
  | 'E_BAD_ADDRESS'
  | 'E_BAD_DURATION'
  | 'E_STATE' // the endpoint is not in a state that allows the operation
  | 'E_BUFFER_FULL' // queued outgoing bytes would pass the per-socket cap
  | 'E_LIMIT' // an input limit (line length, payload size) was passed
  | 'E_TIMEOUT'
  | 'E_CANCELLED' // the user stopped a wait (Ctrl+C)
  | 'E_EXPECT'
  | 'E_SCRIPT'
  | 'E_JS_REFUSED'
  | 'E_PERMISSION' // a script lacks --allow-js/--allow-read/--allow-write for what a line does
  | 'E_IO'
  | 'E_NET'; // an OS network error; the OS code is on `osCode`

export class SocklabError extends Error {
  override name = 'SocklabError';
  readonly code: SocklabErrorCode;
  /** The operating system's code (`ECONNREFUSED`) when one caused this. */
  readonly osCode: string | undefined;

  constructor(code: SocklabErrorCode, message: string, options?: { cause?: unknown; osCode?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.osCode = options?.osCode;
  }
}

export function isSocklabError(err: unknown): err is SocklabError {
  return err instanceof SocklabError;
}

/** The `code` of a Node system error, if it has one. */
export function osErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** A one-line message for any thrown value, without a stack trace. */
export function messageOf(err: unknown): string {
  // Not instanceof: errors thrown by script JavaScript come from another realm (vm context).
  if (err && typeof err === 'object' && 'message' in err && typeof err.message === 'string') return err.message;
  return String(err);
}
