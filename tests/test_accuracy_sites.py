"""Fixture sites whose expected findings are written down in full (tests/fixtures/expected/*.yaml):
every expected finding is found, nothing else is, every state is reached, and the consent matrix
agrees with the findings cell by cell. `make accuracy` prints the same comparison as a table."""
from __future__ import annotations

import pytest

from bench.accuracy import EXPECTED, compare, load_expected, scan_fixture
from consistency import disagreements


@pytest.mark.parametrize("name", sorted(p.stem for p in EXPECTED.glob("*.yaml")))
def test_fixture_site_findings_exactly_as_written(name):
    spec = load_expected(EXPECTED / f"{name}.yaml")
    row = compare(spec, scan_fixture(spec))
    assert row["problems"] == []
    assert dict(row["missed"]) == {}, "expected findings missed"
    assert dict(row["unexpected"]) == {}, "findings nobody expected"
    assert disagreements(row["result"]) == []
