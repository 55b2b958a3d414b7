/** The ground-truth document written beside a rendered video. */
import { type VideoSpec, sceneSpans, totalFrames } from './spec.js';
import { sceneCaption } from './words.js';

export interface TruthScene {
  index: number;
  startSec: number;
  endSec: number;
  startFrame: number;
  frames: number;
  caption: string;
  background: string;
  objects: Array<{ colour: string; shape: string; name: string }>;
}

export interface TruthDocument {
  schema: 'clipstream.shapes-truth.v1';
  spec: VideoSpec;
  frames: number;
  durationSec: number;
  scenes: TruthScene[];
}

export function truthDocument(spec: VideoSpec): TruthDocument {
  const spans = sceneSpans(spec);
  const frames = totalFrames(spec);
  return {
    schema: 'clipstream.shapes-truth.v1',
    spec,
    frames,
    durationSec: frames / spec.fps,
    scenes: spec.scenes.map((scene, i) => {
      const span = spans[i]!;
      return {
        index: i,
        startSec: span.startSec,
        endSec: span.endSec,
        startFrame: span.startFrame,
        frames: span.frames,
        caption: sceneCaption(scene),
        background: scene.background,
        objects: scene.objects.map((o) => ({
          colour: o.colour,
          shape: o.shape,
          name: `a ${o.colour} ${o.shape}`,
        })),
      };
    }),
  };
}
