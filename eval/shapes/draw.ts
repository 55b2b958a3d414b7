/** Drawing shapes-world frames into rgb24 buffers (rows top to bottom, 3 bytes per pixel). */
import { mixSeed } from './prng.js';
import {
  BACKGROUND_LEVEL,
  NOISE_RANGE,
  type ObjectSpec,
  type SceneSpec,
  type VideoSpec,
  positionAt,
} from './spec.js';

/** Fills `out` (width * height * 3 bytes) with one frame. */
export function drawFrame(
  spec: VideoSpec,
  scene: SceneSpec,
  frameInScene: number,
  frameInVideo: number,
  out: Uint8Array,
): void {
  const { width: w, height: h } = spec;
  if (out.length !== w * h * 3)
    throw new RangeError(`frame buffer holds ${out.length} bytes, needs ${w * h * 3}`);
  if (scene.background === 'noise') drawNoise(out, mixSeed(spec.noiseSeed, frameInVideo));
  else out.fill(BACKGROUND_LEVEL[scene.background]);
  const t = frameInScene / spec.fps;
  for (const o of scene.objects) drawObject(out, w, h, o, t, spec.antialias);
}

/**
 * Independent gray levels in NOISE_RANGE. mulberry32 is inlined (this is the hot loop) and each
 * 32-bit draw gives two pixels, one per 16-bit half, mapped to the range by multiply-and-shift
 * (the 51 levels are equally likely to within 1 part in 1285).
 */
function drawNoise(out: Uint8Array, seed: number): void {
  const [lo, hi] = NOISE_RANGE;
  const span = hi - lo + 1;
  let a = seed >>> 0;
  const n = out.length;
  for (let i = 0; i < n; i += 6) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t = (t ^ (t >>> 14)) >>> 0;
    const g1 = lo + (((t >>> 16) * span) >>> 16);
    const g2 = lo + (((t & 0xffff) * span) >>> 16);
    out[i] = g1;
    out[i + 1] = g1;
    out[i + 2] = g1;
    if (i + 3 < n) {
      out[i + 3] = g2;
      out[i + 4] = g2;
      out[i + 5] = g2;
    }
  }
}

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
/** Length of the overlap of [a0, a1] and [b0, b1]. */
const overlap = (a0: number, a1: number, b0: number, b1: number): number =>
  Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

/**
 * Coverage of the pixel whose top-left corner is (px, py), in 0..1. Without antialiasing a pixel
 * is covered when its centre is inside the shape. With it: exact area for squares, a half-pixel
 * ramp of the signed distance to the edge for circles and triangles.
 */
export function coverage(
  shape: ObjectSpec['shape'],
  cx: number,
  cy: number,
  s: number,
  px: number,
  py: number,
  aa: boolean,
): number {
  const x = px + 0.5;
  const y = py + 0.5;
  const r = s / 2;
  switch (shape) {
    case 'circle': {
      const d = Math.sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
      return aa ? clamp01(r - d + 0.5) : d <= r ? 1 : 0;
    }
    case 'square': {
      if (!aa) return Math.abs(x - cx) <= r && Math.abs(y - cy) <= r ? 1 : 0;
      return overlap(px, px + 1, cx - r, cx + r) * overlap(py, py + 1, cy - r, cy + r);
    }
    case 'triangle': {
      // Apex (cx, cy - r), base corners (cx -/+ r, cy + r). Signed distances, positive inside.
      const ay = cy - r;
      const norm = (s * Math.sqrt(5)) / 2; // length of the edge normal (s, s/2)
      const left = (s * (x - cx) + r * (y - ay)) / norm;
      const right = (-s * (x - cx) + r * (y - ay)) / norm;
      const bottom = cy + r - y;
      const d = Math.min(left, right, bottom);
      return aa ? clamp01(d + 0.5) : d >= 0 ? 1 : 0;
    }
  }
}

function drawObject(out: Uint8Array, w: number, h: number, o: ObjectSpec, t: number, aa: boolean): void {
  const { x: cx, y: cy } = positionAt(o, t);
  const r = o.size / 2;
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(w - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(h - 1, Math.ceil(cy + r + 1));
  const [cr, cg, cb] = o.rgb;
  for (let py = y0; py <= y1; py++) {
    const row = py * w;
    for (let px = x0; px <= x1; px++) {
      const c = coverage(o.shape, cx, cy, o.size, px, py, aa);
      if (c <= 0) continue;
      const i = (row + px) * 3;
      if (c >= 1) {
        out[i] = cr;
        out[i + 1] = cg;
        out[i + 2] = cb;
      } else {
        out[i] = Math.round(out[i]! + (cr - out[i]!) * c);
        out[i + 1] = Math.round(out[i + 1]! + (cg - out[i + 1]!) * c);
        out[i + 2] = Math.round(out[i + 2]! + (cb - out[i + 2]!) * c);
      }
    }
  }
}
