"""The pertask workload as gokart tasks: `python -m impl_gokart.synthetic --workdir DIR --shape S --n N`.

A chain is one Link task with an IntParameter whose requires() names link i-1. Wiring it as
the Titanic pipeline is, each Link taking the one before as a TaskInstanceParameter, nests the
whole chain in every task's parameters: gokart's repr of the task recursed past Python's limit
at about 170 links here, where requires() runs 500. A fan-out is N Leaf tasks handed to one
Gather as a ListTaskInstanceParameter, as gokart users inject dependencies. Each task's target is its task file at a fixed path in the
workdir (use_unique_id=False), so every tool's result sits where the harness checks it; the
task body writes it through core.io, and gokart adds its own per-task logs under `log/`.
"""
from __future__ import annotations

import sys

import gokart
import luigi

from core import cli, synthetic
from impl_gokart.launch import build


class SyntheticTask(gokart.TaskOnKart):
    def task_file(self, rel: str):
        return self.make_target(rel, use_unique_id=False)


class Link(SyntheticTask):
    i = luigi.IntParameter()

    def requires(self):
        if self.i == 1:
            return []
        return [Link(i=self.i - 1, workspace_directory=self.workspace_directory)]

    def output(self):
        return self.task_file(synthetic.task_path("chain", self.i))

    def run(self):
        before = [t.path() for t in self.input()]
        synthetic.link(self.i, before[0] if before else None, self.output().path())


class Leaf(SyntheticTask):
    i = luigi.IntParameter()

    def output(self):
        return self.task_file(synthetic.task_path("fanout", self.i))

    def run(self):
        synthetic.leaf(self.i, self.output().path())


class Gather(SyntheticTask):
    leaves = gokart.ListTaskInstanceParameter()

    def requires(self):
        return self.leaves

    def output(self):
        return self.task_file(synthetic.GATHER_PATH)

    def run(self):
        synthetic.gather([t.path() for t in self.input()], self.output().path())


def workload(workdir, shape: str, n: int) -> SyntheticTask:
    kart = {"workspace_directory": str(workdir)}
    if shape == "fanout":
        return Gather(leaves=[Leaf(i=i, **kart) for i in range(1, n + 1)], **kart)
    return Link(i=n, **kart)


@cli.guarded
def main(argv=None) -> int:
    args = synthetic.parse("python -m impl_gokart.synthetic", "N trivial gokart tasks", argv,
                           extra=lambda p: p.add_argument("--scheduler-url", default=None))
    return build(workload(args.workdir, args.shape, args.n), args.scheduler_url)


if __name__ == "__main__":
    sys.exit(main())
