import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLogistic } from '../../../eval/matching/calibrate.js';

describe('calibration fit', () => {
  it('recovers the slope and centre of a logistic relation', () => {
    const n = 20000;
    const x = new Float64Array(n);
    const y = new Uint8Array(n);
    let s = 7;
    for (let i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const u = s / 2 ** 32;
      x[i] = -2 + (4 * i) / n;
      y[i] = u < 1 / (1 + Math.exp(-(4 * (x[i]! - 0.25)))) ? 1 : 0;
    }
    const { scale, bias } = fitLogistic(x, y);
    assert.ok(Math.abs(scale - 4) < 0.5, `scale ${scale}`);
    assert.ok(Math.abs(-bias / scale - 0.25) < 0.1, `centre ${-bias / scale}`);
  });

  it('refuses one-class data', () => {
    assert.throws(
      () => fitLogistic(Float64Array.from([0, 1]), Uint8Array.from([1, 1])),
      /both true and false/,
    );
  });
});
