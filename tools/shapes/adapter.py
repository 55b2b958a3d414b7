"""Export adapter for the shapes model (tools/model/adapter.py protocol).

    python -m tools.model.export --source module:tools.shapes.adapter:load --checkpoint FILE --out models/shapes-v1
"""

from __future__ import annotations

from typing import Sequence

import torch

from . import text as T
from .model import ImageModule, TextModule
from .train import load_checkpoint


class ShapesAdapter:
    name = 'shapes-v1'
    resize = 'letterbox'
    pad_id = T.PAD

    def __init__(self, checkpoint: str):
        self.model = load_checkpoint(checkpoint)
        meta = self.model.checkpoint_meta
        cfg = self.model.cfg
        self.image_size = (cfg.image_size, cfg.image_size)
        self.context_length = cfg.context_length
        self.embed_dim = cfg.embed_dim
        self.logit_scale = float(meta['logit_scale'])
        self.logit_bias = float(meta['logit_bias'])
        figures = {k: v for k, v in meta.get('figures', {}).items()}
        args = meta.get('args', {})
        self.provenance = {
            'source': 'clipstream-shapes',
            'training': {
                'command': f"python -m tools.shapes.train --out DIR --seed {args.get('seed')} --steps {args.get('steps')}",
                'seed': args.get('seed'),
                'steps': args.get('steps'),
                'trainSeconds': meta.get('train_seconds'),
            },
            # sentence score: sigmoid(logitScale * cos(frame, text) + logitBias) = P(query true)
            'logitBias': self.logit_bias,
            # word-token score: sigmoid(tokenLogitScale * cos(frame, token) + tokenLogitBias)
            'tokenLogitScale': float(meta['token_logit_scale']),
            'tokenLogitBias': float(meta['token_logit_bias']),
            'heldOut': figures,
        }

    def image_module(self) -> torch.nn.Module:
        return ImageModule(self.model).eval()

    def text_module(self) -> torch.nn.Module:
        return TextModule(self.model).eval()

    def tokenizer_json(self) -> str:
        return T.tokenizer_json()

    def reference_token_ids(self, texts: Sequence[str]) -> Sequence[Sequence[int]]:
        ids, _ = T.encode(texts, self.context_length)
        return ids.tolist()

    @torch.no_grad()
    def reference_image_embeds(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)

    @torch.no_grad()
    def reference_text_embeds(self, texts: Sequence[str]) -> torch.Tensor:
        ids, mask = T.encode(texts, self.context_length)
        return self.model.encode_text(torch.from_numpy(ids), torch.from_numpy(mask))[0]


def load(checkpoint: str) -> ShapesAdapter:
    return ShapesAdapter(checkpoint)
