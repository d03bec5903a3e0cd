"""What every browser test checks on a page (issue 13, "Phones and screen readers"; the
layout rules are in docs/ui.md), shared by the crawl and the journeys.

* no horizontal scrolling: ``document.documentElement.scrollWidth <= innerWidth``;
* axe-core (shipped by ``axe-playwright-python``) reports no serious or critical violation.

Also the login every browser test starts with, and the rule that the browser work runs
in the SQLite pass only: the pages depend on templates and CSS, not on the database.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import TEST_PASSWORD

only_in_the_sqlite_pass = pytest.mark.skipif(
    os.environ.get("JOF_TEST_DATABASE", "sqlite") == "postgresql",
    reason="templates and CSS only: the browser work runs in the SQLite pass")

#: axe-core impacts that fail a check (minor and moderate findings are not counted).
FAILING_IMPACTS = {"serious", "critical"}

#: The page's width, and (when it is too wide) the first elements that stick out of the
#: screen without being inside a scrolling box: what to fix.
OVERFLOW_JS = """() => {
  const w = window.innerWidth, wide = [];
  if (document.documentElement.scrollWidth > w) {
    for (const el of document.body.querySelectorAll('*')) {
      if (el.getBoundingClientRect().right <= w + 1) continue;
      let p = el.parentElement, scrolls = false;
      for (; p && !scrolls; p = p.parentElement) scrolls = getComputedStyle(p).overflowX !== 'visible';
      if (scrolls) continue;
      wide.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
                + ' "' + (el.textContent || '').trim().slice(0, 30) + '"');
      if (wide.length >= 3) break;
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: w, wide};
}"""
#: Resolves after two frames: the page has handled the resize (jof.js marks scrolling tables).
NEXT_FRAME_JS = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def log_in(page, base: str, email: str) -> None:
    """Through the login form; the dashboard answers."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    page.wait_for_url(f"{base}/")


def overflow(page) -> str | None:
    """None when the page fits its viewport's width, else what sticks out."""
    page.evaluate(NEXT_FRAME_JS)
    m = page.evaluate(OVERFLOW_JS)
    if m["scroll"] <= m["inner"]:
        return None
    return f"{m['scroll']} px wide in {m['inner']} px ({'; '.join(m['wide'])})"


def axe_violations(page, axe) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is laid out now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe.axe_script)  # once per document: a resize keeps it
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]


def describe(violation: dict) -> str:
    targets = ", ".join(str(n["target"][0]) for n in violation["nodes"][:3])
    return f"axe {violation['impact']} {violation['id']} ({len(violation['nodes'])}x e.g. {targets})"
