"""Tokenizers for model packs: build tokenizer.json for open_clip, apply the runtime rule.

Two things live here:

* `openclip_tokenizer_json(simple_tokenizer)` builds a Hugging Face `tokenizers` JSON that
  reproduces open_clip's `SimpleTokenizer` (CLIP byte-level BPE with `</w>` word ends,
  `<start_of_text>`/`<end_of_text>`, "lower" cleaning). The vocabulary and merge ranks are
  read from the tokenizer object itself, so they are exactly open_clip's.
* `runtime_ids(...)` turns texts into `[N, L]` ids and masks the way the TypeScript runtime
  must (docs/model-pack.md): ids from tokenizer.json with special tokens added, truncated to
  L with the end token put back in the last kept position, right-padded with padId.

open_clip cleans text with ftfy, html.unescape (twice), whitespace collapsing and lower-casing
before BPE. A tokenizer.json normaliser can only chain fixed rewrites, so the cleaning is
approximated (see NORMALISER_LIMITS, which tools/README.md repeats):

* every character-wise ftfy fix is reproduced exactly, from ftfy's own tables at build time:
  C1 controls read as Windows-1252, Latin ligatures, full/half-width forms, curly quotes,
  line separators, removed control characters (and ANSI terminal colour escapes);
* then NFC, a small fixed set of HTML entities, whitespace collapsing, strip, final sigma,
  lower-casing.
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional, Sequence, Tuple

#: classes of input where tokenizer.json and open_clip's SimpleTokenizer can disagree
NORMALISER_LIMITS = [
    "mojibake repair (ftfy.fix_encoding: UTF-8 read as Latin-1/Windows-1252 and the like) "
    "is not reproduced",
    "HTML entities: only &amp; &lt; &gt; &quot; &apos; &#39; &nbsp; (and their repeated "
    "escaping) are decoded; other named and all other numeric entities stay as typed",
    "an ANSI escape or special-token text that only forms after another rewrite "
    "(e.g. from full-width brackets) is not recognised",
    "special-token text (<start_of_text>, <end_of_text>) glued to preceding punctuation: "
    "open_clip's regex does not see it as a special token, tokenizer.json does",
    "final sigma: Python's context rule is approximated (at most one case-ignorable character "
    "between the preceding cased letter and the sigma; 'cased' taken as Lu/Ll/Lt)",
    "letters assigned in Unicode versions newer than the regex engine of the runtime "
    "(Oniguruma in Rust tokenizers, V8 in Node) may split differently",
]

# Whitespace as Python's str.split()/str.strip() see it (what open_clip's cleaning uses).
PY_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

# open_clip's pre-tokenizer regex without its special-token alternatives (added tokens
# handle those before pre-tokenisation).
OPENCLIP_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""

# Python's Final_Sigma condition, approximated: a cased letter (optionally followed by one
# case-ignorable character) before, and no cased letter after (skipping case-ignorables).
_CASED = r"[\p{Lu}\p{Ll}\p{Lt}]"
_IGNORABLE = r"[\p{Mn}\p{Me}\p{Cf}\p{Lm}\p{Sk}'.:\x{B7}\x{387}\x{5F4}\x{2018}\x{2019}\x{2024}\x{2027}]"
FINAL_SIGMA = (
    "(?<=" + _CASED + "|" + _CASED + _IGNORABLE + ")\\x{3A3}(?!" + _IGNORABLE + "*" + _CASED + ")"
)

# HTML entities decoded by the normaliser; applied in this order, in two passes.
HTML_ENTITIES = [
    ("&amp;", "&"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&apos;", "'"),
    ("&#39;", "'"),
    ("&nbsp;", "\xa0"),
]


def _class_escape(ch: str) -> str:
    return "\\x{%X}" % ord(ch)


def ftfy_char_map() -> Dict[str, str]:
    """Single-character rewrites that ftfy.fix_text applies regardless of context.

    Built by running ftfy's own character-wise fixers, in ftfy's order, on every character
    any of them can touch, so the map follows the installed ftfy version.
    """
    from ftfy import chardata, fixes

    candidates = set(range(0x80, 0xA0))
    candidates |= set(chardata.LIGATURES)
    candidates |= set(chardata.WIDTH_MAP)
    candidates |= set(chardata.CONTROL_CHARS)
    candidates |= {0x2BC, *range(0x2018, 0x2020), 0x0D, 0x2028, 0x2029, 0x85}
    steps = [
        fixes.fix_c1_controls,
        fixes.fix_latin_ligatures,
        fixes.fix_character_width,
        fixes.uncurl_quotes,
        fixes.fix_line_breaks,
        fixes.remove_control_chars,
    ]
    out: Dict[str, str] = {}
    for cp in sorted(candidates):
        ch = chr(cp)
        text = ch
        for step in steps:
            text = step(text)
        if text != ch:
            out[ch] = text
    return out


def _replace(pattern: str, content: str, regex: bool) -> dict:
    return {
        "type": "Replace",
        "pattern": {"Regex": pattern} if regex else {"String": pattern},
        "content": content,
    }


def openclip_normalizer() -> dict:
    """The normaliser sequence approximating open_clip's 'lower' cleaning."""
    rules: List[dict] = []
    # ANSI colour escapes (ftfy.remove_terminal_escapes); before the control-character rule
    # removes the ESC itself.
    rules.append(_replace(r"\x{1B}\[[0-9;]*[A-Za-z]", "", True))
    # character-wise ftfy fixes, grouped by target
    by_target: Dict[str, List[str]] = {}
    for ch, target in ftfy_char_map().items():
        by_target.setdefault(target, []).append(ch)
    for target in sorted(by_target):
        chars = by_target[target]
        if len(chars) == 1:
            rules.append(_replace(chars[0], target, False))
        else:
            rules.append(_replace("[" + "".join(_class_escape(c) for c in chars) + "]", target, True))
    rules.append({"type": "NFC"})
    for _ in range(2):
        for entity, target in HTML_ENTITIES:
            rules.append(_replace(entity, target, False))
    ws = "[" + "".join(
        _class_escape(c) if len(c) == 1 else c for c in _expand_ws_ranges(PY_WHITESPACE)
    ) + "]+"
    rules.append(_replace(ws, " ", True))
    rules.append(_replace("^ | $", "", True))
    # Python lower-cases a capital sigma at the end of a word to the final form; tokenizers'
    # Lowercase works character by character.
    # Every capital sigma is rewritten here, so Rust and JavaScript lower-casing (which
    # disagree on it) never see one.
    rules.append(_replace(FINAL_SIGMA, "\u03c2", True))
    rules.append(_replace("\u03a3", "\u03c3", False))
    rules.append({"type": "Lowercase"})
    return {"type": "Sequence", "normalizers": rules}


def _expand_ws_ranges(spec: str) -> List[str]:
    """Split PY_WHITESPACE into single characters and 'a-b' ranges (escaped)."""
    out: List[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.append(_class_escape(spec[i]) + "-" + _class_escape(spec[i + 2]))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return out


def openclip_tokenizer_json(tok) -> str:
    """tokenizer.json reproducing an open_clip SimpleTokenizer ('lower' cleaning)."""
    if getattr(tok, "reduction_fn", None) is not None:
        raise ValueError("open_clip tokenizers with a reduction mask are not supported")
    clean = getattr(getattr(tok, "clean_fn", None), "__name__", "")
    if clean != "_clean_lower":
        raise ValueError(f"open_clip tokenizer cleaning {clean!r} is not supported (only 'lower')")
    encoder: Dict[str, int] = dict(tok.encoder)
    specials = {tok.sot_token_id: None, tok.eot_token_id: None}
    for content, idx in encoder.items():
        if idx in specials:
            specials[idx] = content
    sot, eot = specials[tok.sot_token_id], specials[tok.eot_token_id]
    extra_specials = [t for t, i in encoder.items() if i in tok.all_special_ids and i not in specials]
    merges = [list(pair) for pair, _ in sorted(tok.bpe_ranks.items(), key=lambda kv: kv[1])]
    added = [
        {
            "id": encoder[content],
            "content": content,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            # open_clip matches special-token text after cleaning (so also upper-case)
            "normalized": True,
            "special": True,
        }
        for content in [sot, eot, *extra_specials]
    ]
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": openclip_normalizer(),
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": OPENCLIP_SPLIT},
                    "behavior": "Removed",
                    "invert": True,
                },
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        },
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": sot, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eot, "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": sot, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eot, "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 1}},
                {"SpecialToken": {"id": eot, "type_id": 1}},
            ],
            "special_tokens": {
                sot: {"id": sot, "ids": [encoder[sot]], "tokens": [sot]},
                eot: {"id": eot, "ids": [encoder[eot]], "tokens": [eot]},
            },
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": eot,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "</w>",
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": encoder,
            "merges": merges,
        },
    }
    # compact: the open_clip vocabulary is ~49k entries
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def special_ids(tokenizer_json: str) -> Tuple[Optional[int], Optional[int]]:
    """(start id, end id) from the post-processor of a tokenizer.json: the special tokens the
    single-sequence template puts first and last; None where there is none."""
    doc = json.loads(tokenizer_json)
    post = doc.get("post_processor") or {}
    vocab = (doc.get("model") or {}).get("vocab") or {}
    added = {t["content"]: t["id"] for t in doc.get("added_tokens", [])}

    def tid(content: str) -> int:
        return added[content] if content in added else vocab[content]

    kind = post.get("type")
    if kind == "TemplateProcessing":
        single = post["single"]
        first = single[0].get("SpecialToken") if single else None
        last = single[-1].get("SpecialToken") if single else None
        st = post.get("special_tokens", {})
        start = st[first["id"]]["ids"][0] if first else None
        end = st[last["id"]]["ids"][0] if last else None
        return start, end
    if kind in ("RobertaProcessing", "BertProcessing"):
        return tid(post["cls"][0]), tid(post["sep"][0])
    return None, None


def apply_runtime_rule(
    ids: Sequence[int], context_length: int, pad_id: int, end_id: Optional[int]
) -> Tuple[List[int], List[int]]:
    """The runtime rule of docs/model-pack.md on one id sequence (special tokens added):
    truncate to L, put the end token in the last kept position when truncation cut it off,
    right-pad with pad_id; mask 1 for kept tokens, 0 for padding."""
    ids = list(ids)
    if len(ids) > context_length:
        ids = ids[:context_length]
        if end_id is not None:
            ids[-1] = end_id
    n = len(ids)
    return ids + [pad_id] * (context_length - n), [1] * n + [0] * (context_length - n)


def runtime_ids(
    tokenizer_json: str,
    texts: Sequence[str],
    context_length: int,
    pad_id: int,
    end_id: Optional[int] = None,
) -> Tuple[List[List[int]], List[List[int]]]:
    """Ids and masks for texts through tokenizer.json (python `tokenizers`) and the runtime rule."""
    from tokenizers import Tokenizer

    tk = Tokenizer.from_str(tokenizer_json)
    tk.no_truncation()
    tk.no_padding()
    if end_id is None:
        end_id = special_ids(tokenizer_json)[1]
    all_ids, all_mask = [], []
    for text in texts:
        enc = tk.encode(text, add_special_tokens=True)
        ids, mask = apply_runtime_rule(enc.ids, context_length, pad_id, end_id)
        all_ids.append(ids)
        all_mask.append(mask)
    return all_ids, all_mask


def load_corpus(path) -> List[str]:
    """The tokenizer corpus: one JSON string per line (blank lines and lines starting with
    '#' are skipped)."""
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            texts.append(json.loads(s))
    return texts
