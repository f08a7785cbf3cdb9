"""Time and memory of a callable, ratios against targets, and the printed report."""

import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class BenchError(RuntimeError):
    """The benchmark could not measure what it meant to (not a missed target)."""


def say(message: str) -> None:
    print(f"  . {message}", flush=True)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """(fn(), wall-clock seconds)."""
    began = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - began


def traced_peak(fn: Callable[[], T]) -> tuple[T, int]:
    """(fn(), peak bytes allocated by Python while it ran), by tracemalloc."""
    if tracemalloc.is_tracing():
        raise BenchError("tracemalloc is already tracing")
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def drain(chunks: Iterable[str | bytes]) -> tuple[int, int]:
    """Consume a stream chunk by chunk, keeping nothing: (size, newlines)."""
    size = lines = 0
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count("\n" if isinstance(chunk, str) else b"\n")
    return size, lines


def mib(n_bytes: float) -> float:
    return n_bytes / (1024 * 1024)


@dataclass(frozen=True)
class Measure:
    label: str
    value: float
    unit: str
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.label}: {_number(self.value)} {self.unit}"
        return f"{text}  ({self.note})" if self.note else text


@dataclass(frozen=True)
class Ratio:
    """measured / baseline, against a target: below it (`at_least=False`), at least it
    (`at_least=True`) or exactly it (`exactly=True`, for counts); no target means
    informational."""

    title: str
    baseline: Measure
    measured: Measure
    target: float | None = None
    at_least: bool = False
    exactly: bool = False

    @property
    def value(self) -> float:
        return self.measured.value / self.baseline.value if self.baseline.value else float("inf")

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.exactly:
            return self.value == self.target
        return self.value >= self.target if self.at_least else self.value < self.target

    @property
    def verdict(self) -> str:
        if self.target is None:
            return f"info: {self.value:.2f}x (no target)"
        bound = (f"exactly {self.target:g}x" if self.exactly else
                 f"at least {self.target:g}x" if self.at_least else f"under {self.target:g}x")
        return f"{'PASS' if self.met else 'MISS'}: {self.value:.2f}x, target {bound}"


Result = Ratio | Measure


def print_report(name: str, title: str, results: list[Result], seconds: float) -> None:
    print(f"\n== {name}: {title}  [{seconds:.1f} s]")
    for result in results:
        if isinstance(result, Measure):
            print(f"  {result}")
            continue
        print(f"  {result.title}")
        print(f"    baseline  {result.baseline}")
        print(f"    measured  {result.measured}")
        print(f"    -> {result.verdict}")


def summary_line(results: list[Result]) -> str:
    ratios = [r for r in results if isinstance(r, Ratio) and r.met is not None]
    missed = [r for r in ratios if not r.met]
    if not ratios:
        return "info only"
    if missed:
        return "MISS " + "; ".join(f"{r.title} {r.value:.2f}x" for r in missed)
    return f"PASS ({len(ratios)} target{'s' if len(ratios) > 1 else ''})"


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"
