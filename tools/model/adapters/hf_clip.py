"""Hugging Face CLIPModel export adapter: `--source hf:DIR`.

DIR is a local folder as `CLIPModel.save_pretrained` and the tokenizer's and image
processor's `save_pretrained` write it: config.json, the weights, tokenizer files (a fast
tokenizer, i.e. tokenizer.json, is required) and preprocessor_config.json (optional: without
it CLIP's defaults are used, at the vision config's image size).

Graphs follow transformers' CLIPModel: image_embeds = visual_projection(post_layernorm(CLS)),
patch_embeds = visual_projection(post_layernorm(patch tokens)); text_embeds =
text_projection(final_layer_norm(state) at the pooled position, chosen as CLIPTextTransformer
does), token_embeds = text_projection(final_layer_norm(state)) at every position, masked.
"""

from __future__ import annotations

import json
import os
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .open_clip import PixelNormalize

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


class HfClipImage(nn.Module):
    def __init__(self, model, mean, std):
        super().__init__()
        self.norm = PixelNormalize(mean, std)
        self.vision = model.vision_model
        self.proj = model.visual_projection

    def forward(self, pixels: torch.Tensor):
        out = self.vision(pixel_values=self.norm(pixels))
        pooled = self.proj(out.pooler_output)
        patches = self.proj(self.vision.post_layernorm(out.last_hidden_state[:, 1:, :]))
        return F.normalize(pooled, dim=-1), patches


class HfClipText(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.text = model.text_model
        self.proj = model.text_projection
        self.eos_token_id = int(model.text_model.eos_token_id)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        state = self.text(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        # CLIPTextTransformer's pooled position; argmax on float (ids < 2^24) keeps the
        # ArgMax on the kernels every execution provider has
        if self.eos_token_id == 2:
            idx = input_ids.to(torch.float32).argmax(dim=-1)
        else:
            idx = (input_ids == self.eos_token_id).to(torch.float32).argmax(dim=-1)
        gather = idx.view(-1, 1, 1).expand(-1, 1, state.shape[-1])
        pooled = torch.gather(state, 1, gather).squeeze(1)
        text = F.normalize(self.proj(pooled), dim=-1)
        tokens = self.proj(state) * attention_mask.unsqueeze(-1).to(state.dtype)
        return text, tokens


class HfClipAdapter:
    def __init__(self, folder: str, name: Optional[str] = None):
        import transformers
        from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

        if not os.path.isdir(folder):
            raise ValueError(f"hf: {folder} is not a folder (Hugging Face CLIPModel save_pretrained output)")
        self.model = CLIPModel.from_pretrained(folder, attn_implementation="eager").eval()
        self.tokenizer = AutoTokenizer.from_pretrained(folder, use_fast=True)
        if not getattr(self.tokenizer, "is_fast", False):
            raise ValueError("hf: a fast tokenizer (tokenizer.json) is required")
        # tokenizer.json before any call (calls switch padding/truncation on in the backend)
        self._tokenizer_json = self.tokenizer.backend_tokenizer.to_str()
        cfg = self.model.config
        if os.path.isfile(os.path.join(folder, "preprocessor_config.json")):
            self.processor = CLIPImageProcessor.from_pretrained(folder)
        else:
            s = cfg.vision_config.image_size
            self.processor = CLIPImageProcessor(size={"shortest_edge": s}, crop_size={"height": s, "width": s})
        p = self.processor
        if p.do_center_crop:
            crop = p.crop_size
            self.image_size: Tuple[int, int] = (int(crop["height"]), int(crop["width"]))
            self.resize = "crop"
        else:
            size = p.size
            if "height" in size:
                self.image_size = (int(size["height"]), int(size["width"]))
                self.resize = "stretch"
            else:
                s = int(size["shortest_edge"])
                self.image_size = (s, s)
                self.resize = "crop"
        self.mean = tuple(float(v) for v in (p.image_mean if p.do_normalize else (0.0, 0.0, 0.0)))
        self.std = tuple(float(v) for v in (p.image_std if p.do_normalize else (1.0, 1.0, 1.0)))
        if not (p.do_rescale and abs(p.rescale_factor - 1 / 255) < 1e-12):
            raise ValueError("hf: image processors that do not rescale by 1/255 are not supported")

        self.context_length = int(cfg.text_config.max_position_embeddings)
        if self.tokenizer.pad_token_id is None:
            raise ValueError("hf: tokenizer has no pad token")
        self.pad_id = int(self.tokenizer.pad_token_id)
        self.embed_dim = int(cfg.projection_dim)
        self.logit_scale = float(self.model.logit_scale.exp().item())
        self.name = name or os.path.basename(os.path.normpath(folder)).lower()
        self.provenance = {
            "source": f"hf:{cfg.name_or_path and os.path.basename(os.path.normpath(cfg.name_or_path)) or self.name}",
            "family": "hf_clip",
            "transformers": transformers.__version__,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    def image_module(self) -> nn.Module:
        return HfClipImage(self.model, self.mean, self.std).eval()

    def text_module(self) -> nn.Module:
        return HfClipText(self.model).eval()

    def tokenizer_json(self) -> str:
        doc = json.loads(self._tokenizer_json)
        doc["truncation"] = None
        doc["padding"] = None
        harmonise_lowercase(doc)
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    def reference_token_ids(self, texts: Sequence[str]):
        enc = self.tokenizer(list(texts), padding="max_length", truncation=True, max_length=self.context_length)
        return enc["input_ids"]

    @torch.no_grad()
    def reference_image_embeds(self, pixels: torch.Tensor) -> torch.Tensor:
        frames = [f for f in pixels.cpu().numpy().astype(np.uint8)]
        batch = self.processor(images=frames, return_tensors="pt")["pixel_values"]
        return F.normalize(self.model.get_image_features(pixel_values=batch), dim=-1)

    @torch.no_grad()
    def reference_text_embeds(self, texts: Sequence[str]) -> torch.Tensor:
        enc = self.tokenizer(list(texts), padding="max_length", truncation=True,
                             max_length=self.context_length, return_tensors="pt")
        feats = self.model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        return F.normalize(feats, dim=-1)


def harmonise_lowercase(doc: dict) -> None:
    """Rust tokenizers lower-cases character by character (capital sigma always becomes
    small sigma); JavaScript's toLowerCase uses the final-sigma form at word ends. Rewriting
    capital sigma before the Lowercase normaliser gives Rust's result in both."""
    norm = doc.get("normalizer")
    if not norm:
        return
    seq = norm["normalizers"] if norm.get("type") == "Sequence" else None
    items = seq if seq is not None else [norm]
    out = []
    for item in items:
        if item.get("type") == "Lowercase":
            out.append({"type": "Replace", "pattern": {"String": "\u03a3"}, "content": "\u03c3"})
        out.append(item)
    if len(out) != len(items):
        doc["normalizer"] = {"type": "Sequence", "normalizers": out}


def load(folder: str, name: Optional[str] = None) -> HfClipAdapter:
    return HfClipAdapter(folder, name=name)


def make_tiny(folder: str, seed: int = 0, image_size: int = 32, context_length: int = 16,
              merges_limit: Optional[int] = None) -> str:
    """Write a tiny random CLIPModel folder (tests, demos): CLIP's BPE vocabulary (taken from
    open_clip's bundled file) in a CLIPTokenizerFast, a 2-layer ViT and text transformer.
    merges_limit keeps only the first merges (a smaller, faster vocabulary for tests)."""
    import open_clip
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer, CLIPTokenizerFast

    os.makedirs(folder, exist_ok=True)
    tok = open_clip.get_tokenizer("ViT-B-32")
    pairs = [pair for pair, _ in sorted(tok.bpe_ranks.items(), key=lambda kv: kv[1])]
    if merges_limit is not None:
        pairs = pairs[:merges_limit]
    units = list(tok.byte_encoder.values())
    tokens = units + [u + "</w>" for u in units] + ["".join(p) for p in pairs]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    merges = [" ".join(pair) for pair in pairs]
    tmp_vocab, tmp_merges = os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt")
    with open(tmp_vocab, "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(tmp_merges, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    slow = CLIPTokenizer(tmp_vocab, tmp_merges, model_max_length=context_length)
    slow.save_pretrained(folder)
    fast = CLIPTokenizerFast.from_pretrained(folder, model_max_length=context_length)
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=context_length,
                         bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"]),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=image_size, patch_size=8),
        projection_dim=16,
    )
    CLIPModel(config).eval().save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": image_size},
                       crop_size={"height": image_size, "width": image_size}).save_pretrained(folder)
    return folder
