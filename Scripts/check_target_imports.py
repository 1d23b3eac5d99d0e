"""Package.swift lists what each target imports, and nothing else (issue 14).

For every target, the modules its Swift files import (system modules aside) must equal the dependencies
Package.swift lists for it. Prints each difference with the target's name and exits 1 on any.

    python3 Scripts/check_target_imports.py
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYSTEM = {"Foundation", "Dispatch", "Glibc", "Darwin", "Musl", "Synchronization", "Testing", "XCTest"}
TARGET = re.compile(r'\.(?:target|testTarget|executableTarget)\(\s*name: "([^"]+)",\s*dependencies: \[(.*?)\]\s*[,)]', re.S)
IMPORT = re.compile(r"\s*(?:@testable |public |package |internal |@_exported )*import (?:struct |class |enum |func )?(\w+)")


def listed(dependencies: str) -> set[str]:
    """Target names (quoted strings that open an entry) and product names."""
    names = set(re.findall(r'(?:^|\[|,)\s*"(\w+)"', dependencies, re.M))
    return names | set(re.findall(r'name: "(\w+)"', dependencies))


def imported(folder: Path) -> set[str]:
    modules: set[str] = set()
    for file in folder.rglob("*.swift"):
        for line in file.read_text().splitlines():
            match = IMPORT.match(line)
            if match:
                modules.add(match.group(1))
    return modules - SYSTEM


def main() -> int:
    problems = 0
    for name, dependencies in TARGET.findall((ROOT / "Package.swift").read_text()):
        folder = ROOT / "Sources" / name if (ROOT / "Sources" / name).is_dir() else ROOT / "Tests" / name
        uses, lists = imported(folder), listed(dependencies)
        for module in sorted(uses - lists):
            print(f"Package.swift: target {name}: expected {module} among its dependencies (its files import it)")
            problems += 1
        for module in sorted(lists - uses):
            print(f"Package.swift: target {name}: expected no dependency {module} (none of its files imports it)")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
