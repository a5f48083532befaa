import { writeFileSync } from 'node:fs';
import { SocklabError, messageOf } from './errors.js';
import { parseDuration } from './parse/duration.js';
import { renderJunit } from './render/junit.js';
import { TAP_HEADER, humanFailureLogs, humanResultLine, humanSummary, tapEnd, tapResult } from './render/test-report.js';
import { findLabFiles, runSuite, suiteExitCode } from './script/test-suite.js';
import { parseVarOption, runVariables } from './script/variables.js';

/** `socklab test`'s command line, once read. */
export interface TestArgs {
  paths: string[];
  jobs: number;
  /** Per file, ms. */
  timeout?: number;
  bail: boolean;
  reporter: 'human' | 'tap' | 'junit';
  reportJunit?: string;
  vars: Record<string, string>;
  allowJs: boolean;
  allowRead: boolean;
  allowWrite: boolean;
  time: boolean;
  help: boolean;
}

export const TEST_HELP = `socklab test — run .lab scripts as a test suite

Usage:
  socklab test [options] PATH...   files, and folders searched for *.lab (sorted)

Each file runs as an isolated test in a fresh session of its own (its own ids
and ports) in this process; one line per file as it finishes, then a summary.

Options:
  --jobs N             run N files at once (default 1)
  --timeout DURATION   fail a file still running after this long (500ms, 30s, 2m)
  --bail               start no more files after the first failure
  --reporter R         human (default) | tap (TAP 14) | junit (JUnit XML) on stdout
  --report-junit FILE  also write JUnit XML to FILE (for CI dashboards)
  --var NAME=VALUE     \${NAME} in every file (repeatable); else the environment
  --allow-js, --allow-read, --allow-write   permissions every file runs with
  --no-time            no timestamps in the files' logs

Exit codes: 0 every file passed, 1 a file failed, 2 usage error (bad option,
no .lab file found, or a file refused before it ran: an unset variable, a
JavaScript line without --allow-js, a path its permissions do not allow).
`;

const REPORTERS = ['human', 'tap', 'junit'] as const;

/** Read `socklab test`'s arguments (after `test`). Throws `SocklabError` `E_USAGE` with what was wrong. */
export function parseTestArgs(argv: string[]): TestArgs {
  const a: TestArgs = { paths: [], jobs: 1, bail: false, reporter: 'human', vars: {}, allowJs: false, allowRead: false, allowWrite: false, time: true, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const [name, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (example: string): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new SocklabError('E_USAGE', `${name} needs a value, e.g. ${name} ${example}`);
      return v;
    };
    if (name === '--jobs' || name === '-j') {
      const v = value('2');
      if (!/^[1-9]\d{0,2}$/.test(v)) throw new SocklabError('E_USAGE', `--jobs takes a whole number from 1 to 999, not "${v}"`);
      a.jobs = Number(v);
    } else if (name === '--timeout') a.timeout = parseDuration(value('30s'));
    else if (name === '--bail') a.bail = true;
    else if (name === '--reporter') {
      const v = value('tap');
      if (!(REPORTERS as readonly string[]).includes(v)) throw new SocklabError('E_USAGE', `--reporter takes ${REPORTERS.join(', ')}, not "${v}"`);
      a.reporter = v as TestArgs['reporter'];
    } else if (name === '--report-junit') a.reportJunit = value('report.xml');
    else if (name === '--var') {
      const [k, v] = parseVarOption(value('PORT=9000'));
      a.vars[k] = v;
    } else if (name === '--allow-js') a.allowJs = true;
    else if (name === '--allow-read') a.allowRead = true;
    else if (name === '--allow-write') a.allowWrite = true;
    else if (name === '--no-time') a.time = false;
    else if (name === '--help' || name === '-h') a.help = true;
    else if (arg.startsWith('-')) throw new SocklabError('E_USAGE', `unknown option ${arg} for socklab test (socklab test --help lists them)`);
    else a.paths.push(arg);
  }
  if (a.paths.length === 0 && !a.help) throw new SocklabError('E_USAGE', 'socklab test needs files or folders of .lab scripts, e.g. socklab test tests/');
  return a;
}

/** Where a test run writes: stdout, and whether it is a terminal (for the progress line). */
export interface TestOutput {
  write(text: string): void;
  isTTY: boolean;
}

/** Run `socklab test`: resolves to the exit code (0/1/2). Throws `E_USAGE` for bad paths. */
export async function runTestCommand(a: TestArgs, out: TestOutput): Promise<number> {
  const files = findLabFiles(a.paths);
  const human = a.reporter === 'human';
  const progress = human && out.isTTY;
  let finished = 0;
  let tapCount = 0;
  const running = new Set<string>();
  const showProgress = (): void => {
    if (progress) out.write(`\r\x1b[K[${finished}/${files.length}] ${running.size} running`);
  };
  if (a.reporter === 'tap') out.write(TAP_HEADER);
  const suite = await runSuite(files, {
    ...a,
    vars: runVariables(a.vars),
    cwd: process.cwd(),
    onStart(file) {
      running.add(file);
      showProgress();
    },
    onResult(r) {
      finished++;
      running.delete(r.file);
      if (progress) out.write('\r\x1b[K');
      if (human) out.write(`${humanResultLine(r)}\n`);
      else if (a.reporter === 'tap') out.write(tapResult(r, ++tapCount));
      showProgress();
    },
  });
  if (progress) out.write('\r\x1b[K');
  const junit = renderJunit(suite, new Date());
  if (human) out.write(`${humanFailureLogs(suite)}\n${humanSummary(suite)}\n`);
  else if (a.reporter === 'tap') out.write(tapEnd(suite));
  else out.write(junit);
  if (a.reportJunit !== undefined) {
    try {
      writeFileSync(a.reportJunit, junit);
    } catch (err) {
      throw new SocklabError('E_USAGE', `cannot write --report-junit ${a.reportJunit}: ${messageOf(err)}`, { cause: err });
    }
  }
  return suiteExitCode(suite);
}
