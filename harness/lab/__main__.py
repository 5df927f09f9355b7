"""`python3 -m harness.lab ...` (see harness/lab/cli.py)."""
import sys

from .cli import parse

if __name__ == "__main__":
    args = parse()
    from .main import run
    sys.exit(run(args))
