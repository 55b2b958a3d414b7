"""The shapes dual encoder: a small CNN image encoder and a small bidirectional transformer
text encoder, both projecting into one joint space.

Contracts (docs/model-pack.md): the image encoder takes uint8 NHWC RGB and does the cast,
scaling and normalisation itself; the text encoder takes ids and mask of fixed length L and
returns the sentence embedding (the [EOS] position, L2-normalised) and the per-token
embeddings (final norm + the same projection at every position, zero at padding).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.3, 0.3, 0.3)
STD = (0.3, 0.3, 0.3)


@dataclass
class Config:
    image_size: int = 80
    embed_dim: int = 64
    widths: tuple = (32, 64, 128, 128)
    vocab_size: int = 16
    context_length: int = 16
    text_width: int = 128
    text_layers: int = 3
    text_heads: int = 4

    def to_dict(self):
        return asdict(self)


def _block(ci: int, co: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(ci, co, 3, stride, 1, bias=False), nn.BatchNorm2d(co), nn.GELU())


class ImageEncoder(nn.Module):
    """CNN over the letterboxed frame. Every cell of the last feature map sees a whole object
    (receptive field 59 px at 80x80), so colour and shape are bound locally; x/y coordinate
    channels let the pooled embedding know which object is further left (caption order).
    Mean+max pooling over cells, an MLP, the projection."""

    def __init__(self, cfg: Config):
        super().__init__()
        a, b, c, d = cfg.widths
        self.register_buffer('mean', torch.tensor(MEAN).view(1, 3, 1, 1) * 255)
        self.register_buffer('std', torch.tensor(STD).view(1, 3, 1, 1) * 255)
        self.stem = nn.Sequential(_block(3, a, 2), _block(a, a, 1), _block(a, b, 2), _block(b, b, 1), _block(b, c, 2))
        self.head = nn.Sequential(_block(c + 2, c, 1), _block(c, d, 1))
        self.norm = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(2 * d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.post = nn.LayerNorm(d)
        self.proj = nn.Linear(d, cfg.embed_dim, bias=False)

    def features(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.permute(0, 3, 1, 2).float()
        x = (x - self.mean) / self.std
        x = self.stem(x)
        n, _, h, w = x.shape
        ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype).view(1, 1, h, 1).expand(n, 1, h, w)
        xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype).view(1, 1, 1, w).expand(n, 1, h, w)
        x = self.head(torch.cat([x, xs, ys], dim=1))
        return self.norm(x.flatten(2).transpose(1, 2))  # [N, P, d]

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 [N,H,W,3] -> unnormalised frame embedding [N, D]."""
        f = self.features(pixels)
        pooled = torch.cat([f.mean(dim=1), f.amax(dim=1)], dim=-1)
        return self.proj(self.post(self.mlp(pooled)))


class Block(nn.Module):
    """Pre-norm transformer block written with plain ops (clean ONNX export)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.ff = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, l, w = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).reshape(n, l, 3, h, w // h).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(w // h)) + bias  # bias [N,1,1,L]
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(n, l, w)
        x = x + self.out(y)
        return x + self.ff(self.ln2(x))


class TextEncoder(nn.Module):
    """Bidirectional transformer over the real tokens (padding masked out of attention)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab_size, cfg.text_width)
        self.pos = nn.Parameter(torch.randn(cfg.context_length, cfg.text_width) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg.text_width, cfg.text_heads) for _ in range(cfg.text_layers))
        self.norm = nn.LayerNorm(cfg.text_width)
        self.proj = nn.Linear(cfg.text_width, cfg.embed_dim, bias=False)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor):
        """-> (sentence [N, D] unnormalised, tokens [N, L, D] zero at padding)."""
        x = self.tok(ids) + self.pos[: ids.shape[1]]
        m = mask.to(x.dtype)
        bias = ((1.0 - m) * -1e4)[:, None, None, :]
        for b in self.blocks:
            x = b(x, bias)
        tokens = self.proj(self.norm(x)) * m[:, :, None]
        eos = (mask.sum(dim=1) - 1).clamp(min=0)  # [EOS] is the last real token
        sentence = torch.gather(tokens, 1, eos.view(-1, 1, 1).expand(-1, 1, tokens.shape[-1])).squeeze(1)
        return sentence, tokens


class ShapesCLIP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.image = ImageEncoder(cfg)
        self.text = TextEncoder(cfg)
        # sigmoid-loss temperature and bias (SigLIP initialisation); shared by both levels
        self.log_scale = nn.Parameter(torch.tensor(math.log(10.0)))
        self.bias = nn.Parameter(torch.tensor(-5.0))
        self.tok_log_scale = nn.Parameter(torch.tensor(math.log(10.0)))
        self.tok_bias = nn.Parameter(torch.tensor(-5.0))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image(pixels), dim=-1)

    def encode_text(self, ids: torch.Tensor, mask: torch.Tensor):
        """-> (sentence [N, D] L2-normalised, tokens [N, L, D] unnormalised)."""
        s, t = self.text(ids, mask)
        return F.normalize(s, dim=-1), t


class ImageModule(nn.Module):
    """Export wrapper: pixels -> (image_embeds,)."""

    def __init__(self, model: ShapesCLIP):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor):
        return self.model.encode_image(pixels), None


class TextModule(nn.Module):
    """Export wrapper: (ids, mask) -> (text_embeds, token_embeds)."""

    def __init__(self, model: ShapesCLIP):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return self.model.encode_text(input_ids, attention_mask)
