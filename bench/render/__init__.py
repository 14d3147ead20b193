"""Render stored runs as one self-contained HTML page each: load -> sections -> templates.

publish    render_run, render_index, list_runs: the files written (what `bench report` calls)
index      reports/index.html: every run of the reports directory, newest first
compare    two runs side by side: shared slots, ratios with bootstrap intervals, what differs
load       RunData: one run directory read through bench.store (older schemas migrated)
page       the page skeleton: the sections in order, the Jinja2 environment, the templates
charts     matplotlib plumbing: style, inline SVG with per-chart ids, points and axes helpers
fmt        how numbers read: significant digits and units; also the templates' filters
analysis/  stats (medians, bootstrap ratios), fit (cost per task), groups (record selection)
sections/  one module per report section: its numbers, its charts, its template's name
templates/ page.html.j2, runs.html.j2, compare.html.j2, macros.html.j2, style.css, sections/<name>.html.j2
"""
