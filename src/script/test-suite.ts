import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SocklabError } from '../errors.js';
import { runTestFile, type TestOptions, type TestResult } from './test-file.js';

/**
 * The `.lab` files a test run covers: each PATH that is a file as given,
 * each folder searched recursively for `*.lab` (hidden folders and
 * `node_modules` skipped); each list sorted by path, duplicates once.
 * Throws `SocklabError` `E_USAGE` for a path that does not exist or a folder
 * without a `.lab` file (a CI job that tests nothing must not pass).
 */
export function findLabFiles(paths: string[]): string[] {
  const found: string[] = [];
  for (const path of paths) {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) throw new SocklabError('E_USAGE', `${path}: no such file or folder (give .lab files or folders of them)`);
    if (!stats.isDirectory()) {
      found.push(path);
      continue;
    }
    const inFolder = walk(path).sort();
    if (inFolder.length === 0) throw new SocklabError('E_USAGE', `${path}: no .lab file in this folder`);
    found.push(...inFolder);
  }
  return [...new Set(found)];
}

function walk(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'node_modules') out.push(...walk(path));
    } else if (entry.name.endsWith('.lab') && (entry.isFile() || entry.isSymbolicLink())) out.push(path);
  }
  return out;
}

/** How a suite runs (SPEC section 13). */
export interface SuiteOptions extends TestOptions {
  /** Files running at once, in this process (each in its own session). */
  jobs: number;
  /** After the first file that does not pass, start no more. */
  bail: boolean;
  /** Told about each file as it starts / finishes (in finishing order). */
  onStart?(file: string): void;
  onResult?(result: TestResult): void;
}

/** What a suite did: results in the files' order, and the files not run (after --bail). */
export interface SuiteResult {
  results: TestResult[];
  skipped: string[];
  /** Wall time of the whole run, ms. */
  ms: number;
}

/**
 * Run `files` as tests, up to `jobs` at a time in this process. Each file
 * is isolated (see `runTestFile`) and its output kept apart, so running
 * them at once gives the same results as one after the other. Never throws.
 */
export async function runSuite(files: string[], options: SuiteOptions): Promise<SuiteResult> {
  const started = Date.now();
  const results: Array<TestResult | undefined> = new Array(files.length);
  let next = 0;
  let stop = false;
  const lane = async (): Promise<void> => {
    while (!stop && next < files.length) {
      const index = next++;
      const file = files[index] as string;
      options.onStart?.(file);
      const result = await runTestFile(file, options);
      results[index] = result;
      options.onResult?.(result);
      if (options.bail && result.status !== 'passed') stop = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, files.length)) }, lane));
  const done = results.filter((r): r is TestResult => r !== undefined);
  const skipped = files.filter((_, i) => results[i] === undefined);
  return { results: done, skipped, ms: Date.now() - started };
}

/** The exit code of a suite: 0 all passed, 2 if a file was refused (a usage error), else 1. */
export function suiteExitCode(suite: SuiteResult): number {
  if (suite.results.some((r) => r.status === 'refused')) return 2;
  return suite.results.every((r) => r.status === 'passed') ? 0 : 1;
}
