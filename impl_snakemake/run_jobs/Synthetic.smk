"""The pertask workload with run: blocks (modes run_jobs and threads): the same rules as
../Synthetic.smk, each job's one line of Python inline.

`python -m impl_snakemake.synthetic --workdir DIR --shape S --n N` runs it with
`--directory DIR --config shape=S count=N`. Both shapes are wildcard rules, as a snakemake user
writes N similar jobs: the chain's input function names job i-1; the fan-out's gather rule
expands every leaf. Each job runs the shared task body from core.synthetic.
"""

from core import synthetic

SHAPE = config["shape"]
COUNT = int(config["count"])
CHAIN = synthetic.task_path("chain", "{i}")
LEAF = synthetic.task_path("fanout", "{i}")


wildcard_constraints:
    i=r"[1-9][0-9]*",


rule all:
    input:
        synthetic.result_path(SHAPE, COUNT),


def previous_link(wildcards):
    i = int(wildcards.i)
    return [synthetic.task_path("chain", i - 1)] if i > 1 else []


rule link:
    input:
        previous_link,
    output:
        CHAIN,
    run:
        synthetic.link(int(wildcards.i), input[0] if input else None, output[0])


rule leaf:
    output:
        LEAF,
    run:
        synthetic.leaf(int(wildcards.i), output[0])


rule gather:
    input:
        expand(LEAF, i=range(1, COUNT + 1)),
    output:
        synthetic.GATHER_PATH,
    run:
        synthetic.gather(input, output[0])
