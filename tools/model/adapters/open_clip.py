"""open_clip export adapter: `--source open_clip:ARCH [--checkpoint FILE | --random-init]`.

ARCH is an architecture name open_clip knows (`ViT-B-32`, ...) or the path of an open_clip
model config JSON (`{"embed_dim", "vision_cfg", "text_cfg"}`), registered at run time under
its file stem (e.g. tools/model/configs/tiny-openclip.json).

Supported: the built-in text transformer (CLIP or CustomTextCLIP with open_clip's
TextTransformer) with open_clip's SimpleTokenizer; any vision tower for `image_embeds`, and
`patch_embeds` for the ViT tower without attentional pooling (patch tokens through ln_post and
proj, as open_clip computes the pooled token).
"""

from __future__ import annotations

import hashlib
import os
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import open_clip
from open_clip.tokenizer import SimpleTokenizer
from open_clip.transformer import VisionTransformer

from ..tokenizer import openclip_tokenizer_json

_RESIZE = {"shortest": "crop", "longest": "letterbox", "squash": "stretch"}


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class PixelNormalize(nn.Module):
    """uint8 [N,H,W,3] RGB -> float32 [N,3,H,W], (x/255 - mean)/std, as one multiply-add."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        mean_t = torch.tensor(mean, dtype=torch.float32)
        std_t = torch.tensor(std, dtype=torch.float32)
        self.register_buffer("scale", 1.0 / (255.0 * std_t), persistent=False)
        self.register_buffer("shift", -mean_t / std_t, persistent=False)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.to(torch.float32) * self.scale + self.shift
        return x.permute(0, 3, 1, 2)


class OpenClipImage(nn.Module):
    def __init__(self, visual: nn.Module, mean, std, with_patches: bool):
        super().__init__()
        self.norm = PixelNormalize(mean, std)
        self.visual = visual
        self.with_patches = with_patches

    def forward(self, pixels: torch.Tensor):
        x = self.norm(pixels)
        if not self.with_patches:
            return F.normalize(self.visual(x), dim=-1), None
        v = self.visual
        x = v._embeds(x)
        x = v.transformer(x)
        pooled, tokens = v._pool(x)
        if v.final_ln_after_pool:
            tokens = v.ln_post(tokens)
        if v.proj is not None:
            pooled = pooled @ v.proj
            tokens = tokens @ v.proj
        return F.normalize(pooled, dim=-1), tokens


class OpenClipText(nn.Module):
    """ids/mask -> (text_embeds normalised, token_embeds masked), open_clip's encode_text."""

    def __init__(self, tower: nn.Module, attn_mask: Optional[torch.Tensor], pool_type: str, eos_id):
        super().__init__()
        if getattr(tower, "cls_emb", None) is not None:
            raise ValueError("open_clip text towers with a CLS embedding are not supported")
        if pool_type not in ("argmax", "eos", "last", "first"):
            raise ValueError(f"open_clip text pool type {pool_type!r} is not supported")
        self.token_embedding = tower.token_embedding
        self.positional_embedding = tower.positional_embedding
        self.transformer = tower.transformer
        self.ln_final = tower.ln_final
        self.text_projection = tower.text_projection
        self.pool_type = pool_type
        self.eos_id = eos_id
        if attn_mask is not None:
            self.register_buffer("attn_mask", attn_mask.clone(), persistent=False)
        else:
            self.attn_mask = None

    def _project(self, x: torch.Tensor) -> torch.Tensor:
        p = self.text_projection
        if p is None:
            return x
        if isinstance(p, nn.Linear):
            return p(x)
        return x @ p

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        x = self.token_embedding(input_ids) + self.positional_embedding
        x = self.transformer(x, attn_mask=self.attn_mask)
        x = self.ln_final(x)
        if self.pool_type == "argmax":
            # ids < 2^24, so float argmax is exact; float keeps ArgMax on common EP kernels
            idx = input_ids.to(torch.float32).argmax(dim=-1)
        elif self.pool_type == "eos":
            idx = (input_ids == self.eos_id).to(torch.float32).argmax(dim=-1)
        elif self.pool_type == "last":
            idx = torch.full_like(input_ids[:, 0], input_ids.shape[1] - 1)
        else:
            idx = torch.zeros_like(input_ids[:, 0])
        gather = idx.view(-1, 1, 1).expand(-1, 1, x.shape[-1])
        pooled = torch.gather(x, 1, gather).squeeze(1)
        text = F.normalize(self._project(pooled), dim=-1)
        tokens = self._project(x) * attention_mask.unsqueeze(-1).to(x.dtype)
        return text, tokens


class OpenClipAdapter:
    def __init__(
        self,
        arch: str,
        checkpoint: Optional[str] = None,
        random_init: bool = False,
        name: Optional[str] = None,
        seed: int = 0,
    ):
        if checkpoint is None and not random_init:
            raise ValueError("open_clip: give --checkpoint FILE or --random-init")
        if checkpoint is not None and random_init:
            raise ValueError("open_clip: --checkpoint and --random-init exclude each other")
        source_arch = arch
        if arch.endswith(".json") and os.path.isfile(arch):
            open_clip.add_model_config(arch)
            arch = os.path.splitext(os.path.basename(arch))[0]
        torch.manual_seed(seed)
        model, _, preprocess = open_clip.create_model_and_transforms(
            arch, pretrained=checkpoint, device="cpu"
        )
        self.model = model.eval()
        self.preprocess = preprocess
        tok = open_clip.get_tokenizer(arch)
        if not isinstance(tok, SimpleTokenizer):
            raise ValueError(f"open_clip: tokenizer {type(tok).__name__} is not supported (SimpleTokenizer only)")
        self.tokenizer = tok
        self._tokenizer_json: Optional[str] = None

        pp = open_clip.get_model_preprocess_cfg(model)
        size = pp.get("size", model.visual.image_size)
        if isinstance(size, int):
            size = (size, size)
        self.image_size: Tuple[int, int] = (int(size[0]), int(size[1]))
        self.mean = tuple(float(v) for v in pp.get("mean", open_clip.OPENAI_DATASET_MEAN))
        self.std = tuple(float(v) for v in pp.get("std", open_clip.OPENAI_DATASET_STD))
        self.resize = _RESIZE.get(pp.get("resize_mode", "shortest"), "crop")

        text_tower = getattr(model, "text", model)
        self.context_length = int(getattr(text_tower, "context_length", tok.context_length))
        self.pad_id = 0  # SimpleTokenizer pads with zeros
        self.embed_dim = int(self.reference_text_embeds(["x"]).shape[-1])
        self.logit_scale = float(model.logit_scale.exp().item())
        self.name = name or arch.lower()

        self._with_patches = (
            isinstance(model.visual, VisionTransformer) and model.visual.attn_pool is None
        )
        self._attn_mask = getattr(model, "attn_mask", None)
        if hasattr(model, "text"):
            self._attn_mask = getattr(model.text, "attn_mask", None)
        self._pool_type = getattr(model, "text_pool_type", getattr(text_tower, "pool_type", "argmax"))
        self._eos_id = getattr(model, "text_eos_id", getattr(text_tower, "eos_id", None))

        self.provenance = {
            "source": f"open_clip:{source_arch if source_arch == arch else os.path.basename(source_arch)}",
            "family": "open_clip",
            "open_clip": open_clip.__version__,
            "weights": (
                {"file": os.path.basename(checkpoint), "sha256": _sha256(checkpoint)}
                if checkpoint
                else {"random_init": True, "seed": seed}
            ),
            "mean": list(self.mean),
            "std": list(self.std),
        }

    # -- graphs ---------------------------------------------------------------------------
    def image_module(self) -> nn.Module:
        return OpenClipImage(self.model.visual, self.mean, self.std, self._with_patches).eval()

    def text_module(self) -> nn.Module:
        tower = getattr(self.model, "text", self.model)
        return OpenClipText(tower, self._attn_mask, self._pool_type, self._eos_id).eval()

    def tokenizer_json(self) -> str:
        if self._tokenizer_json is None:
            self._tokenizer_json = openclip_tokenizer_json(self.tokenizer)
        return self._tokenizer_json

    # -- reference paths ------------------------------------------------------------------
    def reference_token_ids(self, texts: Sequence[str]):
        return self.tokenizer(list(texts), context_length=self.context_length).tolist()

    @torch.no_grad()
    def reference_image_embeds(self, pixels: torch.Tensor) -> torch.Tensor:
        from PIL import Image

        frames = pixels.cpu().numpy().astype(np.uint8)
        batch = torch.stack([self.preprocess(Image.fromarray(f, "RGB")) for f in frames])
        return self.model.encode_image(batch, normalize=True)

    @torch.no_grad()
    def reference_text_embeds(self, texts: Sequence[str]) -> torch.Tensor:
        ids = self.tokenizer(list(texts), context_length=self.context_length)
        return self.model.encode_text(ids, normalize=True)


def load(
    arch: str,
    checkpoint: Optional[str] = None,
    random_init: bool = False,
    name: Optional[str] = None,
    seed: int = 0,
) -> OpenClipAdapter:
    return OpenClipAdapter(arch, checkpoint=checkpoint, random_init=random_init, name=name, seed=seed)
