"""Keystrokes per label on the three-task product catalogue, with and without the accept key.

A project is made from the shared product catalogue (``fashion_products/metadata.csv``: the
title as text, TF-IDF features, tasks masterCategory, gender and usage; rows missing one of
them left out). The loop runs as in the app: the queue the model prepared (margin sampling
with the default 10 % audit picks), a retrain every ``retrain_every`` labels. Each sample is
put on the app's real ``LabelPanel`` (suggestions as the main window shows them: none on
audit picks or before the first model) and an expert who knows the true labels presses keys
on it, through the panel's own shortcuts:

* **accept**: when the suggestion is right on every task, ``A``; else, for each wrong task,
  Tab / Shift+Tab to it and its number key, then ``A`` (a task without a suggestion is typed).
  When typing everything is cheaper (two or three tasks wrong), the expert types everything.
* **typing** (the peer, on the same samples): every task's number key (with the Tabs the
  panel needs), then Enter — the app without the accept key.

Both must submit the true labels (checked). Keys per label are reported over the label
windows 1–50, 51–200, 201–500 (and up to ``--labels``), with the share of samples whose
suggestion was right on all three tasks. The table goes to ``benchmarks/results/keystrokes.txt``.

    ACTIVELAB_SHARED_DATA=/work/shared/data QT_QPA_PLATFORM=offscreen \\
        .venv/bin/python benchmarks/keystrokes.py --labels 500
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

TASKS = ("masterCategory", "gender", "usage")
RESULTS = Path(__file__).parent / "results" / "keystrokes.txt"


def catalogue_csv(folder: Path, rows: int | None) -> tuple[Path, pd.DataFrame]:
    shared = Path(os.environ.get("ACTIVELAB_SHARED_DATA",
                                 Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
    meta = shared / "fashion_products" / "metadata.csv"
    if not meta.exists():
        sys.exit(f"The product catalogue is not at {meta}; set ACTIVELAB_SHARED_DATA.")
    frame = pd.read_csv(meta, dtype=str).dropna(subset=[*TASKS, "productDisplayName"])
    frame = frame[["id", "productDisplayName", *TASKS]]
    if rows:
        frame = frame.sample(n=min(rows, len(frame)), random_state=0).sort_index()
    path = folder / "catalogue.csv"
    frame.to_csv(path, index=False)
    return path, frame.set_index("id")


class Expert:
    """Presses keys on a shown ``LabelPanel`` (real key events through its shortcuts)."""

    def __init__(self, window, panel) -> None:
        from PySide6.QtCore import Qt

        self.window, self.panel, self.Qt = window, panel, Qt
        self.keys = 0
        self.got: list[dict] = []
        panel.submitted.connect(self.got.append)

    def press(self, key, modifier=None) -> None:
        from PySide6.QtTest import QTest

        if modifier is None:
            QTest.keyClick(self.window, key)
        else:
            QTest.keyClick(self.window, key, modifier)
        self.keys += 1

    def go_to(self, j: int) -> None:
        n, at = len(self.panel.rows), self.panel.active
        fwd, back = (j - at) % n, (at - j) % n
        for _ in range(min(fwd, back)):
            if fwd <= back:
                self.press(self.Qt.Key.Key_Tab)
            else:   # what a keyboard sends for Shift+Tab
                self.press(self.Qt.Key.Key_Backtab, self.Qt.KeyboardModifier.ShiftModifier)
        if self.panel.active != j:
            raise RuntimeError(f"Tab did not reach task {j} (at {self.panel.active})")

    def type_class(self, j: int, cls: str) -> None:
        self.go_to(j)
        key_of = {c: k for k, c in self.panel.rows[j].keyed_classes().items()}
        if cls not in key_of:
            raise RuntimeError(f"class {cls!r} has no number key (more than ten classes)")
        self.press(getattr(self.Qt.Key, f"Key_{key_of[cls]}"))
        if self.panel.rows[j].selected != [cls]:
            raise RuntimeError(f"the key for {cls!r} did not pick it (got {self.panel.rows[j].selected})")

    def type_all(self, truth: dict) -> None:
        rows = self.panel.rows
        while any(not r.selected for r in rows):
            at, n = self.panel.active, len(rows)
            j = min((k for k in range(n) if not rows[k].selected),
                    key=lambda k: min((k - at) % n, (at - k) % n))
            self.type_class(j, truth[rows[j].task.name])
        if len(rows) > 1:
            self.press(self.Qt.Key.Key_Return)

    def accept_with_fixes(self, truth: dict) -> None:
        rows = self.panel.rows
        wrong = [j for j, r in enumerate(rows) if self.panel.suggestion(r.task.name) != truth[r.task.name]]
        # A rational expert types everything when fixing costs as much (2+ tasks wrong).
        if not self.panel.accept_offered() or (len(wrong) > 1 and len(wrong) >= len(rows) - 1):
            self.type_all(truth)
            return
        while wrong:
            at, n = self.panel.active, len(rows)
            j = min(wrong, key=lambda k: min((k - at) % n, (at - k) % n))
            wrong.remove(j)
            self.type_class(j, truth[rows[j].task.name])
        self.press(self.Qt.Key.Key_A)


def run(labels: int, rows: int | None, retrain_every: int) -> str:
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    from activelab.app.accept import shown_suggestions
    from activelab.app.label_panel import LabelPanel
    from activelab.core.data.spec import FeatureConfig
    from activelab.core.project.project import Project

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="keystrokes-"))
    data, truth_frame = catalogue_csv(tmp, rows)
    t0 = time.perf_counter()
    proj = Project.create(tmp / "catalogue", data=data, id_column="id",
                          text_columns=["productDisplayName"],
                          tasks=[f"{t}={t}" for t in TASKS], import_labels=False,
                          feature_config=FeatureConfig(text="tfidf"))
    proj.update_settings(retrain_every=retrain_every)
    window = QWidget()
    panel = LabelPanel()
    QVBoxLayout(window).addWidget(panel)
    panel.set_tasks(list(proj.spec.tasks))
    window.resize(1280, 300)
    window.show()
    window.activateWindow()
    app.processEvents()
    expert = Expert(window, panel)
    per: list[tuple[int, int, bool, bool]] = []    # (accept keys, typing keys, all right, offered)
    queue = list(proj.queue())
    retrains, trained_at = 0, 0
    while len(per) < labels:
        if not queue or len(per) - trained_at >= retrain_every:
            proj.retrain()
            retrains, trained_at = retrains + 1, len(per)
            queue = list(proj.queue())
            if not queue:
                break
        item = queue.pop(0)
        truth = {t: str(truth_frame.loc[item.id, t]) for t in TASKS}
        cur = SimpleNamespace(item=item, source="queue")
        preds, reason = shown_suggestions(cur, proj.model_version)
        # the peer: typing only, on the same sample (its submission is not saved)
        panel.set_sample({}, preds, "", reason)
        expert.keys, expert.got[:] = 0, []
        expert.type_all(truth)
        typing_keys, typed = expert.keys, expert.got[-1]
        # the expert with the accept key; this label is saved with how it was entered
        panel.set_sample({}, preds, "", reason)
        offered = panel.accept_offered()
        right = offered and all(panel.suggestion(t) == truth[t] for t in TASKS)
        expert.keys, expert.got[:] = 0, []
        expert.accept_with_fixes(truth)
        if expert.got[-1] != truth or typed != truth:
            raise RuntimeError(f"{item.id}: submitted {expert.got[-1]} / {typed}, truth {truth}")
        proj.label_sample(item.id, expert.got[-1], item=item, inputs=panel.inputs())
        per.append((expert.keys, typing_keys, right, offered))
    inputs = [e.input for e in proj.history(limit=10 * labels) if e.kind == "label"]
    proj.close()
    window.close()
    minutes = (time.perf_counter() - t0) / 60
    lines = [
        "Keystrokes per label, three-task product catalogue (masterCategory, gender, usage)",
        f"{len(truth_frame):,} products (title as TF-IDF text), margin sampling, 10% audit picks, "
        f"retrain every {retrain_every} labels ({retrains} retrains); expert knows the truth; "
        f"real key events on the app's LabelPanel; {minutes:.1f} min",
        "",
        f"{'labels':>10} | {'with accept':>11} | {'typing only':>11} | {'ratio':>5} | "
        f"{'sugg. right':>11} | {'accept offered':>14} | {'keys when right':>15}",
        "-" * 96,
    ]
    bounds = [b for b in (0, 50, 200, 500, 1000, 2000) if b < len(per)] + [len(per)]
    for lo, hi in zip(bounds, bounds[1:]):
        win = per[lo:hi]
        acc = sum(p[0] for p in win) / len(win)
        typ = sum(p[1] for p in win) / len(win)
        right = [p[0] for p in win if p[2]]
        lines.append(
            f"{f'{lo + 1}-{hi}':>10} | {acc:>11.2f} | {typ:>11.2f} | {acc / typ:>5.2f} | "
            f"{sum(p[2] for p in win) / len(win):>11.0%} | {sum(p[3] for p in win) / len(win):>14.0%} | "
            f"{(sum(right) / len(right)) if right else float('nan'):>15.2f}")
    acc = sum(p[0] for p in per) / len(per)
    typ = sum(p[1] for p in per) / len(per)
    lines += ["-" * 96,
              f"{f'all {len(per)}':>10} | {acc:>11.2f} | {typ:>11.2f} | {acc / typ:>5.2f} |",
              "",
              "Recorded inputs (events of the saved labels): " + ", ".join(
                  f"{k} {inputs.count(k)}" for k in sorted(set(map(str, inputs)))),
              "Typing only = one number key per task (+ Tab where needed) + Enter; with accept = "
              "A alone when the suggestion is right on all three tasks.",
              "No suggestion (accept not offered): audit picks and the picks before the first model."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=int, default=500)
    ap.add_argument("--rows", type=int, default=None, help="use a random subset of the catalogue")
    ap.add_argument("--retrain-every", type=int, default=10)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args()
    table = run(a.labels, a.rows, a.retrain_every)
    print(table)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
