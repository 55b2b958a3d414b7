/**
 * Seeded pseudo-random numbers for benchmark weights and inputs: the same seed gives the same
 * model in every run, so runs differ only in timing. mulberry32: small, fast, good enough for
 * weights whose values do not matter (speed does not depend on them).
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** `n` values uniform with mean `mean` and standard deviation `std`. */
  uniform(n: number, std: number, mean = 0): Float32Array {
    const out = new Float32Array(n);
    const a = std * Math.sqrt(3);
    for (let i = 0; i < n; i++) out[i] = mean + a * (2 * this.next() - 1);
    return out;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.next() * 256) | 0;
    return out;
  }
}
