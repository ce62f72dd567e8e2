"""`python -m bench <benchmark> [options]` (from the repository root): run one benchmark.

The benchmarks are tooling, not part of the product: no hub loads or routes anything of them. Each is a
Django command class in `bench/commands/`, run here with the hub's own settings (`imhub.settings`)
rather than through `manage.py`. `python -m bench` lists them; `python -m bench <name> --help` shows a
benchmark's options.
"""

from __future__ import annotations

import importlib
import os
import sys

COMMANDS = ("api", "assignment", "crawler", "freshness", "inbox", "ingest", "soak", "startup")


def main(argv: list[str]) -> int:
    """Run the benchmark named by ``argv[1]`` with the rest of ``argv`` as its options."""
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(f"usage: python -m bench {{{','.join(COMMANDS)}}} [options]", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
    import django

    django.setup()
    command = importlib.import_module(f"bench.commands.{argv[1]}").Command()
    command.run_from_argv(["python -m bench", *argv[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
