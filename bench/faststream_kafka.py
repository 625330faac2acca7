"""Python FastStream 0.7.8 doing what bench/kafka_raw.cpp and bench/kafka_bench.cpp do, for the
same run of scripts/bench.sh kafka: the same `tick` JSON {seq, sent_ns, source, kind}, a typed
(pydantic) handler in a consumer group, one JSON line per case with the keys of brook's benches
and impl "faststream".

  python faststream_kafka.py throughput|pingpong [--n N] [--bootstrap 127.0.0.1:9392]

throughput: at most 1000 published and not yet handled (brook's window);
pingpong: the handler publishes the next tick (the first 100 hops not timed).
Timing starts once a warm-up tick came back, so connecting and the group's join stay out.
"""
import argparse
import asyncio
import json
import time

from faststream.kafka import KafkaBroker
from pydantic import BaseModel


class Tick(BaseModel):
    seq: int
    sent_ns: int
    source: str
    kind: str


def tick(seq: int, kind: str) -> dict:
    return Tick(seq=seq, sent_ns=time.monotonic_ns(), source="bench", kind=kind).model_dump()


def make_broker(bootstrap: str) -> KafkaBroker:
    """The producer brook and the raw baseline use: idempotent, acks=all, linger.ms 1
    (aiokafka's own defaults are acks=1, no idempotence, linger 0)."""
    return KafkaBroker(bootstrap, logger=None, acks="all", enable_idempotence=True, linger_ms=1)


def pct(xs, p):
    xs = sorted(xs)
    return xs[int(p * (len(xs) - 1))] if xs else 0.0


def report(bench: str, n: int, secs: float, lat: list) -> None:
    print(json.dumps({"bench": bench, "broker": "kafka", "impl": "faststream", "msgs": n,
                      "seconds": secs, "msgs_per_s": n / secs, "p50_us": pct(lat, .5),
                      "p99_us": pct(lat, .99)}), flush=True)


async def warm_up(broker: KafkaBroker, topic: str, warmed: asyncio.Event) -> None:
    while not warmed.is_set():
        await broker.publish(tick(-1, "warmup"), topic)
        try:
            await asyncio.wait_for(warmed.wait(), timeout=0.5)
        except asyncio.TimeoutError:
            pass


async def throughput(bootstrap: str, n: int) -> None:
    topic = f"bench-fs-tp-{time.time_ns()}"
    broker = make_broker(bootstrap)
    lat, done, warmed = [], asyncio.Event(), asyncio.Event()
    handled = {"n": 0}

    @broker.subscriber(topic, group_id=f"fs-{topic}", auto_offset_reset="earliest")
    async def on_tick(t: Tick) -> None:
        if t.seq < 0:
            warmed.set()
            return
        lat.append((time.monotonic_ns() - t.sent_ns) / 1000)
        handled["n"] += 1
        if handled["n"] >= n:
            done.set()

    async with broker:
        await broker.start()
        await warm_up(broker, topic, warmed)
        t0 = time.perf_counter()
        for i in range(n):
            while i - handled["n"] >= 1000:  # the window brook's and the raw bench keep
                await asyncio.sleep(0)
            await broker.publish(tick(i, "throughput"), topic, no_confirm=True)
        await asyncio.wait_for(done.wait(), timeout=600)
        secs = time.perf_counter() - t0
    report("throughput", n, secs, lat)


async def pingpong(bootstrap: str, n: int) -> None:
    topic = f"bench-fs-pp-{time.time_ns()}"
    broker = make_broker(bootstrap)
    warm = 100
    lat, state, done, warmed = [], {"k": 0, "t0": 0.0}, asyncio.Event(), asyncio.Event()

    @broker.subscriber(topic, group_id=f"fs-{topic}", auto_offset_reset="earliest")
    async def handle(t: Tick) -> None:
        if t.seq < 0:
            warmed.set()
            return
        state["k"] += 1
        k = state["k"]
        if k > warm:
            lat.append((time.monotonic_ns() - t.sent_ns) / 1000)
        if k == warm:
            state["t0"] = time.perf_counter()
        if k < n + warm:
            await broker.publish(tick(k, "pingpong"), topic)
        else:
            done.set()

    async with broker:
        await broker.start()
        await warm_up(broker, topic, warmed)
        await broker.publish(tick(0, "pingpong"), topic)
        await asyncio.wait_for(done.wait(), timeout=600)
        secs = time.perf_counter() - state["t0"]
    report("pingpong", n, secs, lat)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["throughput", "pingpong"])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--bootstrap", default="127.0.0.1:9392")
    a = ap.parse_args()
    if a.mode == "pingpong":
        asyncio.run(pingpong(a.bootstrap, a.n))
    else:
        asyncio.run(throughput(a.bootstrap, a.n))


if __name__ == "__main__":
    main()
