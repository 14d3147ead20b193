"""The pertask workload as gokart tasks: `python -m impl_gokart.synthetic --workdir DIR --shape S --n N`.

Wired as the Titanic pipeline is, by TaskInstanceParameters: a chain is built in a loop, each
Link taking the one before in its `upstream` list; a fan-out is N Leaf tasks handed to one Gather
as a ListTaskInstanceParameter. Each task's target is its task file at a fixed path in the
workdir (use_unique_id=False), so every tool's result sits where the harness checks it; the
task body writes it through core.io, and gokart adds its own per-task logs under `log/`.
"""
from __future__ import annotations

import sys

import gokart
import luigi

from core import cli, synthetic
from impl_gokart.__main__ import build


class SyntheticTask(gokart.TaskOnKart):
    def task_file(self, rel: str):
        return self.make_target(rel, use_unique_id=False)


class Link(SyntheticTask):
    i = luigi.IntParameter()
    # A list of none or one: a TaskInstanceParameter cannot be empty, and link 1 has no upstream.
    upstream = gokart.ListTaskInstanceParameter(default=[])

    def requires(self):
        return self.upstream

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
    task = Link(i=1, **kart)
    for i in range(2, n + 1):
        task = Link(i=i, upstream=[task], **kart)
    return task


@cli.guarded
def main(argv=None) -> int:
    args = synthetic.parse("python -m impl_gokart.synthetic", "N trivial gokart tasks", argv)
    return build(workload(args.workdir, args.shape, args.n))


if __name__ == "__main__":
    sys.exit(main())
