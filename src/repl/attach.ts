import type { REPLServer } from 'node:repl';
import type { SocketEndpoint } from '../endpoints/tcp-types.js';
import { isLive } from '../session/endpoint.js';
import { sendTo } from '../endpoints/tcp-send.js';
import type { Session } from '../session/session.js';
import { EOL_BYTES, type Settings } from '../settings.js';
import { messageOf } from '../errors.js';
import { quotePayload, succeeded } from '../script/succeeded.js';

/** Ctrl+] — telnet's escape character. */
export const DETACH_KEY = '\x1d';

/**
 * Telnet-style typing: while attached, a plain line goes to the socket with
 * the session end-of-line instead of being evaluated as JavaScript.
 */
export class Attachment {
  private target: SocketEndpoint | undefined;

  constructor(
    private readonly server: REPLServer,
    private readonly session: Session,
    private readonly settings: Settings,
    private readonly prompt: string,
  ) {}

  get attached(): boolean {
    return this.target !== undefined;
  }

  attach(ep: SocketEndpoint): void {
    this.target = ep;
    this.server.setPrompt(`${ep.alias ?? ep.id}> `);
  }

  detach(): SocketEndpoint | undefined {
    const was = this.target;
    this.target = undefined;
    this.server.setPrompt(this.prompt);
    return was;
  }

  /** Send a typed line if attached; false when the line is JavaScript after all. */
  send(code: string): boolean {
    const ep = this.target;
    if (!ep) return false;
    const line = code.endsWith('\n') ? code.slice(0, -1) : code;
    if (!isLive(ep)) {
      this.detach();
      this.fail(line, `${ep.id} is ${ep.state}: detached`);
      return true;
    }
    // On a framed socket (`--frame`) a typed line is one message: the framing ends it, not the end-of-line.
    let data: Buffer;
    try {
      data = ep.frame ? ep.frame.encode(Buffer.from(line, 'utf8')) : Buffer.from(line + EOL_BYTES[this.settings.eol], 'utf8');
    } catch (err) {
      this.fail(line, messageOf(err));
      return true;
    }
    // `.record` keeps the line as the `.sendln` (framed: `.send`) it was: a script has no `.attach`.
    sendTo(this.session, [ep], data).then(
      () => succeeded(this.session, `${ep.frame ? '.send' : '.sendln'} ${ep.alias ?? ep.id} ${quotePayload(line)}`),
      (err: unknown) => this.fail(line, messageOf(err)),
    );
    return true;
  }

  private fail(line: string, message: string): void {
    this.session.emit({ type: 'command-error', t: this.session.now(), line, code: 'E_STATE', message });
  }
}
