"""The shapes world (v1), rendered exactly as shared/shapes-world.md describes it.

Everything here is pure numpy and seeded through the `numpy.random.Generator` passed in, so a
dataset is a function of its seed. Semantics (captions, truth of a query) live here too, so
training labels and evaluation agree with the spec by construction.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

COLOURS = {
    'red': (220, 40, 40),
    'green': (40, 180, 60),
    'blue': (40, 80, 220),
    'yellow': (235, 210, 40),
}
COLOUR_NAMES = tuple(COLOURS)
SHAPES = ('circle', 'square', 'triangle')
BACKGROUNDS = ('black', 'white', 'gray', 'noise')
BACKGROUND_RGB = {'black': 0, 'white': 255, 'gray': 128}
NOISE_RANGE = (40, 90)  # inclusive gray levels of the noise background
JITTER = 20
MIN_GAP = 4  # bounding boxes at least this many pixels apart
SIZE_RANGE = (0.25, 0.45)  # object size S as a fraction of frame height
MAX_SPEED = 0.30  # fraction of frame width per second

#: the 12 objects, index k = colour_index * 3 + shape_index
OBJECTS: Tuple[Tuple[str, str], ...] = tuple(itertools.product(COLOUR_NAMES, SHAPES))
OBJECT_INDEX = {o: k for k, o in enumerate(OBJECTS)}


def object_phrase(k: int) -> str:
    c, s = OBJECTS[k]
    return f'a {c} {s}'


@dataclass
class Obj:
    kind: int  # index into OBJECTS
    rgb: Tuple[int, int, int]  # jittered colour, fixed for the scene
    size: float  # S in pixels
    x0: float  # bounding box top-left at the scene's first frame
    y0: float
    vx: float = 0.0  # pixels per second
    vy: float = 0.0

    def box(self, t: float) -> Tuple[float, float]:
        return self.x0 + self.vx * t, self.y0 + self.vy * t


@dataclass
class Scene:
    width: int
    height: int
    background: str
    duration: float
    antialias: bool
    objects: List[Obj] = field(default_factory=list)

    @property
    def mask(self) -> int:
        """Bit k set when object k is in the scene."""
        m = 0
        for o in self.objects:
            m |= 1 << o.kind
        return m

    def caption(self) -> str:
        return caption_of(self.objects)


def caption_of(objects: Sequence[Obj]) -> str:
    if not objects:
        return 'nothing'
    # the object whose centre is further left at the scene's first frame is named first
    ordered = sorted(objects, key=lambda o: o.x0 + o.size / 2)
    return ' and '.join(object_phrase(o.kind) for o in ordered)


# ----------------------------------------------------------------------------- semantics


def parse_query(text: str) -> Optional[List[int]]:
    """Objects named by a canonical query (`nothing` -> []), None if not a canonical query."""
    words = text.lower().split()
    if words == ['nothing']:
        return []
    if len(words) not in (3, 7):
        return None
    objs = []
    for i in range(0, len(words), 4):
        a, c, s = words[i : i + 3]
        if a != 'a' or c not in COLOURS or s not in SHAPES:
            return None
        objs.append(OBJECT_INDEX[(c, s)])
        if i + 3 < len(words) and words[i + 3] != 'and':
            return None
    if len(objs) == 2 and objs[0] == objs[1]:
        return None
    return objs


def query_true(objs: Sequence[int], mask: int) -> bool:
    """Truth of a parsed query on a frame whose scene holds the objects in `mask`."""
    if len(objs) == 0:
        return mask == 0
    return all(mask >> k & 1 for k in objs)


def canonical_queries() -> List[str]:
    """Every query the world defines: `nothing`, 12 single objects, 132 ordered pairs."""
    out = ['nothing'] + [object_phrase(k) for k in range(12)]
    for i, j in itertools.permutations(range(12), 2):
        out.append(f'{object_phrase(i)} and {object_phrase(j)}')
    return out


def swapped_twin(i: int, j: int) -> Optional[Tuple[int, int]]:
    """Colour-swapped twin of the pair (i, j); None when the swap names the same set."""
    (ci, si), (cj, sj) = OBJECTS[i], OBJECTS[j]
    if ci == cj or si == sj:
        return None
    return OBJECT_INDEX[(cj, si)], OBJECT_INDEX[(ci, sj)]


# ----------------------------------------------------------------------------- sampling


def random_frame_size(rng: np.random.Generator) -> Tuple[int, int]:
    """Even width x height (H.264 yuv420p), height 180..720, aspect 4:3..16:9."""
    while True:
        h = int(rng.integers(90, 361)) * 2
        aspect = rng.uniform(4 / 3, 16 / 9)
        w = int(round(h * aspect / 2)) * 2
        if 4 / 3 - 1e-9 <= w / h <= 16 / 9 + 1e-9:
            return w, h


def _apart(a: Obj, b: Obj, t: float) -> bool:
    ax, ay = a.box(t)
    bx, by = b.box(t)
    gx = max(bx - (ax + a.size), ax - (bx + b.size))
    gy = max(by - (ay + a.size), ay - (by + b.size))
    return max(gx, gy) >= MIN_GAP


def random_scene(
    rng: np.random.Generator,
    width: int,
    height: int,
    n_objects: int,
    duration: float,
    kinds: Optional[Sequence[int]] = None,
    p_moving: float = 0.5,
) -> Scene:
    """A legal scene: distinct, non-overlapping objects wholly inside the frame for the whole
    scene, each static or moving in a straight line at constant speed <= 30% width/s."""
    bg = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    scene = Scene(width, height, bg, duration, bool(rng.random() < 0.5))
    if kinds is None:
        kinds = rng.choice(12, size=n_objects, replace=False).tolist()
    for _attempt in range(200):
        objs = []
        for k in kinds:
            base = COLOURS[OBJECTS[k][0]]
            rgb = tuple(int(np.clip(v + rng.integers(-JITTER, JITTER + 1), 0, 255)) for v in base)
            s = rng.uniform(*SIZE_RANGE) * height
            # start and end boxes anywhere inside the frame; speed capped by the spec
            x0, y0 = rng.uniform(0, width - s), rng.uniform(0, height - s)
            vx = vy = 0.0
            if rng.random() < p_moving:
                x1, y1 = rng.uniform(0, width - s), rng.uniform(0, height - s)
                dx, dy = (x1 - x0) / duration, (y1 - y0) / duration
                speed = math.hypot(dx, dy)
                cap = MAX_SPEED * width * rng.uniform(0.2, 1.0)
                f = min(1.0, cap / speed) if speed > 0 else 0.0
                vx, vy = dx * f, dy * f
            objs.append(Obj(int(k), rgb, s, x0, y0, vx, vy))
        if len(objs) == 2:
            ts = np.linspace(0, duration, 41)
            if not all(_apart(objs[0], objs[1], t) for t in ts):
                continue
        scene.objects = objs
        return scene
    # crowded by chance: fall back to static objects, which always fit side by side
    return random_scene(rng, width, height, n_objects, duration, kinds, p_moving=0.0)


# ----------------------------------------------------------------------------- rendering

def _coverage(o: Obj, x: float, y: float, antialias: bool, w: int, h: int):
    """Coverage in [0,1] of object o (box at x, y) over its pixel window.

    Aliased: 1 where the pixel centre is inside the shape. Anti-aliased: exact area for the
    square, a one-pixel ramp of the signed distance at the pixel centre for the circle and the
    triangle (the spec leaves the anti-aliasing method open)."""
    s = o.size
    ix0, iy0 = max(0, int(math.floor(x)) - 1), max(0, int(math.floor(y)) - 1)
    ix1, iy1 = min(w, int(math.ceil(x + s)) + 1), min(h, int(math.ceil(y + s)) + 1)
    X = (np.arange(ix0, ix1, dtype=np.float32) + 0.5)[None, :]
    Y = (np.arange(iy0, iy1, dtype=np.float32) + 0.5)[:, None]
    shape = OBJECTS[o.kind][1]
    if shape == 'square':
        if antialias:
            cx = np.clip(np.minimum(X + 0.5, x + s) - np.maximum(X - 0.5, x), 0, 1)
            cy = np.clip(np.minimum(Y + 0.5, y + s) - np.maximum(Y - 0.5, y), 0, 1)
            return (iy0, iy1, ix0, ix1), cy * cx
        sd = np.minimum(np.minimum(X - x, x + s - X), np.minimum(Y - y, y + s - Y))
    elif shape == 'circle':
        r = s / 2
        sd = r - np.sqrt((X - (x + r)) ** 2 + (Y - (y + r)) ** 2)
    else:  # isosceles triangle, apex up at (x + s/2, y), base s wide at y + s
        dx = X - (x + s / 2)
        k = 1 / math.sqrt(5)  # edges have slope 2: normalise to a distance in pixels
        sd = np.minimum(np.minimum(((Y - y) - 2 * dx) * k, ((Y - y) + 2 * dx) * k), y + s - Y)
    if antialias:
        cov = np.clip(sd + 0.5, 0, 1)
    else:
        cov = (sd >= 0).astype(np.float32)
    return (iy0, iy1, ix0, ix1), cov


def render_frame(scene: Scene, t: float, rng: np.random.Generator) -> np.ndarray:
    """uint8 [H, W, 3] RGB frame of the scene at time t (seconds from the scene's start)."""
    h, w = scene.height, scene.width
    if scene.background == 'noise':
        g = rng.integers(NOISE_RANGE[0], NOISE_RANGE[1] + 1, size=(h, w), dtype=np.uint8)
        frame = np.repeat(g[:, :, None], 3, axis=2)
    else:
        frame = np.full((h, w, 3), BACKGROUND_RGB[scene.background], dtype=np.uint8)
    for o in scene.objects:
        x, y = o.box(t)
        (a, b, c, d), cov = _coverage(o, x, y, scene.antialias, w, h)
        if cov.size == 0:
            continue
        region = frame[a:b, c:d].astype(np.float32)
        col = np.asarray(o.rgb, np.float32)
        cov = cov[:, :, None].astype(np.float32)
        frame[a:b, c:d] = np.rint(region * (1 - cov) + col * cov).astype(np.uint8)
    return frame
