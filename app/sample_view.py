"""Draws one sample for its modality: image (fit, zoom, pan), text, tabular row, or all side by side."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPixmap, QShortcut, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QHeaderView,
    QLabel, QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout,
    QWidget,
)

from activelab.core.data.images import to_8bit


def pil_to_qimage(img: Any) -> QImage:
    """A PIL image as a QImage that owns its pixels, converted exactly as the features see it
    (activelab.core.data.images.to_8bit: 8-bit grey or RGB, high bit depths scaled, transparency on white)."""
    img = to_8bit(img)
    fmt = {"L": QImage.Format.Format_Grayscale8, "RGB": QImage.Format.Format_RGB888}[img.mode]
    data = img.tobytes()
    bpl = len(data) // img.height
    return QImage(data, img.width, img.height, bpl, fmt).copy()


class ImageView(QGraphicsView):
    """Fit-to-window by default; wheel or +/- zooms, drag pans, double-click fits again."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self._scene.addItem(self._item)
        self.setScene(self._scene)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setObjectName("imageView")
        self._fit = True
        for seq, f in (("+", 1.25), ("=", 1.25), ("-", 0.8)):
            sc = QShortcut(QKeySequence(seq), self, context=Qt.ShortcutContext.WindowShortcut)
            sc.setWhatsThis("Zoom in on the image" if f > 1 else "Zoom out of the image")
            sc.activated.connect(lambda f=f: self.zoom_by(f))

    def set_image(self, image: QImage | None) -> None:
        pix = QPixmap.fromImage(image) if image is not None and not image.isNull() else QPixmap()
        self._item.setPixmap(pix)
        # Small images (8x8 digits, 28x28 fashion) are shown with crisp pixels, photos smoothly.
        small = pix.width() < 256 and pix.height() < 256
        self._item.setTransformationMode(
            Qt.TransformationMode.FastTransformation if small else Qt.TransformationMode.SmoothTransformation)
        self._scene.setSceneRect(QRectF(pix.rect()))
        self.fit()

    def shown_image(self) -> QImage:
        """The pixels on screen (before zoom): a null QImage when no image is shown."""
        return self._item.pixmap().toImage()

    def fit(self) -> None:
        self._fit = True
        if not self._item.pixmap().isNull():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.zoom())

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        self._fit = False
        self.scale(factor, factor)
        self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._fit:
            self.fit()


class TabularView(QTableWidget):
    """A row as a two-column name/value table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Column", "Value"])
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAlternatingRowColors(True)

    def set_row(self, row: dict[str, Any]) -> None:
        self.setRowCount(len(row))
        for r, (name, value) in enumerate(row.items()):
            self.setItem(r, 0, QTableWidgetItem(str(name)))
            text = "" if value is None else (f"{value:.6g}" if isinstance(value, float) else str(value))
            self.setItem(r, 1, QTableWidgetItem(text))


class SampleView(QWidget):
    """The sample in the middle of the window; parts shown by the sample's modalities."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_view = ImageView()
        self.text_view = QTextBrowser()
        self.text_view.setOpenLinks(False)
        self.text_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.text_view.setObjectName("sampleText")
        self.table_view = TabularView()
        self.title = QLabel()
        self.title.setObjectName("sampleTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setObjectName("sampleMessage")
        # The image's place: the picture, or why it cannot be shown (a damaged file, a FIFO...).
        self.image_error = QLabel()
        self.image_error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_error.setWordWrap(True)
        self.image_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.image_error.setObjectName("sampleMessage")
        self.image_slot = QStackedWidget()
        self.image_slot.addWidget(self.image_view)
        self.image_slot.addWidget(self.image_error)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self._split_set = False  # parts share the width equally until the user drags the handle
        for w in (self.image_slot, self.text_view, self.table_view):
            self.splitter.addWidget(w)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.message)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.stack, 1)
        self.hidden_columns: frozenset[str] = frozenset()
        self.show_message("No sample yet.")

    def set_hidden_columns(self, columns: Any) -> None:
        """Columns never shown, e.g. a task's source column: it holds the answer (or an old
        label) and would anchor the expert."""
        self.hidden_columns = frozenset(str(c) for c in columns if c)

    def show_message(self, text: str) -> None:
        self.title.setText("")
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def set_sample(self, sample: Any, image: Any | None = None, caption: str = "",
                   image_error: str | None = None) -> None:
        """Show ``sample`` (activelab.core.project.project.Sample); ``image`` is a PIL image or QImage or None.

        ``image_error`` (the message of the error that stopped the image from loading) is shown
        in the image's place, beside the sample's text and table, so the sample can still be
        labeled or skipped.
        """
        self.title.setText(caption or f"Sample {sample.id}")
        has_image = sample.image_ref is not None
        if has_image:
            qimg = image if isinstance(image, QImage) or image is None else pil_to_qimage(image)
            self.image_view.set_image(None if image_error else qimg)
            self.image_error.setText(f"This image cannot be shown.\n\n{image_error}" if image_error else "")
            self.image_slot.setCurrentWidget(self.image_error if image_error else self.image_view)
        hide = self.hidden_columns
        texts = {k: v for k, v in (sample.texts or {}).items() if k not in hide}
        if texts:
            if len(texts) == 1:
                body = _escape(next(iter(texts.values())))
            else:
                body = "".join(f"<p><b>{_escape(k)}</b><br>{_escape(v)}</p>" for k, v in texts.items())
            self.text_view.setHtml(f"<div style='white-space: pre-wrap'>{body}</div>")
        tabular = {k: v for k, v in (sample.tabular or {}).items() if k not in hide}
        if tabular:
            self.table_view.set_row(tabular)
        self.image_slot.setVisible(has_image)
        self.text_view.setVisible(bool(texts))
        self.table_view.setVisible(bool(tabular))
        if not (has_image or texts or tabular):
            self.table_view.set_row({k: v for k, v in (sample.fields or {}).items() if k not in hide})
            self.table_view.setVisible(True)
        self.stack.setCurrentWidget(self.splitter)
        parts = (self.image_slot, self.text_view, self.table_view)
        shown = [w for w in parts if not w.isHidden()]
        if len(shown) > 1 and self.splitter.width() > 0 and not self._split_set:
            self.splitter.setSizes([self.splitter.width() // len(shown) if not w.isHidden() else 0
                                    for w in parts])
            self._split_set = True
        if has_image and not image_error:
            self.image_view.fit()


def _escape(s: Any) -> str:
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", "<br>"))
