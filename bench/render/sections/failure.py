"""When a job dies: the rerun after an exception injected at each step (resume, and the
tool's own resume command where the plain rerun does not resume), and what the plain rerun does
after the process group is killed mid-write (crash) or only the process writing (crash_job)."""
from __future__ import annotations

import collections
import re

from bench.render import charts as c
from bench.render import fmt
from bench.render.analysis import stats
from bench.render.analysis.groups import Index, all_true, label, most_common, ratio, samples
from bench.render.load import RunData
from bench.render.sections.base import Section

MESSAGE_PREVIEW = 90
KEY_LINE = re.compile(r"error|exception|incomplete|lock|refus|cannot|failed|traceback", re.I)


def build(run: RunData, ix: Index) -> dict:
    resume = [_resume(ix, impl, mode) for impl, mode in ix.pairs("resume")]
    return {"resume": resume,
            "resume_steps": list(dict.fromkeys(s["step"] for r in resume for s in r["steps"])),
            "crash": _crash_rows(ix, "crash"), "crash_job": _crash_rows(ix, "crash_job")}


def _crash_rows(ix: Index, scenario: str) -> list[dict]:
    return [_crash_row(ix, scenario, impl, mode, step) for impl, mode in ix.pairs(scenario)
            for step in _steps_of(ix, scenario, impl, mode)]


def _steps_of(ix: Index, scenario: str, impl: str, mode: str) -> list[str]:
    present = {r.variant for r in ix.select(scenario, impl, mode, phase=None)}
    return [s for s in ix.steps if s in present]


def _resume(ix: Index, impl: str, mode: str) -> dict:
    cold = samples(ix.select("cold", impl, mode))
    steps = []
    for step in _steps_of(ix, "resume", impl, mode):
        recs = ix.select("resume", impl, mode, variant=step)
        here = samples(recs)
        executed = [tuple(r.steps_executed) for r in recs if r.status == "ok"]
        step_data = {
            "step": step, "wall": here, "ratio": ratio(here, cold) if cold["n"] else None,
            "saved_s": (cold["median"] - here["median"]) if cold["n"] and here["n"] else None,
            "executed": list(most_common(executed) or ()),
            "executed_varies": len(set(executed)) > 1,
            "expected": list(most_common(tuple(r.steps_expected or ()) for r in recs) or ()),
            "steps_match": all_true(r.verify.get("steps_match") for r in recs),
            "statuses": dict(collections.Counter(r.status for r in recs)),
            "outcomes": dict(collections.Counter(r.outcome for r in recs if r.outcome)),
            "recovery": _resume_recovery(recs),
            "points": [{"round": r.round, "wall": r.wall_s, "usable": r.usable,
                        "status": r.status, "warmup": r.warmup} for r in recs],
        }
        steps.append({**step_data, "ran": ran_text(step_data)})
    return {"impl": impl, "mode": mode, "label": label(impl, mode), "colour": ix.colour(impl),
            "cold": cold, "steps": steps}


def _resume_recovery(recs) -> dict | None:
    """The tool's own resume command, where the plain rerun did not resume: its commands,
    walls (the time to the right answer) and the steps it executed."""
    with_recovery = [r for r in recs if getattr(r.detail, "recovery", None)]
    if not with_recovery:
        return None
    found = [r.detail.recovery for r in with_recovery]
    return {"commands": [fmt.argv_text(c) for c in found[0].get("commands", [])],
            "wall": samples(with_recovery, lambda r: r.detail.recovery.get("wall_s")),
            "executed": list(most_common(tuple(f.get("steps_executed") or ()) for f in found)
                             or ()),
            "verified": all_true((f.get("verify") or {}).get("predictions_match")
                                 for f in found)}


def _crash_row(ix: Index, scenario: str, impl: str, mode: str, step: str) -> dict:
    recs = ix.select(scenario, impl, mode, variant=step)
    recovery_recs = ix.select(scenario, impl, mode, variant=step, phase="recovery")
    # the recovery commands run after a refusal: in the rerun's detail, or (older runs) in
    # records of their own
    recoveries = [r.detail.recovery or {} for r in recs]
    commands = next((r.get("commands") for r in recoveries + [
        r.detail.recovery or {} for r in recovery_recs] if r.get("commands")), [])
    message = next((str(r.detail.tool_message) for r in recs if r.detail.tool_message), "")
    recovery_walls = [r["wall_s"] for r in recoveries if stats.is_finite(r.get("wall_s"))]
    if not recovery_walls:
        recovery_walls = [r.wall_s for r in recovery_recs]
    return {
        "impl": impl, "mode": mode, "label": label(impl, mode), "step": step, "n": len(recs),
        "outcomes": dict(collections.Counter(r.outcome or "unknown" for r in recs)),
        "outcome": most_common(r.outcome or "unknown" for r in recs),
        "statuses": dict(collections.Counter(r.status for r in recs)),
        "tool_message": message,
        "tool_message_line": key_line(message),
        "tool_message_preview": preview(key_line(message)),
        # the key line is all there is: no need to fold the whole message away
        "tool_message_folds": bool(message) and message.strip() != key_line(message),
        "recovery_commands": [fmt.argv_text(cmd) for cmd in commands],
        "recovery_wall": recovery_walls,
        "recovery_exit_codes": [r.get("exit_code") for r in recoveries if "exit_code" in r]
        or [r.exit_code for r in recovery_recs],
        "recovery_verified": all_true(
            [(r.get("verify") or {}).get("predictions_match") for r in recoveries]
            + [r.verify.get("predictions_match") for r in recovery_recs]),
        "leftovers": _leftovers(recs),
        "logs": [log for log in dict.fromkeys(r.detail.log for r in recs)
                 if isinstance(log, str) and ix.run_dir and (ix.run_dir / log).is_file()],
        "rerun_wall": [r.wall_s for r in recs],
        "rerun_steps": list(most_common(tuple(r.steps_executed) for r in recs) or ()),
    }


def key_line(message: str) -> str:
    """The line of a tool's message that says what went wrong, for the table; the rest folds."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if KEY_LINE.search(line):
            # "SomeException:" alone says little: its next line is the explanation
            return f"{line} {lines[i + 1]}" if line.endswith(":") and i + 1 < len(lines) else line
    return lines[-1] if lines else ""


def preview(line: str) -> str:
    return line if len(line) <= MESSAGE_PREVIEW else line[:MESSAGE_PREVIEW] + "…"


def _leftovers(recs) -> dict[str, list[str]]:
    found: dict[str, list[str]] = collections.defaultdict(list)
    for r in recs:
        left = r.detail.leftovers or {}
        for kind, items in list(left.items()) + [("survivors", r.detail.survivors)]:
            for item in items or []:
                if item not in found[kind]:
                    found[kind].append(str(item))
    return {k: v for k, v in found.items() if v}


def ran_text(step: dict) -> str:
    """Which steps a resume ran again, in a few words."""
    executed = step["executed"]
    if not executed:
        ran = "re-ran nothing"
    elif len(executed) == 1:
        ran = f"re-ran {executed[0]}"
    else:
        ran = f"re-ran {executed[0]} … {executed[-1]} ({len(executed)} steps)"
    return ran + (", varies" if step["executed_varies"] else "")


# ---------------------------------------------------------------- chart

def charts(data: dict) -> dict[str, str | None]:
    return {"resume": resume_chart(data["resume"])}


def resume_chart(rows: list[dict]) -> str | None:
    rows = [r for r in rows if r["steps"]]
    if not rows:
        return None

    def draw(fig):
        axes = fig.subplots(1, len(rows), squeeze=False)[0]
        for ax, row in zip(axes, rows):
            col = row["colour"]
            names = [s["step"] for s in row["steps"]]
            cold = row["cold"]
            if cold["n"]:
                ax.axhspan(cold["q1"], cold["q3"], color="#dddddd", alpha=0.7, label="cold run IQR")
                ax.axhline(cold["median"], color="#333333", linestyle="--", linewidth=1,
                           label="cold run median")
            for i, s in enumerate(row["steps"]):
                pts = s["points"]
                c.plot_points(ax, [i + o for o in c.offsets(len(pts))], [p["wall"] for p in pts],
                              pts, col, "o")
                if s["wall"]["n"]:
                    ax.plot([i - 0.25, i + 0.25], [s["wall"]["median"]] * 2, color=col, linewidth=2)
            ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
            ax.set_title(row["label"], fontsize=9)
            ax.set_ylim(bottom=0)
        axes[0].set_ylabel("seconds to finish after a failure at the step")
        handles, labels = c.unique_legend(axes)
        fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)

    return c.render(draw, 10, 3.2, "resume",
                    "Time to finish after a failure at each step, against a cold run")


SECTION = Section("failure", "When a job dies", build, charts)
