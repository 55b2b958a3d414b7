import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoVideoSpec } from '../../../eval/shapes/demo.js';
import { coverage, drawFrame } from '../../../eval/shapes/draw.js';
import { mulberry32, randInt } from '../../../eval/shapes/prng.js';
import { truthDocument } from '../../../eval/shapes/truth.js';
import {
  COLOURS,
  type ObjectSpec,
  type SceneSpec,
  type VideoSpec,
  isQueryTrue,
  parseQuery,
  randomVideoSpec,
  sceneCaption,
  sceneSpans,
  specViolations,
  totalFrames,
  truthMoments,
} from '../../../eval/shapes/world.js';

function obj(
  colour: ObjectSpec['colour'],
  shape: ObjectSpec['shape'],
  x: number,
  y = 90,
  size = 60,
): ObjectSpec {
  return { colour, shape, rgb: [...COLOURS[colour]], size, start: { x, y }, velocity: { x: 0, y: 0 } };
}

function video(scenes: SceneSpec[], fps = 10): VideoSpec {
  return { world: 'shapes-v1', width: 320, height: 180, fps, antialias: false, noiseSeed: 1, scenes };
}

describe('PRNG', () => {
  it('is mulberry32 (reference values) and deterministic', () => {
    const r = mulberry32(1);
    assert.equal(r(), 0.6270739405881613);
    assert.equal(r(), 0.002735721180215478);
    const a = mulberry32(99);
    const b = mulberry32(99);
    for (let i = 0; i < 1000; i++) assert.equal(a(), b());
  });
  it('randInt covers both ends', () => {
    const r = mulberry32(5);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(randInt(r, -2, 2));
    assert.deepEqual([...seen].sort(), [-1, -2, 0, 1, 2]);
  });
});

describe('randomVideoSpec', () => {
  it('is deterministic per seed and differs across seeds', () => {
    assert.deepEqual(randomVideoSpec(7), randomVideoSpec(7));
    assert.notDeepEqual(randomVideoSpec(7), randomVideoSpec(8));
  });

  it('obeys every rule of the world over many seeds', () => {
    const seen = { counts: new Set<number>(), backgrounds: new Set<string>(), moving: 0, static: 0 };
    for (let seed = 0; seed < 400; seed++) {
      const spec = randomVideoSpec(seed);
      assert.deepEqual(specViolations(spec), [], `seed ${seed}`);
      assert.equal(spec.width % 2, 0);
      assert.equal(spec.height % 2, 0);
      assert.ok(Number.isInteger(spec.fps));
      for (const s of spec.scenes) {
        seen.counts.add(s.objects.length);
        seen.backgrounds.add(s.background);
        for (const o of s.objects) {
          if (o.velocity.x === 0 && o.velocity.y === 0) seen.static++;
          else seen.moving++;
        }
      }
    }
    assert.deepEqual([...seen.counts].sort(), [0, 1, 2]);
    assert.equal(seen.backgrounds.size, 4);
    assert.ok(seen.moving > 0 && seen.static > 0);
  });

  it('honours fixed size, fps, duration and scene count', () => {
    for (let seed = 0; seed < 50; seed++) {
      const spec = randomVideoSpec(seed, {
        width: 640,
        height: 360,
        fps: 25,
        durationSec: 30,
        sceneCount: 5,
      });
      assert.deepEqual(specViolations(spec), [], `seed ${seed}`);
      assert.equal(spec.width, 640);
      assert.equal(spec.fps, 25);
      assert.equal(spec.scenes.length, 5);
      assert.equal(totalFrames(spec), 750);
    }
    const long = randomVideoSpec(3, { fps: 30, durationSec: 95 });
    assert.equal(totalFrames(long), 2850);
    assert.deepEqual(specViolations(long), []);
  });

  it('refuses a duration that cannot be split into legal scenes', () => {
    assert.throws(() => randomVideoSpec(1, { fps: 10, durationSec: 30, sceneCount: 2 }), RangeError);
    assert.throws(() => randomVideoSpec(1, { fps: 10, durationSec: 3, sceneCount: 2 }), RangeError);
  });

  it('uses explicit scenes as given', () => {
    const scenes: SceneSpec[] = [
      { durationSec: 3, background: 'gray', objects: [obj('red', 'circle', 100)] },
    ];
    const spec = randomVideoSpec(4, { scenes, width: 320, height: 180, fps: 10 });
    assert.equal(spec.scenes, scenes);
  });

  it('the demo spec obeys the rules', () => {
    assert.deepEqual(specViolations(demoVideoSpec()), []);
  });
});

describe('specViolations catches broken specs', () => {
  const base = (): VideoSpec =>
    video([
      {
        durationSec: 3,
        background: 'black',
        objects: [obj('red', 'circle', 60), obj('blue', 'square', 200)],
      },
    ]);
  const cases: Array<[string, (v: VideoSpec) => void, RegExp]> = [
    ['overlap', (v) => (v.scenes[0]!.objects[1]!.start.x = 122), /within/],
    ['outside', (v) => (v.scenes[0]!.objects[0]!.start.x = 20), /leaves the frame/],
    ['leaves later', (v) => (v.scenes[0]!.objects[1]!.velocity = { x: 40, y: 0 }), /leaves the frame/],
    ['too fast', (v) => (v.scenes[0]!.objects[0]!.velocity = { x: 0, y: 100 }), /too fast/],
    ['too small', (v) => (v.scenes[0]!.objects[0]!.size = 40), /size/],
    ['too big', (v) => (v.scenes[0]!.objects[0]!.size = 82), /size/],
    [
      'twins',
      (v) => Object.assign(v.scenes[0]!.objects[1]!, { colour: 'red', shape: 'circle' }),
      /two a red circles/,
    ],
    ['jitter', (v) => (v.scenes[0]!.objects[0]!.rgb = [250, 40, 40]), /more than 20/],
    ['short scene', (v) => (v.scenes[0]!.durationSec = 1.9), /lasts/],
    ['long scene', (v) => (v.scenes[0]!.durationSec = 10.2), /lasts/],
    ['aspect', (v) => (v.width = 360), /aspect/],
    ['fps', (v) => (v.fps = 60), /fps/],
    ['three objects', (v) => v.scenes[0]!.objects.push(obj('green', 'triangle', 280)), /3 objects/],
  ];
  for (const [name, breakIt, message] of cases) {
    it(name, () => {
      const v = base();
      assert.deepEqual(specViolations(v), []);
      breakIt(v);
      const found = specViolations(v);
      assert.ok(
        found.some((m) => message.test(m)),
        found.join('; ') || 'no violation found',
      );
    });
  }
});

describe('captions and queries', () => {
  const two: SceneSpec = {
    durationSec: 2,
    background: 'white',
    objects: [obj('blue', 'square', 250), obj('red', 'circle', 60)],
  };
  const one: SceneSpec = { durationSec: 2, background: 'noise', objects: [obj('green', 'triangle', 150)] };
  const none: SceneSpec = { durationSec: 2, background: 'gray', objects: [] };

  it('captions name the object further left first', () => {
    assert.equal(sceneCaption(two), 'a red circle and a blue square');
    assert.equal(sceneCaption(one), 'a green triangle');
    assert.equal(sceneCaption(none), 'nothing');
  });

  it('uses the first frame even when the objects later swap sides', () => {
    const crossing: SceneSpec = {
      durationSec: 4,
      background: 'black',
      objects: [
        { ...obj('yellow', 'circle', 40, 40, 50), velocity: { x: 50, y: 0 } },
        { ...obj('green', 'square', 280, 140, 50), velocity: { x: -50, y: 0 } },
      ],
    };
    assert.equal(sceneCaption(crossing), 'a yellow circle and a green square');
  });

  it('single-object queries are true alone or with another object', () => {
    assert.equal(isQueryTrue('a red circle', two), true);
    assert.equal(isQueryTrue('a blue square', two), true);
    assert.equal(isQueryTrue('a green triangle', one), true);
    assert.equal(isQueryTrue('a red triangle', two), false);
    assert.equal(isQueryTrue('a red circle', none), false);
  });

  it('two-object queries need both objects, in either order, with the right binding', () => {
    assert.equal(isQueryTrue('a red circle and a blue square', two), true);
    assert.equal(isQueryTrue('a blue square and a red circle', two), true);
    assert.equal(isQueryTrue('a blue circle and a red square', two), false);
    assert.equal(isQueryTrue('a red circle and a green triangle', two), false);
    assert.equal(isQueryTrue('a red circle and a red circle', two), false);
  });

  it('nothing is true only of empty scenes', () => {
    assert.equal(isQueryTrue('nothing', none), true);
    assert.equal(isQueryTrue('nothing', one), false);
  });

  it('parses queries and refuses other text', () => {
    assert.deepEqual(parseQuery('  A  Red circle '), {
      kind: 'objects',
      objects: [{ colour: 'red', shape: 'circle' }],
    });
    assert.equal(parseQuery('a purple circle'), undefined);
    assert.equal(parseQuery('a red circle and a blue square and a green triangle'), undefined);
    assert.throws(() => isQueryTrue('a cat', one));
  });
});

describe('timeline and truth moments', () => {
  const red = obj('red', 'circle', 60);
  const blue = obj('blue', 'square', 200);
  const spec = video(
    [
      { durationSec: 2.04, background: 'black', objects: [red] },
      { durationSec: 3, background: 'white', objects: [red, blue] },
      { durationSec: 2, background: 'gray', objects: [] },
      { durationSec: 2.5, background: 'black', objects: [blue] },
      { durationSec: 2, background: 'black', objects: [red] },
    ],
    10,
  );

  it('rounds scene durations to whole frames', () => {
    const spans = sceneSpans(spec);
    assert.deepEqual(
      spans.map((s) => [s.startFrame, s.frames]),
      [
        [0, 20],
        [20, 30],
        [50, 20],
        [70, 25],
        [95, 20],
      ],
    );
    assert.equal(spans[1]!.startSec, 2);
    assert.equal(spans[4]!.endSec, 11.5);
  });

  it('gives maximal intervals', () => {
    assert.deepEqual(truthMoments(spec, 'a red circle'), [
      { startSec: 0, endSec: 5 },
      { startSec: 9.5, endSec: 11.5 },
    ]);
    assert.deepEqual(truthMoments(spec, 'a blue square'), [
      { startSec: 2, endSec: 5 },
      { startSec: 7, endSec: 9.5 },
    ]);
    assert.deepEqual(truthMoments(spec, 'a blue square and a red circle'), [{ startSec: 2, endSec: 5 }]);
    assert.deepEqual(truthMoments(spec, 'nothing'), [{ startSec: 5, endSec: 7 }]);
    assert.deepEqual(truthMoments(spec, 'a yellow triangle'), []);
  });

  it('the truth document lists scenes with captions', () => {
    const doc = truthDocument(spec);
    assert.equal(doc.frames, 115);
    assert.deepEqual(
      doc.scenes.map((s) => s.caption),
      ['a red circle', 'a red circle and a blue square', 'nothing', 'a blue square', 'a red circle'],
    );
  });
});

describe('drawing', () => {
  it('paints object colours at their centres and the background elsewhere', () => {
    const scene: SceneSpec = {
      durationSec: 2,
      background: 'gray',
      objects: [obj('red', 'triangle', 60), obj('blue', 'circle', 200)],
    };
    const spec = video([scene]);
    for (const aa of [false, true]) {
      const buf = new Uint8Array(320 * 180 * 3);
      drawFrame({ ...spec, antialias: aa }, scene, 0, 0, buf);
      const px = (x: number, y: number): number[] => [
        ...buf.subarray((y * 320 + x) * 3, (y * 320 + x) * 3 + 3),
      ];
      assert.deepEqual(px(60, 95), [...COLOURS.red]);
      assert.deepEqual(px(200, 90), [...COLOURS.blue]);
      assert.deepEqual(px(5, 5), [128, 128, 128]);
      assert.deepEqual(px(60, 57), [128, 128, 128], 'above the apex stays background');
      assert.deepEqual(
        px(33, 63),
        [128, 128, 128],
        'the bounding box corner beside the apex stays background',
      );
      assert.deepEqual(px(33, 117), [...COLOURS.red], 'near the base corner is inside');
    }
  });

  it('moves objects in straight lines at their velocity', () => {
    const moving = { ...obj('yellow', 'square', 60, 90, 40), velocity: { x: 20, y: 0 } };
    const scene: SceneSpec = { durationSec: 3, background: 'black', objects: [moving] };
    const buf = new Uint8Array(320 * 180 * 3);
    drawFrame(video([scene]), scene, 20, 20, buf); // 2 s later: centre at x = 100
    assert.deepEqual([...buf.subarray((90 * 320 + 100) * 3, (90 * 320 + 100) * 3 + 3)], [...COLOURS.yellow]);
    assert.deepEqual([...buf.subarray((90 * 320 + 60) * 3, (90 * 320 + 60) * 3 + 3)], [0, 0, 0]);
  });

  it('noise is gray, in 40..90, redrawn per frame and reproducible', () => {
    const scene: SceneSpec = { durationSec: 2, background: 'noise', objects: [] };
    const spec = video([scene]);
    const a = new Uint8Array(320 * 180 * 3);
    const b = new Uint8Array(320 * 180 * 3);
    const a2 = new Uint8Array(320 * 180 * 3);
    drawFrame(spec, scene, 0, 0, a);
    drawFrame(spec, scene, 1, 1, b);
    drawFrame(spec, scene, 0, 0, a2);
    assert.deepEqual(a, a2);
    assert.notDeepEqual(a, b);
    const levels = new Set<number>();
    for (let i = 0; i < a.length; i += 3) {
      assert.ok(a[i] === a[i + 1] && a[i] === a[i + 2]);
      levels.add(a[i]!);
    }
    assert.equal(Math.min(...levels), 40);
    assert.equal(Math.max(...levels), 90);
    assert.equal(levels.size, 51);
  });

  it('shape areas match their geometry', () => {
    const area = (shape: ObjectSpec['shape'], aa: boolean): number => {
      let sum = 0;
      for (let y = 0; y < 100; y++)
        for (let x = 0; x < 100; x++) sum += coverage(shape, 50.3, 49.7, 60, x, y, aa);
      return sum;
    };
    for (const aa of [false, true]) {
      assert.ok(Math.abs(area('square', aa) - 3600) < 70, `square ${area('square', aa)}`);
      assert.ok(Math.abs(area('circle', aa) - Math.PI * 900) < 70, `circle ${area('circle', aa)}`);
      assert.ok(Math.abs(area('triangle', aa) - 1800) < 70, `triangle ${area('triangle', aa)}`);
    }
  });
});
