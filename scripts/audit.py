"""`make audit`: known vulnerabilities in the pinned dependencies.

pip-audit checks every pin of requirements.lock against PyPI's vulnerability
data, `npm audit` checks package-lock.json (htmx, Chart.js) against the npm
registry's. Both services must be reached: where they cannot be (a machine
without internet, such as CI here), this says so and exits 2 -- an audit that
could not look is never reported as a pass. pip-audit runs with --strict for
that reason: without it, a package the service did not answer for is skipped
and the run still ends "No known vulnerabilities found".

Exit status: 0 nothing known, 1 vulnerabilities found, 2 could not audit.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OK, VULNERABLE, NOT_AUDITED = 0, 1, 2

# What requests/urllib3 (pip-audit) and npm say when a service cannot be reached,
# or answers something else than vulnerability data.
UNREACHED = re.compile(
    r"could not be audited|ConnectionError|NameResolution|Max retries|timed out|"
    r"Connection refused|ProxyError|SSLError|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|"
    r"ECONNRESET|audit endpoint returned an error|network",
    re.IGNORECASE,
)


def _run(name: str, cmd: list[str], found: re.Pattern) -> int:
    print(f"==> {name}: {' '.join(cmd[2:] if cmd[1] == '-m' else cmd)}", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode == 0:
        print(f"{name}: no known vulnerability.")
        return OK
    if found.search(output):
        print(output)
        print(f"{name}: VULNERABILITIES FOUND (above).")
        return VULNERABLE
    reason = next(
        (line.strip() for line in output.splitlines() if UNREACHED.search(line)),
        output.splitlines()[-1] if output else f"exit status {proc.returncode}",
    )
    print(f"{name}: NOT AUDITED - could not get an answer from its vulnerability service.")
    print(f"  {reason[:400]}")
    return NOT_AUDITED


def main() -> int:
    results = [
        _run(
            "pip-audit",
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--requirement",
                "requirements.lock",
                "--no-deps",
                "--disable-pip",
                "--strict",
                "--progress-spinner",
                "off",
            ],
            re.compile(r"Found \d+ known vulnerabilit"),
        )
    ]
    npm = shutil.which("npm")
    if npm:
        results.append(
            _run(
                "npm audit",
                [npm, "audit", "--package-lock-only"],
                re.compile(r"found [1-9]\d* vulnerabilit|\d+ (low|moderate|high|critical)"),
            )
        )
    else:
        print("npm audit: NOT AUDITED - npm is not installed (Node.js 20+ brings it).")
        results.append(NOT_AUDITED)
    if VULNERABLE in results:
        print("make audit: known vulnerabilities in the pinned dependencies: upgrade and re-lock.")
        return VULNERABLE
    if NOT_AUDITED in results:
        print(
            "make audit: NOT AUDITED - a vulnerability service could not be reached. "
            "This is not a pass: run `make audit` on a machine that reaches PyPI and the "
            "npm registry, and before every release."
        )
        return NOT_AUDITED
    print("make audit: no known vulnerability in requirements.lock or package-lock.json.")
    return OK


if __name__ == "__main__":
    sys.exit(main())
