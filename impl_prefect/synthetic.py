"""The pertask workload as a prefect flow: `python -m impl_prefect.synthetic --workdir DIR
--mode memory|files --shape chain|fanout --n N`.

As in impl_prefect/flow.py: tasks cache on their own source and inputs with persisted results,
and all prefect state stays in the workdir. `memory` hands each task's value to the next
(prefect persists it); `files` hands over the path of the file the task wrote.

- A chain is plain sequential calls: each task needs the one before, so `.submit` would only
  add a future per task and a thread hop; calling a task is how prefect users write a
  dependent sequence.
- A fan-out is `.map` over the task numbers, on the flow's default ThreadPoolTaskRunner: the
  form prefect documents for independent tasks, with a final gather task on the futures.
"""
from __future__ import annotations

import functools
import sys

from core import cli, synthetic
from impl_prefect.launch import (HANDOFFS, console_without_tracebacks, exit_status,
                                 keep_prefect_state_in)


def build_flows():
    """Imported inside a function: prefect must not be imported before its state is moved into
    the workdir (a bare `import prefect` creates its home directory)."""
    from prefect import flow, task
    from prefect.cache_policies import INPUTS, TASK_SOURCE

    step = functools.partial(task, cache_policy=TASK_SOURCE + INPUTS, persist_result=True)
    link = step(name="link")(synthetic.link)
    link_value = step(name="link")(synthetic.link_value)
    leaf = step(name="leaf")(synthetic.leaf)
    gather = step(name="gather")(synthetic.gather)
    gather_values = step(name="gather")(synthetic.gather_values)

    def paths(workdir: str, shape: str, n: int) -> list[str]:
        return [f"{workdir}/{synthetic.task_path(shape, i)}" for i in range(1, n + 1)]

    @flow(name="synthetic-chain")
    def chain(workdir: str, n: int, mode: str) -> int:
        upstream = None
        for i, out in enumerate(paths(workdir, "chain", n), start=1):
            if mode == "memory":
                upstream = link_value(i, upstream, out)
            else:
                link(i, upstream, out)
                upstream = out
        return n

    @flow(name="synthetic-fanout")
    def fanout(workdir: str, n: int, mode: str) -> int:
        out = paths(workdir, "fanout", n)
        leaves = leaf.map(range(1, n + 1), out)
        total = f"{workdir}/{synthetic.GATHER_PATH}"
        if mode == "memory":
            return gather_values(leaves, total)
        return gather(out, total, wait_for=leaves)

    return {"chain": chain, "fanout": fanout}


@cli.guarded
def main(argv=None) -> int:
    args = synthetic.parse("python -m impl_prefect.synthetic", "N trivial prefect tasks", argv,
                           modes=HANDOFFS)
    keep_prefect_state_in(args.workdir)
    flows = build_flows()
    console_without_tracebacks()
    state = flows[args.shape](str(args.workdir), args.n, args.mode, return_state=True)
    return exit_status(state)


if __name__ == "__main__":
    sys.exit(main())
