/** Checking a spec against every rule of the world (used by the generator's tests and the renderer). */
import {
  BACKGROUNDS,
  COLOURS,
  type ObjectSpec,
  RULES,
  SHAPES,
  type VideoSpec,
  bboxGap,
  checkTimes,
  positionAt,
  sceneFrames,
} from './spec.js';
import { objectName } from './words.js';

function insideAt(o: ObjectSpec, t: number, w: number, h: number): boolean {
  const p = positionAt(o, t);
  const r = o.size / 2;
  const eps = 1e-9;
  return p.x - r >= -eps && p.y - r >= -eps && p.x + r <= w + eps && p.y + r <= h + eps;
}

/** Every way a spec breaks the world's rules (empty when it obeys them all). */
export function specViolations(spec: VideoSpec): string[] {
  const v: string[] = [];
  const { width: w, height: h, fps } = spec;
  if (!Number.isInteger(w) || !Number.isInteger(h)) v.push('frame size must be whole pixels');
  if (h < RULES.minHeight || h > RULES.maxHeight)
    v.push(`height ${h} outside ${RULES.minHeight}..${RULES.maxHeight}`);
  const aspect = w / h;
  if (aspect < RULES.minAspect - 1e-9 || aspect > RULES.maxAspect + 1e-9)
    v.push(`aspect ${aspect.toFixed(3)} outside 4:3..16:9`);
  if (fps < RULES.minFps || fps > RULES.maxFps) v.push(`fps ${fps} outside ${RULES.minFps}..${RULES.maxFps}`);
  if (spec.scenes.length === 0) v.push('no scenes');
  spec.scenes.forEach((scene, i) => {
    const at = `scene ${i}`;
    const frames = sceneFrames(scene, fps);
    const dur = frames / fps;
    if (dur < RULES.minSceneSec - 1e-9 || dur > RULES.maxSceneSec + 1e-9) v.push(`${at}: lasts ${dur} s`);
    if (!BACKGROUNDS.includes(scene.background)) v.push(`${at}: unknown background ${scene.background}`);
    if (scene.objects.length > RULES.maxObjects) v.push(`${at}: ${scene.objects.length} objects`);
    const times = checkTimes(frames, fps);
    scene.objects.forEach((o, j) => {
      const ot = `${at} object ${j}`;
      if (!(o.colour in COLOURS)) v.push(`${ot}: unknown colour ${o.colour}`);
      if (!SHAPES.includes(o.shape)) v.push(`${ot}: unknown shape ${o.shape}`);
      const base = COLOURS[o.colour];
      if (
        base !== undefined &&
        o.rgb.some((c, k) => !Number.isInteger(c) || Math.abs(c - base[k]!) > RULES.jitter)
      ) {
        v.push(`${ot}: colour ${o.rgb.join(',')} is more than ${RULES.jitter} from ${o.colour}`);
      }
      if (o.size < RULES.minSizeFrac * h - 1e-9 || o.size > RULES.maxSizeFrac * h + 1e-9) {
        v.push(`${ot}: size ${o.size} outside 25%..45% of height`);
      }
      const speed = Math.hypot(o.velocity.x, o.velocity.y);
      if (speed > RULES.maxSpeedFracOfWidth * w + 1e-9)
        v.push(`${ot}: speed ${speed.toFixed(1)} px/s too fast`);
      if (!times.every((t) => insideAt(o, t, w, h))) v.push(`${ot}: leaves the frame`);
    });
    const [a, b] = scene.objects;
    if (a !== undefined && b !== undefined) {
      if (a.colour === b.colour && a.shape === b.shape) v.push(`${at}: two ${objectName(a)}s`);
      const minGap = Math.min(
        ...times.map((t) => bboxGap(positionAt(a, t), a.size, positionAt(b, t), b.size)),
      );
      if (minGap < RULES.minGapPx - 1e-9) v.push(`${at}: objects come within ${minGap.toFixed(2)} px`);
      if (a.start.x === b.start.x)
        v.push(`${at}: objects start at the same x, so the caption order is undefined`);
    }
  });
  return v;
}
