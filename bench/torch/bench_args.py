"""The command line bench/run.sh gives every *_bench.py: `--threads N [name…]`. Not a
benchmark itself (run.sh runs only *_bench.py files)."""
import argparse


def threads_if_selected(name):
    """The thread count when benchmark `name` is selected (no names selects all), else None."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    if args.names and name not in args.names:
        return None
    return args.threads
