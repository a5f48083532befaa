// Rows of the result table and its plain-text rendering.

/**
 * One row: ratio = socklab / baseline. `better` says which way is good:
 * 'higher' (throughput, rates: ok when ratio ≥ target) or 'lower' (memory,
 * time: ok when ratio ≤ target). `strict` makes the comparison > / <.
 */
export function row(metric, unit, baseline, socklab, better, target, baseName = 'node', strict = false) {
  const ratio = socklab / baseline;
  const ok = !Number.isFinite(ratio)
    ? false
    : better === 'higher'
      ? strict ? ratio > target : ratio >= target
      : strict ? ratio < target : ratio <= target;
  const op = better === 'higher' ? (strict ? '>' : '≥') : strict ? '<' : '≤';
  return { metric, unit, baseName, baseline, socklab, ratio, target: `${op} ${target}×`, ok };
}

/** A row with an absolute target and no baseline (the script timing). */
export function absolute(metric, unit, value, limit, note) {
  return { metric, unit, baseName: '', baseline: NaN, socklab: value, ratio: NaN, target: `< ${limit} ${unit}`, ok: value < limit, note };
}

/** A row that informs and has no target (CPU per GiB beside a noisy MiB/s). */
export function info(metric, unit, baseline, socklab, baseName = 'node') {
  return { metric, unit, baseName, baseline, socklab, ratio: socklab / baseline, target: '(info)', ok: undefined };
}

export function skipped(metric, why) {
  return { metric, unit: '', baseName: '', baseline: NaN, socklab: NaN, ratio: NaN, target: '', ok: undefined, note: why };
}

export function failed(metric, err) {
  return { metric, unit: '', baseName: '', baseline: NaN, socklab: NaN, ratio: NaN, target: '', ok: false, note: `failed: ${String(err?.message ?? err).split('\n')[0]}` };
}

function num(v, unit) {
  if (!Number.isFinite(v)) return '—';
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`.trim();
}

/** The table as aligned text (also valid Markdown). */
export function render(rows) {
  const head = ['metric', 'baseline', 'socklab', 'ratio', 'target', 'ok?'];
  const body = rows.map((r) => [
    r.metric,
    Number.isFinite(r.baseline) ? `${num(r.baseline, r.unit)} (${r.baseName})` : '—',
    num(r.socklab, r.unit),
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : '—',
    r.target,
    (r.ok === undefined ? (r.target === '(info)' ? '' : 'skip') : r.ok ? 'yes' : 'NO') + (r.note ? ` (${r.note})` : ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
