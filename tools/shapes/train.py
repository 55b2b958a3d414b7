"""Train the shapes model (deterministic for a given seed on a given machine).

    python -m tools.shapes.train --out runs/s1 --seed 1

Data: a training split of frames through real ffmpeg (tools.shapes.data, cached under
--cache) and a differently seeded held-out split for the figures logged during training.

Losses, all on one shared text set per step (the 145 canonical queries plus `--variants`
random other phrasings):
- sentence: sigmoid loss on scale * cos(frame, text) + bias with multi-positive labels from
  the world's semantics (a query is true of every frame holding its objects);
- token: sigmoid loss on every word token against every frame, label = truth of the clause
  the token belongs to (the tokens of `a red circle` -> the frame holds a red circle; `and`,
  `nothing` and unknown words -> the whole text), which teaches contextual tokens;
- caption: softmax over the 145 captions, target = the frame's caption (left object first),
  so the caption bank prefers the right word order.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import data as D
from . import text as T
from .evaluate import eval_split, figures
from .model import Config, ShapesCLIP


def labels(present: torch.Tensor, clauses, has, nothing):
    """present [B,12] bool -> clause truth [B,T,2], text truth [B,T]."""
    sat = (present[:, None, None, :] & clauses[None]).any(-1) | ~has[None]  # [B,T,2]
    empty = ~present.any(-1)  # [B]
    truth = sat.all(-1)
    truth = torch.where(nothing[None], empty[:, None], truth)
    sat = torch.where(nothing[None, :, None], empty[:, None, None], sat)
    return sat, truth


def caption_index(kinds_now: np.ndarray) -> np.ndarray:
    """Index in T.bank() of each frame's caption with the current left-to-right order."""
    a, b = kinds_now[:, 0].astype(np.int64), kinds_now[:, 1].astype(np.int64)
    pair = 13 + a * 11 + np.where(b > a, b - 1, b)
    return np.where(a < 0, 0, np.where(b < 0, 1 + a, pair))


def save_checkpoint(model, path, extra):
    torch.save({'config': model.cfg.to_dict(), 'state_dict': model.state_dict(), 'vocab': T.VOCAB, **extra}, path)


def load_checkpoint(path) -> ShapesCLIP:
    ck = torch.load(path, map_location='cpu', weights_only=False)
    cfg = Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in ck['config'].items()})
    model = ShapesCLIP(cfg)
    model.load_state_dict(ck['state_dict'])
    model.eval()
    model.checkpoint_meta = {k: v for k, v in ck.items() if k not in ('state_dict',)}
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--steps', type=int, default=2000)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--variants', type=int, default=64)
    ap.add_argument('--token-weight', type=float, default=1.0)
    ap.add_argument('--caption-weight', type=float, default=0.25)
    ap.add_argument('--train-videos', type=int, default=500)
    ap.add_argument('--eval-videos', type=int, default=20)
    ap.add_argument('--eval-every', type=int, default=250)
    ap.add_argument('--cache', default='/tmp/shapes')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--bf16', type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    cfg = Config(vocab_size=len(T.VOCAB))
    t0 = time.time()
    tr = D.load_or_build(f'{a.cache}/train_s{a.seed}.npz', seed=a.seed, videos=a.train_videos,
                         size=cfg.image_size)
    ev = eval_split(a.seed + 1000, a.eval_videos, cfg.image_size, a.cache)
    print(f'data: {len(tr["mask"])} train frames, {len(ev["mask"])} held-out frames, {time.time() - t0:.0f}s',
          flush=True)

    pixels = torch.from_numpy(tr['pixels'])
    present_all = torch.from_numpy(((tr['mask'][:, None] >> np.arange(12)[None]) & 1).astype(bool))
    kinds_now = tr['kinds_now'].astype(np.int64)
    order_ok = torch.from_numpy((np.abs(tr['dx_now']) > 0.02) | (kinds_now[:, 1] < 0))
    N = len(pixels)

    model = ShapesCLIP(cfg)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=a.lr, betas=(0.9, 0.98))
    warm = max(1, a.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / a.steps))))

    bank = T.bank()
    log = open(os.path.join(a.out, 'log.jsonl'), 'w')
    gen = torch.Generator().manual_seed(a.seed)
    t_train = time.time()
    for step in range(1, a.steps + 1):
        idx = torch.randint(0, N, (a.batch,), generator=gen)
        x = pixels[idx]
        present = present_all[idx]
        kn = kinds_now[idx.numpy()].copy()
        flip = torch.rand(a.batch, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(2), x)
        fl = flip.numpy() & (kn[:, 1] >= 0)
        kn[fl] = kn[fl][:, ::-1]
        cap = torch.from_numpy(caption_index(kn))

        texts = bank + [T.variant(rng) for _ in range(a.variants)]
        ids, mask, groups, clauses, has, nothing = (torch.from_numpy(v) for v in T.pack(texts))

        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bool(a.bf16)):
            f = model.image(x)
        f = F.normalize(f.float(), dim=-1)
        s, tok = model.encode_text(ids, mask)
        tok = F.normalize(tok, dim=-1)
        sat, truth = labels(present, clauses, has, nothing)

        logits = model.log_scale.exp() * f @ s.T + model.bias  # [B, T]
        l_sent = F.binary_cross_entropy_with_logits(logits, truth.float())

        g = groups.clamp(min=0)  # [T, L]
        tl = torch.cat([sat, truth[..., None]], dim=-1)  # [B, T, 3]: clause 0, clause 1, whole
        tok_truth = torch.gather(tl, 2, g[None].expand(a.batch, -1, -1))  # [B, T, L]
        valid = (groups >= 0)[None].expand(a.batch, -1, -1)
        tlog = model.tok_log_scale.exp() * torch.einsum('bd,tld->btl', f, tok) + model.tok_bias
        l_tok = F.binary_cross_entropy_with_logits(tlog[valid], tok_truth[valid].float())

        l_cap = F.cross_entropy(logits[:, : len(bank)][order_ok[idx]], cap[order_ok[idx]])
        loss = l_sent + a.token_weight * l_tok + a.caption_weight * l_cap

        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()

        if step % 50 == 0:
            print(f'step {step} loss {loss.item():.4f} sent {l_sent.item():.4f} tok {l_tok.item():.4f} '
                  f'cap {l_cap.item():.3f} scale {model.log_scale.exp().item():.1f} '
                  f'{time.time() - t_train:.0f}s', flush=True)
        if step % a.eval_every == 0 or step == a.steps:
            r = figures(model, ev)
            r.update(step=step, seconds=round(time.time() - t_train, 1))
            print('eval', json.dumps(r), flush=True)
            log.write(json.dumps(r) + '\n')
            log.flush()

    extra = {
        'args': vars(a),
        'figures': r,
        'train_seconds': round(time.time() - t_train, 1),
        'logit_scale': model.log_scale.exp().item(),
        'logit_bias': model.bias.item(),
        'token_logit_scale': model.tok_log_scale.exp().item(),
        'token_logit_bias': model.tok_bias.item(),
    }
    save_checkpoint(model, os.path.join(a.out, 'shapes-v1.pt'), extra)
    print('saved', os.path.join(a.out, 'shapes-v1.pt'), json.dumps({k: v for k, v in extra.items() if k != 'args'}))


if __name__ == '__main__':
    main()
