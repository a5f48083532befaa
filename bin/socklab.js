#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json): an ES module entry would load Node's ES module
// loader first, ~20 M instructions of a start-up that should match `node -i`.
//
// Runs dist/socklab.cjs, the one-file bundle `npm run build` makes, compiled
// from the V8 code cache the build saved beside it (dist/socklab.cache):
// compiling 470 KB of JavaScript was the largest part of start-up
// (docs/performance.md, "Round 2, session 3"). Without a usable cache (none, or
// made for another build or another Node) the bundle is compiled as usual.
const { readFileSync, statSync } = require('node:fs');
const { dirname, join } = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const BUNDLE = join(__dirname, '..', 'dist', 'socklab.cjs');
const CACHE = join(__dirname, '..', 'dist', 'socklab.cache');
/** How much newer than its cache the bundle may be (written second by a copier), ms. */
const MTIME_SLACK_MS = 2000;

/**
 * The cache's bytes, if made for this bundle: V8 checks a cache against the
 * source's length only, so the cache starts with the bundle's first line (its
 * content hash, written by the build), and a bundle changed after the cache
 * was made (edited by hand) must compile without it. "After" allows
 * MTIME_SLACK_MS: the build writes the cache after the bundle, but npm and
 * other copiers may write the two in either order, a few ms apart. (Hashing
 * the bundle here to compare would cost 7 ms, a sixth of a start-up.)
 */
function cacheFor(stamp) {
  try {
    if (statSync(CACHE).mtimeMs + MTIME_SLACK_MS < statSync(BUNDLE).mtimeMs) return undefined;
    const cache = readFileSync(CACHE);
    return cache.toString('latin1', 0, stamp.length) === stamp ? cache.subarray(stamp.length) : undefined;
  } catch {
    return undefined;
  }
}

/** Compile and run the bundle's top level: { script (vm.Script), stamp, exports (runMain, …) }. */
function compileBundle() {
  const source = readFileSync(BUNDLE, 'utf8');
  const stamp = source.slice(0, source.indexOf('\n') + 1);
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData: cacheFor(stamp) });
  const bundle = { exports: {} };
  script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, dirname(BUNDLE));
  return { script, stamp, exports: bundle.exports };
}

module.exports = { compileBundle, BUNDLE, CACHE };

if (require.main === module) compileBundle().exports.runMain(process.argv.slice(2));
