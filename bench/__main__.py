"""python -m bench [NAME ...] | --list

Runs every benchmark (or the named ones) against a throwaway `<dbname>_bench` database.
Exit code 0 unless a benchmark crashed: a missed target is reported, not an error.
"""

import argparse
import ast
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from bench import harness
from portal.devservices import redact

BENCH_DIR = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__init__", "__main__"}


def discover() -> dict[str, str]:
    """Benchmark name -> title (its docstring's first line), read without importing:
    benchmarks import models, which need Django set up first."""
    found = {}
    for path in sorted(BENCH_DIR.glob("*.py")):
        if path.stem in NOT_BENCHMARKS:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        has_run = any(isinstance(node, ast.FunctionDef) and node.name == "run"
                      for node in tree.body)
        if has_run:
            found[path.stem] = (ast.get_docstring(tree) or path.stem).splitlines()[0]
    return found


def main(argv: list[str]) -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[2])
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (all if none)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, title in available.items():
            print(f"{name:<16} {title}")
        return 0
    unknown = [name for name in args.names if name not in available]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; "
                     f"known: {', '.join(available)}")
    selected = args.names or list(available)

    outcomes: dict[str, str] = {}
    with harness.django_on_throwaway_database() as url:
        print(f"bench: database {redact(url)}, {os.cpu_count()} cores, "
              f"HTTP load by {harness.load_tool()}", flush=True)
        for name in selected:
            print(f"\n-- {name} ...", flush=True)
            began = time.monotonic()
            try:
                results = importlib.import_module(f"bench.{name}").run()
            except Exception:
                traceback.print_exc()
                outcomes[name] = "CRASHED"
                continue
            harness.print_report(name, available[name], results, time.monotonic() - began)
            outcomes[name] = harness.summary_line(results)

    print("\nsummary")
    for name, outcome in outcomes.items():
        print(f"  {name:<16} {outcome}")
    return 1 if "CRASHED" in outcomes.values() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
