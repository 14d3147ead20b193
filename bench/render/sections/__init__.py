"""One module per report section, each a SECTION (base.Section): build(run, ix, **needed)
returns its numbers as plain data, charts(data) its SVG charts, templates/sections/ its HTML.

base       the Section declaration every module fills in
summary    what was compared, the machine, warnings, short answers (needs io, failure, cost, code)
io         file IO cost: wall time split, the IO sweep against scale, the in-process floor
failure    resume after an exception, and what a hard crash leaves behind
cost       first run, cold run, no-op rerun, memory, install footprint, modes
code       code size and the stored sources, highlighted
shape      the DAG each tool reported and one representative timeline per tool
pertask    cost per task: straight-line fits of wall time on N, failures at each N
parallel   the model selection's speed-up with more workers
rerun      what each tool reran after each kind of change
guide      per situation, which tool the numbers favour (needs the measuring sections)
method     methodology, thresholds, raw files, the full run.json (needs io)
"""
