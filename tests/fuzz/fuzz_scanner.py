"""Mutation fuzzing of the native span scanner under AddressSanitizer and UBSan.

Not part of the test suite (it needs a sanitizer build and runs for minutes): ``make
fuzz-scanner`` compiles ``sloctl/sources/_otlpscan.c`` with ``-fsanitize=address,undefined``
into a temporary folder and runs this script with the sanitizer runtimes preloaded. Inputs are
the Jaeger/OTLP fixtures and a generated answer, mutated (bytes replaced, inserted, deleted,
truncated) from a fixed seed; every input must either parse or raise ``ValueError``. A sanitizer
report aborts the run with the offending stack.

Usage: ``python tests/fuzz/fuzz_scanner.py SCANNER_SO [SECONDS]``.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
ALPHABET = b'{}[]",:\\u0123456789abcdefABCDEF-+.eE tnrfl\n\t\x00\x1f\xff'


def _load(path: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_otlpscan", path)
    assert spec is not None and spec.loader is not None, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seeds() -> list[bytes]:
    sys.path.insert(0, str(ROOT / "bench"))
    from spans import generate_body  # bench/ is a folder of scripts, not a package

    files = sorted((FIXTURES / "jaeger" / "api_v3").glob("*.json"))
    files += sorted((FIXTURES / "otlp").glob("*.json"))
    return [f.read_bytes() for f in files] + [generate_body(30)]


def _mutate(rng: random.Random, body: bytes) -> bytes:
    b = bytearray(body)
    for _ in range(rng.randint(1, 8)):
        roll, at = rng.random(), rng.randrange(len(b) + 1)
        if roll < 0.3 and b:
            b[min(at, len(b) - 1)] = rng.choice(ALPHABET)
        elif roll < 0.6:
            b[at:at] = bytes([rng.choice(ALPHABET)]) * rng.randint(1, 3)
        elif roll < 0.8:
            del b[at : at + rng.randint(1, 10)]
        else:
            del b[at:]
    return bytes(b)


def main() -> int:
    scanner = _load(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    rng = random.Random(1)
    seeds = _seeds()
    tried = accepted = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = _mutate(rng, rng.choice(seeds))
        for wrapped in (True, False):
            tried += 1
            try:
                scanner.scan(body, wrapped)
                accepted += 1
            except ValueError:
                pass
    print(f"{tried:,} inputs in {seconds:.0f} s, {accepted:,} parsed, no sanitizer report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
