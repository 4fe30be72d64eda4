"""Loads an OSCAL assessment-results JSON file with compliance-trestle's pydantic model.

Usage: python3 tests/oscal/validate.py FILE
Exits 0 when trestle accepts the document, 1 when it rejects it, 2 when trestle is missing.
"""

import json
import pathlib
import sys

try:
    from trestle.oscal.assessment_results import AssessmentResults
except ImportError as exc:  # pragma: no cover - reported to the Rust test
    print(f"compliance-trestle is not installed ({exc}); run scripts/test", file=sys.stderr)
    sys.exit(2)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = pathlib.Path(sys.argv[1])
    doc = json.loads(path.read_text(encoding="utf-8"))
    try:
        ar = AssessmentResults.model_validate(doc["assessment-results"])
    except Exception as exc:  # pydantic.ValidationError and friends
        print(f"trestle rejects {path}: {exc}", file=sys.stderr)
        return 1
    results = ar.results or []
    findings = sum(len(r.findings or []) for r in results)
    observations = sum(len(r.observations or []) for r in results)
    print(
        f"trestle accepts {path}: OSCAL {doc['assessment-results']['metadata']['oscal-version']}, "
        f"{len(results)} result(s), {observations} observations, {findings} findings"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
