"""Reads a JUnit XML file the way CI systems do and prints what they would see, as JSON.

1. Validates it against Jenkins' `junit-10.xsd` with xmlschema (the schema comes from pytest's
   source distribution; scripts/test puts it at .venv/share/vouch/junit-10.xsd).
2. Reads it with junitparser (the library many CI tools and report generators use).

Usage: junit.py FILE.xml XSD. Prints {"valid": bool, "errors": [...], "tests", "failures",
"errors_count", "skipped", "cases": [{"suite", "classname", "name", "result", "message"}]}.
Exit 0 when valid and readable; 1 otherwise (the JSON still says why).
"""
import json
import sys

import junitparser
import xmlschema

path, xsd = sys.argv[1], sys.argv[2]
schema = xmlschema.XMLSchema(xsd)
errors = [f"{e.path}: {e.reason}" for e in schema.iter_errors(path)]

xml = junitparser.JUnitXml.fromfile(path)
suites = [xml] if isinstance(xml, junitparser.TestSuite) else list(xml)
cases = []
for suite in suites:
    for case in suite:
        result = "pass"
        message = None
        for r in case.result:
            kind = type(r).__name__.lower()  # failure, error, skipped
            result = kind
            message = r.message
        cases.append({
            "suite": suite.name,
            "classname": case.classname,
            "name": case.name,
            "result": result,
            "message": message,
            "system_out": case.system_out,
        })
print(json.dumps({
    "valid": not errors,
    "errors": errors[:50],
    "tests": sum(1 for _ in cases),
    "failures": sum(1 for c in cases if c["result"] == "failure"),
    "errors_count": sum(1 for c in cases if c["result"] == "error"),
    "skipped": sum(1 for c in cases if c["result"] == "skipped"),
    "cases": cases,
}, indent=1))
sys.exit(0 if not errors else 1)
