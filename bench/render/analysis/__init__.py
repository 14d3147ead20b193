"""The arithmetic of the report, free of HTML: stats (robust summaries, bootstrap ratios),
fit (straight-line fits of cost per task), groups (selecting and summarising records)."""
