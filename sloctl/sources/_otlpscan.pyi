"""Native OTLP/JSON span scanner (C): see _otlpscan.c and sloctl.sources.jaeger_parse."""

def scan(
    body: bytes, wrapped: bool, /
) -> tuple[
    list[str], list[str], bytes, bytes, bytes, bytes, bytes, bytes, bytes, bytes, int
]: ...
