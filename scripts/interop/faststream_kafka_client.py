"""FastStream Kafka as a client, for brook's wire-compatibility tests.

FastStream has no request on a real Kafka broker, so a request is what a FastStream
service does by hand: publish with a `reply_to` header naming a topic it reads, and
wait there for the message with the same correlation id.

    python faststream_kafka_client.py request <topic> <json body>
        prints the reply as JSON: {"body": ..., "correlation_id": ..., "content_type": ...}
    python faststream_kafka_client.py publish <topic> <json body> [key=value...]
        publishes with correlation_id "py-cid", key "py-key" and the given headers

Environment: BROOK_KAFKA_BOOTSTRAP (default 127.0.0.1:9392).
"""

import asyncio
import json
import os
import sys
import uuid

from faststream.kafka import KafkaBroker, KafkaMessage

bootstrap = os.environ.get("BROOK_KAFKA_BOOTSTRAP", "127.0.0.1:9392")


async def request(topic: str, body: str) -> None:
    reply_topic = f"py-replies-{uuid.uuid4().hex}"
    broker = KafkaBroker(bootstrap, logger=None)  # stdout carries the reply only
    got: asyncio.Future = asyncio.get_running_loop().create_future()

    @broker.subscriber(reply_topic, auto_offset_reset="earliest")
    async def on_reply(body: dict, msg: KafkaMessage) -> None:
        if msg.correlation_id == "py-request" and not got.done():
            got.set_result((body, msg))

    async with broker:
        await broker.start()  # the context connects; start() runs the subscriber
        await asyncio.sleep(1.0)  # the reply topic's consumer is assigned
        await broker.publish(
            json.loads(body),
            topic,
            correlation_id="py-request",
            reply_to=reply_topic,
            headers={"x-from": "python"},
        )
        reply_body, msg = await asyncio.wait_for(got, timeout=20)
        print(
            json.dumps(
                {
                    "body": reply_body,
                    "correlation_id": msg.correlation_id,
                    "content_type": msg.content_type,
                }
            ),
            flush=True,
        )


async def publish(topic: str, body: str, headers: list[str]) -> None:
    async with KafkaBroker(bootstrap, logger=None) as broker:
        await broker.publish(
            json.loads(body),
            topic,
            key=b"py-key",
            correlation_id="py-cid",
            headers=dict(h.split("=", 1) for h in headers),
        )


def main() -> None:
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "request":
        asyncio.run(request(args[1], args[2]))
    elif len(args) >= 3 and args[0] == "publish":
        asyncio.run(publish(args[1], args[2], args[3:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
