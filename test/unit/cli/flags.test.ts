import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS, WORKER, synopsis, usage } from '../../../src/cli/flags.js';

describe('usage text generated from the option tables', () => {
  it("every flag a command parses is in its --help and in clipstream --help's overview", () => {
    for (const c of COMMANDS) {
      const own = usage(c);
      const overview = synopsis(c, '  ');
      for (const name of Object.keys(c.flags)) {
        if (name === 'help') continue;
        assert.ok(own.includes(`--${name}`), `clipstream ${c.name} --help lacks --${name}`);
        assert.ok(overview.includes(`--${name}`), `clipstream --help lacks ${c.name} --${name}`);
      }
    }
  });

  it('the worker overview and the worker help agree (regression: --queries-topic was missing)', () => {
    assert.match(synopsis(WORKER, '  '), /\[--queries-topic T\]/);
    assert.match(usage(WORKER), /\[--queries-topic T\]/);
  });

  it('alternatives are shown together once, repeatable flags with ..., lines within 100 columns', () => {
    const run = COMMANDS.find((c) => c.name === 'run')!;
    const text = synopsis(run, 'Usage: ');
    assert.equal(text.match(/--sampling/g)?.length, 1);
    assert.match(text, /\[--fps N \| --sampling fps\|keyframes\|scene\]/);
    assert.match(text, /\[--query TEXT\]\.\.\./);
    for (const c of COMMANDS) {
      for (const line of synopsis(c, '  ').split('\n')) assert.ok(line.length <= 100, line);
    }
  });
});
