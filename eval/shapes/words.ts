/** Words of the shapes world: captions, queries, whether a query is true, ground-truth moments. */
import {
  COLOUR_NAMES,
  type ColourName,
  type ObjectSpec,
  SHAPES,
  type SceneSpec,
  type ShapeName,
  type VideoSpec,
  sceneSpans,
} from './spec.js';

export function objectName(o: Pick<ObjectSpec, 'colour' | 'shape'>): string {
  return `a ${o.colour} ${o.shape}`;
}

/** `nothing`, `a red circle`, or `a red circle and a blue square` (further left at the first frame first). */
export function sceneCaption(scene: SceneSpec): string {
  if (scene.objects.length === 0) return 'nothing';
  const ordered = [...scene.objects].sort((a, b) => a.start.x - b.start.x);
  return ordered.map(objectName).join(' and ');
}

export type Query =
  { kind: 'nothing' } | { kind: 'objects'; objects: Array<{ colour: ColourName; shape: ShapeName }> };

const OBJECT_WORDS = new RegExp(`^a (${COLOUR_NAMES.join('|')}) (${SHAPES.join('|')})$`);

/** Parses `nothing`, `a {colour} {shape}` or `a {c1} {s1} and a {c2} {s2}`; undefined otherwise. */
export function parseQuery(text: string): Query | undefined {
  const t = text.trim().replace(/\s+/g, ' ').toLowerCase();
  if (t === 'nothing') return { kind: 'nothing' };
  const parts = t.split(' and ');
  if (parts.length > 2) return undefined;
  const objects = [];
  for (const p of parts) {
    const m = OBJECT_WORDS.exec(p);
    if (!m) return undefined;
    objects.push({ colour: m[1] as ColourName, shape: m[2] as ShapeName });
  }
  return { kind: 'objects', objects };
}

/**
 * Whether a query is true of (every frame of) a scene: `nothing` when it holds no objects; one
 * object when the scene holds it (alone or with another); two objects when it holds both, in
 * either order. Throws on text that is not a query of this world.
 */
export function isQueryTrue(query: string | Query, scene: SceneSpec): boolean {
  const q = typeof query === 'string' ? parseQuery(query) : query;
  if (q === undefined) throw new Error(`not a shapes-world query: ${JSON.stringify(query)}`);
  if (q.kind === 'nothing') return scene.objects.length === 0;
  const has = (o: { colour: ColourName; shape: ShapeName }): boolean =>
    scene.objects.some((s) => s.colour === o.colour && s.shape === o.shape);
  const [a, b] = q.objects;
  if (b !== undefined && a !== undefined && a.colour === b.colour && a.shape === b.shape) return false;
  return q.objects.every(has);
}

export interface Moment {
  startSec: number;
  endSec: number;
}

/** Maximal time intervals over which the query is true, in seconds. */
export function truthMoments(spec: VideoSpec, query: string | Query): Moment[] {
  const out: Moment[] = [];
  const spans = sceneSpans(spec);
  spec.scenes.forEach((scene, i) => {
    const span = spans[i]!;
    if (span.frames === 0 || !isQueryTrue(query, scene)) return;
    const last = out.at(-1);
    if (last !== undefined && last.endSec === span.startSec) last.endSec = span.endSec;
    else out.push({ startSec: span.startSec, endSec: span.endSec });
  });
  return out;
}
