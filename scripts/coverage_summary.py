"""The coverage lines of `make test`: the share of lines the tests ran, for the add-on and for
the sandbox, and every module of the add-on below the floor the project holds itself to."""

import fnmatch
import sys
from pathlib import Path

import coverage

FLOOR = 85.0  # percent of the lines of each module of the add-on
PACKAGES = ("ingeneo_powens", "powens_sandbox")


def main(project_dir):
    project = Path(project_dir).resolve()
    cov = coverage.Coverage(config_file=str(project / ".coveragerc"), data_file=str(project / ".local/coverage/data"))
    cov.load()  # what pytest-cov gathered, then what the sandbox processes left beside it
    cov.combine(keep=False)
    cov.save()
    totals = {package: [0, 0] for package in PACKAGES}
    below = []
    for path in sorted(path for package in PACKAGES for path in (project / package).rglob("*.py")):
        relative = path.relative_to(project)
        if any(fnmatch.fnmatch(str(path), pattern) for pattern in cov.config.run_omit):
            continue
        package = relative.parts[0]
        _name, statements, _excluded, missing, _text = cov.analysis2(str(path))
        totals[package][0] += len(statements)
        totals[package][1] += len(statements) - len(missing)
        share = 100.0 * (len(statements) - len(missing)) / len(statements) if statements else 100.0
        if package == "ingeneo_powens" and share < FLOOR:
            below.append((share, str(relative)))
    for package, (statements, run) in totals.items():
        print(f"coverage: {package} {100.0 * run / max(statements, 1):.1f}% of {statements} lines")
    for share, relative in sorted(below):
        print(f"coverage: {relative} {share:.1f}%, under the floor of {FLOOR:.0f}%")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
