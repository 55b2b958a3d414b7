#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and compiled to dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('clipstream: not built yet; run `npm run build` in the package folder\n');
  process.exit(1);
}
const { main, exitWhenDone } = await import(entry.href);
exitWhenDone(await main(process.argv.slice(2)));
