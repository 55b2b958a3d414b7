"""Tokenizer and training texts.

The tokenizer is word-level: a fixed vocabulary of whole words, any other word -> [UNK]. It is
written as a `WordPiece` model over whole words only (a word that is not in the vocabulary
as a whole becomes one [UNK]), because the runtime's JavaScript tokenizers package has no
`WordLevel` model; lowercase normaliser, BERT pre-tokenizer (whitespace, punctuation split
off), [BOS] $A [EOS] post-processor. Ids are truncated to the context length with [EOS]
kept last and right-padded with [PAD] = 0.

Texts carry their semantics as *clauses*: a text is true of a frame when every clause is met
(a clause is a set of object kinds, met when the frame holds one of them; `nothing` is met
by an empty frame). Each word token belongs to a clause (the words of `a red circle`) or to
the whole text (`and`, `nothing`, unknown words), which gives the token-level labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from . import world

SPECIALS = ['[PAD]', '[UNK]', '[BOS]', '[EOS]']
PAD, UNK, BOS, EOS = 0, 1, 2, 3
WORDS = ['a', 'an', 'the', 'and', 'with', 'nothing', 'empty', *world.COLOUR_NAMES, *world.SHAPES]
VOCAB = {w: i for i, w in enumerate(SPECIALS + WORDS)}
CONTEXT_LENGTH = 16
# Characters that the Rust tokenizers (Python) and the runtime's JavaScript tokenizers split
# differently (Unicode versions of their punctuation/whitespace tables differ: U+0085, U+FEFF,
# recent punctuation). The normaliser turns them into spaces so both sides agree on any text;
# found by tokenising every code point in context with both (see tools/README.md).
SPLIT_DISAGREE = '[\\x{85}\\x{61D}\\x{9FD}\\x{A76}\\x{C77}\\x{C84}\\x{166D}\\x{1B4E}-\\x{1B4F}\\x{1B7D}-\\x{1B7F}\\x{2E43}-\\x{2E4F}\\x{2E52}-\\x{2E5D}\\x{FEFF}\\x{10D6E}\\x{10EAD}\\x{10ED0}\\x{10F55}-\\x{10F59}\\x{10F86}-\\x{10F89}\\x{111C9}\\x{113D4}-\\x{113D5}\\x{113D7}-\\x{113D8}\\x{1144B}-\\x{1144F}\\x{1145A}-\\x{1145B}\\x{1145D}\\x{11660}-\\x{1166C}\\x{116B9}\\x{1183B}\\x{11944}-\\x{11946}\\x{119E2}\\x{11A3F}-\\x{11A46}\\x{11A9A}-\\x{11A9C}\\x{11A9E}-\\x{11AA2}\\x{11B00}-\\x{11B09}\\x{11BE1}\\x{11C41}-\\x{11C45}\\x{11C70}-\\x{11C71}\\x{11EF7}-\\x{11EF8}\\x{11F43}-\\x{11F4F}\\x{11FFF}\\x{12FF1}-\\x{12FF2}\\x{16D6D}-\\x{16D6F}\\x{16E97}-\\x{16E9A}\\x{16FE2}\\x{1E5FF}\\x{1E95E}-\\x{1E95F}]'
WHOLE = 2  # token group: the whole text (clauses are groups 0 and 1)
NONE = -1  # token group of special tokens and padding: no token-level label


def tokenizer_json() -> str:
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    tok = Tokenizer(WordPiece(VOCAB, unk_token='[UNK]', max_input_chars_per_word=100))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Replace(Regex(SPLIT_DISAGREE), ' '), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single='[BOS] $A [EOS]',
        pair='[BOS] $A [EOS] $B:1 [EOS]:1',
        special_tokens=[('[BOS]', BOS), ('[EOS]', EOS)],
    )
    tok.add_special_tokens(SPECIALS)
    return tok.to_str()


_TOKENIZER = None


def hf_tokenizer():
    global _TOKENIZER
    if _TOKENIZER is None:
        from tokenizers import Tokenizer

        _TOKENIZER = Tokenizer.from_str(tokenizer_json())
    return _TOKENIZER


def fit_ids(ids: Sequence[int], length: int = CONTEXT_LENGTH) -> List[int]:
    """Truncate to `length` keeping [EOS] last, right-pad with [PAD]."""
    ids = list(ids)
    if len(ids) > length:
        ids = ids[: length - 1] + [EOS]
    return ids + [PAD] * (length - len(ids))


def encode(texts: Sequence[str], length: int = CONTEXT_LENGTH):
    """-> (ids int64 [N, L], mask int64 [N, L]) exactly as the runtime must produce them."""
    enc = hf_tokenizer().encode_batch(list(texts))
    ids = np.asarray([fit_ids(e.ids, length) for e in enc], np.int64)
    return ids, (ids != PAD).astype(np.int64)


# ----------------------------------------------------------------------------- training texts


@dataclass
class Text:
    words: List[str]
    clauses: List[int]  # bit masks over the 12 object kinds; [] with nothing=True
    nothing: bool
    groups: List[int]  # per word: clause index or WHOLE

    @property
    def string(self) -> str:
        return ' '.join(self.words)


def canonical_text(kinds: Sequence[int]) -> Text:
    if not kinds:
        return Text(['nothing'], [], True, [WHOLE])
    words, groups, clauses = [], [], []
    for i, k in enumerate(kinds):
        if i:
            words.append('and')
            groups.append(WHOLE)
        c, s = world.OBJECTS[k]
        words += ['a', c, s]
        groups += [i, i, i]
        clauses.append(1 << k)
    return Text(words, clauses, False, groups)


def bank() -> List[Text]:
    """The 145 canonical queries in world.canonical_queries() order."""
    out = [canonical_text([])] + [canonical_text([k]) for k in range(12)]
    out += [canonical_text([i, j]) for i in range(12) for j in range(12) if i != j]
    return out


def variant(rng: np.random.Generator) -> Text:
    """Another phrasing of a random query: other articles, no article, `with` for `and`,
    `empty` for `nothing`, shape-only objects (`a circle`: any colour). Unknown words:
    - between phrases (`the red circle, please`, `a red circle or a blue square`) they are
      filler and carry the meaning of the whole text, so they never veto a match;
    - in place of a colour or a shape (`a purple circle`, `a red hexagon`) they name an object
      this world does not have: that phrase is never true;
    - a text of unknown words only (`a dog` -> `a [UNK]`, `xyzzy`) is never true."""
    if rng.random() < 0.05:
        k = int(rng.integers(1, 4))
        words = (['a'] if rng.random() < 0.5 else []) + ['[UNK]'] * k
        return Text(words, [0], False, [0] * len(words))
    n = int(rng.choice(3, p=[0.1, 0.35, 0.55]))
    if n == 0:
        t = Text([str(rng.choice(['nothing', 'empty']))], [], True, [WHOLE])
        slots = [0, 1]
    else:
        kinds = rng.choice(12, size=n, replace=False)
        words, groups, clauses, slots = [], [], [], [0]
        for i, k in enumerate(kinds):
            if i:
                words.append('and' if rng.random() < 0.7 else 'with')
                groups.append(WHOLE)
                slots.append(len(words))
            c, s = world.OBJECTS[int(k)]
            art = rng.choice(['a', 'a', 'an', 'the', ''])
            ph = [] if art == '' else [str(art)]
            u = rng.random()
            if u < 0.12:  # shape only: any colour
                ph.append(s)
                clauses.append(sum(1 << world.OBJECT_INDEX[(cc, s)] for cc in world.COLOUR_NAMES))
            elif u < 0.22:  # unknown colour: an object this world does not have
                ph += ['[UNK]', s]
                clauses.append(0)
            elif u < 0.30:  # unknown shape, with or without a colour
                ph += ([c] if rng.random() < 0.7 else []) + ['[UNK]']
                clauses.append(0)
            else:
                ph += [c, s]
                clauses.append(1 << int(k))
            words += ph
            groups += [i] * len(ph)
            slots.append(len(words))
        t = Text(words, clauses, False, groups)
    for _ in range(int(rng.choice(3, p=[0.5, 0.35, 0.15]))):
        # never right before a colour or shape word: `[UNK] circle` reads as an unknown colour
        ok = [q for q in slots if q >= len(t.words) or t.words[q] not in world.COLOURS and t.words[q] not in world.SHAPES]
        if not ok:
            break
        pos = int(ok[int(rng.integers(len(ok)))])
        t.words.insert(pos, '[UNK]')  # filler: any word outside the vocabulary, between phrases
        t.groups.insert(pos, WHOLE)
        slots = [q + (q >= pos) for q in slots]
    return t


def pack(texts: Sequence[Text], length: int = CONTEXT_LENGTH):
    """-> ids [T,L], mask [T,L], groups [T,L] (NONE at specials/padding), clauses [T,2,12]
    bool, has_clause [T,2] bool, nothing [T] bool. Words map straight to vocabulary ids (the
    training words are whitespace-separated vocabulary words or [UNK])."""
    T = len(texts)
    ids = np.zeros((T, length), np.int64)
    groups = np.full((T, length), NONE, np.int64)
    clauses = np.zeros((T, 2, 12), bool)
    has = np.zeros((T, 2), bool)
    nothing = np.zeros(T, bool)
    for i, t in enumerate(texts):
        wid = [VOCAB.get(w, UNK) for w in t.words][: length - 2]
        ids[i, : len(wid) + 2] = [BOS, *wid, EOS]
        groups[i, 1 : len(wid) + 1] = t.groups[: len(wid)]
        for j, c in enumerate(t.clauses):
            has[i, j] = True
            clauses[i, j] = [(c >> k) & 1 for k in range(12)]
        nothing[i] = t.nothing
    return ids, (ids != PAD).astype(np.int64), groups, clauses, has, nothing


def check_tokenizer_agrees():
    """Training texts bypass the HF tokenizer; make sure both give the same ids."""
    rng = np.random.default_rng(0)
    texts = bank() + [variant(rng) for _ in range(200)]
    ids, _, _, _, _, _ = pack(texts)
    strings = [t.string.replace('[UNK]', 'xyzzy') for t in texts]
    ref, _ = encode(strings)
    assert (ids == ref).all(), 'training ids and tokenizer ids disagree'
    return json.loads(tokenizer_json())['model']['type']
