"""Tracing over OTLP/HTTP, configured by OpenTelemetry's standard variables (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*...).

The MCP SDK already makes one server span per request, named and attributed as the semantic conventions for
MCP say (`tools/call generate_text_video`, `mcp.method.name`, `gen_ai.tool.name`, `jsonrpc.request.id`), and
continues the caller's trace from `params._meta.traceparent`; this server adds a child span for each request
to a host and one for each wait on a job. All go through OpenTelemetry's API, which records nothing until
`start_tracing` installs the SDK's provider. This module, and with it the SDK and its exporter, is imported
only when an endpoint is set.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def start_tracing() -> None:
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "seedance-mcp"}))  # OTEL_SERVICE_NAME wins
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # flushed when the process exits
    trace.set_tracer_provider(provider)
