"""FastStream NATS as a client, for brook's wire-compatibility tests.

    python faststream_nats_client.py request <core|js:STREAM> <subject> <json body>
        sends a FastStream request (core: the native inbox; js: a JetStream publish with a
        reply_to header) and prints the reply as JSON:
        {"body": ..., "correlation_id": ..., "content_type": ..., "headers": {...}}
    python faststream_nats_client.py publish <core|js:STREAM> <subject> <json body> [key=value...]
        publishes with correlation_id "py-cid" and the given headers

Environment: BROOK_NATS_URL (default nats://127.0.0.1:4232).
"""

import asyncio
import json
import os
import sys

from faststream.nats import NatsBroker

url = os.environ.get("BROOK_NATS_URL", "nats://127.0.0.1:4232")


def target(kind: str) -> dict:
    if kind == "core":
        return {}
    if kind.startswith("js:"):
        return {"stream": kind[3:]}
    raise SystemExit(f"kind must be core or js:STREAM, not {kind!r}")


async def request(kind: str, subject: str, body: str) -> None:
    async with NatsBroker(url) as broker:
        reply = await broker.request(
            json.loads(body),
            subject,
            correlation_id="py-request",
            headers={"x-from": "python"},
            timeout=10,
            **target(kind),
        )
        print(
            json.dumps(
                {
                    "body": await reply.decode(),
                    "correlation_id": reply.correlation_id,
                    "content_type": reply.content_type,
                    "headers": {k: v for k, v in reply.headers.items()},
                }
            ),
            flush=True,
        )


async def publish(kind: str, subject: str, body: str, headers: list[str]) -> None:
    async with NatsBroker(url) as broker:
        await broker.publish(
            json.loads(body),
            subject,
            correlation_id="py-cid",
            headers=dict(h.split("=", 1) for h in headers),
            **target(kind),
        )


def main() -> None:
    args = sys.argv[1:]
    if len(args) == 4 and args[0] == "request":
        asyncio.run(request(*args[1:]))
    elif len(args) >= 4 and args[0] == "publish":
        asyncio.run(publish(args[1], args[2], args[3], args[4:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
