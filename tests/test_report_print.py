"""report.html as the compliance officer prints it, reads it on a phone, or with assistive technology:
printed by real Chromium to an A4 PDF, checked with axe-core (npm) in real Chromium."""
from __future__ import annotations

import copy
from pathlib import Path

import pypdfium2
import pytest

from report_cases import demo, incomplete, with_baseline, with_consent_mode
from scanner.report import render_all
from scanner.report.html import css_string

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
A4_PT = (595.3, 841.9)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    from scanner.browser import find_chromium
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        yield b
        b.close()


def rendered(tmp_path: Path, report: dict, name: str) -> Path:
    out = tmp_path / name
    render_all(copy.deepcopy(report), out, ["html"])
    return out / "report.html"


def test_demo_prints_on_fewer_than_25_portrait_a4_pages_with_numbers_site_and_date(browser, tmp_path) -> None:
    html = rendered(tmp_path, demo(), "demo")
    page = browser.new_page()
    page.goto(html.as_uri())
    pdf_path = tmp_path / "demo.pdf"
    page.pdf(path=str(pdf_path), format="A4", prefer_css_page_size=True)
    page.close()
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    try:
        pages = len(pdf)
        assert 5 <= pages < 25, pages
        for i in range(pages):
            width, height = pdf[i].get_size()
            assert (round(width), round(height)) == tuple(round(x) for x in A4_PT), (i, width, height)  # portrait
            text = pdf[i].get_textpage().get_text_range()
            assert f"Page {i + 1} of {pages}" in text, (i, text[-300:])
            assert "www.micropep.com·scanned5Jan2026" in text.replace(" ", ""), (i, text[-300:])  # pdfium drops some spaces
        first = pdf[0].get_textpage().get_text_range()
        assert "What to fix first" in first and "Violations found" in first
    finally:
        pdf.close()


def test_print_margin_text_cannot_escape_its_css_string() -> None:
    hostile = 'evil.test"; } body { display: none } @page { content: "\\'
    quoted = css_string(hostile)
    assert quoted.startswith('"') and quoted.endswith('"') and '"' not in quoted[1:-1]
    assert "\\" not in quoted.replace("\\00", "") and "{" not in quoted and ";" not in quoted


AXE_CASES = {"demo": demo, "incomplete": incomplete, "baseline": with_baseline, "consent-mode": with_consent_mode}


@pytest.mark.parametrize("width", [1300, 390])
@pytest.mark.parametrize("case", list(AXE_CASES))
def test_axe_core_finds_no_violation_of_any_impact(browser, tmp_path, case, width) -> None:
    html = rendered(tmp_path, AXE_CASES[case](), case)
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(html.as_uri())
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.map(v => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)""")
    finally:
        context.close()
    assert violations == []


def test_matrix_on_a_phone_keeps_the_item_column_and_says_it_scrolls(browser, tmp_path) -> None:
    html = rendered(tmp_path, demo(), "phone")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(html.as_uri())
        assert page.locator(".matrix-hint").is_visible()
        wrap = page.locator(".matrix-wrap")
        assert page.evaluate("el => el.scrollWidth > el.clientWidth", wrap.element_handle())   # the states scroll
        item = page.locator("table.matrix td.item").first
        before = item.bounding_box()["x"]
        page.evaluate("el => { el.scrollLeft = 400 }", wrap.element_handle())
        cell = page.locator("table.matrix td.cell").first
        assert item.bounding_box()["x"] == pytest.approx(before, abs=1)      # still in view at the left
        assert cell.bounding_box()["x"] < before + item.bounding_box()["width"]  # the cells slid under it
    finally:
        page.close()
    wide = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        wide.goto(html.as_uri())
        assert not wide.locator(".matrix-hint").is_visible()   # no hint where every column fits
    finally:
        wide.close()
