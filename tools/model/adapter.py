"""The export adapter protocol: what tools/model/export.py needs from any model family.

Each family (open_clip, Hugging Face CLIPModel, the project's own shapes model) provides an
object with these attributes and methods. The exporter wraps `image_module()` and
`text_module()` into ONNX graphs, writes `tokenizer_json()`, and checks the export against the
family's own reference path (`reference_*`), refusing to write a pack that fails.

Contract of the exported graphs: docs/model-pack.md.
"""

from __future__ import annotations

from typing import Optional, Protocol, Sequence, Tuple

import torch


class ExportAdapter(Protocol):
    #: pack name written to model.json
    name: str
    #: model input size (height, width) in pixels
    image_size: Tuple[int, int]
    #: how ffmpeg fits a frame into image_size: 'crop' | 'letterbox' | 'stretch'
    resize: str
    #: fixed text length L
    context_length: int
    #: joint embedding size D
    embed_dim: int
    #: exponentiated logit scale (temperature) the model was trained with
    logit_scale: float
    #: token id used for right padding
    pad_id: int
    #: free-form provenance (source checkpoint, training run, ...)
    provenance: dict

    def image_module(self) -> torch.nn.Module:
        """forward(pixels: uint8 [N,H,W,3]) -> (image_embeds [N,D] L2-normalised,
        patch_embeds [N,P,D] or None). Cast, scaling, normalisation and NHWC->NCHW inside."""

    def text_module(self) -> torch.nn.Module:
        """forward(input_ids: int64 [N,L], attention_mask: int64 [N,L]) ->
        (text_embeds [N,D] L2-normalised, token_embeds [N,L,D], zero where mask == 0)."""

    def tokenizer_json(self) -> str:
        """Hugging Face tokenizers JSON (with special tokens and post-processor)."""

    def reference_token_ids(self, texts: Sequence[str]) -> Sequence[Sequence[int]]:
        """Ids from the family's own reference tokenizer, special tokens added, already
        truncated/padded to context_length exactly as the runtime must produce them."""

    def reference_image_embeds(self, pixels: torch.Tensor) -> torch.Tensor:
        """[N,D] L2-normalised embeddings through the family's own PyTorch path from uint8
        [N,H,W,3] frames already at image_size."""

    def reference_text_embeds(self, texts: Sequence[str]) -> torch.Tensor:
        """[N,D] L2-normalised embeddings through the family's own tokenizer and PyTorch path."""
