"""UMAP layout of the pool for the pool map, computed in a child process and cached.

UMAP (McInnes, Healy & Melville 2018, "UMAP: Uniform Manifold Approximation and Projection
for Dimension Reduction", arXiv:1802.03426; the ``umap-learn`` package) keeps neighbourhoods
that PCA's two linear components flatten together. It is an optional extra (``pip install
'activelab[map]'``): importing it takes seconds (numba), and its first fit compiles numba code
for tens of seconds, holding the GIL while it does. So the app never runs it in its own
process: ``umap_projection`` (a worker-thread job like any other, ``fn(..., progress)``) starts
``python -m activelab.core.features.umap_map IN OUT SEED FIT_ROWS`` and waits, relaying the
child's progress and killing it when the job is cancelled (a closed window, a switched project).

What is computed: the features' dense view reduced by PCA to at most ``PCA_DIMS`` components,
then UMAP (15 neighbours, min_dist 0.1, ``random_state=seed``: the same features and seed give
the same map) fitted on at most ``FIT_ROWS`` rows drawn with the seed; the other rows are
placed by ``UMAP.transform`` in chunks of ``CHUNK`` (the layout of a 60,000-sample pool then
costs a 5,000-row fit plus transforms, not a 60,000-row fit). The result is cached in the
project's ``cache/`` as ``projection-umap-<fingerprint>-s<seed>.npy``: new features (another
fingerprint) or another seed name another file, so a stale map is never read; older UMAP files
are removed when a new one is written.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from activelab.core.errors import ActiveLabError
from activelab.core.progress import NULL_PROGRESS, Progress

FIT_ROWS = 5000
CHUNK = 10000
PCA_DIMS = 50
MIN_ROWS = 5
POLL_S = 0.1
INSTALL_HINT = ("UMAP needs the optional package umap-learn: install it into activelab's "
                "environment with  pip install 'activelab[map]'  (or  pip install umap-learn), "
                "then open the project again. PCA works without it.")

__all__ = ["FIT_ROWS", "INSTALL_HINT", "cache_path", "compute_umap", "umap_missing", "umap_projection"]


def umap_missing() -> str | None:
    """Why UMAP cannot be computed here (``INSTALL_HINT``), or None when umap-learn is
    installed. Looks the package up without importing it (fast)."""
    return INSTALL_HINT if importlib.util.find_spec("umap") is None else None


def cache_path(cache_dir: str | Path, fingerprint: str, seed: int) -> Path:
    """Where the UMAP layout of the features ``fingerprint`` with ``seed`` is cached."""
    return Path(cache_dir) / f"projection-umap-{fingerprint[:16]}-s{int(seed)}.npy"


def compute_umap(X: Any, seed: int = 0, fit_rows: int = FIT_ROWS,
                 progress: Progress = NULL_PROGRESS) -> Any:
    """UMAP of the rows of ``X`` (N, D) to (N, 2) float32, in this process (imports umap).

    Raises ActiveLabError with ``INSTALL_HINT`` without umap-learn, and for fewer than
    ``MIN_ROWS`` rows (UMAP needs neighbours)."""
    import numpy as np

    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    if n < MIN_ROWS:
        raise ActiveLabError(f"UMAP needs at least {MIN_ROWS} samples; this pool has {n}. Use PCA.")
    progress.update(0.02, "loading umap-learn (its first use compiles code: a minute or more)")
    try:
        import umap
    except ImportError:
        raise ActiveLabError(INSTALL_HINT) from None
    from sklearn.decomposition import PCA

    progress.update(0.05, "reducing the features")
    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(n, size=min(n, fit_rows), replace=False))
    dims = min(PCA_DIMS, X.shape[1], len(fit_idx))
    if X.shape[1] > dims:
        pca = PCA(n_components=dims, random_state=seed).fit(X[fit_idx])
        X = np.concatenate([pca.transform(X[s:s + CHUNK]) for s in range(0, n, CHUNK)]).astype(np.float32)
    progress.check()
    progress.update(0.15, f"fitting UMAP on {len(fit_idx):,} samples")
    model = umap.UMAP(n_components=2, n_neighbors=min(15, len(fit_idx) - 1), min_dist=0.1,
                      random_state=seed)
    out = np.zeros((n, 2), np.float32)
    out[fit_idx] = model.fit_transform(X[fit_idx])
    rest = np.setdiff1d(np.arange(n), fit_idx)
    for s in range(0, len(rest), CHUNK):
        progress.check()
        progress.update(0.6 + 0.4 * s / len(rest), f"placing {len(rest) - s:,} more samples")
        rows = rest[s:s + CHUNK]
        out[rows] = model.transform(X[rows])
    progress.update(1.0, "")
    return out


def umap_projection(dense: Any, fingerprint: str | None, cache_dir: str | Path | None,
                    seed: int = 0, progress: Progress = NULL_PROGRESS, fit_rows: int = FIT_ROWS) -> Any:
    """Worker job: the (N, 2) UMAP layout of ``dense`` (N, D), from the cache when there,
    else computed in a child process and cached (unless ``cache_dir`` is None: a read-only
    project). Cancelling ``progress`` kills the child.

    Raises ActiveLabError: umap-learn missing (``INSTALL_HINT``), too few samples, or the
    child failing (its last error line)."""
    import numpy as np

    from activelab.core.features.cache import load_array, save_array

    n = int(dense.shape[0])
    target = cache_path(cache_dir, fingerprint, seed) if cache_dir and fingerprint else None
    if target is not None:
        cached = load_array(target, (n, 2))
        if cached is not None:
            return cached
    missing = umap_missing()
    if missing:
        raise ActiveLabError(missing)
    progress.update(0.0, "starting UMAP")
    with tempfile.TemporaryDirectory(prefix="activelab-umap-") as tmp:
        src, out, note = Path(tmp) / "in.npy", Path(tmp) / "out.npy", Path(tmp) / "progress.txt"
        np.save(src, np.asarray(dense, dtype=np.float32), allow_pickle=False)
        xy = _run_child(src, out, note, seed, fit_rows, progress)
    if xy.shape != (n, 2) or not np.isfinite(xy).all():
        raise ActiveLabError(f"UMAP returned a layout of shape {xy.shape}, expected ({n}, 2) finite values.")
    if target is not None and save_array(target, xy):
        for old in target.parent.glob("projection-umap-*.npy"):
            if old != target:
                old.unlink(missing_ok=True)
    return xy


def _run_child(src: Path, out: Path, note: Path, seed: int, fit_rows: int, progress: Progress) -> Any:
    import numpy as np

    cmd = [sys.executable, "-m", "activelab.core.features.umap_map", str(src), str(out),
           str(int(seed)), str(int(fit_rows)), str(os.getpid())]
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    err_path = note.with_name("stderr.txt")   # a file, not a pipe: warnings never block the child
    with open(err_path, "wb") as err_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, env=env)
    started = time.monotonic()
    try:
        while proc.poll() is None:
            if progress.cancelled:
                proc.kill()
                progress.check()
            try:
                fraction, _, message = note.read_text().partition(" ")
                progress.update(float(fraction), f"{message} · {time.monotonic() - started:.0f} s so far")
            except (OSError, ValueError):
                pass
            time.sleep(POLL_S)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if proc.returncode != 0 or not out.is_file():
        err = err_path.read_text(errors="replace") if err_path.is_file() else ""
        lines = [ln for ln in err.strip().splitlines() if ln.strip() and "Warning" not in ln]
        raise ActiveLabError(f"UMAP failed (exit code {proc.returncode}): "
                             f"{lines[-1] if lines else 'no message'}. PCA still works.")
    return np.load(out, allow_pickle=False)


class _FileProgress(Progress):
    """The child's progress, written to a file the parent polls."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    def update(self, fraction: float | None = None, message: str | None = None) -> None:
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(f"{0.0 if fraction is None else fraction:.3f} {message or ''}")
        os.replace(tmp, self._path)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


def main(argv: list[str]) -> int:
    """Child: ``IN OUT SEED FIT_ROWS PARENT_PID``; writes OUT (an .npy) and exits 0."""
    import threading

    import numpy as np

    src, out, seed, fit_rows, parent = argv[0], Path(argv[1]), int(argv[2]), int(argv[3]), int(argv[4])
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    try:
        os.nice(10)    # the expert's key presses come first
    except (AttributeError, OSError):
        pass
    try:
        xy = compute_umap(np.load(src, mmap_mode="r", allow_pickle=False), seed, fit_rows,
                          _FileProgress(out.with_name("progress.txt")))
    except ActiveLabError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    np.save(out.with_suffix(".part.npy"), xy, allow_pickle=False)
    os.replace(out.with_suffix(".part.npy"), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
