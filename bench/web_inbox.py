"""The assistant's inbox on a slow phone network: bytes and time to first paint, first load and repeat.

    .venv/bin/python bench/web_inbox.py --home var --today 2025-03-30 [--runs 3]

``--home`` is a data home the pipeline has run on (``make demo``, or ``wugan
synth`` then ``wugan run``). The demo assistant of the village with most open
tasks logs in (its password is reset to a random one for this run), then
Debian's chromium at 375 px opens ``/tasks`` with the network throttled by
CDP's ``Network.emulateNetworkConditions`` (400 kbit/s each way, 400 ms
latency):

- first load: empty browser cache, no service worker;
- repeat, HTTP cache: the same page again with the service worker bypassed
  (hashed static files come from the browser's cache, the page from the server);
- repeat, service worker: the worker installed by the first load answers the
  static files; the page itself is still fetched first (network-first);
- offline: no network at all, the worker answers with the page it kept.

A page's network emulation does not reach its service worker's own fetches,
so the same conditions are set on the worker's target too.

Bytes are counted by the server, as sent (after compression, without headers):
what crossed the wire. First paint and first contentful paint are the
browser's own Paint Timing entries. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import secrets
import socket
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
KBPS = 400
LATENCY_MS = 400
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}


PAINTS = """() => new Promise((done) => {
  const seen = () => performance.getEntriesByType('paint').map(e => ({name: e.name, startTime: e.startTime}));
  if (seen().length >= 2) { done(seen()); return; }
  new PerformanceObserver(() => { if (seen().length >= 2) done(seen()); }).observe({type: 'paint', buffered: true});
  setTimeout(() => done(seen()), 5000);
})"""


KEPT_ALL = """async () => {
  await navigator.serviceWorker.ready;
  const wanted = document.querySelectorAll('[data-offline]').length + 1;
  for (let i = 0; i < 600; i++) {
    const kept = await caches.open('wugan-pages').then(c => c.keys());
    if (kept.length >= wanted) return kept.length;
    await new Promise(r => setTimeout(r, 100));
  }
  return -1;
}"""


class CountingApp:
    """ASGI wrapper that adds up the body bytes of every response, by path."""

    def __init__(self, app) -> None:
        self.app = app
        self.bytes: Counter[str] = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def counting_send(message) -> None:
            if message["type"] == "http.response.body":
                self.bytes[path] += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting_send)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home: Path, today: dt.date) -> tuple[str, CountingApp, object, str]:
    """The app on ``home`` in a thread; returns its URL, the byte counter, the server and the demo password."""
    import uvicorn

    from wugan.cases.db import migrate, session_scope
    from wugan.settings import get_settings
    from wugan.web.accounts import create_demo_users
    from wugan.web.app import create_app

    settings = get_settings(home)
    migrate(settings.case_store_url)
    password = secrets.token_urlsafe(12)
    with session_scope(settings.case_store_url) as s:
        create_demo_users(s, password=password)
    noon = dt.datetime.combine(today, dt.time(12))
    counting = CountingApp(create_app(settings, clock=lambda: noon))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(counting, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", counting, server, password


def log_in(context, base: str, password: str) -> None:
    """Log in through the form's own requests, loading no page, so the browser's cache stays empty."""
    form = context.request.get(f"{base}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text()).group(1)
    answer = context.request.post(f"{base}/login", form={"username": "xieliyuan", "password": password,
                                                         "csrf_token": token, "next": "/tasks"})
    assert answer.ok and "/login" not in answer.url, "the demo assistant could not log in"


def throttle(cdp, *, offline: bool = False) -> None:
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": offline, "latency": LATENCY_MS,
        "downloadThroughput": KBPS * 1000 / 8, "uploadThroughput": KBPS * 1000 / 8,
    })


class Workers:
    """The service workers' own network conditions (a page's emulation does not reach their fetches)."""

    def __init__(self, browser) -> None:
        self.cdp = browser.new_browser_cdp_session()
        self.sessions: dict[str, str] = {}
        self.sent = 0

    def emulate(self, *, offline: bool = False) -> int:
        for target in self.cdp.send("Target.getTargets")["targetInfos"]:
            if target["type"] == "service_worker" and target["targetId"] not in self.sessions:
                self.sessions[target["targetId"]] = self.cdp.send(
                    "Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})["sessionId"]
                self._send(target["targetId"], "Network.enable", {})
        for target_id in self.sessions:
            self._send(target_id, "Network.emulateNetworkConditions", {
                "offline": offline, "latency": LATENCY_MS, "downloadThroughput": KBPS * 1000 / 8,
                "uploadThroughput": KBPS * 1000 / 8})
        return len(self.sessions)

    def _send(self, target_id: str, method: str, params: dict) -> None:
        import json

        self.sent += 1
        self.cdp.send("Target.sendMessageToTarget", {"sessionId": self.sessions[target_id], "message": json.dumps(
            {"id": self.sent, "method": method, "params": params})})


def load(page, counting: CountingApp, base: str, *, bypass_worker: bool = False, offline: bool = False) -> dict:
    """Open the inbox once; what the server sent until the load event, and when the browser first painted."""
    counting.bytes.clear()
    sources: Counter[str] = Counter()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.setBypassServiceWorker", {"bypass": bypass_worker})

    def seen(event) -> None:
        r = event["response"]
        sources["service worker" if r.get("fromServiceWorker") else
                "cache" if r.get("fromDiskCache") or r.get("fromPrefetchCache") else "network"] += 1

    cdp.on("Network.responseReceived", seen)
    throttle(cdp, offline=offline)
    started = time.perf_counter()
    page.goto(f"{base}/tasks", wait_until="load")
    loaded = time.perf_counter() - started
    sent = dict(counting.bytes)
    paints = {e["name"]: e["startTime"] for e in page.evaluate(PAINTS)}
    cdp.detach()
    return {"bytes": sum(sent.values()), "by_path": sent,
            "first_paint_ms": paints.get("first-paint"), "fcp_ms": paints.get("first-contentful-paint"),
            "load_s": loaded, "sources": dict(sources)}


def one_run(browser, base: str, counting: CountingApp, password: str) -> dict[str, dict]:
    context = browser.new_context(**PHONE)
    log_in(context, base, password)
    page = context.new_page()
    first = load(page, counting, base)
    # the worker registers after the first page; let it install and keep this week's tasks before going on
    page.evaluate(KEPT_ALL)
    workers = Workers(browser)
    workers.emulate()
    page.close()
    page = context.new_page()
    http_cache = load(page, counting, base, bypass_worker=True)
    time.sleep(2)
    page.close()
    page = context.new_page()
    worker = load(page, counting, base)
    time.sleep(2)
    worker["after_load"] = sum(counting.bytes.values()) - worker["bytes"]
    page.close()
    workers.emulate(offline=True)  # on the doorstep: the kept copy
    page = context.new_page()
    offline = load(page, counting, base, offline=True)
    context.close()
    return {"first load": first, "repeat, HTTP cache": http_cache, "repeat, service worker": worker,
            "offline, service worker": offline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--today", type=dt.date.fromisoformat, required=True, help="the app's today (last run day)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    base, counting, server, password = serve(args.home, args.today)
    results: dict[str, list[dict]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
            for _ in range(args.runs):
                for name, figures in one_run(browser, base, counting, password).items():
                    results.setdefault(name, []).append(figures)
            context = browser.new_context()
            log_in(context, base, password)
            counting.bytes.clear()
            html = context.request.get(f"{base}/tasks", headers={"Accept-Encoding": "identity"}).body()
            counting.bytes.clear()
            context.request.get(f"{base}/tasks", headers={"Accept-Encoding": "gzip"})
            gzipped = counting.bytes["/tasks"]
            open_tasks = html.count(b"data-offline")
            context.close()
            browser.close()
    finally:
        server.should_exit = True

    print(f"assistant inbox /tasks at {KBPS} kbit/s, {LATENCY_MS} ms latency, 375 px, {args.runs} runs; "
          f"home {args.home}, today {args.today}")
    print(f"  the page alone: {len(html):,} B of HTML, {gzipped:,} B gzipped; {open_tasks} task links kept offline")
    print(f"  {'load':<24}{'bytes':>9}{'first paint':>13}{'FCP':>8}{'load event':>12}  responses from")
    for name, runs in results.items():
        median = {k: statistics.median(r[k] for r in runs) for k in ("bytes", "first_paint_ms", "fcp_ms", "load_s")}
        print(f"  {name:<24}{median['bytes']:>9,.0f}{median['first_paint_ms']:>11,.0f}ms"
              f"{median['fcp_ms']:>6,.0f}ms{median['load_s'] * 1000:>10,.0f}ms  {runs[-1]['sources']}")
        print(f"  {'':<24}bytes by path (last run): {runs[-1]['by_path']}")
        if "after_load" in runs[-1]:
            print(f"  {'':<24}sent after the load event (the worker keeping task pages): {runs[-1]['after_load']:,} B")


if __name__ == "__main__":
    main()
