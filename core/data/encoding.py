"""Deciding how a text file is encoded, or refusing when it cannot be decided.

Order of evidence, strongest first: an encoding the user gave; a byte-order mark (UTF-8,
UTF-16, UTF-32); the NUL-byte pattern of UTF-16/UTF-32 without a mark; valid UTF-8; then the
charset-normalizer detector. A file that is none of these with confidence is refused with the
first line that is not UTF-8, so nothing is ever imported as mojibake without the user seeing it.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from activelab.core.errors import DataError

_BOMS = (  # UTF-32 first: its little-endian mark starts with the UTF-16 one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32-LE with BOM"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32-BE with BOM"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16-LE with BOM"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16-BE with BOM"),
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_WESTERN = "cp1252"
_MAX_CHAOS = 0.1          # charset-normalizer "mess" ratio above which a decoding is implausible
_NEAR_CHAOS = 0.05        # candidates this close to the best one compete with it
_COHERENCE_MARGIN = 0.2   # a competitor this much less language-like is ruled out
_MIN_EVIDENCE = 4         # non-ASCII characters a non-Western guess must rest on
_PROBE_BYTES = 1 << 20    # the detector sees the lines holding non-ASCII bytes, up to this much
ENCODING_HINT = (
    "Pass the encoding the file was saved with, e.g. --encoding cp1252, --encoding latin-1 or "
    "--encoding shift_jis, or save the file as UTF-8, and import again."
)


@dataclass(frozen=True)
class DecodedText:
    """A decoded file: its text (BOM dropped), the codec used and a sentence on why."""

    text: str
    codec: str
    description: str


def decode_text(path: Path, raw: bytes, encoding: str | None = None) -> DecodedText:
    """Decode a text file's bytes; raise DataError for binary data or an undecidable encoding.

    ``encoding`` (a Python codec name) wins when given; errors then name the line. Without it the
    encoding is detected (see the module docstring) and ``description`` says how.
    """
    if encoding:
        return _decode_given(path, raw, encoding)
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            return DecodedText(_strict(path, raw[len(bom):], codec, name), codec, f"{name} (BOM dropped)")
    wide = _utf16_32_without_bom(raw)
    if wide is not None:
        return wide
    _reject_binary(path, raw)
    try:
        return DecodedText(raw.decode("utf-8"), "utf-8", "UTF-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    return _decode_legacy(path, raw, first_bad)


def line_of(raw: bytes, offset: int) -> int:
    """1-based line number of byte ``offset`` in an ASCII-compatible encoding."""
    return raw.count(b"\n", 0, offset) + 1


def _line_bytes(raw: bytes, offset: int) -> bytes:
    start = raw.rfind(b"\n", 0, offset) + 1
    end = raw.find(b"\n", offset)
    return raw[start:end if end >= 0 else len(raw)].rstrip(b"\r")


def _decode_given(path: Path, raw: bytes, encoding: str) -> DecodedText:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as exc:
        raise DataError(
            f"Unknown text encoding '{encoding}' given for {path}. Use a Python codec name such "
            "as utf-8, utf-16, latin-1, cp1252 or shift_jis, or leave the encoding out to let it "
            "be detected."
        ) from exc
    text = _strict(path, raw, encoding, encoding, given=True)
    bom = text.startswith("\ufeff")
    said = f"{encoding} (given{'; BOM dropped' if bom else ''})"
    return DecodedText(text[1:] if bom else text, codec, said)


def _strict(path: Path, raw: bytes, codec: str, name: str, given: bool = False) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        before = raw[:exc.start].decode(codec, errors="replace")
        line = before.count("\n") + 1
        bad = raw[exc.start:exc.end + 3]
        fix = ("Check the encoding the file was saved with, or leave --encoding out to let it be "
               "detected." if given else ENCODING_HINT)
        raise DataError(
            f"{path}, line {line}: the bytes {bad!r} are not valid {name} ({exc.reason}). {fix}"
        ) from exc


def _utf16_32_without_bom(raw: bytes) -> DecodedText | None:
    """UTF-16/UTF-32 text without a BOM, recognised by where its NUL bytes sit."""
    sample = raw[:65536]
    if b"\x00" not in sample or len(sample) < 4:
        return None
    n4 = len(sample) // 4 * 4
    quads = [sample[i:i + 4] for i in range(0, n4, 4)]
    candidates = []
    if sum(q[2:] == b"\0\0" for q in quads) >= 0.95 * len(quads):
        candidates.append(("utf-32-le", "UTF-32-LE"))
    if sum(q[:2] == b"\0\0" for q in quads) >= 0.95 * len(quads):
        candidates.append(("utf-32-be", "UTF-32-BE"))
    even = sample[0:len(sample) // 2 * 2:2]
    odd = sample[1:len(sample) // 2 * 2:2]
    if even.count(0) == 0 and odd.count(0) >= 0.05 * len(odd):
        candidates.append(("utf-16-le", "UTF-16-LE"))
    if odd.count(0) == 0 and even.count(0) >= 0.05 * len(even):
        candidates.append(("utf-16-be", "UTF-16-BE"))
    for codec, name in candidates:
        if len(raw) % (4 if "32" in codec else 2):
            continue
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if not _has_control_chars(text):
            return DecodedText(text, codec, f"{name} (no BOM; recognised by its NUL bytes)")
    return None


def _has_control_chars(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\t\n\r\f" for c in text[:65536])


def _reject_binary(path: Path, raw: bytes) -> None:
    """Raise DataError when ``raw`` does not look like text (NUL bytes or many control bytes)."""
    sample = raw[:65536]
    if not sample:
        return
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sample or control > 0.01 * len(sample):
        raise DataError(
            f"{path} does not look like a text table: it contains binary bytes "
            f"({control} control characters in the first {len(sample)} bytes). Import a CSV, "
            "TSV, JSON-lines, Parquet or .npz file, or a folder of images."
        )


def _non_ascii_lines(raw: bytes) -> bytes:
    """The lines holding bytes >= 0x80 (what the detector has to decide on), up to 1 MB."""
    out, size, line_end = [], 0, -1
    for m in _HIGH_BYTE.finditer(raw):
        if m.start() < line_end:
            continue
        start = raw.rfind(b"\n", 0, m.start()) + 1
        end = raw.find(b"\n", m.start())
        line_end = end if end >= 0 else len(raw)
        out.append(raw[start:line_end])
        size += line_end - start + 1
        if size > _PROBE_BYTES:
            break
    return b"\n".join(out)


def _decode_legacy(path: Path, raw: bytes, first_bad: int) -> DecodedText:
    """Not UTF-8: a legacy encoding charset-normalizer is confident about, or a DataError."""
    from charset_normalizer import from_bytes

    line = line_of(raw, first_bad)
    shown = _line_bytes(raw, first_bad)
    where = f"line {line} has the byte(s) {raw[first_bad:first_bad + 4]!r} in {shown[:80]!r}"
    probe = _non_ascii_lines(raw)
    utf8_line = _mixed_with_utf8(probe)
    if utf8_line is not None:
        raise DataError(
            f"{path} mixes text encodings: some lines are UTF-8 (such as {utf8_line!r}), but "
            f"{where}, which is not UTF-8. Reading it either way would garble part of the text. "
            "Save the whole file in one encoding (UTF-8 is best) and import again, or pass "
            "--encoding to read it in one encoding anyway."
        )
    results = [r for r in from_bytes(probe) if not r.encoding.startswith("utf")]
    western = next((r for r in results if _WESTERN in r.could_be_from_charset), None)
    why = ""
    if western is not None and western.chaos <= _MAX_CHAOS:
        codec, name = _WESTERN, "cp1252 (Windows Western European, a superset of Latin-1)"
        others = _differing(probe, codec, [r for r in results if r.chaos <= western.chaos + _NEAR_CHAOS])
        if others:
            mine, theirs = _first_difference(probe, codec, others[0])
            why = (f"; it could also be {', '.join(others[:4])} ({others[0]} would read {theirs!r} "
                   f"where cp1252 reads {mine!r}): pass --encoding if letters look wrong")
    else:
        codec = _confident_other(probe, results)
        if codec is None:
            names = ", ".join(r.encoding for r in results[:5]) or "none"
            raise DataError(
                f"{path}: the text encoding cannot be decided. The file is not valid UTF-8 "
                f"({where}) and no single encoding fits it with confidence (candidates: "
                f"{names}). {ENCODING_HINT}"
            )
        name = codec
    text = _strict(path, raw, codec, codec)
    snippet = shown.decode(codec, errors="replace")[:60]
    return DecodedText(
        text, codec,
        f"{name}, detected by charset-normalizer; the file is not valid UTF-8 (first at line "
        f"{line}: {snippet!r}){why}",
    )


def _mixed_with_utf8(probe: bytes) -> str | None:
    """A non-ASCII line that is valid UTF-8 when others are not (1 in 10 or more), else None.

    Lines in a legacy encoding are almost never valid UTF-8 by accident, so such lines mean
    the file was put together from files saved in different encodings.
    """
    valid, invalid = [], 0
    for line in probe.split(b"\n"):
        try:
            valid.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            invalid += 1
    if valid and len(valid) >= 0.1 * invalid:
        return valid[0].rstrip("\r")[:60]
    return None


def _differing(probe: bytes, chosen: str, results: list) -> list[str]:
    """Encodings among ``results`` that would read ``probe`` differently from ``chosen``."""
    mine = probe.decode(chosen, errors="replace")
    out = []
    for r in results:
        try:
            if probe.decode(r.encoding) != mine:
                out.append(r.encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return out


def _first_difference(probe: bytes, a: str, b: str) -> tuple[str, str]:
    """The first word that codecs ``a`` and ``b`` decode differently, as each reads it."""
    for line in probe.split(b"\n"):
        wa, wb = line.decode(a, errors="replace").split(), line.decode(b, errors="replace").split()
        for x, y in zip(wa, wb):
            if x != y:
                return x[:30], y[:30]
    return "", ""


def _confident_other(probe: bytes, results: list) -> str | None:
    """charset-normalizer's best non-Western guess when it is clearly ahead; else None."""
    if not results:
        return None
    best = min(results, key=lambda r: (r.chaos, -r.coherence))
    if best.chaos > _MAX_CHAOS:
        return None
    text = probe.decode(best.encoding, errors="replace")
    if sum(ord(c) > 127 for c in text) < _MIN_EVIDENCE:
        return None
    rivals = [r for r in results if r is not best and r.chaos <= best.chaos + _NEAR_CHAOS
              and best.coherence - r.coherence < _COHERENCE_MARGIN]
    if _differing(probe, best.encoding, rivals):
        return None
    return best.encoding
