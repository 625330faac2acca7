"""A FastStream Kafka service that brook's wire-compatibility tests run beside brook.

It answers on the topic `<prefix>-echo` (group `py`) with a JSON echo of what it
understood; FastStream publishes a handler's result to the request's `reply_to` topic,
so a brook request (a reply topic of its own) gets it back. `<prefix>-text` answers a
text body with a text reply.

    BROOK_KAFKA_BOOTSTRAP=127.0.0.1:9392 BROOK_INTEROP_PREFIX=x python faststream_kafka_app.py

Prints READY once every subscriber is consuming; SIGTERM stops it.
"""

import asyncio
import os
import signal

from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaMessage

bootstrap = os.environ.get("BROOK_KAFKA_BOOTSTRAP", "127.0.0.1:9392")
prefix = os.environ.get("BROOK_INTEROP_PREFIX", "brook-interop")

broker = KafkaBroker(bootstrap)
app = FastStream(broker)


@broker.subscriber(f"{prefix}-echo", group_id="py", auto_offset_reset="earliest")
async def on_echo(body: dict, msg: KafkaMessage) -> dict:
    return {
        "echo": body,
        "by": "faststream",
        "content_type": msg.content_type,
        "correlation_id": msg.correlation_id,
        "headers": {k: v for k, v in msg.headers.items() if k.startswith("x-")},
        "key": msg.raw_message.key.decode() if msg.raw_message.key else None,
    }


@broker.subscriber(f"{prefix}-text", group_id="py", auto_offset_reset="earliest")
async def on_text(body: str, msg: KafkaMessage) -> str:
    return f"faststream got {body!r} as {msg.content_type}"


@app.after_startup
async def ready() -> None:
    # aiokafka joins the groups in the background: give the assignment a moment.
    await asyncio.sleep(1.0)
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
