"""Fail when pytest reported a skipped test whose reason no line of the allow-list matches."""
import re
import sys

allowed_path, log_path = sys.argv[1], sys.argv[2]
allowed = [line.split("#", 1)[0].strip() for line in open(allowed_path, encoding="utf-8")]
allowed = [a for a in allowed if a]
skips = [m.group(1) for m in re.finditer(r"^SKIPPED \[\d+\] (.+)$", open(log_path, encoding="utf-8").read(), re.M)]
bad = [s for s in skips if not any(a in s for a in allowed)]
for s in skips:
    print(f"skip {'NOT ALLOWED' if s in bad else 'allowed'}: {s}")
if bad:
    print(f".ci/run: {len(bad)} test(s) skipped without a reason listed in .ci/allowed-skips", file=sys.stderr)
    sys.exit(1)
