"""Sample ids: read from the id column exactly as written, and checked for empty and repeated
values (checked first, so a repeated id is reported as itself rather than as a later symptom)."""
from __future__ import annotations

from activelab.core.data.spec import DatasetSpec, ImportedTable
from activelab.core.data.values import id_str
from activelab.core.errors import DataError

_LIST_AT_MOST = 5


def sample_ids(table: ImportedTable, spec: DatasetSpec | str | None) -> list[str]:
    """One id string per row: the id column's values exactly as written (``0020`` stays
    ``0020``; never stripped or parsed), or row numbers "0", "1", ... ("" for an empty id).
    ``spec``: the DatasetSpec, or just its id column (None: no id column)."""
    id_column = spec if spec is None or isinstance(spec, str) else spec.id_column
    n = table.frame.shape[0]
    if id_column is None:
        return [str(i) for i in range(n)]
    import pandas as pd

    col = table.frame[id_column]
    values = col.tolist()
    if isinstance(col.dtype, pd.StringDtype):
        every_str = not col.isna().any()
    else:
        every_str = col.dtype == object and pd.api.types.infer_dtype(col, skipna=False) == "string"
    if every_str:
        return values   # text ids (the usual case) are kept as they are (checked in C)
    return [id_str(v) or "" for v in values]


def check_ids(table: ImportedTable, id_column: str | None) -> None:
    """Raise DataError naming the file, the column, the value and its rows when ``id_column``
    (an existing column of ``table``; None: row numbers, nothing to check) has an empty or a
    repeated id. Rows count from 1 (the first row after a header)."""
    if id_column is None:
        return
    ids = sample_ids(table, id_column)
    distinct = set(ids)
    if len(distinct) == len(ids) and "" not in distinct:
        return   # the usual case, said without building a list of rows per id
    del distinct
    empty = [i + 1 for i, v in enumerate(ids) if not v]
    if empty:
        raise DataError(
            f"Id column '{id_column}' of {table.source} is empty in row(s) "
            f"{rows_text(empty)}. Fill in an id for every row, or leave out --id-column to use row numbers."
        )
    seen: dict[str, list[int]] = {}
    for i, v in enumerate(ids):
        seen.setdefault(v, []).append(i + 1)
    dups = {v: rows for v, rows in seen.items() if len(rows) > 1}
    if dups:
        value, rows = next(iter(dups.items()))
        more = f" ({len(dups)} ids are repeated in all)" if len(dups) > 1 else ""
        raise DataError(
            f"Id '{value}' appears {len(rows)} times in column '{id_column}' of "
            f"{table.source} (rows {rows_text(rows)}){more}. Ids must be unique: remove the duplicate "
            "rows, or choose another --id-column (or none, to use row numbers)."
        )


def rows_text(rows: list[int]) -> str:
    """"1, 4, 9" (at most five row numbers, then how many there are)."""
    shown = ", ".join(map(str, rows[:_LIST_AT_MOST]))
    return shown + (f", ... ({len(rows)} rows)" if len(rows) > _LIST_AT_MOST else "")
