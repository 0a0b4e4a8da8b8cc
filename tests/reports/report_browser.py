"""Load cltk's report.html pages in headless Chromium and check what a reader sees.

One browser serves every page: it is driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: JSON messages ended by a NUL byte on file descriptors 3 and 4), so
nothing listens on a port, nothing is downloaded, and no Python package beyond the standard library
is needed. For each page, at a fixed viewport width (1400 CSS px, a laptop screen):

- console errors, uncaught exceptions and failed loads are collected (``Runtime``/``Log`` events);
- :data:`CHECKS` runs in the page: nothing makes the page scroll sideways, nothing sticks out past
  the right edge unless it sits in a box that scrolls (``overflow-x: auto|scroll``), no box with
  ``overflow: hidden`` cuts its content, every ``<img>`` decoded (``naturalWidth > 0``), and no figure
  is shrunk so far that its text becomes unreadable;
- a full-page PNG screenshot is taken.

:func:`find_chromium` names the browser (``$CLTK_CHROMIUM`` or the usual names on PATH)."""
from __future__ import annotations

import base64
import dataclasses
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

WIDTH, HEIGHT = 1400, 900
#: a figure drawn at under this fraction of its pixel size has ~9 px text (matplotlib's 10 pt at
#: the reports' 110 dpi is 15 px): below that, labels and ticks are unreadable
MIN_FIGURE_SCALE = 0.6
#: the tallest page screenshot taken (Chromium refuses textures beyond ~16k px)
MAX_SHOT_HEIGHT = 16000

# Runs in the page after load; returns {"problems": [...], "stats": {...}}. An element "sticks out"
# when its right edge passes the viewport's and no ancestor scrolls sideways; only the outermost
# such element is named (its children stick out because it does).
CHECKS = r"""
(() => {
  const vw = document.documentElement.clientWidth;
  const root = document.scrollingElement || document.documentElement;
  const problems = [];
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const alt = el.getAttribute('alt');
    if (alt) s += `[alt="${alt}"]`;
    const text = (el.textContent || '').trim().replace(/\s+/g, ' ');
    if (text) s += ` "${text.length > 60 ? text.slice(0, 60) + '...' : text}"`;
    return s;
  };
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const inScroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (scrolls(p)) return true;
    return false;
  };
  if (root.scrollWidth > vw) problems.push(`the page scrolls sideways: scrollWidth ${root.scrollWidth} > ${vw} px`);
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 0.5 && !inScroller(el)) out.push(el);
  }
  for (const el of out) {
    if (!out.includes(el.parentElement))
      problems.push(`${name(el)} reaches x=${Math.round(el.getBoundingClientRect().right)} past the ${vw} px viewport`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    const st = getComputedStyle(el);
    const cuts = (o) => o === 'hidden' || o === 'clip';
    if ((cuts(st.overflowX) && el.scrollWidth > el.clientWidth + 1) ||
        (cuts(st.overflowY) && el.scrollHeight > el.clientHeight + 1))
      problems.push(`${name(el)} cuts its content ` +
                    `(${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`);
  }
  for (const t of document.querySelectorAll('table')) {
    if (t.getBoundingClientRect().right > vw + 0.5 && !inScroller(t))
      problems.push(`${name(t)} is wider than the viewport and not in a scroll box`);
  }
  const images = [...document.images];
  for (const img of images) {
    if (!img.complete || img.naturalWidth === 0) { problems.push(`${name(img)} did not load`); continue; }
    const scale = img.getBoundingClientRect().width / img.naturalWidth;
    if (scale < %(min_scale)s)
      problems.push(`${name(img)} is drawn at ${scale.toFixed(2)} of its ${img.naturalWidth} px width: ` +
                    'text unreadable');
  }
  return {problems, stats: {width: vw, scrollWidth: root.scrollWidth, height: root.scrollHeight,
                            images: images.length, tables: document.querySelectorAll('table').length,
                            links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))}};
})()
""".replace("%(min_scale)s", str(MIN_FIGURE_SCALE))


@dataclasses.dataclass
class PageCheck:
    """What :meth:`Browser.check` saw on one page."""

    path: Path
    screenshot: Path
    problems: list[str]  # layout and loading problems found by CHECKS
    console_errors: list[str]  # console.error calls, uncaught exceptions, failed loads
    stats: dict

    def all_problems(self) -> list[str]:
        return self.problems + [f"console: {e}" for e in self.console_errors]


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable: ``$CLTK_CHROMIUM``, else the first usual name on PATH."""
    if os.environ.get("CLTK_CHROMIUM"):
        return shutil.which(os.environ["CLTK_CHROMIUM"])
    for exe in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if path := shutil.which(exe):
            return path
    return None


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium driven over the DevTools pipe; use as a context manager."""

    def __init__(self, exe: str, timeout: float = 30.0):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="cltk-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        args = [exe, "--headless", "--remote-debugging-pipe", f"--user-data-dir={self._profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-gpu",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--window-size={WIDTH},{HEIGHT}", "about:blank"]
        # no sandbox: Chromium refuses it as root and CI containers often lack the namespaces it needs;
        # the pages are the project's own files, opened offline
        args.insert(1, "--no-sandbox")

        def fds_3_and_4():  # the browser reads commands on fd 3 and writes replies on fd 4
            r, w = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w))
            os.dup2(r, 3)
            os.dup2(w, 4)

        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, close_fds=True, pass_fds=(3, 4),
                                      preexec_fn=fds_3_and_4)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.call("Target.setDiscoverTargets", discover=False)  # the first reply: the browser is up

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self._send({"id": 0, "method": "Browser.close"})
        except OSError:
            pass
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    # --- the protocol ------------------------------------------------------------------------
    def _send(self, msg: dict):
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited (code {self._proc.poll()})")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        """Send one command and return its result; events that arrive meanwhile go to ``events``."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self._send(msg)
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + self.timeout
        for i, ev in enumerate(self.events):
            if ev.get("method") == method and ev.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            ev = self._read(deadline)
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
            self.events.append(ev)

    # --- one page ----------------------------------------------------------------------------
    def check(self, page: Path, screenshot: Path) -> PageCheck:
        """Load ``page`` at WIDTH px, run CHECKS, collect console errors, save a full-page PNG."""
        page = Path(page).resolve()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        s = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable", s)
            self.call("Emulation.setDeviceMetricsOverride", s, width=WIDTH, height=HEIGHT, deviceScaleFactor=1,
                      mobile=False)
            self.events.clear()
            self.call("Page.navigate", s, url=page.as_uri())
            self.wait_event("Page.loadEventFired", s)
            res = self.call("Runtime.evaluate", s, expression=CHECKS, returnByValue=True)
            if "exceptionDetails" in res:
                raise BrowserError(f"the checks failed in {page}: {res['exceptionDetails'].get('text')}")
            value = res["result"]["value"]
            self.call("Runtime.evaluate", s, expression="0")  # flush events queued after the checks
            height = min(int(value["stats"]["height"]), MAX_SHOT_HEIGHT)
            shot = self.call("Page.captureScreenshot", s, format="png", captureBeyondViewport=True,
                             clip={"x": 0, "y": 0, "width": WIDTH, "height": max(height, 1), "scale": 1})
            screenshot = Path(screenshot)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            errors = [_console_error(ev) for ev in self.events if ev.get("sessionId") == s]
            return PageCheck(page, screenshot, value["problems"], [e for e in errors if e], value["stats"])
        finally:
            self.call("Target.closeTarget", targetId=target)
            self.events = [ev for ev in self.events if ev.get("sessionId") != s]


def _console_error(ev: dict) -> str | None:
    """The text of an event that is an error a reader's console would show, else None."""
    p = ev.get("params", {})
    if ev.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
        return " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
    if ev.get("method") == "Runtime.exceptionThrown":
        d = p.get("exceptionDetails", {})
        return d.get("exception", {}).get("description") or d.get("text", "exception")
    if ev.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
        e = p["entry"]
        return f"{e.get('text')} {e.get('url', '')}".strip()
    return None
