/* wugan's service worker: the assistant's shell and this week's tasks on the phone, for the doorstep.
   Pages: network first, the kept copy when the network is gone. Static files: hashed names, kept as they are.
   Nothing is kept for other roles' pages; logging out clears it all (Clear-Site-Data). */
const ASSETS = {{ assets|tojson }};
const SHELL = "wugan-shell-" + ASSETS.join(",");  // a new deploy's hashed names: a new cache
{% raw %}
const PAGES = "wugan-pages";
const KEPT = /^\/tasks(\/[0-9a-f]{16})?$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("wugan-shell-") && k !== SHELL).map((k) => caches.delete(k))
  )).then(() => self.clients.claim()));
});

function offlinePage() {
  const css = ASSETS.find((a) => a.endsWith(".css"));
  const html = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>没有网络 · 无感政务</title>' +
    '<link rel="stylesheet" href="' + css + '"></head><body><main><div class="card empty"><h1>没有网络</h1>' +
    '<p>这个页面没有保存在手机上。本周的任务列表和任务详情可以离线打开。</p>' +
    '<p><a class="btn" href="/tasks">打开我的任务</a></p></div></main></body></html>';
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode !== "navigate") { return; }
  const keep = KEPT.test(url.pathname);
  event.respondWith(fetch(request).then((response) => {
    if (keep && response.ok && !response.redirected) {
      const copy = response.clone();
      caches.open(PAGES).then((c) => c.put(url.pathname, copy));
    }
    return response;
  }).catch(() => caches.open(PAGES).then((c) => c.match(url.pathname)).then((hit) => hit || offlinePage())));
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) { return; }
  const wanted = data.urls.filter((u) => KEPT.test(u));
  event.waitUntil(caches.open(PAGES).then(async (cache) => {
    // only what is missing: a page opened online is refreshed as it is shown (network first); on a slow
    // network, fetching every task again at each visit of the list would cost more than the list itself
    const kept = new Set((await cache.keys()).map((k) => new URL(k.url).pathname));
    for (const u of wanted) {
      if (kept.has(u)) { continue; }
      try {
        const response = await fetch(u, { credentials: "same-origin" });
        if (response.ok && !response.redirected) { await cache.put(u, response); }
      } catch (e) { /* offline now: keep what is there */ }
    }
    const keys = await cache.keys();
    await Promise.all(keys.filter((k) => !wanted.includes(new URL(k.url).pathname)).map((k) => cache.delete(k)));
  }));
});
{% endraw %}
