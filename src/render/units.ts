const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `512 B`, `1.5 KiB`, `1.2 GiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${UNITS[u]}`;
}

/** `1,234,567` — counts people read at a glance. (Not toLocaleString: its first call loads ICU, on the data path.) */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `850ms`, `12.3s`, `4m05s`, `2h10m`. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

let clockSecond = -1;
let clockPrefix = '';
let clockT = Number.NaN;
let clockText = '';

/**
 * `HH:MM:SS.mmm` in local time. (The `HH:MM:SS.` of the last second is reused,
 * and the whole text of the last millisecond: this runs per line, and the
 * accepted, FIN and closed lines of one connection often share a millisecond.)
 */
export function formatClock(t: number): string {
  if (t === clockT) return clockText;
  const second = Math.floor(t / 1000);
  if (second !== clockSecond) {
    const d = new Date(t);
    const p = (n: number) => String(n).padStart(2, '0');
    clockSecond = second;
    clockPrefix = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.`;
  }
  clockT = t;
  clockText = clockPrefix + String(t - second * 1000).padStart(3, '0');
  return clockText;
}

/** Lay rows out in columns (first row is the header). */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}
