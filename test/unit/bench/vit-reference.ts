/**
 * A plain JavaScript forward pass of the benchmark ViT (float64), written from the CLIP
 * definition rather than from the graph, to check the ONNX graph computes what it claims.
 */
import type { Linear, Norm, VitConfig, VitWeights } from '../../../src/bench/models/vit.js';

function layerNorm(x: number[], n: Norm, eps: number): number[] {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return x.map((xi, i) => ((xi - mean) / Math.sqrt(v + eps)) * (n.g[i] as number) + (n.b[i] as number));
}

function linear(x: number[], l: Linear): number[] {
  const y = Array.from(l.b, Number);
  for (let i = 0; i < l.inDim; i++) {
    const xi = x[i] as number;
    for (let j = 0; j < l.outDim; j++) y[j] = (y[j] as number) + xi * (l.w[i * l.outDim + j] as number);
  }
  return y;
}

/** Normalised NCHW pixels of one uint8 NHWC frame, as the graph's preprocessing defines them. */
export function normalisePixels(c: VitConfig, frame: Uint8Array): Float32Array {
  const S = c.imageSize;
  const out = new Float32Array(3 * S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let ch = 0; ch < 3; ch++) {
        const v = (frame[(y * S + x) * 3 + ch] as number) / 255;
        out[ch * S * S + y * S + x] = (v - (c.mean[ch] as number)) / (c.std[ch] as number);
      }
    }
  }
  return out;
}

/** The unit-length image embedding of one frame. */
export function vitReference(c: VitConfig, w: VitWeights, frame: Uint8Array): number[] {
  const { imageSize: S, patchSize: p, width: W, heads: H } = c;
  const px = normalisePixels(c, frame);
  const g = S / p;
  const tokens: number[][] = [Array.from(w.cls, Number)];
  for (let gy = 0; gy < g; gy++) {
    for (let gx = 0; gx < g; gx++) {
      const t = new Array<number>(W).fill(0);
      for (let o = 0; o < W; o++) {
        let s = 0;
        for (let ch = 0; ch < 3; ch++) {
          for (let ky = 0; ky < p; ky++) {
            for (let kx = 0; kx < p; kx++) {
              s +=
                (w.conv[((o * 3 + ch) * p + ky) * p + kx] as number) *
                (px[ch * S * S + (gy * p + ky) * S + gx * p + kx] as number);
            }
          }
        }
        t[o] = s;
      }
      tokens.push(t);
    }
  }
  let x = tokens.map((t, ti) => t.map((v, i) => v + (w.pos[ti * W + i] as number)));
  x = x.map((t) => layerNorm(t, w.lnPre, c.eps));
  const dh = W / H;
  for (const b of w.blocks) {
    const h = x.map((t) => layerNorm(t, b.ln1, c.eps));
    const qkv = h.map((t) => linear(t, b.qkv));
    const attnOut = x.map(() => new Array<number>(W).fill(0));
    for (let hh = 0; hh < H; hh++) {
      for (let i = 0; i < x.length; i++) {
        const scores = x.map((_, j) => {
          let s = 0;
          for (let d = 0; d < dh; d++) {
            s += (qkv[i]![hh * dh + d] as number) * (qkv[j]![W + hh * dh + d] as number);
          }
          return s / Math.sqrt(dh);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, v) => a + v, 0);
        for (let d = 0; d < dh; d++) {
          let s = 0;
          for (let j = 0; j < x.length; j++)
            s += ((e[j] as number) / z) * (qkv[j]![2 * W + hh * dh + d] as number);
          attnOut[i]![hh * dh + d] = s;
        }
      }
    }
    x = x.map((t, i) => {
      const o = linear(attnOut[i]!, b.out);
      return t.map((v, k) => v + (o[k] as number));
    });
    x = x.map((t) => {
      const m = linear(layerNorm(t, b.ln2, c.eps), b.fc).map((v) => v / (1 + Math.exp(-1.702 * v)));
      const o = linear(m, b.proj);
      return t.map((v, k) => v + (o[k] as number));
    });
  }
  const cls = layerNorm(x[0]!, w.lnPost, c.eps);
  const out = new Array<number>(c.embedDim).fill(0);
  for (let i = 0; i < W; i++) {
    for (let j = 0; j < c.embedDim; j++)
      out[j] = (out[j] as number) + (cls[i] as number) * (w.proj[i * c.embedDim + j] as number);
  }
  const n = Math.sqrt(out.reduce((a, v) => a + v * v, 0));
  return out.map((v) => v / n);
}
