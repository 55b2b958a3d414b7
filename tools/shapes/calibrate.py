"""Write `matching.calibration` into a shapes pack's model.json: the affine cosine -> logit maps
the runtime applies to sentence and word evidence (docs/matching.md), fitted by class-balanced
logistic regression on held-out frames: this project's renderer (fresh seed) and, when built,
the TypeScript renderer in eval/shapes. Sentence: cos(frame, text) vs query truth over the 145
canonical queries. Word: cos(frame, word token) vs the truth of the token's clause (the tokens
of `a red circle` -> the frame holds a red circle; `and`, `nothing` -> the whole query).

    python -m tools.shapes.calibrate --checkpoint FILE --pack models/shapes-v1

model.json is not covered by the pack's file hashes, so this edit keeps the pack valid; the
project's own `--fit-calibration` may later replace these maps.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from . import text as T
from .evaluate import embed_frames, eval_split, ts_split
from .train import labels, load_checkpoint


def fit(cos: np.ndarray, y: np.ndarray, l2: float = 1e-4):
    """Class-balanced logistic regression z = scale * cos + bias, lightly regularised so that
    separable data gives a finite scale."""
    x = torch.from_numpy(cos.astype(np.float64))
    t = torch.from_numpy(y.astype(np.float64))
    w = torch.where(t > 0, 0.5 / t.mean(), 0.5 / (1 - t.mean()))
    p = torch.tensor([10.0, 0.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([p], max_iter=500, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        z = p[0] * x + p[1]
        loss = (w * F.binary_cross_entropy_with_logits(z, t, reduction='none')).mean() + l2 * p[0] ** 2
        loss.backward()
        return loss

    opt.step(closure)
    p = p.detach()
    return {'scale': round(float(p[0]), 4), 'bias': round(float(p[1]), 4)}


@torch.no_grad()
def evidence(model, ev):
    texts = T.bank()
    ids, mask, groups, clauses, has, nothing = (torch.from_numpy(v) for v in T.pack(texts))
    s, tok = model.encode_text(ids, mask)
    tok = F.normalize(tok, dim=-1)
    f = embed_frames(model, ev['pixels'])
    present = torch.from_numpy(((ev['mask'][:, None] >> np.arange(12)[None]) & 1).astype(bool))
    sat, truth = labels(present, clauses, has, nothing)
    sent = (f @ s.T).numpy().ravel(), truth.numpy().ravel()
    tl = torch.cat([sat, truth[..., None]], dim=-1)
    tok_truth = torch.gather(tl, 2, groups.clamp(min=0)[None].expand(len(f), -1, -1))
    valid = (groups >= 0)[None].expand(len(f), -1, -1)
    wcos = torch.einsum('bd,tld->btl', f, tok)
    return sent, (wcos[valid].numpy(), tok_truth[valid].numpy())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--pack', required=True)
    ap.add_argument('--seed', type=int, default=4)
    ap.add_argument('--ts-videos', type=int, default=6)
    ap.add_argument('--cache', default='/tmp/shapes')
    a = ap.parse_args()
    torch.set_num_threads(2)
    model = load_checkpoint(a.checkpoint)
    sets = [eval_split(a.seed, 20, model.cfg.image_size, a.cache)]
    if a.ts_videos and os.path.exists('dist/eval/shapes/render-cli.js'):
        sets.append(ts_split(range(a.seed * 1000, a.seed * 1000 + a.ts_videos), model.cfg.image_size, cache=a.cache))
    s_cos, s_y, w_cos, w_y = [], [], [], []
    for ev in sets:
        (sc, sy), (wc, wy) = evidence(model, ev)
        s_cos.append(sc), s_y.append(sy), w_cos.append(wc), w_y.append(wy)
    cal = {'sentence': fit(np.concatenate(s_cos), np.concatenate(s_y)),
           'word': fit(np.concatenate(w_cos), np.concatenate(w_y))}
    path = os.path.join(a.pack, 'model.json')
    manifest = json.load(open(path))
    manifest.setdefault('matching', {})['calibration'] = cal
    manifest['matching']['calibrationSource'] = (
        f'tools.shapes.calibrate: class-balanced logistic regression on {sum(len(s["mask"]) for s in sets)} '
        f'held-out frames (seed {a.seed}; TypeScript renderer videos: {a.ts_videos if len(sets) > 1 else 0})')
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write(json.dumps(manifest, indent=2, ensure_ascii=False) + '\n')
    print(json.dumps(cal))


if __name__ == '__main__':
    main()
