#!/usr/bin/env python3
"""Loads an HTML report in headless Chromium over the DevTools protocol
(--remote-debugging-pipe, standard library only), runs axe-core at WCAG 2.2
AA, reads key facts from the DOM, and saves a screenshot and an A4
print-to-PDF.

usage: browser_check.py REPORT.html OUT_DIR AXE_JS|- [CHROMIUM]
(`-` skips axe-core: on a page of 10,000 rows it takes minutes.)
Prints one JSON object: facts, violations, screenshot and pdf paths.
"""

import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

FACTS_JS = r"""
JSON.stringify({
  title: document.title,
  lang: document.documentElement.lang,
  h1: document.querySelector('h1') ? document.querySelector('h1').textContent : null,
  verdict: document.getElementById('verdict-text') ? document.getElementById('verdict-text').textContent : null,
  verdict_class: document.getElementById('verdict-text') ? document.getElementById('verdict-text').className : null,
  scripts: document.getElementsByTagName('script').length,
  iframes: document.getElementsByTagName('iframe').length,
  external: Array.from(document.querySelectorAll('[src],link[href]')).length,
  sections: Array.from(document.querySelectorAll('main > section')).map(s => s.id),
  exhibits: Array.from(document.querySelectorAll('section.exhibit h3')).map(h => h.textContent),
  artefact_rows: document.querySelectorAll('tr[id^="a-"]').length,
  details_closed: Array.from(document.querySelectorAll('details:not([open]) > summary')).map(s => s.textContent),
  details_open: Array.from(document.querySelectorAll('details[open] > summary')).map(s => s.textContent),
  cells: Array.from(document.querySelectorAll('td')).slice(0, 4000).map(td => td.textContent),
  text: document.body.innerText.slice(0, 200000),
  alerted: window.__alerted === true
})
"""


class Chromium:
    def __init__(self, binary, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def remap():
            # Move both ends above 4 first, so neither is overwritten or
            # left close-on-exec by a dup2 onto itself.
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        args = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--remote-debugging-pipe",
                "--user-data-dir=" + profile, "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=remap, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.to_chrome, data):]
        while True:
            reply = self._read_message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, name):
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    return self.events.pop(i)
            self.events.append(self._read_message())

    def close(self):
        try:
            self.call("Browser.close")
        except RuntimeError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def evaluate(chrome, session, expression, await_promise=False):
    result = chrome.call("Runtime.evaluate", {"expression": expression, "awaitPromise": await_promise,
                                              "returnByValue": True}, session)
    if "exceptionDetails" in result:
        raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
    return result["result"].get("value")


def run_axe(chrome, session, axe_js):
    with open(axe_js, encoding="utf-8") as f:
        evaluate(chrome, session, f.read() + "\n;true")
    run = ("axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']})"
           ".then(r => JSON.stringify({version: axe.version, violations: r.violations.map(v => ({id: v.id,"
           " impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target)}))}))"
           % json.dumps(AXE_TAGS))
    return json.loads(evaluate(chrome, session, run, await_promise=True))


def main():
    report, out_dir, axe_js = sys.argv[1], sys.argv[2], sys.argv[3]
    binary = sys.argv[4] if len(sys.argv) > 4 else "chromium"
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        chrome = Chromium(binary, profile)
        try:
            target = chrome.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = chrome.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            chrome.call("Page.enable", session=session)
            chrome.call("Emulation.setDeviceMetricsOverride",
                        {"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": False}, session)
            # A report that ran a hostile script would set this flag.
            chrome.call("Page.addScriptToEvaluateOnNewDocument",
                        {"source": "window.alert = () => { window.__alerted = true; };"}, session)
            chrome.call("Page.navigate", {"url": "file://" + os.path.abspath(report)}, session)
            chrome.wait_event("Page.loadEventFired")
            facts = json.loads(evaluate(chrome, session, FACTS_JS))
            axe = {"version": None, "violations": None}
            if axe_js != "-":
                axe = run_axe(chrome, session, axe_js)
            shot = chrome.call("Page.captureScreenshot", {"format": "png"}, session)
            screenshot = os.path.join(out_dir, "report.png")
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            pdf = chrome.call("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69,
                                                   "preferCSSPageSize": True, "printBackground": True}, session)
            pdf_path = os.path.join(out_dir, "report.pdf")
            with open(pdf_path, "wb") as f:
                f.write(base64.b64decode(pdf["data"]))
        finally:
            chrome.close()
    json.dump({"facts": facts, "axe_version": axe["version"], "violations": axe["violations"],
               "screenshot": screenshot, "pdf": pdf_path}, sys.stdout)


if __name__ == "__main__":
    main()
