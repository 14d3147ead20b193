"""The pertask chain as a recursive Metaflow step: `link` transitions to itself N times.

A Metaflow graph is fixed by the source, so a chain of N *steps* would need N methods; the
documented way to repeat a step a number of times known only at run time is a conditional
transition back to the step itself (recursion, Metaflow 2.18+). Each iteration is its own
task, in its own process, with its own artifacts.

    python impl_metaflow/chain_flow.py run --n N [--handoff artifacts|files]
"""
from __future__ import annotations

from pathlib import Path

from metaflow import FlowSpec, Parameter, step

from core import synthetic


class SyntheticChainFlow(FlowSpec):
    workdir = Parameter("workdir", default=".", help="working directory (relative: to the cwd)")
    n = Parameter("n", type=int, required=True, help="number of chained tasks")
    handoff = Parameter("handoff", default="artifacts",
                        help="artifacts: task i gets task i-1's value as an artifact; "
                             "files: it reads task i-1's file")

    def at(self, rel: str) -> Path:
        return Path(self.workdir).resolve() / rel

    @step
    def start(self):
        self.i = 0
        self.value = None
        self.next(self.link)

    @step
    def link(self):
        self.i += 1
        out = self.at(synthetic.task_path("chain", self.i))
        if self.handoff == "files":
            upstream = self.at(synthetic.task_path("chain", self.i - 1)) if self.i > 1 else None
            synthetic.link(self.i, upstream, out)
        else:
            self.value = synthetic.link_value(self.i, self.value, out)
        self.again = self.i < self.n
        self.next({True: self.link, False: self.end}, condition="again")

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SyntheticChainFlow()
