"""Python FastStream 0.7.8 doing what bench/nats_raw.cpp and bench/nats_bench.cpp do, for the same
run of scripts/bench.sh nats: the same `tick` JSON {seq, sent_ns, source, kind}, a typed (pydantic)
handler, one JSON line per case with the keys of brook's benches and impl "faststream".

  python faststream_nats.py throughput|pingpong|js_throughput [--n N] [--url nats://127.0.0.1:4232]

throughput: a core subject, at most 1000 published and not yet handled (brook's window);
pingpong: the handler publishes the next tick (the first 200 hops not timed);
js_throughput: JetStream publishes (1000 in flight) and a durable pull consumer (batches of 100).
Timing starts once a warm-up tick came back, so connecting and consumer creation stay out.
"""
import argparse
import asyncio
import json
import time

from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from pydantic import BaseModel


class Tick(BaseModel):
    seq: int
    sent_ns: int
    source: str
    kind: str


def tick(seq: int, kind: str) -> dict:
    return Tick(seq=seq, sent_ns=time.monotonic_ns(), source="bench", kind=kind).model_dump()


def pct(xs, p):
    xs = sorted(xs)
    return xs[int(p * (len(xs) - 1))] if xs else 0.0


def report(bench: str, n: int, secs: float, lat: list) -> None:
    print(json.dumps({"bench": bench, "broker": "nats", "impl": "faststream", "msgs": n,
                      "seconds": secs, "msgs_per_s": n / secs, "p50_us": pct(lat, .5),
                      "p99_us": pct(lat, .99)}), flush=True)


async def throughput(url: str, n: int, jetstream: bool) -> None:
    stamp = time.time_ns()
    subject = f"bench.fs.{'js' if jetstream else 'core'}.{stamp}"
    broker = NatsBroker(url, logger=None)
    lat, done, warmed = [], asyncio.Event(), asyncio.Event()
    handled = {"n": 0}

    async def on_tick(t: Tick) -> None:
        if t.kind == "warmup":
            warmed.set()
            return
        lat.append((time.monotonic_ns() - t.sent_ns) / 1000)
        handled["n"] += 1
        if handled["n"] >= n:
            done.set()

    target = {}
    if jetstream:
        stream = f"bench-fs-{stamp}"
        broker.subscriber(subject, stream=JStream(stream, subjects=[subject]), durable="fs",
                          pull_sub=PullSub(batch_size=100, timeout=5.0),
                          config=ConsumerConfig(max_ack_pending=20000))(on_tick)
        target = {"stream": stream}
    else:
        broker.subscriber(subject)(on_tick)
    async with broker:
        await broker.start()
        while not warmed.is_set():
            await broker.publish(tick(-1, "warmup"), subject, **target)
            try:
                await asyncio.wait_for(warmed.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
        t0 = time.perf_counter()
        for i in range(n):
            while i - handled["n"] >= 1000:  # the window brook's and the raw bench keep
                await asyncio.sleep(0)
            await broker.publish(tick(i, "throughput"), subject, **target)
        await asyncio.wait_for(done.wait(), timeout=600)
        secs = time.perf_counter() - t0
    report("js_throughput" if jetstream else "throughput", n, secs, lat)


async def pingpong(url: str, n: int) -> None:
    subject = f"bench.fs.pp.{time.time_ns()}"
    broker = NatsBroker(url, logger=None)
    warm = 200
    lat, state, done = [], {"k": 0, "t0": 0.0}, asyncio.Event()

    @broker.subscriber(subject)
    async def handle(t: Tick) -> None:
        state["k"] += 1
        k = state["k"]
        if k > warm:
            lat.append((time.monotonic_ns() - t.sent_ns) / 1000)
        if k == warm:
            state["t0"] = time.perf_counter()
        if k < n + warm:
            await broker.publish(tick(k, "pingpong"), subject)
        else:
            done.set()

    async with broker:
        await broker.start()
        await asyncio.sleep(0.2)
        await broker.publish(tick(0, "pingpong"), subject)
        await asyncio.wait_for(done.wait(), timeout=600)
        secs = time.perf_counter() - state["t0"]
    report("pingpong", n, secs, lat)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["throughput", "pingpong", "js_throughput"])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--url", default="nats://127.0.0.1:4232")
    a = ap.parse_args()
    if a.mode == "pingpong":
        asyncio.run(pingpong(a.url, a.n))
    else:
        asyncio.run(throughput(a.url, a.n, a.mode == "js_throughput"))


if __name__ == "__main__":
    main()
