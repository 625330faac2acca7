"""Reads bench JSON lines on stdin; prints one summary line per (bench, broker):
medians over the runs of each implementation and, when a raw baseline ran, brook/raw."""
import json
import statistics
import sys

# (name, numerator impl, denominator impl, digits of the throughput ratio)
RATIOS = [
    ("brook_vs_raw", "brook", "raw", 3),
    ("brook_vs_raw_bare", "brook", "raw_bare", 3),
    ("brook_vs_raw_headers", "brook", "raw_headers", 3),
    ("brook_asap_vs_raw", "brook_asap", "raw", 3),
    ("brook_asap_polling_vs_raw", "brook_asap_polling", "raw", 3),
    ("metrics_on_vs_off", "brook_metrics", "brook", 3),
    ("traced_vs_off", "brook_traced", "brook", 3),
    ("brook_vs_faststream", "brook", "faststream", 2),
]

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
    for name, num, den, digits in RATIOS:
        if num in impls and den in impls:
            n, d = summary[num], summary[den]
            summary[name] = {
                "throughput": round(n["msgs_per_s"] / d["msgs_per_s"], digits),
                "p50": round(n["p50_us"] / d["p50_us"], 3),
            }
    print(json.dumps(summary))
