"""The report as one self-contained HTML page: string templates, every stored text escaped.

No external resource of any kind: CSS, SVG charts and highlighted sources are inline, so the
file reads the same offline, from an archive, or printed.
"""
from __future__ import annotations

import collections
import html as _html

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, TextLexer, find_lexer_class_for_filename
from pygments.util import ClassNotFound

from bench import stats
from bench.render import fmt
from bench.render import parallel as parallel_view
from bench.render import pertask as pertask_view
from bench.render import rerun as rerun_view

SECTIONS = (("summary", "Summary"), ("io", "File IO cost"), ("failure", "When a job dies"),
            ("cost", "Cost on top"), ("code", "Code size"), ("shape", "Pipeline shape"),
            ("pertask", "Cost per task"), ("parallel", "Parallel"), ("rerun", "Reruns after a change"),
            ("guide", "Decision guide"), ("method", "Methodology"))
MESSAGE_PREVIEW = 90


def e(value) -> str:
    return _html.escape("" if value is None else str(value), quote=True)


def table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    """Cells are HTML already (escape with e() first); headers are plain text."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def spread_cell(summary: dict | None, show_excluded: bool = True) -> str:
    """Median with IQR and n; what was left out of the median counted beside it."""
    excluded = (summary or {}).get("excluded") or []
    if not summary or not summary.get("n"):
        text = ('<span class="na">no usable samples</span>' if excluded
                else '<span class="na">not measured</span>')
    elif summary["n"] < 3:
        text = (f'{e(fmt.seconds(summary["median"]))}<span class="sub">'
                + ("one sample" if summary["n"] == 1 else
                   f'{e(fmt.seconds(summary["min"]))} and {e(fmt.seconds(summary["max"]))}')
                + "</span>")
    else:
        text = (f'{e(fmt.seconds(summary["median"]))}<span class="sub">IQR '
                f'{e(fmt.seconds(summary["iqr"]))} · n={summary["n"]}</span>')
    if excluded and show_excluded:
        text += f'<span class="sub excl">{e(excluded_text(excluded))}</span>'
    return text


def excluded_text(excluded: list[dict]) -> str:
    """'+1 warm-up, +1 timeout': why samples stayed out of the median."""
    reasons = collections.Counter("warm-up" if x["warmup"] and x["status"] == "ok"
                                  else x["status"].replace("_", " ") for x in excluded)
    return ", ".join(f"+{n} {why}" for why, n in sorted(reasons.items()))


def ratio_cell(r: stats.Ratio | None) -> str:
    if r is None:
        return '<span class="na">n/a</span>'
    if r.has_ci:
        return (f'×{e(fmt.number(r.value))}<span class="sub">[{e(fmt.number(r.low))}, '
                f'{e(fmt.number(r.high))}] {int(stats.CI_LEVEL * 100)} % CI</span>')
    return (f'×{e(fmt.number(r.value))}<span class="sub">n={r.n_a} vs {r.n_b}: '
            f'no interval</span>')


def ratio_short(r: stats.Ratio | None) -> str:
    if r is None:
        return "n/a"
    if r.has_ci:
        return f"×{fmt.number(r.value)} [{fmt.number(r.low)}, {fmt.number(r.high)}]"
    return f"×{fmt.number(r.value)} (n={r.n_a} vs {r.n_b})"


def figure(svg: str | None, chart_id: str, caption: str) -> str:
    if not svg:
        return '<p class="na">No data for this chart in this run.</p>'
    return (f'<figure class="chart" id="{e(chart_id)}">{svg}'
            f'<figcaption>{e(caption)}</figcaption></figure>')


def note(text: str) -> str:
    return f'<p class="na">{e(text)}</p>'


# --- page ------------------------------------------------------------------------------------

def page(ctx: dict, charts: dict[str, str | None]) -> str:
    s = ctx["summary"]
    title = f"Workflow bake-off · run {ctx['run_id']}"
    body = "".join([
        _header(ctx, title),
        _summary(s),
        _io(ctx["io"], charts),
        _failure(ctx["failure"], charts),
        _cost(ctx["cost"], charts),
        _code(ctx["code"]),
        _shape(ctx["shape"], charts),
        pertask_view.html(ctx["pertask"], charts),
        parallel_view.html(ctx["parallel"], charts),
        rerun_view.html(ctx["rerun"], charts),
        _guide(ctx["guide"]),
        _method(ctx["method"], s),
    ])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{CSS}{_pygments_css()}</style></head>"
            f"<body>{body}{PRINT_SCRIPT}</body></html>\n")


def _header(ctx: dict, title: str) -> str:
    s = ctx["summary"]
    facts = [f"started {e(s['started'])}" if s["started"] else "",
             f"profile <b>{e(s['profile'])}</b>" if s["profile"] else "",
             f"{s['records']} records",
             f"commit <code>{e((s['git']['commit'] or '')[:12])}</code>" if s["git"]["commit"] else ""]
    banner = ""
    if s["fixture"]:
        banner = ('<div class="banner">FIXTURE DATA: these records were generated for the '
                  "report's tests, not measured. No number on this page describes a real tool."
                  "</div>")
    nav = "".join(f'<a href="#{k}">{e(v)}</a>' for k, v in SECTIONS)
    cmd = f'<p class="cmd"><code>{e(s["command"])}</code></p>' if s["command"] else ""
    return (f"<header>{banner}<h1>{e(title)}</h1><p class=\"facts\">"
            f"{' · '.join(f for f in facts if f)}</p>{cmd}<nav>{nav}</nav></header>")


def _summary(s: dict) -> str:
    tools = table(["tool", "version", "modes (default first)"], [
        [f"<b>{e(t['impl'])}</b>", e(t["version"] or "—"),
         "<br>".join(f"<code>{e(m['mode'])}</code>" + (" (default)" if m["default"] else "")
                     + (f' <span class="sub-inline">{e(m["description"])}</span>'
                        if m["description"] else "") for m in t["modes"])]
        for t in s["tools"]])
    machine = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in s["machine"])
    warnings = "".join(_warning(w) for w in s["warnings"]) or "<li>None.</li>"
    answers = "".join(
        f'<div class="answer"><h3><a href="#{a["anchor"]}">{e(a["question"])}</a></h3><ul>'
        + "".join(f"<li>{e(p)}</li>" for p in a["points"]) + "</ul></div>" for a in s["answers"])
    return (f'<section id="summary"><h2>Summary</h2>'
            f'<div class="cols"><div><h3>What was compared</h3>{tools}</div>'
            f'<div><h3>Machine</h3><dl class="kv">{machine or "<dt>machine</dt><dd>not stored</dd>"}'
            f"</dl></div></div>"
            f'<h3>Warnings</h3><ul class="warnings">{warnings}</ul>'
            f'<h3>Short answers</h3><div class="answers">{answers}</div></section>')


def _warning(w: dict) -> str:
    details = ""
    if w["details"]:
        items = "".join(f"<li>{e(d)}</li>" for d in w["details"])
        details = f"<details><summary>{len(w['details'])} detail(s)</summary><ul>{items}</ul></details>"
    return f'<li class="w-{e(w["kind"])}"><b>{e(w["kind"].replace("_", " "))}</b>: {e(w["message"])}{details}</li>'


# --- sections --------------------------------------------------------------------------------

def _io(io: dict, charts: dict) -> str:
    rows = [[e(r["label"]), spread_cell(r["wall"])]
            + [spread_cell(r[part], show_excluded=False)
               for part in ("startup", "compute", "io", "orchestration")]
            + [e(fmt.percent(r["io_share"]))] for r in io["breakdown"]]
    parts = [
        '<section id="io"><h2>What does passing data through files cost me?</h2>',
        "<p>Each cold run's wall time is split from its trace spans: <b>start-up</b> until the "
        "first span, <b>compute</b> (sum of compute spans), <b>file IO</b> (sum of read and write "
        "spans, serialisation included) and <b>orchestration</b>, the rest: the tool's own "
        "scheduling, bookkeeping and exit.</p>",
        figure(charts.get("breakdown"), "chart-breakdown",
               "Cold runs: median of each part as bars, every run's wall time as a dot."),
        table(["tool · mode", "wall", "start-up", "compute", "file IO", "orchestration",
               "IO share"], rows) if rows else note("No cold runs in this run."),
        _lower_bound(io),
        "<h3>File IO against data scale</h3>",
        figure(charts.get("io_sweep"), "chart-io-sweep",
               "File IO time per run against the data scale, one panel per format: every run as "
               "a point, medians joined; dashed black: the in-process pytest-benchmark floor "
               "(write + read of one table); dotted: the plain script with values in memory."),
        figure(charts.get("io_bytes"), "chart-io-bytes",
               "Bytes read and written per run (from the spans) against the data scale."),
        _sweep_table(io),
        note(io["floor_problem"]) if io["floor_problem"] else "",
        "" if io["floor"] else note("No floor.json stored with this run: no floor drawn."),
        "</section>",
    ]
    return "".join(parts)


def _lower_bound(io: dict) -> str:
    out = []
    lb = io["lower_bound"]
    if lb and lb["wall"]["n"]:
        out.append(f"<p>Lower bound: <b>{e(lb['label'])}</b> (no hand-off through files) runs in "
                   f"{e(fmt.spread(lb['wall']))}.")
    check = io["cross_check"]
    if check:
        out.append(f" Cross-check: the plain script with files minus in memory is "
                   f"{e(fmt.signed_seconds(check['difference_s']))} ({e(fmt.ratio(check['ratio']))}),"
                   f" against {e(fmt.seconds(check['files_io_s']))} of file IO spans.")
    return "".join(out) + ("</p>" if out else "")


def _sweep_table(io: dict) -> str:
    floor = {(p["format"], p["scale"], p["op"]): p for p in io["floor"]}
    rows = []
    for s in io["sweep"]["series"]:
        for p in s["per_scale"]:
            f = s["format"]
            fl = [floor.get((f, p["scale"], op)) for op in ("write", "read")]
            floor_text = " + ".join(fmt.seconds(x["median"]) for x in fl if x) or "—"
            rows.append([e(f or "in memory"), f"×{p['scale']}", e(s["label"]),
                         spread_cell(p["io"]), spread_cell(p["wall"]),
                         e(fmt.nbytes(p["io_bytes"])), e(floor_text)])
    if not rows:
        return note("No IO sweep in this run.")
    rows.sort(key=lambda r: (r[0], int(r[1][1:]), r[2]))
    return ("<details><summary>All IO sweep numbers</summary>"
            + table(["format", "scale", "tool · mode", "file IO", "wall", "bytes",
                     "floor write + read"], rows) + "</details>")


def _failure(failure: dict, charts: dict) -> str:
    steps = list(dict.fromkeys(s["step"] for r in failure["resume"] for s in r["steps"]))
    rows = []
    for r in failure["resume"]:
        by_step = {s["step"]: s for s in r["steps"]}
        rows.append([e(r["label"]), spread_cell(r["cold"])]
                    + [_resume_cell(by_step[st]) if st in by_step else '<span class="na">—</span>'
                       for st in steps])
    crash_rows = [_crash_cells(c) for c in failure["crash"]]
    return "".join([
        '<section id="failure"><h2>What happens when a job dies?</h2>',
        "<h3>A step raises an exception: time to finish on the plain rerun</h3>",
        figure(charts.get("resume"), "chart-resume",
               "Rerun after a failure injected at each step: every run as a point, its median "
               "as a bar; grey band and dashed line: the same tool's cold run (IQR and median)."),
        table(["tool · mode", "cold run"] + [f"failed at {st}" for st in steps], rows, "resume")
        if rows
        else note("Resume after failure was not measured in this run."),
        "<h3>The process group is killed mid-write: what the plain rerun does</h3>",
        "<p><b>recovered</b>: the rerun finished with the right predictions; <b>refused</b>: the "
        "tool stopped with its own message, then the harness ran the recovery commands a user "
        "would type; <b>silently wrong</b>: the rerun succeeded with wrong predictions.</p>",
        table(["tool · mode", "killed in", "outcome", "rerun", "tool's message",
               "recovery (run by the harness)", "left behind"], crash_rows, "crash")
        if crash_rows else note("Hard crashes were not measured in this run."),
        "</section>",
    ])


def _resume_cell(s: dict) -> str:
    """Rerun time, its ratio to a cold run, and which steps ran again."""
    executed = s["executed"]
    if not executed:
        ran = "re-ran nothing"
    elif len(executed) == 1:
        ran = f"re-ran {executed[0]}"
    else:
        ran = f"re-ran {executed[0]} … {executed[-1]} ({len(executed)} steps)"
    if s["executed_varies"]:
        ran += ", varies"
    flag = "" if s["steps_match"] is not False else ' <b class="bad">unexpected steps</b>'
    return (spread_cell(s["wall"]) + f'<span class="sub">{e(ratio_short(s["ratio"]))} of cold</span>'
            + f'<span class="sub">{e(ran)}</span>{flag}')


def _crash_cells(c: dict) -> list[str]:
    outcomes = "<br>".join(f'<span class="o-{e(k)}">{e(k.replace("_", " "))}</span> ×{v}'
                           for k, v in sorted(c["outcomes"].items()))
    message, line = c["tool_message"] or "", c["tool_message_line"]
    if message and message.strip() != line:
        preview = line if len(line) <= MESSAGE_PREVIEW else line[:MESSAGE_PREVIEW] + "…"
        msg = f"<details><summary>{e(preview)}</summary><pre>{e(message)}</pre></details>"
    else:
        msg = f"<pre>{e(message)}</pre>" if message else "—"
    if c["recovery_commands"]:
        verified = {True: "right predictions", False: '<b class="bad">wrong predictions</b>',
                    None: "not verified"}[c["recovery_verified"]]
        walls = ", ".join(fmt.seconds(w) for w in c["recovery_wall"])
        recovery = ("".join(f"<code class=\"cmd\">{e(cmd)}</code>" for cmd in c["recovery_commands"])
                    + f'<span class="sub">took {e(walls or "n/a")}; exit '
                    f'{e(", ".join(str(x) for x in c["recovery_exit_codes"]) or "n/a")}; '
                    f"{verified}</span>")
    else:
        recovery = "none needed" if c["outcome"] == "recovered" else "—"
    left = "".join(f"<div><b>{e(k.replace('_', ' '))}</b>: "
                   + ", ".join(f"<code>{e(x)}</code>" for x in v) + "</div>"
                   for k, v in c["leftovers"].items()) or "nothing found"
    rerun = ", ".join(fmt.seconds(w) for w in c["rerun_wall"])
    logs = "".join(f'<a class="sub" href="{e(log)}">log</a>' for log in c["logs"])
    return [e(c["label"]), e(c["step"]), outcomes + logs, e(rerun), msg, recovery, left]


def _cost(cost: dict, charts: dict) -> str:
    rows = []
    for r in cost["rows"]:
        ref = r["reference"]
        over = (f"{e(fmt.signed_seconds(ref['difference_s']))}<span class=\"sub\">vs "
                f"{e(ref['label'])}</span>{ratio_cell(ref['ratio'])}") if ref else "—"
        rss = r["rss_kb"]
        rows.append([e(r["label"]) + (" <span class=\"sub\">default</span>" if r["default"] else ""),
                     spread_cell(r["first_run"]), spread_cell(r["cold"]),
                     spread_cell(r["startup"], show_excluded=False), spread_cell(r["noop"]),
                     e(fmt.kib_as_bytes(rss["median"])) + (f'<span class="sub">n={rss["n"]}</span>'
                                                           if rss["n"] else ""),
                     e(fmt.seconds(r["cpu_s"]["median"])), e(fmt.nbytes(r["state_bytes"])), over])
    foot = [[e(f["impl"]), spread_cell(f["import"]), e(fmt.count(f["distributions"])),
             e(fmt.nbytes(f["install_bytes"])),
             e(", ".join(f"{p.get('name')} {fmt.nbytes(p['bytes'])}" for p in f["largest"]) or "—")]
            for f in cost["footprint"]]
    modes = "".join(_modes_table(m) for m in cost["modes"])
    return "".join([
        '<section id="cost"><h2>What does each tool cost on top of my code?</h2>',
        figure(charts.get("cost"), "chart-cost",
               "Every run as a point (hollow: warm-up, red ×: failed; neither enters the "
               "median), the median as a black tick; log scale."),
        table(["tool · mode", "first run", "cold run", "warm start-up", "no-op rerun", "peak memory",
               "CPU", "tool state on disk", "cold run over the plain script"], rows)
        if rows else note("No runs of the cost scenarios in this run."),
        "<p>Warm start-up: launch until the first traced span of a cold run, whose tool home was "
        "initialised beforehand. The plain script "
        "compared against has the same kind of hand-off (files or values). Peak memory: the "
        "sampled sum over the process tree; servers started by the harness are not included.</p>",
        "<h3>Install footprint</h3>",
        figure(charts.get("footprint"), "chart-footprint",
               "Import time of each tool in a fresh process: every sample as a point."),
        table(["tool", "import time", "distributions", "installed size", "largest"], foot) if foot
        else note("Install footprint was not measured in this run."),
        "<h3>Modes</h3>", modes or note("No tool ran in more than one mode in this run."),
        "</section>",
    ])


def _modes_table(m: dict) -> str:
    rows = [[f"<code>{e(r['mode'])}</code>" + (" (default)" if r["default"] else ""),
             e(r["description"] or ""), spread_cell(r["cold"]),
             ratio_cell(r["ratio"]) if r["ratio"] else "reference", spread_cell(r["noop"])]
            for r in m["rows"]]
    return f"<h4>{e(m['impl'])}</h4>" + table(["mode", "what it is", "cold run",
                                               "vs default mode", "no-op rerun"], rows)


def _code(code: dict) -> str:
    rows = []
    for r in code["rows"]:
        over = r["over_baseline"] or {}
        rows.append([e(r["impl"]), e(fmt.count(r["sloc"])), e(fmt.count(r["tokens"])),
                     e(fmt.nbytes(r["gzip_bytes"])),
                     e(", ".join(f"{v:+d} {k.replace('_', ' ')}" for k, v in over.items()) or "—"),
                     "<br>".join(f"<code>{e(f['path'])}</code> {e(fmt.count(f.get('sloc')))}"
                                 for f in r["files"])])
    sources = "".join(
        f'<div class="src"><h3>{e(s["impl"])}</h3>'
        + "".join(f"<h4>{e(f['path'])}</h4>{_highlight(f['path'], f['text'])}" for f in s["files"])
        + "</div>" for s in code["sources"])
    return "".join([
        '<section id="code"><h2>How much code will I write and read?</h2>',
        "<p>Source lines without blanks or comments, tokens, and gzip bytes after stripping "
        "comments and collapsing whitespace, over the files a user of each tool writes.</p>",
        table(["implementation", "source lines", "tokens", "gzip", "vs plain script",
               "files (source lines)"], rows) if rows
        else note("Code size was not measured in this run."),
        "<h3>The sources, side by side (as stored with this run)</h3>",
        f'<div class="sources">{sources}</div>' if sources
        else note("No sources were stored with this run."),
        "</section>",
    ])


def _highlight(path: str, text: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name == "Snakefile" or name.endswith(".smk"):
        lexer = PythonLexer()  # a Snakefile is Python with rule blocks
    else:
        try:
            cls = find_lexer_class_for_filename(name, text)
            lexer = cls() if cls else TextLexer()
        except ClassNotFound:
            lexer = TextLexer()
    return highlight(text, lexer, HtmlFormatter(cssclass="hl", wrapcode=True))


def _pygments_css() -> str:
    return HtmlFormatter(style="default").get_style_defs(".hl")


def _shape(shape: dict, charts: dict) -> str:
    dags = "".join(f'<div class="dag"><h4>{e(d["impl"])}'
                   + (f" · {e(d['mode'])}" if d["mode"] else "")
                   + f'</h4><pre>{e(d["text"])}</pre></div>' for d in shape["dags"])
    missing = (f"<p class=\"na\">No DAG stored for: {e(', '.join(shape['dags_missing']))}.</p>"
               if shape["dags_missing"] else "")
    return "".join([
        '<section id="shape"><h2>The shape of each pipeline</h2>',
        "<h3>The DAG as each tool reported it</h3>",
        f'<div class="dags">{dags}</div>' if dags else note("No DAGs were stored with this run."),
        missing,
        "<h3>Timeline of one representative run per tool</h3>",
        figure(charts.get("gantt"), "chart-gantt",
               "The cold run closest to its median, default mode: grey start-up, compute and "
               "file IO spans per step; white gaps are orchestration."),
        "</section>",
    ])


def _guide(guide: dict) -> str:
    items = "".join(f"<dt>{e(s['title'])} <span class=\"favours\">favours {e(s['favours'])}</span>"
                    f"</dt><dd>{e(s['sentence'])}</dd>" for s in guide["situations"])
    missing = "".join(f"<li>{e(t)}</li>" for t in guide["not_measured"])
    return "".join([
        '<section id="guide"><h2>Decision guide</h2>',
        "<p>For each situation this run measured, the tool its numbers favour and the number "
        "behind it. Each tool competes with its best mode; the plain script is the reference, "
        "not a contender. There is no overall winner: weigh the situations that match your "
        "work.</p>",
        f'<dl class="guide">{items}</dl>' if items else note("Nothing was measured."),
        f"<h3>Not measured</h3><ul>{missing}</ul>",
        "</section>",
    ])


def _method(m: dict, s: dict) -> str:
    t = m["thresholds"]
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(m["statuses"].items()))
    spg = m["samples_per_group"]
    per_group = (f"{spg['groups']} measured groups hold {spg['min']} to {spg['max']} usable "
                 f"samples each (median {spg['median']:g})" if spg["groups"] else
                 "no measured groups")
    raw = "".join(f'<li><a href="{e(r["name"])}">{e(r["name"])}</a> ({e(fmt.nbytes(r["bytes"]))})</li>'
                  for r in m["raw"])
    env = "".join(f"<div><code>{e(k)}</code> {e(v)}</div>" for k, v in m["environment"])
    env = f'<div class="env">{env}</div>'
    return "".join([
        '<section id="method"><h2>Methodology and limitations</h2>',
        "<h3>What was measured and how</h3><ul>",
        "<li>Every execution is one fresh process tree in a fresh working directory, started in "
        "a new session and measured from outside: wall time, CPU time, peak memory, IO counters, "
        "plus the spans the shared pipeline code traces (compute, read, write per step).</li>",
        "<li>Every timed execution is verified before it counts: its predictions must match the "
        "plain script's byte for byte and it must execute the expected steps.</li>",
        f"<li>This run stored {m['records']} records ({e(statuses)}); {m['usable']} are usable. "
        f"{m['warmups']} warm-up records are kept and drawn but never enter a median, nor do "
        "records with any status other than ok.</li>",
        f"<li>Rounds present: {e(', '.join(str(r) for r in m['rounds']) or 'none')} (warm-up "
        f"rounds included); {e(per_group)}.</li>",
        f"<li>The floor: {m['floor_benchmarks']} pytest-benchmark measurements of writing and "
        "reading each format in-process (floor.json).</li></ul>",
        "<h3>Statistics</h3><ul>",
        "<li>Every number is a median with its interquartile range (IQR) and sample count n; "
        "no means of timings.</li>",
        f"<li>Ratios carry a {int(t['ci_level'] * 100)} % percentile bootstrap confidence "
        f"interval ({t['bootstrap_resamples']} resamples of each side, seed "
        f"{t['bootstrap_seed']}) only when both sides have at least {t['ci_min_samples']} "
        "samples; otherwise the sample counts are shown instead.</li>",
        f"<li>Warnings: fewer than {t['few_samples']} usable samples; IQR above "
        f"{e(fmt.percent(t['wide_spread']))} of the median; a first round whose modified z-score "
        f"(0.6745·(x − median)/MAD, Iglewicz and Hoaglin 1993) exceeds {t['outlier_z']} in "
        "absolute value (with MAD = 0, the mean absolute deviation scaled by 1.2533 stands in).</li>",
        "<li>Every sample is drawn as a point in the charts; bars appear only to split a wall "
        "time into parts (medians of each part, so they need not add up to the median wall "
        "time).</li></ul>",
        "<h3>What this does not measure</h3><ul>",
        "<li>One small pipeline of five sequential steps on one machine: no fan-out, no cluster, "
        "no long-running or scheduled pipelines.</li>",
        "<li>Peak memory excludes servers the harness starts once for a mode (luigid, prefect "
        "server); their start-up is not part of any run.</li>",
        "<li>The machine may be shared: interleaved rounds spread drift over all tools, but "
        "absolute times carry that noise; compare ratios within this run, not across machines."
        "</li>",
        "<li>Ease of debugging, documentation, UI and community are not measured.</li></ul>",
        "<h3>Raw records</h3>",
        f"<ul>{raw}</ul>" if raw else note("No raw files found beside this report."),
        "<h3>Full environment (run.json)</h3>",
        f"<details open><summary>{len(m['environment'])} stored facts</summary>{env}</details>",
        "</section>",
    ])


# --- runs index ------------------------------------------------------------------------------

def index_page(runs: list[dict]) -> str:
    rows = []
    for r in runs:
        link = (f'<a href="{e(r["run_id"])}/index.html">{e(r["run_id"])}</a>' if r["rendered"]
                else e(r["run_id"]))
        rows.append([link, e(r.get("started") or ""), e(r.get("profile") or ""),
                     e(", ".join(r.get("impls") or [])), e(fmt.count(r.get("records"))),
                     ("<b>fixture</b> " if r.get("fixture") else "") + e(r.get("problem") or "")])
    body = (table(["run", "started", "profile", "implementations", "records", "notes"], rows)
            if rows else note("No runs yet."))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Workflow bake-off runs</title><style>{CSS}</style></head><body><header>"
            f"<h1>Workflow bake-off runs</h1><p class=\"facts\">Latest first.</p></header>"
            f"<section>{body}</section></body></html>\n")


PRINT_SCRIPT = ("<script>window.addEventListener('beforeprint',function(){"
                "document.querySelectorAll('details').forEach(function(d){d.open=true;});});"
                "</script>")

CSS = """
:root{--fg:#1d1d1f;--muted:#666;--line:#ddd;--bg-soft:#f6f7f9;--bad:#b3261e;--warn:#8a5a00}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);
max-width:1280px;margin:0 auto;padding:0 24px 48px}
header{border-bottom:1px solid var(--line);margin-bottom:8px}
h1{font-size:26px;margin:18px 0 4px}h2{font-size:21px;margin:36px 0 8px;padding-top:8px;
border-top:2px solid var(--fg)}h3{font-size:16px;margin:22px 0 6px}h4{font-size:14px;margin:14px 0 4px}
.facts{color:var(--muted);margin:0 0 6px}.cmd code{font-size:12px}
nav{display:flex;flex-wrap:wrap;gap:4px 16px;padding:8px 0}nav a{color:#0b57d0;text-decoration:none}
.banner{background:#fff3cd;border:2px solid #d39e00;color:#5c4400;padding:10px 14px;margin:14px 0 0;
font-weight:600;border-radius:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px;width:100%}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
td code{overflow-wrap:anywhere}
th{background:var(--bg-soft);font-weight:600}
.sub{display:block;color:var(--muted);font-size:11.5px}.sub-inline{color:var(--muted);font-size:12px}
.excl{color:var(--bad)}.na{color:var(--muted);font-style:italic}.bad{color:var(--bad)}
.o-recovered{color:#1b6e20;font-weight:600}.o-refused{color:var(--warn);font-weight:600}
.o-silently_wrong,.o-failed,.o-unknown{color:var(--bad);font-weight:600}
.cols{display:grid;grid-template-columns:2fr 1fr;gap:24px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:13px}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
ul.warnings li{margin:4px 0}ul.warnings li b{color:var(--warn)}
ul.warnings li.w-fixture b,ul.warnings li.w-verification b,ul.warnings li.w-failures b{color:var(--bad)}
details summary{cursor:pointer;color:var(--muted)}details ul{font-size:13px}
.answers{display:grid;grid-template-columns:1fr 1fr;gap:4px 24px}.answer h3 a{color:inherit}
.answer ul{padding-left:18px;margin:4px 0;font-size:14px}
figure.chart{margin:12px 0 18px;break-inside:avoid}figure.chart svg{display:block;width:100%;height:auto}
figcaption{color:var(--muted);font-size:13px;margin-top:2px}
pre{background:var(--bg-soft);padding:8px;overflow-x:auto;font-size:12px;line-height:1.35;margin:4px 0}
table.crash pre{white-space:pre-wrap;max-width:360px;font-size:11.5px}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
code.cmd{display:block;background:var(--bg-soft);padding:2px 6px;margin:2px 0;white-space:pre-wrap;
font-size:11.5px}
.sources{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px;align-items:start}
.src{min-width:0}.src .hl pre{max-height:720px;overflow:auto;font-size:11px}
.dags{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:12px}
dl.guide dt{font-weight:600;margin-top:10px}.favours{font-weight:400;font-size:12px;background:#e8f0fe;
color:#0b57d0;border-radius:3px;padding:1px 6px;margin-left:6px}dl.guide dd{margin:2px 0 0 0}
.env{columns:3 320px;column-gap:24px;font-size:12px}.env div{break-inside:avoid;
padding:1px 0;border-bottom:1px solid #eee;overflow-wrap:anywhere}.env code{color:var(--muted);font-size:11.5px}
@media (max-width:800px){.cols,.answers{grid-template-columns:1fr}}
@media print{body{max-width:none;padding:0;font-size:11pt}nav{display:none}
h2{break-before:page}section#summary h2{break-before:auto}table,figure,pre{break-inside:avoid}
.sources{display:block}.src .hl pre{max-height:none;white-space:pre-wrap}a{color:inherit}}
"""
