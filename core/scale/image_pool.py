"""Image columns of a partitioned pool at ``activelab new --engine dask``: the checks and where
relative paths are read from (the features themselves: ``activelab.core.scale.embed_images``).

The embedded engine checks every image file at import; the Dask engine, which never reads the
whole pool at ``new``, checks the files of the sample it reads (about 20,000 rows) with the
same decoding, and the rest when a query embeds their part (then the part, row and file are
named).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from activelab.core.errors import DataError, ModelError

_LIST_AT_MOST = 5


def common_image_root(paths: Sequence[str]) -> str | None:
    """The one folder every (local) part sits in, where the app reads relative image paths
    from; None when the parts are URLs or sit in several folders."""
    folders = {None if "://" in str(p) else str(Path(p).resolve().parent) for p in paths}
    return folders.pop() if len(folders) == 1 else None


def check_sample_images(sample: Any, column: str, paths: Sequence[str], parts: Any) -> list[str]:
    """The decision lines for image column ``column`` of a Dask project, after checking that
    the image of every ``sample`` row (``parts[i]``: the index into ``paths`` of row i's part)
    decodes. ModelError when EfficientNet-Lite0 is not installed; DataError listing the rows,
    parts and files that are missing or cannot be read, as the embedded engine's import does."""
    from activelab.core.data.images import image_file_problem
    from activelab.core.features.image_encoder import _INSTALL_HINT, efficientnet_available
    from activelab.core.scale.embed_images import _resolved, part_root

    if not efficientnet_available():
        raise ModelError("The Dask engine embeds images with EfficientNet-Lite0, which is not "
                         f"installed. {_INSTALL_HINT.replace(', or use pixel features (--image-features pixels)', '')} "
                         "Or use the embedded engine (leave out --engine dask).")
    roots = [part_root(p) for p in paths]
    refs = _resolved(list(sample[column]), [roots[int(p)] for p in parts], "sample ")
    missing, broken = [], []
    for i, path in enumerate(refs):
        problem = image_file_problem(Path(path))
        if problem is not None:
            where = f"{Path(str(paths[int(parts[i])])).name}: {path}"
            (missing if problem.missing else broken).append((where, problem))
    if missing:
        listed = "; ".join(w for w, _ in missing[:_LIST_AT_MOST])
        raise DataError(
            f"{len(missing)} image file(s) named in column '{column}' of the {len(sample):,} "
            f"sampled rows do not exist ({listed}{'; ...' if len(missing) > _LIST_AT_MOST else ''}"
            "). Relative paths are read from the folder of the part holding the row. Restore "
            "the files, fix the paths, or remove those rows.")
    if broken:
        listed = "; ".join(f"{w} {p.reason}" for w, p in broken[:_LIST_AT_MOST])
        advice = " ".join(dict.fromkeys(p.advice for _, p in broken[:_LIST_AT_MOST]))
        raise DataError(f"{len(broken)} image file(s) in column '{column}' cannot be read "
                        f"({listed}{'; ...' if len(broken) > _LIST_AT_MOST else ''}). {advice}")
    return [f"image column '{column}': EfficientNet-Lite0 features (1,280 numbers a row, as the "
            "embedded engine), computed per partition on the Dask workers at the first query and "
            "cached in the project's embeddings/ folder; relative paths are read from the folder "
            f"of the part holding the row; the {len(sample):,} sampled rows' files checked"]
