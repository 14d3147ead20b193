"""The flow's cache policy: each task's own source and its inputs, hashed by content.

prefect's default policy, INPUTS + TASK_SOURCE + RUN_ID, holds the flow run's id, so a new run
of the flow never reuses a finished task: resuming across runs needs a policy without RUN_ID
(prefect's caching docs combine policies with `+` and write custom ones as a CachePolicy with
`compute_key`). TASK_SOURCE is prefect's own. ContentInputs stands in for INPUTS because
INPUTS hashes with prefect's hash_objects (JSON, else cloudpickle), and pickle bytes follow
object identity: a fitted forest read back from its persisted result pickles to other bytes
than the forest as trained, so every resumed run would miss the cache of predict and evaluate.
ContentInputs digests each input, by name, from what it holds:
- str, int, float, bool, None: their JSON text (output paths are passed as str);
- pathlib.Path: the file's bytes (prefect's file_hash), so new data in the same place is a
  new key and a touched but unchanged file is not;
- pandas DataFrame: column names and dtypes, then pandas' own row hashes (values and index);
- list, tuple, dict: element by element;
- anything else (the fitted model): joblib.hash, scikit-learn's hasher, which hashes arrays
  by their bytes and dtypes by value.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from prefect.cache_policies import TASK_SOURCE, CachePolicy
from prefect.utilities.hashing import file_hash


def digest(value: Any) -> str:
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()


def _feed(h, value: Any) -> None:
    import pandas as pd

    if value is None or isinstance(value, (str, int, float, bool)):
        h.update(b"j" + json.dumps(value).encode())
    elif isinstance(value, Path):
        h.update(b"f" + (file_hash(str(value)) if value.is_file() else "missing").encode())
    elif isinstance(value, pd.DataFrame):
        h.update(b"D" + json.dumps([[str(c), str(t)] for c, t in value.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _feed(h, item)
    elif isinstance(value, dict):
        h.update(f"d{len(value)}".encode())
        for key in sorted(value, key=str):
            _feed(h, str(key))
            _feed(h, value[key])
    else:
        import joblib

        h.update(b"o" + joblib.hash(value).encode())


@dataclasses.dataclass
class ContentInputs(CachePolicy):
    """A task's inputs, by name, hashed by content (see the module's docstring)."""

    def compute_key(self, task_ctx, inputs: dict[str, Any], flow_parameters: dict[str, Any],
                    **kwargs: Any) -> str | None:
        return digest(inputs) if inputs else None


CACHE_POLICY = TASK_SOURCE + ContentInputs()
