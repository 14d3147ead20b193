"""How each tool was set up: per tool and set-up, why it is the way that tool's users run it
(with the tool's own doc pages), the server the harness started, the settings and the
configuration files (highlighted), and per mode the exact command and variables, as one shell
line that reproduces the execution outside the harness."""
from __future__ import annotations

import re

from bench.render.analysis.groups import Index
from bench.render.load import RunData
from bench.render.sections.base import Section
from bench.render.sections.code import highlighted

PLACEHOLDER = re.compile(r"\$[A-Z_]+")
# What the placeholders of the stored commands stand for, in the order a reader sets them.
PLACEHOLDERS = (
    ("$WORKDIR", "an empty directory of its own for each execution"),
    ("$TOOL_HOME", "the tool's machine-level state: one directory kept for all executions "
                   "of a set-up, as a user's home is"),
    ("$PORT", "the port the harness started the set-up's server on (127.0.0.1)"),
    ("$STATE_DIR", "the server's own directory"),
    ("$DATABASE_PORT", "the port of the PostgreSQL server the harness started for it"),
)


def build(run: RunData, ix: Index) -> dict:
    info = run.info
    base = _base_environment(info.environment if info is not None else {})
    tools = []
    for impl in ix.impls:
        declared = ix.impl_info(impl)
        if declared is None or not declared.setups:
            continue
        databases = _database_versions(info, impl)
        files = run.setup_files.get(impl, {})
        setups = [_setup(name, facts, declared, base, files, databases.get(name))
                  for name, facts in declared.setups.items()]
        tools.append({"impl": impl, "version": declared.version, "setups": setups})
    used = sorted({p for t in tools for s in t["setups"] for m in s["modes"]
                   for p in PLACEHOLDER.findall(m["shell"])}
                  | {p for v in base.values() for p in PLACEHOLDER.findall(v)}
                  | {p for t in tools for s in t["setups"] if s["service"]
                     for p in PLACEHOLDER.findall(s["service"]["shell"])})
    return {"tools": tools, "base_environment": sorted(base.items()),
            "export": "export " + " ".join(_quote(f"{k}={v}") for k, v in sorted(base.items()))
            if base else None,
            "placeholders": [(p, why) for p, why in PLACEHOLDERS if p in used],
            "python": (info.python.get("version") if info is not None else None)}


def _setup(name: str, facts: dict, declared, base: dict, files: dict, database: str | None):
    modes = []
    for mode, argv in facts.get("commands", {}).items():
        env = facts.get("environment", {}).get(mode, {})
        if isinstance(argv, str):  # the adapter could not build it: the stored error
            modes.append({"mode": mode, "description": declared.modes.get(mode),
                          "error": argv, "shell": "", "environment": []})
            continue
        modes.append({"mode": mode, "description": declared.modes.get(mode), "error": None,
                      "environment": sorted(env.items()),
                      "shell": shell_line(argv, env)})
    service = None
    if facts.get("service"):
        argv = facts.get("service_command") or []
        env = facts.get("service_environment") or {}
        service = {"name": facts["service"], "database": facts.get("database"),
                   "database_version": database, "environment": sorted(env.items()),
                   "shell": shell_line(argv, env) if argv else ""}
    shown = [{"path": path, "html": highlighted(path, files[path])}
             for path in facts.get("files", []) if path in files]
    missing = [path for path in facts.get("files", []) if path not in files]
    return {"name": name, "summary": facts.get("summary"), "why": facts.get("why"),
            "docs": [{"title": t, "url": u} for t, u in facts.get("docs", [])],
            "settings": [tuple(kv) for kv in facts.get("settings", [])],
            "unavailable": facts.get("unavailable"), "service": service, "modes": modes,
            "files": shown, "files_not_stored": missing}


def _base_environment(template: dict) -> dict[str, str]:
    """The variables every execution gets (run.json), as a user sets them from the repository:
    the workdir a placeholder, the repository the current directory."""
    out = {}
    for key, value in template.items():
        value = str(value).replace("{workdir}", "$WORKDIR")
        out[key] = "$PWD" if key == "PYTHONPATH" else value
    return out


def _database_versions(info, impl: str) -> dict[str, str]:
    """set-up -> the PostgreSQL version its server ran on, from the services the run started."""
    if info is None:
        return {}
    declared = info.impls.get(impl)
    by_server = {server: setup for setup, server in (declared.services if declared else {}).items()}
    out = {}
    for service in info.services:
        if service.get("impl") == impl and service.get("name") in by_server:
            version = (service.get("database") or {}).get("version")
            if version:
                out[by_server[service["name"]]] = version
    return out


def shell_line(argv: list[str], env: dict[str, str]) -> str:
    """`env K=V ... command` for a POSIX shell, run from the repository: placeholders stay
    expandable ($WORKDIR), everything else is quoted."""
    words = [_quote(f"{k}={v}") for k, v in env.items()] + [_quote(a) for a in argv]
    return "env " + " ".join(words) if env else " ".join(words)


def _quote(word: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", word):
        return word
    if "$" in word:  # keep $WORKDIR expandable, escape what double quotes would expand
        return '"' + re.sub(r'(["\\`])', r"\\\1", word) + '"'
    return "'" + word.replace("'", "'\\''") + "'"


def charts(data: dict) -> dict[str, str | None]:
    return {}


SECTION = Section("setups", "Set-ups", build, charts)
