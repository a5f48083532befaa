import { FAULT_KINDS } from '../behaviours/faults/index.js';
import { kindUsage, parseFault } from '../behaviours/faults/parse.js';
import { addFault, faultsOf, freeName, linksWith, removeFault, type RelayFault } from '../behaviours/faults/relay-faults.js';
import type { RelayEndpoint } from '../endpoints/relay-types.js';
import { SocklabError } from '../errors.js';
import { readToken, type ParsedArgs } from '../parse/command-line.js';
import { formatTable } from '../render/units.js';
import { kindOf } from '../session/endpoint.js';
import type { Session } from '../session/session.js';
import { defineCommand } from './define.js';

const USAGE = '.fault pN [--up|--down] KIND [params] [--toxicity P] [as NAME] | .fault pN | .fault pN off NAME|all';
const NAME = /^[A-Za-z_][\w-]{0,31}$/;
const DIR_WORDS = { up: 'up (client → target)', down: 'down (target → client)', both: 'both ways' } as const;

/** What the words after pN ask for: a list, a removal, or a fault to add (checked). */
function read(a: ParsedArgs): { list: true } | { off: string } | { add: ReturnType<typeof parseFault>; name: string | undefined } {
  const words = a.positionals[1];
  const before = { up: a.options.up === true, down: a.options.down === true, toxicity: a.options.toxicity as string | undefined };
  if (words === undefined) {
    if (before.up || before.down || before.toxicity !== undefined || a.alias !== undefined) throw new SocklabError('E_USAGE', `missing KIND (${[...FAULT_KINDS.keys()].join(', ')}) — usage: ${USAGE}`);
    return { list: true };
  }
  const first = readToken(words, 0);
  const rest = words.slice(first.end);
  if (first.value === 'off') {
    const target = rest.trim();
    if (before.up || before.down || before.toxicity !== undefined || a.alias !== undefined || !/^\S+$/.test(target)) throw new SocklabError('E_USAGE', `.fault pN off takes one fault name, or all — usage: ${USAGE}`);
    return { off: target };
  }
  if (a.alias !== undefined && (!NAME.test(a.alias) || a.alias === 'all' || a.alias === 'off')) {
    throw new SocklabError('E_USAGE', `bad fault name "${a.alias}": letters, digits, _ and - (up to 32, starting with a letter), not all or off`);
  }
  return { add: parseFault(first.value, rest, before), name: a.alias };
}

/** The note (emitted on the next tick) is out before the next line of a script runs. */
function noted(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function relayOf(session: Session, ref: string): RelayEndpoint {
  const ep = session.get(ref);
  if (ep.kind !== 'relay') throw new SocklabError('E_USAGE', `${ref} is a ${kindOf(ep).noun}: faults go on a relay (p1, made by .proxy)`);
  return ep;
}

function describe(f: RelayFault): string {
  return `${f.kind.name} ${f.kind.describe(f.params)}`;
}

function listing(relay: RelayEndpoint): string {
  const faults = faultsOf(relay);
  if (faults.length === 0) return `${relay.id}: no faults (.fault ${relay.id} latency 200 adds one; .help fault lists the kinds)`;
  const rows = faults.map((f) => {
    const on = linksWith(relay, f).map((l) => `${l.client.id} ⇄ ${l.target.id}`);
    return [f.name, describe(f), f.dirs, String(f.toxicity), `${on.length} of ${relay.links.size}${on.length > 0 && on.length <= 4 ? ` (${on.join(', ')})` : ''}`];
  });
  return formatTable([['name', 'fault', 'dir', 'toxicity', 'live links'], ...rows]);
}

const kindLines = [...FAULT_KINDS.values()].map((k) => `  ${kindUsage(k)} — ${k.summary}${k.differs ? ` [toxiproxy: ${k.differs}]` : ''}`);

export const fault = defineCommand({
  name: 'fault',
  group: 'endpoints',
  summary: "shape a relay's links: latency, bandwidth, slicer, limit, reset, timeout, slow-close, drop",
  args: {
    usage: USAGE,
    positionals: ['RELAY', 'KIND'],
    required: 1,
    rest: true,
    alias: true,
    options: {
      up: { type: 'flag', help: 'only client → target' },
      down: { type: 'flag', help: 'only target → client' },
      toxicity: { type: 'string', value: 'P', help: 'the chance (0–1) that a link gets it (default 1); also after KIND' },
    },
  },
  help:
    'Adds a fault (a toxiproxy "toxic") to every link of relay pN, now and for each link it makes later; --up is client → target, ' +
    '--down target → client, default both. Faults apply in the order added. --toxicity P (0–1) is the chance each link gets it: one draw ' +
    'per link, both directions together (toxiproxy draws per direction, again when its chain changes). A relay event a fault changed names it: ' +
    '`p1  c3 ⇒ c4  5 B (latency)`. `.fault pN` lists the faults in force; `.fault pN off NAME|all` removes them from live links at once ' +
    '(bytes they hold go on, in order). The name is the kind (latency, latency2, …) unless `as NAME`. Kinds (MS takes 500, 500ms, 2s):\n' +
    kindLines.join('\n'),
  examples: ['.fault p1 latency 200 --jitter 50', '.fault p1 --down slicer --size 8 --delay 20ms as chop', '.fault p1 off all'],
  check(a) {
    read(a);
  },
  run(ctx, a) {
    const relay = relayOf(ctx.session, a.positionals[0] ?? '');
    const what = read(a);
    if ('list' in what) return ctx.print(listing(relay));
    if (relay.closedAt !== undefined) throw new SocklabError('E_STATE', `${relay.id} is closed: it has no links to shape`);
    if ('off' in what) {
      const gone = removeFault(relay, what.off);
      const names = gone.map((f) => f.name).join(', ');
      ctx.session.note(relay.id, gone.length === 0 ? 'no faults to remove' : `removed fault${gone.length === 1 ? '' : 's'} ${names} (live links at once)`);
      return noted();
    }
    const f = addFault(relay, what.name ?? freeName(relay, what.add.kind.name), what.add);
    const chance = f.toxicity < 1 ? `, toxicity ${f.toxicity}` : '';
    ctx.session.note(relay.id, `fault ${f.name}: ${describe(f)}, ${DIR_WORDS[f.dirs]}${chance}, on ${f.got} of ${relay.links.size} live link${relay.links.size === 1 ? '' : 's'} and each new one`);
    return noted();
  },
});
