"""A FastStream NATS service that brook's wire-compatibility tests run beside brook.

It answers on a core subject and on a JetStream subject (stream `<prefix>-s`, durable
`py`) with a JSON echo of what it understood, so a brook request can check that FastStream
decoded brook's message (body, content type, correlation id, user headers) and that brook
decodes FastStream's reply.

    BROOK_NATS_URL=nats://127.0.0.1:4232 BROOK_INTEROP_PREFIX=x python faststream_nats_app.py

Prints READY once every subscriber is consuming; SIGTERM stops it.
"""

import asyncio
import os
import signal

from faststream import FastStream
from faststream.nats import JStream, NatsBroker, NatsMessage

url = os.environ.get("BROOK_NATS_URL", "nats://127.0.0.1:4232")
prefix = os.environ.get("BROOK_INTEROP_PREFIX", "brook-interop")

broker = NatsBroker(url)
app = FastStream(broker)


def echo(body, msg: NatsMessage) -> dict:
    return {
        "echo": body,
        "by": "faststream",
        "content_type": msg.content_type,
        "correlation_id": msg.correlation_id,
        "headers": {k: v for k, v in msg.headers.items() if k.startswith("x-")},
    }


@broker.subscriber(f"{prefix}.core")
async def on_core(body: dict, msg: NatsMessage) -> dict:
    return echo(body, msg)


@broker.subscriber(f"{prefix}.js", stream=JStream(f"{prefix}-s"), durable="py")
async def on_js(body: dict, msg: NatsMessage) -> dict:
    return echo(body, msg)


@broker.subscriber(f"{prefix}.text")
async def on_text(body: str, msg: NatsMessage) -> str:
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
