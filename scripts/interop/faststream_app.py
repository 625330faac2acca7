"""A FastStream service that brook's wire-compatibility tests run beside brook.

It answers on a channel, a list and a stream (consumer group `py`) with a JSON echo of what it
understood, so a brook request can check that FastStream decoded brook's envelope (body, content
type, correlation id, user headers) and that brook decodes FastStream's reply.

    BROOK_REDIS_URL=redis://127.0.0.1:6390 BROOK_INTEROP_PREFIX=x python faststream_app.py

Prints READY once every subscriber is consuming; SIGTERM stops it.
"""

import asyncio
import os
import signal

from faststream import FastStream
from faststream.redis import RedisBroker, RedisMessage, StreamSub

url = os.environ.get("BROOK_REDIS_URL", "redis://127.0.0.1:6390")
prefix = os.environ.get("BROOK_INTEROP_PREFIX", "brook-interop")

broker = RedisBroker(url)
app = FastStream(broker)


def echo(body, msg: RedisMessage) -> dict:
    return {
        "echo": body,
        "by": "faststream",
        "content_type": msg.content_type,
        "correlation_id": msg.correlation_id,
        "headers": {k: v for k, v in msg.headers.items() if k.startswith("x-")},
    }


@broker.subscriber(channel=f"{prefix}.channel")
async def on_channel(body: dict, msg: RedisMessage) -> dict:
    return echo(body, msg)


@broker.subscriber(list=f"{prefix}.list")
async def on_list(body: dict, msg: RedisMessage) -> dict:
    return echo(body, msg)


@broker.subscriber(stream=StreamSub(f"{prefix}.stream", group="py", consumer="py-1"))
async def on_stream(body: dict, msg: RedisMessage) -> dict:
    return echo(body, msg)


@broker.subscriber(channel=f"{prefix}.text")
async def on_text(body: str, msg: RedisMessage) -> str:
    return f"faststream got {body!r} as {msg.content_type}"


@app.after_startup
async def ready() -> None:
    print("READY", flush=True)


async def main() -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await app.run()
    except asyncio.CancelledError:
        pass


if __name__ == "__main__":
    asyncio.run(main())
