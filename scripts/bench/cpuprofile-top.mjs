// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`).
//   node scripts/bench/cpuprofile-top.mjs FILE.cpuprofile [N] [--busy]
// --busy: percentages of the non-idle time (leaves out "(idle)").
// Also sums self time per file, and the inclusive time of socklab's own
// functions (dist/), which self time alone hides behind Node internals.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const busy = args.includes('--busy');
const [file, nArg] = args.filter((a) => a !== '--busy');
if (!file) {
  process.stderr.write('usage: node cpuprofile-top.mjs FILE.cpuprofile [N] [--busy]\n');
  process.exit(2);
}
const N = Number(nArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node: each sample's time delta goes to the node it hit.
const self = new Map();
const deltas = profile.timeDeltas ?? [];
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0)));

const short = (url) => url.replace(/^file:\/\/.*?\/(dist|scripts|node_modules)\//, '$1/').replace(/^node:/, 'node:');
const key = (cf) => `${cf.functionName || '(anonymous)'}  ${short(cf.url) || ''}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;

const fnSelf = new Map();
const fileSelf = new Map();
const inclusive = new Map();
let total = 0;
let idle = 0;
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  total += us;
  if (cf.functionName === '(idle)') idle += us;
  fnSelf.set(key(cf), (fnSelf.get(key(cf)) ?? 0) + us);
  const f = cf.url ? short(cf.url) : cf.functionName;
  fileSelf.set(f, (fileSelf.get(f) ?? 0) + us);
  // Inclusive time of dist/ functions: walk up once per distinct function.
  const seen = new Set();
  for (let p = id; p !== undefined; p = parent.get(p)) {
    const pcf = byId.get(p).callFrame;
    if (!pcf.url.includes('/dist/')) continue;
    const k = key(pcf);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}
const base = busy ? total - idle : total;
const pct = (us) => `${((100 * us) / base).toFixed(1).padStart(5)} %`;
const top = (map, n) => [...map].filter(([k]) => !(busy && k.startsWith('(idle)'))).sort((a, b) => b[1] - a[1]).slice(0, n);

console.log(`${file}: ${(total / 1e3).toFixed(0)} ms sampled, idle ${(idle / 1e3).toFixed(0)} ms; % of ${busy ? 'busy' : 'all'} time`);
console.log('\nself time by function:');
for (const [k, us] of top(fnSelf, N)) console.log(`${pct(us)}  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${k}`);
console.log('\nself time by file:');
for (const [k, us] of top(fileSelf, 12)) console.log(`${pct(us)}  ${k}`);
console.log('\ninclusive time of socklab (dist/) functions:');
for (const [k, us] of top(inclusive, 15)) console.log(`${pct(us)}  ${k}`);
