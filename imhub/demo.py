"""The main job: run imhub on one machine with embedded defaults (`./run.sh demo`).

For now it migrates, creates the demo users and serves the hub under daphne on a printed URL.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./run.sh demo", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    url = f"http://{args.host}:{args.port}"
    print(
        f"imhub hub: {url}/  admin: {url}/admin/  health: {url}/healthz  api docs: {url}/api/docs/",
        flush=True,
    )
    try:
        return subprocess.call(
            [python, "-m", "daphne", "-b", args.host, "-p", str(args.port), "imhub.asgi:application"],
            cwd=ROOT,
        )
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
