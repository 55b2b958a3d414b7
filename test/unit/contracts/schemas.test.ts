/**
 * The committed JSON Schemas under schemas/ are exactly what `npm run schemas` generates from the
 * zod schemas in the code: change a message schema, regenerate, commit both.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONTRACTS, jsonSchemaOf, schemaFileName, schemaFileText } from '../../../src/contracts/index.js';

const DIR = fileURLToPath(new URL('../../../../schemas/', import.meta.url));

describe('message contracts as JSON Schema (schemas/)', () => {
  for (const c of CONTRACTS) {
    it(`${schemaFileName(c)} is the generated schema of ${c.name}`, async () => {
      const committed = await readFile(join(DIR, schemaFileName(c)), 'utf8').catch(() => undefined);
      assert.ok(committed !== undefined, `schemas/${schemaFileName(c)} is missing: run npm run schemas`);
      assert.equal(
        committed,
        schemaFileText(c),
        `schemas/${schemaFileName(c)} is stale: run npm run schemas`,
      );
    });
  }

  it('each contract is JSON Schema 2020-12 and pins its own schema name', () => {
    for (const c of CONTRACTS) {
      const s = jsonSchemaOf(c) as {
        $schema: string;
        properties: { schema: { const: string } };
        required: string[];
      };
      assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(s.properties.schema.const, c.name);
      assert.ok(s.required.includes('schema'));
    }
  });

  it('schemas/ holds no file of a contract that is not listed', async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(files, CONTRACTS.map(schemaFileName).sort());
  });
});
