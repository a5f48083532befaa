import type { SuiteResult } from '../script/test-suite.js';
import type { TestResult } from '../script/test-file.js';
import { escapeMessage } from './escape.js';

/**
 * Pure renderers of a test run (SPEC section 13) for people and for TAP
 * readers. Every name and message is escaped for the terminal first: a
 * peer's bytes quoted in a failure cannot act on it.
 */

/** `12 ms`, `1.23 s`: how long a file or a run took. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

const MARK = { passed: 'PASS', failed: 'FAIL', refused: 'FAIL' } as const;

/** The line for one finished file: `PASS a.lab (12 ms)` or `FAIL b.lab (35 ms) b.lab:3: expect …`. */
export function humanResultLine(r: TestResult): string {
  const head = `${MARK[r.status]} ${escapeMessage(r.file)} (${formatDuration(r.ms)})`;
  return r.failure === undefined ? head : `${head}  ${escapeMessage(r.failure).replace(/\n/g, " ")}${r.status === 'refused' ? ' [refused before it ran]' : ''}`;
}

/** Each failed file's log, indented under its name: what a CI log reader needs after the summary lines. */
export function humanFailureLogs(suite: SuiteResult): string {
  return suite.results
    .filter((r) => r.status !== 'passed')
    .map((r) => `\n--- ${escapeMessage(r.file)} ---\n${indent(escapeLog(r.log))}`)
    .join('');
}

/** `3 passed, 1 failed, 2 not run (--bail); 6 files in 1.20 s` */
export function humanSummary(suite: SuiteResult): string {
  const passed = suite.results.filter((r) => r.status === 'passed').length;
  const failed = suite.results.length - passed;
  const skipped = suite.skipped.length > 0 ? `, ${suite.skipped.length} not run (--bail)` : '';
  const files = suite.results.length + suite.skipped.length;
  return `${passed} passed, ${failed} failed${skipped}; ${files} file${files === 1 ? '' : 's'} in ${formatDuration(suite.ms)}`;
}

/** The TAP 14 header. */
export const TAP_HEADER = 'TAP version 14\n';

/** One TAP test point (numbered in finishing order), with a YAML block for a failure. */
export function tapResult(r: TestResult, n: number): string {
  const point = `${r.status === 'passed' ? 'ok' : 'not ok'} ${n} - ${tapName(r.file)} # time=${r.ms}ms\n`;
  if (r.failure === undefined) return point;
  // A JSON string is a YAML 1.2 scalar: quotes, newlines and control characters stay inside it.
  const yaml = [`message: ${JSON.stringify(escapeMessage(r.failure))}`, `severity: ${r.status === 'refused' ? 'error' : 'fail'}`, `log: ${JSON.stringify(escapeLog(r.log))}`];
  return `${point}  ---\n${yaml.map((l) => `  ${l}\n`).join('')}  ...\n`;
}

/** The skipped files (after --bail) as TAP SKIP points, then the plan. */
export function tapEnd(suite: SuiteResult): string {
  let n = suite.results.length;
  const skips = suite.skipped.map((f) => `ok ${++n} - ${tapName(f)} # SKIP not run after --bail\n`).join('');
  return `${skips}1..${n}\n# ${humanSummary(suite)}\n`;
}

/** A file name in a TAP description: `#` would start a directive, `\` escapes it (TAP 14). */
function tapName(file: string): string {
  return escapeMessage(file).replace(/[\\#]/g, (c) => `\\${c}`);
}

/** A session log (already escaped per line by the printer) made safe once more, line by line. */
function escapeLog(log: string): string {
  return log
    .split('\n')
    .map((l) => escapeMessage(l))
    .join('\n');
}

function indent(text: string): string {
  return text.replace(/\n$/, '').replace(/^/gm, '    ') + '\n';
}
