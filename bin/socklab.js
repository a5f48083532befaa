#!/usr/bin/env node
import { runMain } from '../dist/cli.js';

runMain(process.argv.slice(2));
