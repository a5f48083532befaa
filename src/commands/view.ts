import { SocklabError } from '../errors.js';
import { isLive, kindOf, refusal, type Endpoint } from '../session/endpoint.js';
import { EOL_BYTES, VIEWS, type Eol, type Settings, type View } from '../settings.js';
import { formatAge, formatBytes, formatTable, formatCount } from '../render/units.js';
import { escapeMessage } from '../render/escape.js';
import { defineCommand } from './define.js';
import { kernelSection, withKernelColumns } from './tcp.js';

function row(ep: Endpoint, now: number): string[] {
  const age = formatAge((ep.closedAt ?? now) - ep.createdAt);
  const r = kindOf(ep).row(ep);
  const bytes = (n: number | undefined): string => (n === undefined ? '' : formatBytes(n));
  return [ep.id, ep.alias ?? '', r.label, r.local, r.remote, r.state, bytes(r.bytesIn), bytes(r.bytesOut), bytes(r.queued), age];
}

/** Rows `.ls` shows before it summarises the rest (a screenful). */
export const LS_ROWS = 40;

/** `4,980 open, 12 closed` — what the rows left out of the table are doing. */
function summarise(eps: Endpoint[]): string {
  const states = new Map<string, number>();
  for (const ep of eps) states.set(ep.state, (states.get(ep.state) ?? 0) + 1);
  return [...states].map(([state, n]) => `${formatCount(n)} ${state}`).join(', ');
}

export const ls = defineCommand({
  name: 'ls',
  group: 'view',
  summary: 'table of every endpoint: addresses, state, bytes, age',
  args: {
    usage: '.ls [sN] [--open] [--all] [--tcp]',
    positionals: ['SERVER'],
    required: 0,
    options: {
      open: { type: 'flag', help: 'only endpoints still open' },
      all: { type: 'flag', help: `every row, even past ${LS_ROWS}` },
      tcp: { type: 'flag', help: "the kernel's view of TCP connections (ss, Linux): state, recv-q, send-q, rtt, cwnd, retransmits" },
    },
  },
  help:
    'in/out count bytes received and sent; queued is what Node holds because the kernel would not take it yet (a peer that does not read makes it grow). ' +
    "--tcp adds what the kernel says (one ss call): its TCP state (ESTABLISHED, FIN_WAIT2, CLOSE_WAIT, TIME_WAIT…), bytes not read yet (recv-q) and not acknowledged (send-q), smoothed RTT, congestion window (segments) and retransmits; - when the kernel holds nothing for it. " +
    `\`.ls s1\` lists s1 and its connections. Past ${LS_ROWS} rows the open ones come first, then the most recently closed; the rest is summarised by state.`,
  examples: ['.ls', '.ls s1', '.ls --open --tcp'],
  async run(ctx, a) {
    const filter = a.positionals[0];
    let eps = ctx.session.list();
    if (filter !== undefined) {
      const one = ctx.session.get(filter);
      const kind = kindOf(one);
      if (kind.owns === undefined) throw new SocklabError('E_USAGE', `${filter} is a ${kind.noun}: this needs a server (s1, s2, …)`);
      eps = eps.filter((ep) => ep === one || kind.owns!(one, ep));
    }
    if (a.options.open === true) eps = eps.filter(isLive);
    if (eps.length === 0) {
      ctx.print('nothing yet: .listen 0 starts a server, .connect PORT opens a socket');
      return;
    }
    let header = ['id', 'name', 'kind', 'local', 'remote', 'state', 'in', 'out', 'queued', 'age'];
    const shown = a.options.all === true || eps.length <= LS_ROWS ? eps : firstRows(eps, LS_ROWS);
    // With --tcp the rows are taken once ss has answered, so they are as true as the kernel's columns when they print.
    const rowsNow = (): string[][] => {
      const now = Date.now();
      return shown.map((ep) => row(ep, now));
    };
    let rows: string[][];
    let [before, after] = ['', ''];
    if (a.options.tcp === true) ({ header, rows, before, after } = await withKernelColumns(shown, header, rowsNow, ctx.settings.explain));
    else rows = rowsNow();
    let text = before + formatTable([header, ...rows]);
    if (shown.length < eps.length) {
      const kept = new Set(shown);
      const rest = eps.filter((ep) => !kept.has(ep));
      text += `\n… ${formatCount(rest.length)} more (${summarise(rest)}): .ls sN for one server, .ls --open, .ls --all for every row`;
    }
    ctx.print(escapeMessage(text + after));
  },
});

/**
 * The rows `.ls` shows when there are more than `n`: every live endpoint first
 * (in order of creation), then the closed ones, most recently closed first.
 */
export function firstRows(eps: Endpoint[], n: number): Endpoint[] {
  const live = eps.filter(isLive);
  const closed = eps.filter((ep) => !isLive(ep)).sort((x, y) => (y.closedAt ?? 0) - (x.closedAt ?? 0));
  return [...live, ...closed].slice(0, n);
}

export const show = defineCommand({
  name: 'show',
  group: 'view',
  summary: 'everything about one endpoint',
  args: { usage: '.show ID', positionals: ['ID'] },
  help:
    "A TCP connection gets a kernel section from ss (iproute2, Linux): the kernel's TCP state, its queues, RTT, congestion window and retransmits; " +
    'after a close, whether its side waits in TIME_WAIT. With `.explain on` a line says what the state means.',
  examples: ['.show c1', '.show s1'],
  async run(ctx, a) {
    const ep = ctx.session.get(a.positionals[0] ?? '');
    const kernel = await kernelSection(ep, ctx.settings.explain);
    // The snapshot is taken once ss has answered: events that came meanwhile print above it, so what it says is true when it appears.
    const lines: Array<[string, unknown]> = [['id', ep.id], ['name', ep.alias ?? '-'], ['state', ep.state], ['age', formatAge((ep.closedAt ?? Date.now()) - ep.createdAt)]];
    lines.push(...kindOf(ep).details(ep));
    lines.push(...kernel);
    const opts = Object.entries(ep.options).filter(([, v]) => v !== undefined && v !== false);
    lines.push(['options', opts.map(([k, v]) => `${k}=${Buffer.isBuffer(v) ? JSON.stringify(v.toString()) : String(v)}`).join(' ') || '-']);
    ctx.print(escapeMessage(lines.map(([k, v]) => `${k.padEnd(17)}${String(v)}`).join('\n')));
  },
});

export const view = defineCommand({
  name: 'view',
  group: 'view',
  summary: 'how data events show bytes: text, hex, both or off',
  args: { usage: '.view text|hex|both|off [ID]', positionals: ['MODE', 'ID'], required: 1 },
  help: 'hex is the `hexdump -C` layout, offsets running on per socket and direction. With an ID, only that socket.',
  examples: ['.view hex', '.view both c1', '.view off'],
  run(ctx, a) {
    const [mode = '', ref] = a.positionals;
    if (!(VIEWS as readonly string[]).includes(mode)) throw new SocklabError('E_USAGE', `unknown view "${mode}": use text, hex, both or off`);
    if (ref === undefined) {
      // The session's view replaces every per-socket one: `.view off` quiets everything.
      ctx.settings.view = mode as View;
      ctx.settings.views.clear();
    }
    else {
      const ep = ctx.session.get(ref);
      if (!kindOf(ep).receives) throw refusal(ep, 'view');
      ctx.settings.views.set(ep.id, mode as View);
    }
  },
});

const SETTERS: Record<string, { values: string; apply(s: Settings, v: string): boolean }> = {
  eol: { values: 'lf | crlf | cr | none', apply: (s, v) => Object.hasOwn(EOL_BYTES, v) && ((s.eol = v as Eol), true) },
  time: { values: 'on | off', apply: (s, v) => onOff(v, (b) => (s.time = b)) },
  color: { values: 'on | off', apply: (s, v) => onOff(v, (b) => (s.color = b)) },
  maxbytes: { values: 'a number of bytes ≥ 1', apply: (s, v) => /^\d+$/.test(v) && Number(v) >= 1 && ((s.maxbytes = Number(v)), true) },
};

function onOff(v: string, set: (b: boolean) => void): boolean {
  if (v !== 'on' && v !== 'off') return false;
  set(v === 'on');
  return true;
}

export const set = defineCommand({
  name: 'set',
  group: 'view',
  summary: 'session settings: eol, time, maxbytes, color',
  args: { usage: '.set [KEY VALUE]', positionals: ['KEY', 'VALUE'], required: 0 },
  help: 'eol lf|crlf|cr|none (what .sendln and .attach append; cr for devices that want CR-only lines), time on|off (timestamps), maxbytes N (bytes shown per data event), color on|off. Without arguments: the current values.',
  examples: ['.set eol crlf', '.set maxbytes 1024', '.set time off'],
  run(ctx, a) {
    const [key, value] = a.positionals;
    const s = ctx.settings;
    if (key === undefined) {
      ctx.print(`eol ${s.eol}\ntime ${s.time ? 'on' : 'off'}\nmaxbytes ${s.maxbytes}\ncolor ${s.color ? 'on' : 'off'}\nview ${s.view}`);
      return;
    }
    // Own keys only: `.set constructor x` must not find Object's own properties.
    const setter = Object.hasOwn(SETTERS, key) ? SETTERS[key] : undefined;
    if (!setter) throw new SocklabError('E_USAGE', `unknown setting "${key}": use ${Object.keys(SETTERS).join(', ')}`);
    if (value === undefined || !setter.apply(s, value)) throw new SocklabError('E_USAGE', `.set ${key} takes ${setter.values}`);
  },
});
