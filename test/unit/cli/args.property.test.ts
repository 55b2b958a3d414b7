// Property: any command line gives parsed options or one coded error, never an uncoded throw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, samplingFlags } from '../../../src/cli/common.js';
import { RUN } from '../../../src/cli/flags.js';
import { ClipstreamError, ERROR_CODES } from '../../../src/errors.js';

const coded = (err: unknown) => err instanceof ClipstreamError && err.code in ERROR_CODES;

/** Arguments as a user might type them: flags of the command, near-misses and any Unicode. */
const arg = fc.oneof(
  fc.constantFrom(...Object.keys(RUN.flags).map((k) => `--${k}`), '-h', '--', '-', '--fps=2', '--nope', '-x'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.stringMatching(/^-?[0-9.eE+-]{0,8}$/),
);

describe('CLI arguments (property)', () => {
  it('run: any argv parses into options or throws one coded error', () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 12 }), (argv) => {
        let values;
        try {
          ({ values } = parse(argv, RUN.flags));
        } catch (err) {
          assert.ok(coded(err), String(err));
          return;
        }
        try {
          samplingFlags(values.fps, values.sampling);
        } catch (err) {
          assert.ok(coded(err), String(err));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('--fps: a positive finite number up to 120 or CLIPSTREAM_BAD_ARGUMENT', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 12 }), fc.double().map(String)), (raw) => {
        try {
          const s = samplingFlags(raw, undefined);
          assert.equal(s?.strategy, 'fps');
          if (s?.strategy === 'fps')
            assert.ok(s.fps !== undefined && s.fps > 0 && s.fps <= 120 && Number.isFinite(s.fps));
        } catch (err) {
          assert.ok(err instanceof ClipstreamError && err.code === 'CLIPSTREAM_BAD_ARGUMENT', String(err));
        }
      }),
      { numRuns: 500 },
    );
  });
});
