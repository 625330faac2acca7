#!/usr/bin/env python3
"""Checks the manifests of docs/deploying.md for what they mean, not only their syntax.

Every ```yaml block is loaded (yaml.safe_load_all): each Deployment's container probes /health
(liveness) and /ready (readiness) on the port its `--http-port` names, has a preStop hook, and
gets a terminationGracePeriodSeconds longer than preStop sleep + `--graceful-timeout` (+ 5 s
under `--workers`, the fleet parent's extra wait); each Service selects those pods and targets
that port. The ```ini block is the systemd unit: ExecStart runs `run`, Restart is set,
KillSignal is SIGTERM and TimeoutStopSec exceeds the drain. Every `--flag` the page mentions
must be an option of actors/src/app_cli.cpp.

Usage: deploying_test.py [SOURCE_DIR]   (default: the repository holding this file)
"""
import configparser
import re
import shlex
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("deploying_test: PyYAML is missing (Debian: apt-get install python3-yaml, "
             "scripts/install-deps.sh installs it)")

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploying.md"
CLI = ROOT / "actors" / "src" / "app_cli.cpp"

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def blocks(text, lang):
    return re.findall(r"^```" + lang + r"[ \t]*\n(.*?)^```[ \t]*$", text, re.M | re.S)


def flag_value(argv, flag):
    """The value of `--flag V` or `--flag=V` in an argument list, else None."""
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def seconds(v, what):
    """systemd / brook durations: 30, 30s, 1min, 1min 30s, 500ms."""
    v = str(v).strip()
    units = {"": 1, "ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)\s*", v)
    if not check(v and re.fullmatch(r"(?:\d+(?:\.\d+)?\s*[a-z]*\s*)+", v)
                 and all(u in units for _, u in parts), f"{what}: {v!r} is not a duration"):
        return 0.0
    return sum(float(n) * units[u] for n, u in parts)


text = DOC.read_text()
cli = CLI.read_text()
m = re.search(r"double graceful_s = (\d+(?:\.\d+)?);", cli)
check(m, "app_cli.cpp: the default of --graceful-timeout (double graceful_s = N;) not found")
DEFAULT_GRACEFUL = float(m.group(1)) if m else 10.0
FLEET_EXTRA = 5  # app_fleet.cpp: the parent waits graceful_timeout + 5 s for its workers


def env_of(container):
    return {e["name"]: str(e.get("value")) for e in container.get("env") or [] if "value" in e}


def container_port(container, port):
    """A probe's or Service's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def prestop_sleep(container, where):
    pre = ((container.get("lifecycle") or {}).get("preStop"))
    if not check(pre, f"{where}: no lifecycle.preStop hook"):
        return 0.0
    if "sleep" in pre:
        return float(pre["sleep"]["seconds"])
    cmd = (pre.get("exec") or {}).get("command") or []
    words = shlex.split(" ".join(cmd[2:])) if cmd[:2] in (["sh", "-c"], ["/bin/sh", "-c"]) else cmd
    if "sleep" in [Path(w).name for w in words]:
        i = [Path(w).name for w in words].index("sleep")
        return seconds(words[i + 1], f"{where}: preStop sleep")
    return 0.0


# --- Kubernetes -------------------------------------------------------------------------------
docs = []
for i, b in enumerate(blocks(text, "yaml")):
    try:
        docs += [d for d in yaml.safe_load_all(b) if d is not None]
    except yaml.YAMLError as e:
        check(False, f"yaml block {i + 1}: {e}")

deployments = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Deployment"]
services = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Service"]
check(deployments, "no Deployment in the ```yaml blocks")
check(services, "no Service in the ```yaml blocks")

served = []  # (pod labels, container, http port)
for d in deployments:
    name = d["metadata"]["name"]
    pod = d["spec"]["template"]
    labels = pod["metadata"].get("labels") or {}
    check(d["spec"]["selector"]["matchLabels"].items() <= labels.items(),
          f"Deployment {name}: selector does not match the pod template's labels")
    spec = pod["spec"]
    for c in spec["containers"]:
        where = f"Deployment {name}, container {c['name']}"
        argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
        env = env_of(c)
        check("run" in argv, f"{where}: the command does not run `run`")
        port = flag_value(argv, "--http-port") or env.get("BROOK_HTTP_PORT")
        if not check(port, f"{where}: no --http-port (nor BROOK_HTTP_PORT)"):
            continue
        port = int(port)
        host = flag_value(argv, "--http-host") or env.get("BROOK_HTTP_HOST", "0.0.0.0")
        check(host not in ("127.0.0.1", "localhost", "::1"),
              f"{where}: --http-host binds loopback, the kubelet's probes cannot reach it")
        check(port in [p.get("containerPort") for p in c.get("ports") or []],
              f"{where}: --http-port {port} is not among the container's ports")
        for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
            get = (c.get(probe) or {}).get("httpGet")
            if not check(get, f"{where}: no {probe}.httpGet"):
                continue
            check(get.get("path") == path, f"{where}: {probe} path {get.get('path')!r} != {path!r}")
            check(container_port(c, get.get("port")) == port,
                  f"{where}: {probe} port {get.get('port')!r} is not --http-port {port}")
        graceful = float(flag_value(argv, "--graceful-timeout")
                         or env.get("BROOK_GRACEFUL_TIMEOUT") or DEFAULT_GRACEFUL)
        workers = int(flag_value(argv, "--workers") or env.get("BROOK_WORKERS") or 1)
        needed = prestop_sleep(c, where) + graceful + (FLEET_EXTRA if workers > 1 else 0)
        grace = spec.get("terminationGracePeriodSeconds", 30)  # Kubernetes' default
        check(grace > needed, f"{where}: terminationGracePeriodSeconds {grace} <= preStop sleep + "
              f"--graceful-timeout{' + 5 (--workers)' if workers > 1 else ''} = {needed:g}")
        served.append((labels, c, port))

for s in services:
    name = s["metadata"]["name"]
    selector = s["spec"].get("selector") or {}
    pods = [(c, p) for labels, c, p in served if selector and selector.items() <= labels.items()]
    if not check(pods, f"Service {name}: selects no Deployment's pods"):
        continue
    for sp in s["spec"]["ports"]:
        target = sp.get("targetPort", sp.get("port"))
        for c, port in pods:
            check(container_port(c, target) == port,
                  f"Service {name}: targetPort {target!r} is not --http-port {port}")
    ann = s["metadata"].get("annotations") or {}
    if "prometheus.io/scrape" in ann:
        check(ann.get("prometheus.io/path", "/metrics") == "/metrics",
              f"Service {name}: prometheus.io/path is not /metrics")
        if "prometheus.io/port" in ann:
            check(all(int(ann["prometheus.io/port"]) == p for _, p in pods),
                  f"Service {name}: prometheus.io/port is not --http-port")

# --- systemd ----------------------------------------------------------------------------------
units = blocks(text, "ini")
check(units, "no ```ini block (the systemd unit)")
for i, u in enumerate(units):
    where = f"ini block {i + 1}"
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # systemd keys are case-sensitive
    try:
        cp.read_string(u)
    except configparser.Error as e:
        check(False, f"{where}: {e}")
        continue
    if not check(cp.has_section("Service"), f"{where}: no [Service] section"):
        continue
    svc = cp["Service"]
    exec_start = shlex.split(svc.get("ExecStart", ""))
    check("run" in exec_start, f"{where}: ExecStart does not run `run`")
    check(svc.get("Type", "simple") in ("simple", "exec"), f"{where}: Type is not simple or exec")
    check(svc.get("Restart", "no") not in ("no", ""), f"{where}: Restart is not set")
    check(svc.get("KillSignal") == "SIGTERM", f"{where}: KillSignal is not SIGTERM")
    graceful = float(flag_value(exec_start, "--graceful-timeout") or DEFAULT_GRACEFUL)
    workers = int(flag_value(exec_start, "--workers") or 1)
    needed = graceful + (FLEET_EXTRA if workers > 1 else 0)
    stop = seconds(svc.get("TimeoutStopSec", "90"), f"{where}: TimeoutStopSec")
    check(stop > needed, f"{where}: TimeoutStopSec {stop:g} <= --graceful-timeout"
          f"{' + 5 (--workers)' if workers > 1 else ''} = {needed:g}")

# --- flags ------------------------------------------------------------------------------------
flags = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text)))
check(flags, "deploying.md mentions no --flag")
for f in flags:
    check(re.search(r'[",]' + re.escape(f) + r'"', cli),
          f"deploying.md mentions {f}, which is not an option in actors/src/app_cli.cpp")

if failures:
    print("deploying_test: FAILED", file=sys.stderr)
    for f in failures:
        print("  " + f, file=sys.stderr)
    sys.exit(1)
print(f"deploying_test: ok ({len(deployments)} Deployment, {len(services)} Service, "
      f"{len(units)} systemd unit, flags {' '.join(flags)})")
