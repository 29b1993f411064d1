"""axe-core, the accessibility engine, injected into a page that Playwright has open.

The script comes from the npm registry (`axe-core`, pinned in `.ci/run`, which unpacks it into
`.cache/axe-core/`); SFS_TEST_AXE may point at another copy of `axe.min.js`. Without it the
accessibility tests skip, unless SFS_TEST_REQUIRE_BROWSER=1 makes that a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.browser_support import REQUIRE_BROWSER

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE = Path(
    os.environ.get(
        "SFS_TEST_AXE",
        Path(__file__).resolve().parents[2] / ".cache" / "axe-core" / "package" / "axe.min.js",
    )
)
SERIOUS = {"serious", "critical"}


def axe_source() -> str:
    if not AXE.is_file():
        message = f"axe-core not found at {AXE} (bash .ci/fetch-axe, or set SFS_TEST_AXE)"
        if REQUIRE_BROWSER:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def serious_violations(page: Page, source: str) -> list[str]:
    """`rule-id: target …` for each serious or critical violation on the page as it is now."""
    page.add_script_tag(content=source)
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    found = []
    for violation in result["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']}: {', '.join(targets)}")
    return found
