#!/usr/bin/env node
// One bundled file (built by `npm run build`): start-up reads one module, not fifty.
import { runMain } from '../dist/socklab.js';

runMain(process.argv.slice(2));
