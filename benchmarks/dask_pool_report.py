"""The printed table of ``benchmarks/dask_pool.py`` (see its module doc for what is measured)."""
from __future__ import annotations

import os
from typing import Any

STEPS = (("new", "new"), ("lc", "query least_confidence"), ("cs", "query coreset"))


def _peak(res: dict) -> float:
    """Largest peak of any one process of the step (driver, its own children, workers)."""
    return max([res["driver_mb"], res.get("children_mb", 0.0), *res["workers_mb"]])


def _line(n: int, parts: int, engine: str, label: str, res: dict | None) -> str:
    if res is None:
        return f"{n:>11,} {parts:>5} {engine:<8} {label:<23} (not run)"
    workers = "/".join(f"{w:.0f}" for w in res["workers_mb"]) or "-"
    child = f"{res['children_mb']:.0f}" if res.get("children_mb") else "-"
    state = "ok" if res["ok"] else f"FAILED {res['error'][:150]}"
    return (f"{n:>11,} {parts:>5} {engine:<8} {label:<23} {res['seconds']:>8.1f} "
            f"{res['driver_mb']:>9.0f} {child:>8} {workers:>13} {_peak(res):>8.0f}  {state}")


def _fit(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """(fixed seconds, seconds per part) of a least-squares line through (parts, seconds)."""
    if len({p for p, _ in points}) < 2:
        return None
    xs = [float(p) for p, _ in points]
    ys = [t for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def score_note(e: dict, d: dict) -> str:
    """The least-confidence picks' scores of both engines, side by side."""
    def span(x: dict) -> str:
        s = x["scores"]
        return (f"{len(s)} picks scored {min(s):.6f}..{max(s):.6f}, {x['audit']} audit, "
                f"model version {x['version']}") if s else "no picks"
    return f"embedded {span(e)}; dask {span(d)}"


def report(results: dict, checks: dict, sizes: list[int], engines: list[str], a: Any,
           cluster_s: float, load_before: tuple, load_after: tuple, command: str) -> str:
    out = [f"dask_pool: {', '.join(f'{n:,}' for n in sizes)} rows x (id + 32 float32 + truth) "
           f"as Parquet parts of {a.part_rows:,} rows; engines {', '.join(engines)}; "
           f"{a.workers}-worker LocalCluster (1 thread each; started in {cluster_s:.1f} s, "
           f"not counted); {os.cpu_count()} CPUs shared, load average "
           f"{load_before[0]:.1f} before / {load_after[0]:.1f} after",
           f"command: {command}",
           "s = wall time of the step's process; MB = peak resident set: driver (the step's "
           "process), child (largest process it started itself), workers (each Dask worker), "
           "peak (largest of them)", ""]
    head = (f"{'rows':>11} {'parts':>5} {'engine':<8} {'step':<23} {'s':>8} {'driver MB':>9} "
            f"{'child MB':>8} {'workers MB':>13} {'peak MB':>8}  status")
    out += [head, "-" * len(head)]
    for n in sizes:
        r = results.get(n, {})
        for engine in engines:
            row = r.get(engine, {})
            for key, label in STEPS:
                out.append(_line(n, r.get("parts", 0), engine, label, row.get(key)))
        out.append(f"{'':>11} data: {r.get('mb', 0):.0f} MB on disk")
    out.append("")
    out.append("dask / embedded, same run (time; largest process's peak):")
    for n in sizes:
        r = results.get(n, {})
        emb, dsk = r.get("embedded", {}), r.get("dask", {})
        bits = []
        for key, label in STEPS:
            e, d = emb.get(key), dsk.get(key)
            if e and d and e["ok"] and d["ok"]:
                bits.append(f"{label} {d['seconds'] / e['seconds']:.2f}x time, "
                            f"{_peak(d) / _peak(e):.2f}x memory")
            elif e or d:
                bits.append(f"{label}: embedded {'ok' if e and e['ok'] else 'failed/not run'}, "
                            f"dask {'ok' if d and d['ok'] else 'failed/not run'}")
        out.append(f"{n:>11,} rows: " + "; ".join(bits))
    out.append("")
    out.append(f"picks, dask against embedded ({10} per query):")
    for n in sizes:
        c = checks.get(n) or {}
        if not c:
            out.append(f"{n:>11,} rows: not compared (an engine did not complete both queries)")
            continue
        line = (f"{n:>11,} rows: least_confidence "
                f"{'EQUAL (ids, order, audit picks)' if c['lc_equal'] else 'DIFFERENT'}")
        if "lc_scores" in c:
            e, d = c["lc_scores"]
            line += f" ({score_note(e, d)})"
        if "cs_overlap" in c:
            k, m = c["cs_overlap"]
            ra, rb = c["cs_radius"]
            line += (f"; coreset {k}/{m} ids shared, covering radius embedded {ra:.3f} / "
                     f"dask {rb:.3f} = {rb / ra:.3f}x")
        out.append(line)
    fits = []
    for key, label in STEPS:
        pts = [(results[n]["parts"], results[n]["dask"][key]["seconds"]) for n in sizes
               if results.get(n, {}).get("dask", {}).get(key, {}).get("ok")]
        f = _fit(pts)
        if f and f[1] > 0:
            fits.append(f"{label}: {f[0]:.1f} s fixed + {f[1]:.3f} s per part "
                        f"({a.part_rows:,} rows) on {a.workers} workers")
        elif f:   # no growth above the noise: bound a part by the largest pool's whole time
            p, t = max(pts)
            fits.append(f"{label}: no growth with the parts above the noise ({', '.join(f'{s:.0f} s at {q} parts' for q, s in pts)}); "
                        f"a part costs at most {t / (p / a.workers):.2f} s per worker "
                        f"(all of the {p}-part time taken as part work)")
    if fits:
        out += ["", "dask cost per partition (line through the sizes above):", *fits]
    return "\n".join(out) + "\n"
