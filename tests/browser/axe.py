"""axe-core accessibility checks in the page under test.

axe.min.js comes from the axe-playwright-python package on PyPI (pinned in
requirements.txt): nothing is downloaded while tests run. It is evaluated in
the page through the DevTools protocol, so the site's Content-Security-Policy
(no inline or foreign scripts) needs no exception for it.

    from tests.browser.axe import assert_accessible

    page.goto(event.get_absolute_url())
    assert_accessible(page)                    # no serious or critical violation
    assert_accessible(page, include=["#register"], impacts=ALL_IMPACTS)
"""

import json
from functools import cache
from importlib import resources

# axe's impact levels, from worst to least.
BLOCKING_IMPACTS = ("critical", "serious")
ALL_IMPACTS = ("critical", "serious", "moderate", "minor")

# WCAG 2.0, 2.1 and 2.2 A and AA rules, plus axe's best practices (landmarks,
# one h1, headings in order...).
DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@cache
def axe_source() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def run_axe(page, *, include: list[str] | None = None, tags: list[str] | None = None) -> dict:
    """axe's full result for the page as it is now (or only the `include` selectors)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    options = {"runOnly": {"type": "tag", "values": tags or DEFAULT_TAGS}, "resultTypes": ["violations"]}
    context = {"include": [[selector] for selector in include]} if include else None
    return page.evaluate(
        "([context, options]) => context ? axe.run(context, options) : axe.run(document, options)",
        [context, options],
    )


def violations(page, *, impacts=BLOCKING_IMPACTS, **kwargs) -> list[dict]:
    return [violation for violation in run_axe(page, **kwargs)["violations"] if violation["impact"] in impacts]


def report(found: list[dict]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:5]:
            lines.append(f"    {json.dumps(node['target'])}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


def assert_accessible(page, *, impacts=BLOCKING_IMPACTS, **kwargs) -> None:
    """Fail with axe's explanation when the page has a violation of one of `impacts`."""
    found = violations(page, impacts=impacts, **kwargs)
    assert not found, f"axe found {len(found)} accessibility violation(s) on {page.url}:\n{report(found)}"
