import { escapeMessage } from './escape.js';

/** What a transcript shows: the lines run, the event log, the sequence diagram. */
export interface TranscriptContent {
  /** When the transcript started (ms since the epoch). */
  started: number;
  /** The command lines, in order (dot-commands and JavaScript as run). */
  commands: string[];
  /** The events as the human printer wrote them (escaped per line). */
  log: string;
  /** A Mermaid `sequenceDiagram` (renderMermaid), without a fence. */
  mermaid: string;
  /** Set when the commands or the log were cut at their bound: what was left out. */
  omitted?: string;
}

/**
 * A session as Markdown (SPEC section 13): a heading, the commands and the
 * events each in a fenced `text` block, and a fenced `mermaid` block. Pure.
 * Safe for any Markdown renderer, GitHub's included: everything that came
 * from a peer or a command is inside a fence, each fence longer than the
 * longest run of backticks in its content (so nothing can close it), and
 * its text is escaped for the terminal first (no control characters). So a
 * peer cannot add a link, HTML, an image or a heading, nor end the block.
 * In the diagram's labels `<`, `>` and `&` are Mermaid entity codes, so the
 * diagram renderer never sees markup either.
 */
export function renderTranscript(c: TranscriptContent): string {
  const when = new Date(c.started).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const parts = [
    `# socklab session, ${when}`,
    '',
    ...(c.omitted === undefined ? [] : [`_${markdownText(c.omitted)}_`, '']),
    '## Commands',
    '',
    fenced('text', c.commands.map((l) => escapeMessage(l).replace(/\n/g, '\\n')).join('\n')),
    '',
    '## Events',
    '',
    fenced('text', c.log.replace(/\n$/, '').split('\n').map((l) => escapeMessage(l)).join('\n')),
    '',
    '## Sequence diagram',
    '',
    fenced('mermaid', mermaidSafe(c.mermaid)),
    '',
  ];
  return parts.join('\n');
}

/** A fenced block whose fence is longer than any backtick run in `body` (CommonMark 4.5). */
export function fenced(info: string, body: string): string {
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}

/** Text outside a fence (a note we write ourselves): every Markdown punctuation character escaped. */
function markdownText(s: string): string {
  return escapeMessage(s).replace(/[\\`*_{}[\]()#+\-.!<>&|~]/g, (c) => `\\${c}`);
}

/** The labels of a Mermaid diagram with `<`, `>` and `&` as Mermaid entity codes (`#60;`): no markup reaches its renderer. */
function mermaidSafe(diagram: string): string {
  const entity = (s: string) => s.replace(/[<>&]/g, (c) => `#${c.charCodeAt(0)};`);
  return diagram
    .split('\n')
    .map((line) => {
      const participant = /^(\s*participant \w+ as )(.*)$/.exec(line);
      if (participant) return `${participant[1]}${entity(participant[2] ?? '')}`;
      const label = /^(\s*(?:Note over \w+|\w+(?:-->>|->>|-x)\w+): )(.*)$/.exec(line);
      return label ? `${label[1]}${entity(label[2] ?? '')}` : line;
    })
    .join('\n');
}
