#!/usr/bin/env python3
"""Drives the dashboard in Debian's Chromium with Playwright (never
`playwright install`): signs in (after a wrong password, to see the error
summary), opens the case list and a case, finds the failed item, opens
another force's case (404), signs out; runs axe-core at WCAG 2.2 AA on
every page and saves a full-page screenshot of each. Then does the same
walk with JavaScript switched off.

usage: browser_check.py BASE_URL OUT_DIR AXE_JS [CHROMIUM [SCENARIO_JSON]]
SCENARIO_JSON names the user, password, case link text and another
force's case path (defaults: the dashboard-stub's).
Prints one JSON object: pages (name, url, status, title, violations,
screenshot), facts, console errors.
"""

import json
import os
import sys

from playwright.sync_api import sync_playwright

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class Walk:
    def __init__(self, page, out_dir, axe_source, label):
        self.page = page
        self.out_dir = out_dir
        self.axe_source = axe_source
        self.label = label
        self.pages = []

    def check(self, name, status):
        """axe-core and a screenshot of the page as it is now."""
        violations = None
        axe_passes = None
        if self.axe_source is not None:
            # evaluate() runs over the DevTools protocol, outside the page's
            # Content-Security-Policy, which refuses inline script.
            self.page.evaluate(self.axe_source + "\n;0")
            violations = self.page.evaluate(
                """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
                   .then(r => ({passes: r.passes.length,
                                violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                     nodes: v.nodes.slice(0, 5).map(n => n.target)}))}))""",
                AXE_TAGS)
            axe_passes = violations["passes"]
            violations = violations["violations"]
        shot = os.path.join(self.out_dir, f"{self.label}-{len(self.pages) + 1:02d}-{name}.png")
        self.page.screenshot(path=shot, full_page=True)
        self.pages.append({"name": name, "url": self.page.url, "status": status, "title": self.page.title(),
                           "violations": violations, "axe_passes": axe_passes, "screenshot": shot})

    def goto(self, url):
        return self.page.goto(url).status

    def submit(self, button):
        with self.page.expect_navigation() as nav:
            self.page.click(button)
        return nav.value.status if nav.value else None


STUB = {"user": "alice", "password": "alice-pass", "case": "42AB1234520",
        "other_case": "/cases/2024%2F00123%2FPOL", "prefix": ""}


def walk(browser, base, out_dir, axe_source, label, javascript, scenario):
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    # A page that ran a hostile name's script would set this.
    page.add_init_script("window.alert = () => { window.__alerted = true; };")
    w = Walk(page, out_dir, axe_source if javascript else None, scenario["prefix"] + label)
    facts = {}

    w.check("login", w.goto(base + "/login"))
    page.fill("#username", scenario["user"])
    page.fill("#password", "wrong")
    status = w.submit("button.govuk-button:has-text('Sign in')")
    facts["error_summary"] = page.inner_text(".govuk-error-summary") if page.is_visible(".govuk-error-summary") else None
    facts["focused_after_error"] = page.evaluate("document.activeElement && document.activeElement.className")
    facts["body_class"] = page.evaluate("document.body.className")
    w.check("login-error", status)

    page.fill("#username", scenario["user"])
    page.fill("#password", scenario["password"])
    status = w.submit("button.govuk-button:has-text('Sign in')")
    facts["after_sign_in"] = page.url
    w.check("cases", status)
    facts["case_rows"] = page.locator("table.govuk-table tbody tr").count()

    with page.expect_navigation() as nav:
        page.click("a:has-text('%s')" % scenario["case"])
    facts["failures"] = page.inner_text("#failure-table") if page.is_visible("#failure-table") else None
    facts["tags"] = page.locator("strong.govuk-tag").all_inner_texts()
    facts["alerted"] = page.evaluate("window.__alerted === true")
    w.check("case", nav.value.status)

    w.check("not-found", w.goto(base + scenario["other_case"]))
    other_case_text = page.inner_text("main")
    w.goto(base + "/cases/NO-SUCH-CASE-1")
    facts["not_found_identical"] = page.inner_text("main") == other_case_text

    w.goto(base + "/cases")
    status = w.submit("button:has-text('Sign out')")
    facts["after_sign_out"] = page.url
    w.check("signed-out", status)
    context.close()
    return {"pages": w.pages, "facts": facts, "console_errors": console}


def main():
    base, out_dir, axe_js = sys.argv[1], sys.argv[2], sys.argv[3]
    chromium = sys.argv[4] if len(sys.argv) > 4 else "/usr/bin/chromium"
    scenario = dict(STUB, **json.loads(sys.argv[5])) if len(sys.argv) > 5 else STUB
    os.makedirs(out_dir, exist_ok=True)
    with open(axe_js, encoding="utf-8") as f:
        axe_source = f.read()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            result = {"javascript": walk(browser, base, out_dir, axe_source, "js", True, scenario),
                      "no_javascript": walk(browser, base, out_dir, axe_source, "nojs", False, scenario)}
        finally:
            browser.close()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
