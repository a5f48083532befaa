import { KEEPS_NO_BYTES } from '../session/manager.js';
import { closeSync, constants, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { SocklabError, messageOf } from '../errors.js';
import { HumanPrinter } from '../render/printer.js';
import { renderMermaid } from '../render/timeline.js';
import { renderTranscript } from '../render/transcript.js';
import type { Session } from '../session/session.js';
import { defaultSettings } from '../settings.js';

/** Most command lines a transcript keeps; later ones are counted, not kept. */
export const TRANSCRIPT_MAX_COMMANDS = 10_000;
/** Most characters of event log a transcript keeps. */
export const TRANSCRIPT_MAX_LOG = 4 * 1024 * 1024;

/** A transcript being taken of a session. */
export interface Transcript {
  /** The path it is written to. */
  readonly path: string;
  /** Stop listening and write the Markdown file. Throws `E_IO` when it cannot be written. */
  finish(): void;
}

const active = new WeakMap<Session, Transcript>();

/** The transcript being taken of `session`, if any. */
export function transcriptOf(session: Session): Transcript | undefined {
  return active.get(session);
}

/**
 * Start a transcript of `session` into `path` (already through the
 * permission check): from now on the command lines and the events are
 * kept, bounded (`TRANSCRIPT_MAX_COMMANDS`, `TRANSCRIPT_MAX_LOG`); `finish`
 * writes the Markdown (renderTranscript) with the session's timeline as a
 * Mermaid diagram. One per session: throws `E_STATE` when one is running.
 */
export function startTranscript(session: Session, path: string): Transcript {
  if (active.has(session)) throw new SocklabError('E_STATE', `already writing a transcript to ${active.get(session)?.path}: .transcript stop first`);
  const started = Date.now();
  const commands: string[] = [];
  let log = '';
  let dropped = { commands: 0, log: 0 };
  const printer = new HumanPrinter(defaultSettings({ time: true, color: false }), (text) => {
    if (log.length + text.length <= TRANSCRIPT_MAX_LOG) log += text;
    else dropped.log += text.length;
  });
  const offEvents = session.subscribe(printer.handle, KEEPS_NO_BYTES);
  const offCommands = session.subscribe((ev) => {
    if (ev.type !== 'command') return;
    if (commands.length < TRANSCRIPT_MAX_COMMANDS) commands.push(ev.line);
    else dropped.commands++;
  }, { types: ['command'] });
  const transcript: Transcript = {
    path,
    finish() {
      offEvents();
      offCommands();
      printer.close();
      active.delete(session);
      const parts = [dropped.commands > 0 && `${dropped.commands} later commands`, dropped.log > 0 && `${dropped.log} characters of later events`].filter(Boolean);
      const omitted = parts.length > 0 ? `left out at the transcript's bounds: ${parts.join(', ')}` : undefined;
      const markdown = renderTranscript({ started, commands, log, mermaid: renderMermaid(session.history.view), ...(omitted !== undefined && { omitted }) });
      dropped = { commands: 0, log: 0 };
      writeRegularFile(path, markdown);
    },
  };
  active.set(session, transcript);
  return transcript;
}

/** Write `text` to `path`, created or truncated; refuses what is not a regular file (a FIFO would block, a device would swallow it). */
function writeRegularFile(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NONBLOCK, 0o644);
  } catch (err) {
    throw new SocklabError('E_IO', `cannot write transcript ${path}: ${messageOf(err)}`, { cause: err });
  }
  try {
    if (!fstatSync(fd).isFile()) throw new SocklabError('E_IO', `cannot write transcript ${path}: not a regular file`);
    ftruncateSync(fd, 0);
    writeSync(fd, text, 0, 'utf8');
  } finally {
    closeSync(fd);
  }
}
