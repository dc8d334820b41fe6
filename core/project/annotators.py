"""Who is labeling, which samples go to several annotators, and what each one may see.

* Identity: every event names its annotator. The name is chosen, highest first, from the
  ``--annotator`` flag of a command, the ``ACTIVELAB_ANNOTATOR`` environment variable, the
  app's per-machine name (File > Annotator name…), then this machine's ``login@host``
  (``activelab.core.project.identity``: two people with the same login on two machines stay
  two annotators): ``resolve_annotator``.
* Overlap: with the project setting ``overlap`` (a fraction in [0, 1]) that share of the
  samples is labeled by ``overlap_annotators`` different annotators. Whether a sample is one
  of them is a pure function of the project's seed and the sample id (``is_overlap``), so
  every process on every machine agrees without asking the store.
  Or, with ``overlap_every`` k, every k-th pick: the k-th, 2k-th, ... sample to be labeled
  project-wide (``LabelState.pick_number``: its place among first labels in the event log,
  which the store numbers in commit order under its writer lock) goes to
  ``overlap_annotators`` (``is_kth_pick``). Over n first labels exactly floor(n / k) are
  overlap samples, and every process agrees by reading the same log. A sample is known to be
  one only once it has its first label, so it is first handed to one annotator, then to the
  others as a second opinion. The two rules exclude each other (``Settings.validate``).
* Blindness: on an overlap sample an annotator does not see another annotator's label until
  they have given their own (``hidden_from``), so the labels stay independent.
"""
from __future__ import annotations

import hashlib
import os
import sys
from typing import Callable, Iterable

from activelab.core.errors import LabelError

__all__ = ["ENV_VAR", "clean_name", "hidden_from", "is_kth_pick", "is_overlap",
           "overlap_description", "overlap_on", "resolve_annotator"]

ENV_VAR = "ACTIVELAB_ANNOTATOR"
MAX_NAME = 64
"""Longest annotator name, in characters (names become export column names)."""
_BLANK_ENV_TOLD: list[bool] = [False]   # the blank-variable notice is printed once a process


def clean_name(name: str | None, where: str, *, refuse_blank: bool = False) -> str | None:
    """``name`` stripped of surrounding whitespace (None when None or blank; with
    ``refuse_blank``, a blank name raises LabelError: a command's --annotator given empty).

    Raises LabelError naming ``where`` it came from when it contains a line break or a
    control character (it could not be shown or exported on one line), or when it is longer
    than ``MAX_NAME`` characters (it becomes an export column name)."""
    if name is not None and not name.strip() and refuse_blank:
        raise LabelError(f"The annotator name given with {where} is empty ({name!r}); give the "
                         f"name to label as, e.g. {where} alice, or leave {where} out to label "
                         f"as {ENV_VAR} or this computer's login@host.")
    if name is None or not name.strip():
        return None
    name = name.strip()
    if not name.isprintable():
        raise LabelError(f"The annotator name {name!r} from {where} contains a line break or a "
                         "control character; give a name on one line, e.g. 'alice'.")
    if len(name) > MAX_NAME:
        raise LabelError(f"The annotator name from {where} is {len(name)} characters long "
                         f"({name[:20]!r}…); names are at most {MAX_NAME} characters because "
                         "they become column names in the export. Give a shorter one, e.g. "
                         "'alice'.")
    return name


def resolve_annotator(flag: str | None = None, app: str | None = None,
                      project: str | Callable[[], str] = "user") -> str:
    """The annotator a process acts as: ``flag`` (a command's --annotator) > the
    ``ACTIVELAB_ANNOTATOR`` environment variable > ``app`` (the app's per-machine name) >
    ``project`` (the default: this machine's ``login@host``, ``identity.default_annotator``;
    a callable is called only when needed). LabelError for a ``flag`` that is given but
    blank, and for a name with a control character or longer than ``MAX_NAME``. A blank
    ``ACTIVELAB_ANNOTATOR`` counts as unset, said once on stderr; a blank ``app`` is passed
    over."""
    flag = clean_name(flag, "--annotator", refuse_blank=True)
    env = os.environ.get(ENV_VAR)
    if env is not None and not env.strip() and flag is None and not _BLANK_ENV_TOLD[0]:
        _BLANK_ENV_TOLD[0] = True
        print(f"note: {ENV_VAR} is set but blank, so it is ignored; labelling as the next "
              "name in line (the app's name or this computer's login@host). Unset it or give "
              "it a name.", file=sys.stderr)
    for value, where in ((flag, "--annotator"), (os.environ.get(ENV_VAR), ENV_VAR),
                         (app, "the app's annotator name")):
        name = clean_name(value, where)
        if name is not None:
            return name
    return project() if callable(project) else project


def is_overlap(sample_id: str, fraction: float, seed: int = 0) -> bool:
    """Whether ``sample_id`` is one of the ``fraction`` of samples labeled by several
    annotators: a uniform hash of (seed, id) below ``fraction`` (the same in every process;
    over n samples the share is ``fraction`` ± about sqrt(fraction(1-fraction)/n))."""
    if fraction <= 0:
        return False
    if fraction >= 1:
        return True
    digest = hashlib.blake2b(f"{seed}\x1f{sample_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64 < fraction


def is_kth_pick(pick_number: int | None, every: int) -> bool:
    """Whether the sample with ``pick_number`` (``LabelState.pick_number``: 1 for the first
    sample labeled, None for one never labeled) is an overlap sample under "every
    ``every``-th pick" (the ``every``-th, 2·``every``-th, ...); False when ``every`` <= 0."""
    return every > 0 and pick_number is not None and pick_number % every == 0


def overlap_on(settings) -> bool:
    """Whether ``settings`` (a ``Settings``) send some samples to several annotators."""
    return settings.overlap > 0 or settings.overlap_every > 0


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def overlap_description(settings) -> str:
    """One phrase for ``settings``' overlap rule, e.g. "every 5th sample labeled goes to 2
    annotators", "10% of the samples go to 2 annotators", or "off"."""
    k = settings.overlap_annotators
    if settings.overlap_every == 1:
        return f"every sample goes to {k} annotators"
    if settings.overlap_every > 0:
        return (f"every {_ordinal(settings.overlap_every)} sample labeled goes to {k} "
                "annotators")
    if settings.overlap > 0:
        return f"{settings.overlap:.0%} of the samples go to {k} annotators"
    return "off"


def hidden_from(viewer: str, sample_id: str, labelers: Iterable[str], fraction: float,
                seed: int = 0) -> bool:
    """Whether other annotators' labels of ``sample_id`` are hidden from ``viewer``: it is an
    overlap sample and ``viewer`` is not among its ``labelers`` yet."""
    return is_overlap(sample_id, fraction, seed) and viewer not in set(labelers)
