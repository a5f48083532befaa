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

/**
 * node:repl loads node:domain, and loading node:domain replaces
 * EventEmitter.prototype.emit and EventEmitter.init for the whole process with
 * versions that look for a domain first (a rest-parameter array and a
 * Reflect.apply per emit): every 'data', 'end' and 'close' of every socket paid
 * for it (~5,000 instructions per round trip of a relayed ping-pong). socklab
 * gives node:repl a stand-in domain (src/repl/light-domain.ts) and creates no
 * real one, so the plain versions are put back; should JavaScript typed in the
 * session create a domain (domain.create(), new Domain()), node:domain's versions return first,
 * so it works as documented.
 */
function keepPlainEmit() {
  const EventEmitter = require('node:events');
  const plain = { emit: EventEmitter.prototype.emit, init: EventEmitter.init };
  const domain = require('node:domain');
  const patched = { emit: EventEmitter.prototype.emit, init: EventEmitter.init };
  if (patched.emit === plain.emit) return;
  const use = (v) => {
    EventEmitter.prototype.emit = v.emit;
    EventEmitter.init = v.init;
  };
  use(plain);
  const create = domain.create;
  domain.create = domain.createDomain = function createDomain() {
    use(patched);
    return create.call(this);
  };
  // `new Domain()` too (a Proxy keeps `instanceof` and the class's own properties as they were).
  const Domain = domain.Domain;
  domain.Domain = new Proxy(Domain, {
    construct(target, args, newTarget) {
      use(patched);
      return Reflect.construct(target, args, newTarget);
    },
  });
  // So that `d.constructor === require('domain').Domain` stays true, as it was.
  Object.defineProperty(Domain.prototype, 'constructor', { value: domain.Domain, writable: true, configurable: true, enumerable: false });
}

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

/**
 * Compile and run the bundle's top level: { script (vm.Script), stamp, exports (runMain, …) }.
 * The file is its stamp line, then the bundle already wrapped in CommonJS's module
 * function (scripts/bundle.mjs), compiled as read: ASCII, so read as latin1, the
 * cheapest decoding, and no wrapped copy of the text is made.
 */
function compileBundle() {
  const source = readFileSync(BUNDLE, 'latin1');
  const stamp = source.slice(0, source.indexOf('\n') + 1);
  const script = new vm.Script(source, { filename: BUNDLE, cachedData: cacheFor(stamp) });
  const bundle = { exports: {} };
  script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, dirname(BUNDLE));
  return { script, stamp, exports: bundle.exports };
}

module.exports = { compileBundle, BUNDLE, CACHE };

if (require.main === module) {
  keepPlainEmit();
  compileBundle().exports.runMain(process.argv.slice(2));
}
