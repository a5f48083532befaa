import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SocklabError } from '../errors.js';

/** The page's files and their types; nothing else is ever served. */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** The page's files, read once from the package: `body` and `type` by name. */
export type PageAssets = Map<string, { body: Buffer; type: string }>;

/**
 * Read the page from the package: `src/serve/page/` when run from source,
 * `dist/serve/page/` (copied by `npm run build`) from the build, whether
 * the code runs unbundled (`dist/serve/`) or bundled (`dist/socklab.cjs`).
 * Throws `E_IO` when the files are missing (a build without them).
 */
export function loadAssets(): PageAssets {
  const dirs = [new URL('./page/', import.meta.url), new URL('./serve/page/', import.meta.url)];
  const dir = dirs.find((d) => existsSync(new URL('index.html', d)));
  if (dir === undefined) throw new SocklabError('E_IO', `the page's files are missing (looked in ${dirs.map((d) => fileURLToPath(d)).join(', ')}): npm run build copies them`);
  return new Map(Object.entries(FILES).map(([name, type]) => [name, { body: readFileSync(new URL(name, dir)), type }]));
}
