"""The Python half of brook's tracing interop test (tests/integration/redis/tracing_test.sh).

A FastStream producer and consumer with FastStream's OpenTelemetry middleware, exporting over
OTLP/HTTP to the collector: it publishes N messages (with a `baggage` header) to the list
`<prefix>.there`, which a brook service answers on `<prefix>.back`; it consumes those answers
and prints one JSON line: for each answer, the trace id of FastStream's `process` span, the
`traceparent` and `baggage` the answer carried.

    BROOK_REDIS_URL=redis://127.0.0.1:6390 OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:4328/v1/traces \\
      BROOK_INTEROP_PREFIX=x python faststream_otel.py 5
"""

import asyncio
import json
import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from faststream.redis import RedisBroker, RedisMessage
from faststream.redis.opentelemetry import RedisTelemetryMiddleware

url = os.environ.get("BROOK_REDIS_URL", "redis://127.0.0.1:6390")
prefix = os.environ.get("BROOK_INTEROP_PREFIX", "brook-otel")
total = int(sys.argv[1]) if len(sys.argv) > 1 else 5

provider = TracerProvider(resource=Resource.create({"service.name": "faststream-peer"}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
broker = RedisBroker(url, middlewares=[RedisTelemetryMiddleware(tracer_provider=provider)])
answers = []
done = asyncio.Event()


@broker.subscriber(list=f"{prefix}.back")
async def on_back(body: str, msg: RedisMessage) -> None:
    span = trace.get_current_span().get_span_context()
    answers.append(
        {
            "body": body,
            "trace_id": format(span.trace_id, "032x"),
            "traceparent": msg.headers.get("traceparent"),
            "baggage": msg.headers.get("baggage"),
        }
    )
    if len(answers) >= total:
        done.set()


async def main() -> None:
    async with broker:
        await broker.start()
        for i in range(total):
            await broker.publish(f"m{i}", list=f"{prefix}.there", headers={"baggage": f"peer=py,n={i}"})
        try:
            await asyncio.wait_for(done.wait(), timeout=30)
        except asyncio.TimeoutError:
            pass
    provider.force_flush()
    print(json.dumps({"answers": answers}))


asyncio.run(main())
