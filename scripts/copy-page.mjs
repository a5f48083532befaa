// Part of `npm run build`: the classroom page's files (HTML, script, style, icon)
// go beside the compiled code, so the package serves them with no internet.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/serve/page', import.meta.url), new URL('../dist/serve/page', import.meta.url), { recursive: true });
