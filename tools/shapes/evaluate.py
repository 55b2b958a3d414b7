"""Held-out figures of a shapes model on frames rendered with a fresh seed and passed through
real ffmpeg (H.264 yuv420p in MP4, the runtime's letterbox filter).

    python -m tools.shapes.evaluate --checkpoint runs/s1/shapes-v1.pt --seed 3

- single: the right caption among `nothing` and the 12 single-object captions, on frames with
  0 or 1 object (sentence level);
- binding: the true two-object caption scores above its colour-swapped twin (same word
  order), on frames whose objects differ in both colour and shape; word_binding: the same
  with the minimum over the query's word tokens of cos(token, frame);
- caption: the scene's caption (left object first) is the best of all 145 captions;
- auc / word_auc: query true vs false of a frame over all 145 canonical queries, by the
  sentence score and by the min-over-word-tokens score; pair_auc / pair_word_auc: the same
  for the 132 two-object queries alone (negatives: one object missing, swapped binding, ...).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Dict

import numpy as np
import torch
import torch.nn.functional as F

from . import data as D
from . import text as T
from . import world


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    scores, labels = scores.ravel(), labels.ravel().astype(bool)
    order = np.argsort(scores, kind='mergesort')
    ranks = np.empty(len(scores), np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    # average ranks of ties
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        if j > i:
            ranks[order[i : j + 1]] = (i + j + 2) / 2
        i = j + 1
    npos, nneg = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - npos * (npos + 1) / 2) / (npos * nneg))


@torch.no_grad()
def embed_frames(model, pixels: np.ndarray, batch: int = 256) -> torch.Tensor:
    out = []
    for i in range(0, len(pixels), batch):
        out.append(model.encode_image(torch.from_numpy(pixels[i : i + batch])))
    return torch.cat(out)


@torch.no_grad()
def figures(model, ev: Dict[str, np.ndarray]) -> Dict[str, float]:
    model.eval()
    bank = T.bank()
    ids, mask, groups, _, _, _ = T.pack(bank)
    s, tok = model.encode_text(torch.from_numpy(ids), torch.from_numpy(mask))
    tok = F.normalize(tok, dim=-1)
    f = embed_frames(model, ev['pixels'])
    sent = (f @ s.T).numpy()  # [N, 145]
    word = torch.einsum('nd,tld->ntl', f, tok)
    word = word.masked_fill(torch.from_numpy(groups < 0)[None], 2.0).amin(dim=-1).numpy()  # [N, 145]
    masks = ev['mask']
    present = (masks[:, None] >> np.arange(12)[None]) & 1
    nobj = present.sum(1)
    # vectorised truth: nothing / single / pair
    truth = np.zeros_like(sent, dtype=bool)
    truth[:, 0] = nobj == 0
    truth[:, 1:13] = present.astype(bool)
    pairs = [(i, j) for i in range(12) for j in range(12) if i != j]
    pi = np.asarray(pairs)
    truth[:, 13:] = present[:, pi[:, 0]].astype(bool) & present[:, pi[:, 1]].astype(bool)
    pair_index = {p: 13 + n for n, p in enumerate(pairs)}

    out = {}
    sel = nobj <= 1
    target = np.where(nobj == 0, 0, 1 + present.argmax(1))
    out['single'] = float((sent[sel, :13].argmax(1) == target[sel]).mean())
    out['word_single'] = float((word[sel, :13].argmax(1) == target[sel]).mean())
    kinds = ev['kinds']
    cap = np.array([0 if k[0] < 0 else (1 + k[0] if k[1] < 0 else pair_index[(int(k[0]), int(k[1]))]) for k in kinds])
    out['caption'] = float((sent.argmax(1) == cap).mean())
    b, wb, n = 0, 0, 0
    for r in np.nonzero(nobj == 2)[0]:
        i, j = int(kinds[r, 0]), int(kinds[r, 1])
        for a, c in ((i, j), (j, i)):
            tw = world.swapped_twin(a, c)
            if tw is None:
                continue
            t, x = pair_index[(a, c)], pair_index[tw]
            b += sent[r, t] > sent[r, x]
            wb += word[r, t] > word[r, x]
            n += 1
    out['binding'] = b / max(n, 1)
    out['word_binding'] = wb / max(n, 1)
    out['auc'] = auc(sent, truth)
    out['word_auc'] = auc(word, truth)
    out['pair_auc'] = auc(sent[:, 13:], truth[:, 13:])
    out['pair_word_auc'] = auc(word[:, 13:], truth[:, 13:])
    # other phrasings: filler words must not change the answer, unknown objects must not match
    fill = [t.string.replace('nothing', 'nothing please') if i == 0 else f'the {t.string[2:]}, please'
            for i, t in enumerate(bank)]
    fid, fmask = T.encode(fill)
    fs, _ = model.encode_text(torch.from_numpy(fid), torch.from_numpy(fmask))
    out['filler_auc'] = auc((f @ fs.T).numpy(), truth)
    centre = (np.percentile(sent[truth], 5) + np.percentile(sent[~truth], 95)) / 2
    unknown = ['a purple circle', 'a red hexagon', 'a purple hexagon', 'a dog', 'xyzzy', 'a hexagon']
    uid, umask = T.encode(unknown)
    us, _ = model.encode_text(torch.from_numpy(uid), torch.from_numpy(umask))
    out['unknown_match_rate'] = float(((f @ us.T).numpy() > centre).mean())
    # typical cosine ranges, for the matcher's thresholds
    for name, m in (('sent', sent), ('word', word)):
        out[f'{name}_true_mean'] = float(m[truth].mean())
        out[f'{name}_false_mean'] = float(m[~truth].mean())
        out[f'{name}_true_p05'] = float(np.percentile(m[truth], 5))
        out[f'{name}_false_p95'] = float(np.percentile(m[~truth], 95))
    model.train()
    return {k: round(float(v), 4) for k, v in out.items()}


def eval_split(seed: int, videos: int = 40, size: int = 80, cache: str = '/tmp/shapes') -> Dict[str, np.ndarray]:
    """A held-out split: every frame count equally likely (1/3 each), other seed."""
    return D.load_or_build(f'{cache}/eval_s{seed}_v{videos}_{size}.npz', seed=seed, videos=videos, scenes=40,
                           frames=2, size=size, p_objects=(1, 1, 1))


def ts_split(seeds, size: int = 80, every: int = 5, cache: str = '/tmp/shapes') -> Dict[str, np.ndarray]:
    """Frames of videos rendered by the repo's own TypeScript renderer (eval/shapes, needs
    `npm run build`), a second implementation of the spec: every `every`-th frame, decoded
    with the letterbox filter, labelled from the truth document's scenes."""
    import os
    import subprocess

    os.makedirs(f'{cache}/ts', exist_ok=True)
    pix, masks, kinds = [], [], []
    for seed in seeds:
        mp4, js = f'{cache}/ts/v{seed}.mp4', f'{cache}/ts/v{seed}.json'
        if not os.path.exists(js):
            subprocess.run(['node', 'dist/eval/shapes/render-cli.js', '--seed', str(seed), '--out', mp4,
                            '--truth', js, '--duration', '40'], check=True, capture_output=True)
        spec = json.load(open(js))['spec']
        dec = subprocess.run(['ffmpeg', '-v', 'error', '-i', mp4, '-vf', D.letterbox_filter(size), '-fps_mode',
                              'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
                             stdout=subprocess.PIPE, check=True).stdout
        frames = np.frombuffer(dec, np.uint8).reshape(-1, size, size, 3)
        owner = []
        for si, sc in enumerate(spec['scenes']):
            owner += [si] * int(round(sc['durationSec'] * spec['fps']))
        for i in range(0, min(len(frames), len(owner)), every):
            objs = spec['scenes'][owner[i]]['objects']
            ks = [world.OBJECT_INDEX[(o['colour'], o['shape'])] for o in sorted(objs, key=lambda o: o['start']['x'])]
            pix.append(frames[i])
            masks.append(sum(1 << k for k in ks))
            kinds.append(ks + [-1] * (2 - len(ks)))
    return {'pixels': np.stack(pix), 'mask': np.asarray(masks, np.int32), 'kinds': np.asarray(kinds, np.int16)}


def main():
    from .train import load_checkpoint

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--seed', type=int, default=3)
    ap.add_argument('--videos', type=int, default=60)
    ap.add_argument('--cache', default='/tmp/shapes')
    ap.add_argument('--ts-videos', type=int, default=0,
                    help='also score N videos from the TypeScript renderer (eval/shapes, after npm run build)')
    a = ap.parse_args()
    torch.set_num_threads(2)
    model = load_checkpoint(a.checkpoint)
    t = time.time()
    ev = eval_split(a.seed, a.videos, model.cfg.image_size, a.cache)
    r = figures(model, ev)
    r['frames'] = int(len(ev['mask']))
    r['seconds'] = round(time.time() - t, 1)
    print(json.dumps(r, indent=1))
    if a.ts_videos:
        tv = ts_split(range(a.seed * 1000, a.seed * 1000 + a.ts_videos), model.cfg.image_size, cache=a.cache)
        r = figures(model, tv)
        r['frames'] = int(len(tv['mask']))
        print('typescript renderer:', json.dumps(r, indent=1))


if __name__ == '__main__':
    main()
