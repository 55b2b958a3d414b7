/**
 * `npm run schemas`: writes schemas/<name>.schema.json, the JSON Schema 2020-12 of every message
 * contract in src/contracts (and removes files of contracts no longer listed). A unit test fails
 * when the committed files differ from what this writes.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTRACTS, schemaFileName, schemaFileText } from '../src/contracts/index.js';

const dir = fileURLToPath(new URL('../../schemas/', import.meta.url));
await mkdir(dir, { recursive: true });
const wanted = new Set(CONTRACTS.map(schemaFileName));
for (const f of await readdir(dir)) if (f.endsWith('.schema.json') && !wanted.has(f)) await rm(join(dir, f));
for (const c of CONTRACTS) await writeFile(join(dir, schemaFileName(c)), schemaFileText(c));
process.stdout.write(`wrote ${CONTRACTS.length} schemas to schemas/\n`);
