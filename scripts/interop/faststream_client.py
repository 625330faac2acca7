"""FastStream as a client, for brook's wire-compatibility tests.

    python faststream_client.py encode
        prints the hex of FastStream's own BinaryMessageFormatV1 encoding of the worked example
        in docs wire-compat.md (body {"a":1}, correlation_id abc, application/json)
    python faststream_client.py request <channel|list|stream> <address> <json body>
        sends a FastStream request (reply on a fresh channel) and prints the reply as JSON:
        {"body": ..., "correlation_id": ..., "content_type": ..., "headers": {...}}
    python faststream_client.py publish <channel|list|stream> <address> <json body> [key=value...]
        publishes with correlation_id "py-cid" and the given headers

Environment: BROOK_REDIS_URL (default redis://127.0.0.1:6390).
"""

import asyncio
import inspect
import json
import os
import sys

from faststream.redis import RedisBroker
from faststream.redis.parser import BinaryMessageFormatV1

url = os.environ.get("BROOK_REDIS_URL", "redis://127.0.0.1:6390")


def destination(kind: str, address: str) -> dict:
    if kind not in ("channel", "list", "stream"):
        raise SystemExit(f"kind must be channel, list or stream, not {kind!r}")
    return {kind: address}


async def encode() -> None:
    wire = BinaryMessageFormatV1.encode(
        message={"a": 1}, reply_to=None, headers=None, correlation_id="abc"
    )
    if inspect.isawaitable(wire):  # async since 0.7
        wire = await wire
    print(wire.hex())


async def request(kind: str, address: str, body: str) -> None:
    async with RedisBroker(url) as broker:
        reply = await broker.request(
            json.loads(body),
            **destination(kind, address),
            correlation_id="py-request",
            headers={"x-from": "python"},
            timeout=10,
        )
        print(
            json.dumps(
                {
                    "body": await reply.decode(),
                    "correlation_id": reply.correlation_id,
                    "content_type": reply.content_type,
                    "headers": reply.headers,
                }
            ),
            flush=True,
        )


async def publish(kind: str, address: str, body: str, headers: list[str]) -> None:
    async with RedisBroker(url) as broker:
        await broker.publish(
            json.loads(body),
            **destination(kind, address),
            correlation_id="py-cid",
            headers=dict(h.split("=", 1) for h in headers),
        )


def main() -> None:
    args = sys.argv[1:]
    if args == ["encode"]:
        asyncio.run(encode())
    elif len(args) == 4 and args[0] == "request":
        asyncio.run(request(*args[1:]))
    elif len(args) >= 4 and args[0] == "publish":
        asyncio.run(publish(args[1], args[2], args[3], args[4:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
