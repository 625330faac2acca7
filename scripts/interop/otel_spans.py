"""Reads the spans an OpenTelemetry Collector's debug exporter (verbosity: detailed) printed to
its log (scripts/services.sh start otel): the tracing tests' view of what was exported.

    from otel_spans import spans
    for s in spans("/tmp/brook-run/otel-4328/collector.log"):
        s["service"], s["Trace ID"], s["Parent ID"], s["ID"], s["Name"], s["Kind"], s["attrs"]
"""

import re

_RESOURCE = re.compile(r"(^|\s)ResourceSpans #\d+$")
_SERVICE = re.compile(r"\s+-> service\.name: Str\((.*)\)$")
_FIELD = re.compile(r"\s+(Trace ID|Parent ID|ID|Name|Kind)\s*: ?(.*)$")
_ATTR = re.compile(r"\s+-> ([\w.]+): \w+\((.*)\)$")


def spans(log_path, skip_lines=0):
    """Every span in the log after its first `skip_lines` lines (what an earlier run left),
    each a dict with its resource's service name and attributes."""
    out, service, cur = [], None, None
    with open(log_path, errors="replace") as f:
        for n, line in enumerate(f):
            if n < skip_lines:
                continue
            line = line.rstrip("\n")
            if _RESOURCE.search(line.rstrip()):
                service, cur = None, None
            elif cur is None and (m := _SERVICE.match(line)):
                service = m.group(1)
            elif line.startswith("Span #"):
                cur = {"service": service, "attrs": {}}
                out.append(cur)
            elif cur is not None and (m := _FIELD.match(line)):
                cur[m.group(1)] = m.group(2).strip()
            elif cur is not None and (m := _ATTR.match(line)):
                cur["attrs"][m.group(1)] = m.group(2)
    return out
