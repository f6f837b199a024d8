"""The closing line of `make test`: the totals of the pytest runs, read from their JUnit
reports. A skipped test counts as failed: a skipped tour tested nothing."""

import os
import sys
import xml.etree.ElementTree as ET

COUNTERS = ("tests", "failures", "errors", "skipped")


def totals(report_paths):
    """Sum the counters of every test suite of the reports; a missing report is a crash."""
    sums = dict.fromkeys(COUNTERS, 0)
    for path in report_paths:
        if not os.path.exists(path):
            sys.exit(f"no test report in {path}: a test run crashed before reporting")
        for suite in ET.parse(path).getroot().iter("testsuite"):
            for key in COUNTERS:
                sums[key] += int(suite.get(key, 0))
    return sums


def main(report_paths):
    sums = totals(report_paths)
    failed = sums["failures"] + sums["errors"]
    passed = sums["tests"] - failed - sums["skipped"]
    if sums["skipped"]:
        print(f"{sums['skipped']} skipped test(s) count as failed: a skipped tour tested nothing")
    print(f"total: {passed} passed, {failed + sums['skipped']} failed")


if __name__ == "__main__":
    main(sys.argv[1:])
