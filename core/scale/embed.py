"""Sentence embeddings of a partitioned pool, one part per Dask task, cached per part on disk.

On a Dask project whose text columns use MiniLM (the embedded engine's default when the
``embeddings`` extra is installed; see ``activelab.core.features.text_embeddings``), each part's
texts are embedded by the task that scores it, in batches, with the model held once per worker
process (the module-level model of ``text_embeddings``: loaded on a worker's first task, never
pickled into a task). The result, (rows of the part, 384) float32, is saved as ``.npy`` in the
project's ``embeddings/`` folder under a key made of the part's path, size and modification
time (an ETag or checksum for fsspec URLs when the store gives one) and the text columns: a
second query reads it back; a rewritten part gets a new key and is embedded again.

The texts are joined exactly as the embedded engine joins them (``TEXT_SEPARATOR`` between
columns, missing values empty), so a row's embedding is the same in both engines.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

EMBED_DIR = "embeddings"
MINILM = "minilm"
HASH = "hash"
BATCH_SIZE = 64
_write_lock = threading.Lock()


def joined_texts(frame: Any, columns: Sequence[str]) -> list[str]:
    """The text ``columns`` of each row of ``frame`` joined as the embedded engine joins them
    (``activelab.core.features.blocks.joined_texts``), without its refusal of a column empty
    in every row: a part or a handful of labelled rows may legitimately have one."""
    from activelab.core.features.blocks import TEXT_SEPARATOR

    joined = None
    for c in columns:
        col = frame[c]
        values = col.astype(object).where(col.notna(), "").astype(str).str.strip()
        joined = values if joined is None else joined + TEXT_SEPARATOR + values
    return [] if joined is None else joined.tolist()


def embed_frame(frame: Any, columns: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
    """(rows, 384) float32 L2-normalised MiniLM embeddings of ``frame``'s joined text columns.
    ModelError (with the install hint) when the embeddings extra is missing."""
    from activelab.core.features.text_embeddings import EMBEDDING_DIM, embed_texts

    texts = joined_texts(frame, columns)
    if not texts:
        return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    return embed_texts(texts, batch_size=batch_size)


def part_signature(path: str) -> dict[str, Any]:
    """What identifies the content of part ``path``: size and modification time (ns) for a
    local file; for an fsspec URL its size and whichever of ETag, checksum or mtime the
    store reports. OSError when the part cannot be read."""
    if "://" not in path:
        st = os.stat(path)
        return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    import fsspec

    fs, _, paths = fsspec.get_fs_token_paths(path)
    info = fs.info(paths[0])
    keep = {k: str(info[k]) for k in ("ETag", "etag", "md5", "checksum", "mtime", "LastModified",
                                      "updated") if k in info}
    return {"path": path, "size": info.get("size"), **keep}


def cache_key(path: str, columns: Sequence[str], model: Any = "all-MiniLM-L6-v2") -> str:
    """The file name (without folder) of part ``path``'s cached embeddings of ``columns`` by
    ``model`` (a name, or a JSON-able description of the encoder and its weights)."""
    sig = {**part_signature(path), "columns": list(columns), "model": model}
    digest = hashlib.sha256(json.dumps(sig, sort_keys=True).encode()).hexdigest()[:24]
    return f"{Path(path.rstrip('/')).stem[:40]}-{digest}.npy"


def part_embeddings(path: str, columns: Sequence[str], cache_dir: str | None,
                    frame: Any = None) -> tuple[np.ndarray, bool]:
    """(embeddings of every row of part ``path``, (rows, 384) float32; whether they were read
    from the cache). ``frame``: the part's rows already read (must hold ``columns``), else
    they are read here. Without ``cache_dir`` nothing is cached. A cache file that cannot be
    written (read-only folder, full disk) is skipped: the embeddings are still returned."""
    target = Path(cache_dir) / cache_key(path, columns) if cache_dir else None
    got = load_cached(target)
    if got is not None:
        return got, True
    if frame is None:
        from activelab.core.store.partitioned_pool import open_part

        frame = open_part(path).read(columns=list(columns)).to_pandas(split_blocks=True)
    emb = embed_frame(frame, columns)
    if target is not None:
        _save(target, emb)
    return emb, False


def load_cached(target: Path | None) -> np.ndarray | None:
    """The (rows, width) float32 array cached in ``target``; None when there is none (or a
    torn or foreign file, which the caller then computes again and overwrites)."""
    if target is None or not target.is_file():
        return None
    try:
        got = np.load(target, mmap_mode=None, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return got if got.dtype == np.float32 and got.ndim == 2 else None


def save_cached(target: Path, emb: np.ndarray) -> None:
    """Write ``emb`` to ``target`` atomically; a failed write (read-only folder, full disk)
    is skipped: the caller keeps the array it computed."""
    _save(target, emb)


def _save(target: Path, emb: np.ndarray) -> None:
    """Write ``emb`` to ``target`` atomically (temporary file, then rename)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with _write_lock:
            target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            np.save(fh, emb, allow_pickle=False)
        os.replace(tmp, target)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def embed_part_task(path: str, columns: Sequence[str], cache_dir: str | None) -> dict[str, Any]:
    """One Dask task: make sure part ``path`` has cached embeddings; return its row count,
    whether it was cached already and the seconds spent embedding (0 when cached)."""
    import time

    began = time.perf_counter()
    emb, cached = part_embeddings(path, columns, cache_dir)
    return {"rows": int(emb.shape[0]), "cached": cached,
            "seconds": 0.0 if cached else time.perf_counter() - began}


def embed_pool(client: Any, layout: dict, columns: Sequence[str], cache_dir: str,
               progress: Any = None, task: Any = None) -> list[dict[str, Any]]:
    """Embed every part of the pool ``layout`` (``paths``) as Dask tasks, caching each part,
    with progress from the count of finished tasks; cancelling ``progress`` cancels the
    futures (Cancelled is raised). ``task``: the per-part task, ``embed_part_task`` (text
    ``columns``) by default, or ``activelab.core.scale.embed_images.embed_part_images_task``
    (``columns``: the image column). Returns each part's task result in order."""
    from distributed import as_completed

    from activelab.core.progress import NULL_PROGRESS, Cancelled

    progress = progress or NULL_PROGRESS
    futures = [client.submit(task or embed_part_task, path, list(columns), cache_dir, pure=False,
                             retries=2) for path in layout["paths"]]
    order = {f.key: p for p, f in enumerate(futures)}
    results: dict[int, dict] = {}
    try:
        for done, fut in enumerate(as_completed(futures, loop=client.loop), 1):
            progress.check()
            results[order[fut.key]] = fut.result()
            progress.update(done / len(futures), f"embedded {done} of {len(futures)} partitions")
    except Cancelled:
        client.cancel(futures)
        raise
    return [results[p] for p in range(len(futures))]


def text_block_of_part(feat: Any, path: str, frame: Any, cache_dir: str | None) -> Any:
    """The precomputed text block of part ``path`` for ``feat`` (a ``Featurizer``): its
    cached (or now computed and cached) MiniLM embeddings, or None when ``feat`` hashes."""
    if getattr(feat, "text_features", HASH) != MINILM or not feat.text:
        return None
    emb, _ = part_embeddings(path, feat.text, cache_dir, frame=frame)
    return emb


def cached_rows(feat: Any, project_path: Any, layout: dict, rows: Any) -> Any:
    """The cached MiniLM embeddings of pool positions ``rows`` ((len(rows), 384) float32, read
    memory-mapped from the parts' cache files), or None when ``feat`` hashes or a part holding
    one of the rows has no (current) cache yet; the caller then embeds those rows itself."""
    if getattr(feat, "text_features", HASH) != MINILM or not feat.text:
        return None
    return cached_part_rows(lambda path: cache_key(path, feat.text), 384,
                            Path(project_path) / EMBED_DIR, layout, rows)


def cached_part_rows(key: Any, width: int, folder: Path, layout: dict, rows: Any) -> Any:
    """Rows ``rows`` (pool positions) of the parts' cache files in ``folder`` (file names
    ``key(part path)``), (len(rows), ``width``) float32; None when one is missing or stale."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = np.asarray(layout["starts"], dtype=np.int64)
    part_of = np.searchsorted(starts, rows, side="right") - 1
    out = np.empty((len(rows), width), dtype=np.float32)
    for p in np.unique(part_of):
        try:
            emb = np.load(folder / key(layout["paths"][p]), mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        mine = part_of == p
        local = rows[mine] - starts[p]
        if emb.ndim != 2 or emb.shape[1] != width or emb.shape[0] <= int(local.max()):
            return None
        out[mine] = emb[local]
    return out
