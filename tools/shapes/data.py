"""Datasets of the shapes world through the runtime's real decode path.

Each *video* gets one random legal frame size, frame rate and x264 setting and holds many
scenes joined by hard cuts. Frames are rendered by `world.py`, encoded to H.264 yuv420p in MP4
by ffmpeg (libx264), and decoded with exactly the runtime's letterbox filter into uint8 RGB at
the model's input size. Every video is seeded by (seed, video index), so a split is a function
of its arguments, whatever the number of worker processes.

    python -m tools.shapes.data --out /tmp/shapes/train.npz --seed 1 --videos 400
"""

from __future__ import annotations

import argparse
import inspect
import os
import subprocess
import tempfile
import threading
import time
from multiprocessing import Pool
from typing import Dict, List

import numpy as np

from . import world

PRESETS = ('ultrafast', 'superfast', 'veryfast', 'faster', 'medium')


def letterbox_filter(size: int) -> str:
    """The runtime's ffmpeg filter for `image.resize = letterbox` (docs/model-pack.md)."""
    w = h = size
    return (
        f'scale={w}:{h}:force_original_aspect_ratio=decrease:flags=bicubic,'
        f'pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black,format=rgb24'
    )


def _encode_decode(frames_iter, n: int, width: int, height: int, fps: int, crf: int, preset: str, size: int):
    with tempfile.TemporaryDirectory(prefix='shapes-') as tmp:
        path = os.path.join(tmp, 'v.mp4')
        enc = subprocess.Popen(
            ['ffmpeg', '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{width}x{height}',
             '-r', str(fps), '-i', '-', '-c:v', 'libx264', '-preset', preset, '-crf', str(crf),
             '-pix_fmt', 'yuv420p', '-threads', '1', path],
            stdin=subprocess.PIPE,
        )
        for f in frames_iter:
            enc.stdin.write(f.tobytes())
        enc.stdin.close()
        if enc.wait() != 0:
            raise RuntimeError('ffmpeg encode failed')
        dec = subprocess.run(
            ['ffmpeg', '-v', 'error', '-threads', '1', '-i', path, '-vf', letterbox_filter(size),
             '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
            stdout=subprocess.PIPE, check=True,
        )
    out = np.frombuffer(dec.stdout, np.uint8)
    if out.size != n * size * size * 3:
        raise RuntimeError(f'decoded {out.size // (size * size * 3)} frames, expected {n}')
    return out.reshape(n, size, size, 3)


def make_video(args) -> Dict[str, np.ndarray]:
    seed, index, cfg = args
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    width, height = world.random_frame_size(rng)
    fps = int(rng.integers(10, 31))
    crf = int(rng.integers(cfg['crf'][0], cfg['crf'][1] + 1))
    preset = PRESETS[int(rng.integers(len(PRESETS)))]
    n_obj_p = np.asarray(cfg['p_objects'], float)
    scenes: List[world.Scene] = []
    times: List[np.ndarray] = []
    for _ in range(cfg['scenes']):
        n_obj = int(rng.choice(3, p=n_obj_p / n_obj_p.sum()))
        dur = float(rng.uniform(2, 10))
        scenes.append(world.random_scene(rng, width, height, n_obj, dur))
        f = cfg['frames']
        # a run of consecutive frames somewhere inside the scene
        t0 = rng.uniform(0, max(0.0, dur - f / fps))
        times.append(t0 + np.arange(f) / fps)
    n = sum(len(t) for t in times)

    def frames():
        for sc, ts in zip(scenes, times):
            for t in ts:
                yield world.render_frame(sc, float(t), rng)

    pix = _encode_decode(frames(), n, width, height, fps, crf, preset, cfg['size'])
    mask, kinds, kinds_now, dx_now, scene_id, bg, meta = [], [], [], [], [], [], []
    for s, (sc, ts) in enumerate(zip(scenes, times)):
        ordered = sorted(sc.objects, key=lambda o: o.x0 + o.size / 2)
        k = [o.kind for o in ordered] + [-1] * (2 - len(ordered))
        for t in ts:
            # left-to-right order at this frame (the caption uses the scene's first frame)
            cx = [(o.box(float(t))[0] + o.size / 2, o.kind) for o in sc.objects]
            cx.sort()
            kinds_now.append([c[1] for c in cx] + [-1] * (2 - len(cx)))
            dx_now.append((cx[1][0] - cx[0][0]) / width if len(cx) == 2 else 0.0)
            mask.append(sc.mask)
            kinds.append(k)
            scene_id.append(index * 100000 + s)
            bg.append(world.BACKGROUNDS.index(sc.background))
            meta.append([width, height, fps, crf, int(sc.antialias)])
    return {
        'pixels': pix,
        'mask': np.asarray(mask, np.int32),
        'kinds': np.asarray(kinds, np.int16),
        'kinds_now': np.asarray(kinds_now, np.int16),
        'dx_now': np.asarray(dx_now, np.float32),
        'scene': np.asarray(scene_id, np.int64),
        'background': np.asarray(bg, np.int8),
        'meta': np.asarray(meta, np.int32),
    }


def build(seed: int, videos: int, scenes: int = 60, frames: int = 2, size: int = 80,
          p_objects=(0.15, 0.35, 0.5), crf=(16, 34), workers: int = 2) -> Dict[str, np.ndarray]:
    cfg = dict(scenes=scenes, frames=frames, size=size, p_objects=list(p_objects), crf=list(crf))
    jobs = [(seed, i, cfg) for i in range(videos)]
    parts, t = [], time.time()
    with Pool(workers) as pool:
        for i, part in enumerate(pool.imap(make_video, jobs, chunksize=1)):
            parts.append(part)
            if (i + 1) % max(1, videos // 10) == 0:
                print(f'  video {i + 1}/{videos} ({time.time() - t:.0f}s)', flush=True)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def load_or_build(path: str, **kw) -> Dict[str, np.ndarray]:
    """Cached split: rebuilt when missing or when it was made with other arguments."""
    args = inspect.signature(build).bind(**kw)
    args.apply_defaults()
    key = repr(sorted((k, list(v) if isinstance(v, tuple) else v) for k, v in args.arguments.items() if k != 'workers'))
    if os.path.exists(path):
        d = np.load(path)
        if str(d['key']) == key:
            return {k: d[k] for k in d.files if k != 'key'}
    t = time.time()
    data = build(**kw)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.part.npz'
    np.savez(tmp, key=np.asarray(key), **data)
    os.replace(tmp, path)
    print(f'built {path}: {len(data["mask"])} frames in {time.time() - t:.0f}s', flush=True)
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--videos', type=int, default=100)
    ap.add_argument('--scenes', type=int, default=60)
    ap.add_argument('--frames', type=int, default=2)
    ap.add_argument('--size', type=int, default=80)
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    load_or_build(a.out, seed=a.seed, videos=a.videos, scenes=a.scenes, frames=a.frames, size=a.size,
                  workers=a.workers)


if __name__ == '__main__':
    main()
