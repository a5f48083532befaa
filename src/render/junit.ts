import type { SuiteResult } from '../script/test-suite.js';
import type { TestResult } from '../script/test-file.js';

/**
 * A test run as JUnit XML, the dialect Jenkins, GitLab, GitHub test-report
 * actions and Azure read: `<testsuites>` with one `<testsuite name="socklab">`,
 * one `<testcase>` per file (name = the file, `file` attribute, time in
 * seconds); a failed file has a `<failure>` whose message is the first
 * failure as `FILE:LINE: …`, a refused file an `<error>`, a file not run after
 * `--bail` a `<skipped>`; the session's log is in `<system-out>`. Pure.
 * Text and attributes are escaped, and characters XML 1.0 does not allow
 * (control characters, lone surrogates, U+FFFE/U+FFFF) are written as
 * `\u{…}`, so no log makes the document invalid.
 */
export function renderJunit(suite: SuiteResult, timestamp: Date): string {
  const failures = suite.results.filter((r) => r.status === 'failed').length;
  const errors = suite.results.filter((r) => r.status === 'refused').length;
  const tests = suite.results.length + suite.skipped.length;
  const counts = `tests="${tests}" failures="${failures}" errors="${errors}" skipped="${suite.skipped.length}" time="${seconds(suite.ms)}"`;
  const cases = [...suite.results.map(testcase), ...suite.skipped.map(skippedCase)].join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="socklab test" ${counts}>\n` +
    `  <testsuite name="socklab" ${counts} timestamp="${timestamp.toISOString().replace(/\.\d+Z$/, '')}">\n` +
    cases +
    '  </testsuite>\n</testsuites>\n'
  );
}

function testcase(r: TestResult): string {
  const head = `    <testcase name="${attr(r.file)}" classname="socklab" file="${attr(r.file)}" time="${seconds(r.ms)}">\n`;
  const message = r.failure ?? '';
  const outcome =
    r.status === 'failed'
      ? `      <failure message="${attr(message)}" type="failure">${text(message)}</failure>\n`
      : r.status === 'refused'
        ? `      <error message="${attr(message)}" type="refused">${text(message)}</error>\n`
        : '';
  return `${head}${outcome}      <system-out>${text(r.log)}</system-out>\n    </testcase>\n`;
}

function skippedCase(file: string): string {
  return `    <testcase name="${attr(file)}" classname="socklab" file="${attr(file)}" time="0">\n      <skipped message="not run after --bail"/>\n    </testcase>\n`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** Characters XML 1.0 forbids anywhere (the Char production), as UTF-16. */
const NOT_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Element text: entities for markup, `&#13;` for CR (a parser would turn it into LF), `\u{…}` for what XML cannot hold. */
function text(s: string): string {
  return s
    .replace(NOT_XML, visible)
    .replace(/[&<>]/g, (c) => ENTITIES[c] as string)
    .replace(/\r/g, '&#13;');
}

/** An attribute value: as text, and quotes and line breaks as character references (kept, not normalised away). */
function attr(s: string): string {
  return s
    .replace(NOT_XML, visible)
    .replace(/[&<>"']/g, (c) => ENTITIES[c] as string)
    .replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function visible(c: string): string {
  return `\\u{${(c.codePointAt(0) ?? 0xfffd).toString(16)}}`;
}
