"""Reads bench JSON lines on stdin; prints one summary line per (bench, broker):
medians over the runs of each implementation and, when a raw baseline ran, brook/raw."""
import json
import statistics
import sys

runs = {}
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        runs.setdefault((r["bench"], r["broker"]), {}).setdefault(r["impl"], []).append(r)

for (bench, broker), impls in runs.items():
    summary = {"summary": bench, "broker": broker, "runs": len(impls.get("brook", []))}
    for impl, rs in impls.items():
        summary[impl] = {
            key: round(statistics.median(r[key] for r in rs), 2)
            for key in ("msgs_per_s", "p50_us", "p99_us")
        }
    if "raw" in impls and "brook" in impls:
        b, r = summary["brook"], summary["raw"]
        summary["brook_vs_raw"] = {
            "throughput": round(b["msgs_per_s"] / r["msgs_per_s"], 3),
            "p50": round(b["p50_us"] / r["p50_us"], 3),
        }
    if "raw_bare" in impls and "brook" in impls:
        b, r = summary["brook"], summary["raw_bare"]
        summary["brook_vs_raw_bare"] = {
            "throughput": round(b["msgs_per_s"] / r["msgs_per_s"], 3),
            "p50": round(b["p50_us"] / r["p50_us"], 3),
        }
    if "brook_metrics" in impls and "brook" in impls:
        m, b = summary["brook_metrics"], summary["brook"]
        summary["metrics_on_vs_off"] = {
            "throughput": round(m["msgs_per_s"] / b["msgs_per_s"], 3),
            "p50": round(m["p50_us"] / b["p50_us"], 3),
        }
    if "brook_traced" in impls and "brook" in impls:
        t, b = summary["brook_traced"], summary["brook"]
        summary["traced_vs_off"] = {
            "throughput": round(t["msgs_per_s"] / b["msgs_per_s"], 3),
            "p50": round(t["p50_us"] / b["p50_us"], 3),
        }
    if "faststream" in impls and "brook" in impls:
        b, f = summary["brook"], summary["faststream"]
        summary["brook_vs_faststream"] = {
            "throughput": round(b["msgs_per_s"] / f["msgs_per_s"], 2),
            "p50": round(b["p50_us"] / f["p50_us"], 3),
        }
    print(json.dumps(summary))
