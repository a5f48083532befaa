import { SocklabError } from '../errors.js';
import { MAX_COLUMNS, MAX_ROWS, renderMermaid, renderTimeline } from '../render/timeline.js';
import { defineCommand } from './define.js';
import { explainTcpState } from '../render/kernel.js';

export const explain = defineCommand({
  name: 'explain',
  group: 'teaching',
  summary: 'after each event, a line that explains it (on | off); or what a TCP state means',
  args: { usage: '.explain on|off|STATE', positionals: ['MODE'], required: 0 },
  help:
    'For learners: what a FIN means and why the socket can still read, why ECONNREFUSED, what a timeout does and does not do. Data events are explained once per socket. ' +
    "While on, the kernel's TCP states that .show, .ls --tcp and .tcp print are explained too. `.explain TIME_WAIT` (or CLOSE_WAIT, FIN_WAIT2, … as ss or RFC 9293 write them) says what one state means.",
  examples: ['.explain on', '.explain off', '.explain TIME_WAIT'],
  run(ctx, a) {
    const mode = a.positionals[0] ?? (ctx.settings.explain ? 'off' : 'on');
    const state = explainTcpState(mode);
    if (state !== undefined) return ctx.print(state);
    if (mode !== 'on' && mode !== 'off') throw new SocklabError('E_USAGE', `.explain takes on or off (or a TCP state such as TIME_WAIT), not "${mode}"`);
    ctx.settings.explain = mode === 'on';
    ctx.print(`explanations ${mode}`);
  },
});

export const timeline = defineCommand({
  name: 'timeline',
  group: 'teaching',
  summary: 'the session so far as a sequence diagram (--mermaid for slides)',
  args: {
    usage: '.timeline [ID…] [--mermaid]',
    positionals: ['ID', 'ID', 'ID', 'ID', 'ID', 'ID', 'ID', 'ID'],
    required: 0,
    options: {
      mermaid: { type: 'flag', help: 'print a Mermaid sequenceDiagram instead' },
      last: { type: 'int', value: 'N', min: 1, help: `draw only the newest N rows (at most ${MAX_ROWS})` },
    },
  },
  help:
    'Sockets are columns; arrows are connects, bytes (with counts), FIN (╌) and RST (×). Bytes between two sockets of this session are drawn once, from the sender. ' +
    `Name sockets to draw only those. At most ${MAX_COLUMNS} columns and the newest ${MAX_ROWS} rows are drawn; the first line says what was left out.`,
  examples: ['.timeline', '.timeline c1 c2', '.timeline --last 20', '.timeline --mermaid'],
  run(ctx, a) {
    const only = a.positionals.length > 0 ? new Set(a.positionals.map((ref) => ctx.session.get(ref).id)) : undefined;
    const { view: steps, dropped } = ctx.session.history;
    const note = dropped > 0 ? `(the first ${dropped} steps are no longer kept)\n` : '';
    const limits = { rows: a.options.last as number | undefined };
    ctx.print(note + (a.options.mermaid === true ? renderMermaid(steps, only, limits) : renderTimeline(steps, only, limits)));
  },
});

export const attach = defineCommand({
  name: 'attach',
  group: 'data',
  summary: 'type lines straight into a socket, like telnet (.detach or Ctrl+] returns)',
  args: { usage: '.attach ID', positionals: ['ID'] },
  help: 'Every plain line you type is sent to ID with the session end-of-line (.set eol). Dot-commands still work. The prompt shows the socket.',
  examples: ['.attach c1', '.detach'],
  run(ctx, a) {
    if (!ctx.repl) throw new SocklabError('E_USAGE', '.attach works in the interactive REPL only; scripts use .sendln');
    const ep = ctx.session.getSocket(a.positionals[0] ?? '');
    if (ep.socket.destroyed || ep.socket.writableEnded) throw new SocklabError('E_STATE', `cannot attach to ${ep.id}: it is ${ep.state}`);
    ctx.repl.attach(ep);
    ctx.print(`attached to ${ep.id}: lines you type go to it (.detach or Ctrl+] to return)`);
  },
});

export const detach = defineCommand({
  name: 'detach',
  group: 'data',
  summary: 'stop sending typed lines to the attached socket',
  args: { usage: '.detach', positionals: [] },
  examples: ['.detach'],
  run(ctx) {
    const ep = ctx.repl?.detach();
    ctx.print(ep ? `detached from ${ep.id}` : 'not attached to anything');
  },
});
