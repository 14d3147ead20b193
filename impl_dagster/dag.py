"""Print the asset graph as Dagster resolves it from the Definitions: `python -m impl_dagster.dag
[--mode pickles|in_process|files]`. One line per asset, upstream first: its key, the assets it
depends on and its description (the asset's docstring). Nothing is materialized.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from impl_dagster.adapter import DEFS, MODES


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m impl_dagster.dag",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=MODES, default=MODES[0])
    args = ap.parse_args(argv)
    defs = importlib.import_module(DEFS[args.mode]).defs
    graph = defs.resolve_asset_graph()
    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys)) or "-"
        print(f"{key.to_user_string()} <- {parents}: {node.description or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
