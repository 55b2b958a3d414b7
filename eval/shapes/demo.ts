/** A fixed, hand-written video of the shapes world for the demo and for readable tests. */
import { COLOURS, type ColourName, type ObjectSpec, type ShapeName, type VideoSpec } from './spec.js';

function obj(
  colour: ColourName,
  shape: ShapeName,
  size: number,
  x: number,
  y: number,
  vx = 0,
  vy = 0,
): ObjectSpec {
  return { colour, shape, rgb: [...COLOURS[colour]], size, start: { x, y }, velocity: { x: vx, y: vy } };
}

/**
 * 640x360 at 25 fps, 24 s, six scenes joined by hard cuts:
 * a red circle (black) | a blue square and a yellow triangle (noise) | nothing (white) |
 * a green triangle (gray) | a yellow triangle and a red circle (black) | a blue circle (white).
 */
export function demoVideoSpec(): VideoSpec {
  return {
    world: 'shapes-v1',
    width: 640,
    height: 360,
    fps: 25,
    antialias: true,
    noiseSeed: 20241122,
    scenes: [
      { durationSec: 4, background: 'black', objects: [obj('red', 'circle', 120, 160, 180, 60, 0)] },
      {
        durationSec: 5,
        background: 'noise',
        objects: [
          obj('blue', 'square', 110, 120, 120, 0, 20),
          obj('yellow', 'triangle', 130, 470, 220, -30, 0),
        ],
      },
      { durationSec: 3, background: 'white', objects: [] },
      { durationSec: 4, background: 'gray', objects: [obj('green', 'triangle', 150, 320, 180)] },
      {
        durationSec: 4,
        background: 'black',
        objects: [obj('yellow', 'triangle', 100, 110, 250, 40, -20), obj('red', 'circle', 140, 480, 140)],
      },
      { durationSec: 4, background: 'white', objects: [obj('blue', 'circle', 100, 500, 200, -80, 0)] },
    ],
  };
}
