"""What the scripts here share: each rank writes its record to FOLDER/rank{r}.json (FOLDER: the
script's first argument), which the test reads (launching.records)."""
import json
import sys
from pathlib import Path


def report(rank, record):
    (Path(sys.argv[1]) / f"rank{rank}.json").write_text(json.dumps({"rank": rank, **record}))
