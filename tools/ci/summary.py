"""Sum the JUnit XML reports of a `make test` run into one closing line.

Usage: python tools/ci/summary.py REPORT_DIR
Prints e.g. "tests: 40 passed, 0 failed, 2 skipped" and exits 1 when any test failed or
errored, or when there is no report at all (a run that tested nothing is not a pass).
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def count(report_dir):
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    files = sorted(Path(report_dir).glob("*.xml"))
    for path in files:
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            for key in totals:
                totals[key] += int(suite.get(key, 0))
    return files, totals


def main(argv):
    files, t = count(argv[1])
    failed = t["failures"] + t["errors"]
    passed = t["tests"] - failed - t["skipped"]
    for path in files:
        print(f"report: {path.name}")
    print(f"tests: {passed} passed, {failed} failed, {t['skipped']} skipped")
    return 1 if failed or not files or t["tests"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
