"""Rule prepare: load and preprocess once for every fold (the job runs in --directory)."""
from pathlib import Path

from core import selection

selection.prepare(Path.cwd())
