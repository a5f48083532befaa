// Part of `npm run build`: src/cli.ts bundled into dist/socklab.cjs (one
// CommonJS file, stored wrapped in its module function; node-forge and re2js
// stay outside, loaded on first use), then
// dist/socklab.cache, V8's code cache of that bundle, made by a child that
// starts socklab to its first prompt and leaves, so what a start-up compiles
// is in it. bin/socklab.js uses the cache only with the bundle it was made for.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BUNDLE = `${ROOT}dist/socklab.cjs`;
const CACHE = `${ROOT}dist/socklab.cache`;
/** The head of the bundle's text after its first line (bin/socklab.js calls what it evaluates to). */
const WRAPPER = '(function (exports, require, module, __filename, __dirname) { ';
const PKG = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));

const result = await build({
  entryPoints: [`${ROOT}src/cli.ts`],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['node-forge', 're2js'],
  // The sources are ES modules: `import.meta.url` is the bundle's own URL, made
  // when first read (node:url's pathToFileURL at every start cost ~1 M instructions).
  // The version is the package's (src/cli.ts reads package.json without it).
  define: { 'import.meta.url': '__socklab.url', SOCKLAB_BUILD_VERSION: JSON.stringify(PKG.version) },
  banner: { js: "'use strict';const __socklab = { get url() { const url = require('node:url').pathToFileURL(__filename).href; Object.defineProperty(this, 'url', { value: url }); return url; } };" },
  write: false,
  // No comments or indentation: less to read and decode at every start (stack traces still name functions).
  minifyWhitespace: true,
  charset: 'ascii',
  logLevel: 'warning',
});
// esbuild's interop copies every export of a built-in a module imports by default
// (\`import net from 'node:net'\`, eleven times) into a new object with a getter
// each, at start-up. The same view, inheriting instead of copying, costs nothing.
const TO_ESM = 'var __toESM=(mod,isNodeMode,target)=>(target=mod!=null?__create(__getProtoOf(mod)):{},';
const TO_ESM_INHERIT = 'var __toESM=(mod,isNodeMode,target)=>isNodeMode&&mod!=null?__defProp(__create(mod),"default",{value:mod,enumerable:true}):(target=mod!=null?__create(__getProtoOf(mod)):{},';
const built = result.outputFiles[0].text;
if (built.split(TO_ESM).length !== 2) throw new Error('bundle: esbuild\'s __toESM helper changed; update scripts/bundle.mjs');
// The bundle is stored as the function CommonJS would wrap it in, so that bin/socklab.js
// compiles the file's text as it is: no second 380 KB string made by Module.wrap at every start.
const body = `${WRAPPER}${built.replace(TO_ESM, TO_ESM_INHERIT)}\n})`;
// The first line names this build: the cache is used only with the bundle whose first line it starts with.
const stamp = `// socklab bundle ${createHash('sha256').update(body).digest('hex').slice(0, 32)}\n`;
rmSync(CACHE, { force: true });
writeFileSync(BUNDLE, stamp + body);

const MAKE_CACHE = `
const { writeFileSync } = require('node:fs');
const { compileBundle, CACHE } = require(${JSON.stringify(`${ROOT}bin/socklab.js`)});
const { script, stamp, exports } = compileBundle();
process.on('exit', () => writeFileSync(CACHE, Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()])));
exports.runMain(['--no-color', '-e', '.set time on']);
`;
const child = spawnSync(process.execPath, ['-e', MAKE_CACHE], {
  cwd: ROOT,
  input: '.exit\n',
  env: { ...process.env, SOCKLAB_HISTORY: '', NO_COLOR: '1' },
  encoding: 'utf8',
});
if (child.status !== 0) {
  process.stderr.write(`bundle: making the code cache failed (exit ${child.status}):\n${child.stderr}`);
  process.exit(1);
}
