/* wugan's one script: busy buttons, drafts that survive, the visit outcome sent once even offline.
   Every page works without it; with it, a phone on a bad network loses nothing. */
(function () {
  "use strict";

  var OUTBOX = "wugan-outbox";
  var DRAFT = "wugan-draft:";
  var NOTE = "wugan-note";
  var body = document.body;
  document.documentElement.classList.add("js");
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";

  function load(key, fallback) {
    try { var v = localStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or off: pages still work */ }
  }
  function say(text, kind) {
    var box = document.getElementById("js-status");
    if (!box) { return; }
    box.className = "flash " + (kind || "info");
    box.textContent = text;
  }

  /* ---- busy state on every submit; a second tap does nothing while the first is on its way */
  function busy(form, on) {
    form.dataset.busy = on ? "1" : "";
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
      if (on) {
        b.dataset.label = b.dataset.label || b.textContent;
        b.setAttribute("aria-busy", "true");
        b.disabled = true;
        b.innerHTML = '<span class="spinner" aria-hidden="true"></span>' + (b.dataset.busyLabel || "正在提交…");
      } else if (b.dataset.label) {
        b.removeAttribute("aria-busy");
        b.disabled = false;
        b.textContent = b.dataset.label;
      }
    });
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.busy) { e.preventDefault(); return; }
    if (form.matches("[data-visit]")) { return; }  // sent by sendVisit
    if (form.matches(".logout") && load(OUTBOX, []).length &&
        !window.confirm("还有 " + load(OUTBOX, []).length + " 条走访结果未提交，退出后将丢失。确定退出？")) {
      e.preventDefault(); return;
    }
    // the button's own name/value must travel with the form once it is disabled
    var submitter = e.submitter;
    if (submitter && submitter.name) {
      var keep = document.createElement("input");
      keep.type = "hidden"; keep.name = submitter.name; keep.value = submitter.value;
      form.appendChild(keep);
    }
    busy(form, true);
  });
  window.addEventListener("pageshow", function () {  // back button: forms usable again
    document.querySelectorAll("form[data-busy='1']").forEach(function (f) { busy(f, false); });
  });

  /* ---- drafts: what is typed into a form marked data-draft is kept on the phone until it is sent */
  function draftKey(form) { return DRAFT + form.dataset.draft; }
  function readForm(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit") { return; }
      if (el.type === "checkbox") { (data[el.name] = data[el.name] || []); if (el.checked) { data[el.name].push(el.value); } }
      else if (el.type === "radio") { if (el.checked) { data[el.name] = el.value; } }
      else { data[el.name] = el.value; }
    });
    return data;
  }
  function fillForm(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in data) || el.type === "hidden") { return; }
      var v = data[el.name];
      if (el.type === "checkbox") { el.checked = v.indexOf(el.value) >= 0; }
      else if (el.type === "radio") { el.checked = el.value === v; }
      else if (!el.value) { el.value = v; }
    });
  }
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var kept = load(draftKey(form), null);
    if (kept && !form.dataset.sent) {
      if (kept.key && form.elements.idem) { form.elements.idem.value = kept.key; }
      fillForm(form, kept.fields || {});
      say("已恢复您上次填写但未提交的内容，请核对后提交。", "info");
    }
    var keep = function () {
      save(draftKey(form), { fields: readForm(form), key: form.elements.idem ? form.elements.idem.value : "" });
    };
    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
  });
  // a recorded outcome shows no form: its draft is done with
  document.querySelectorAll("[data-done-draft]").forEach(function (el) {
    localStorage.removeItem(DRAFT + el.dataset.doneDraft);
  });

  /* ---- the visit outcome: sent to the API with its idempotency key; queued when the network is gone */
  function visitBody(form) {
    var d = readForm(form);
    return { outcome: d.outcome || "", notes: d.notes || "", checklist: d.check || [] };
  }
  function post(url, bodyJson, key) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Idempotency-Key": key },
      body: JSON.stringify(bodyJson)
    });
  }
  function freshToken() {
    return fetch("/api/me", { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw r; }
      return r.json();
    }).then(function (me) { csrf = me.csrf_token; });
  }
  function sendOnce(entry) {
    return post(entry.url, entry.body, entry.key).then(function (r) {
      if (r.status !== 403) { return r; }
      return freshToken().then(function () { return post(entry.url, entry.body, entry.key); });
    });
  }
  function queue(entry) {
    var list = load(OUTBOX, []).filter(function (e) { return e.task !== entry.task; });
    list.push(entry);
    save(OUTBOX, list);
    markQueued();
  }
  function showErrors(form, message) {
    var box = document.getElementById("js-errors");
    if (!box) { say(message, "err"); return; }
    box.hidden = false;
    box.querySelector("a").textContent = message;
    box.focus();
  }
  function sendVisit(form) {
    var entry = { task: form.dataset.task, url: form.dataset.visit, body: visitBody(form),
                  key: form.elements.idem.value, label: form.dataset.who || "" };
    if (!entry.body.outcome) { showErrors(form, "请选择走访结果"); return; }
    save(draftKey(form), { fields: readForm(form), key: entry.key });
    busy(form, true);
    if (!navigator.onLine) {
      queue(entry); busy(form, false);
      say("现在没有网络：走访结果已保存在手机上，联网后自动提交（只提交一次）。", "info");
      return;
    }
    sendOnce(entry).then(function (r) {
      if (r.status === 401) {  // the session ended: log in again and come back here, the draft is kept
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        return;
      }
      return r.json().then(function (data) {
        if (r.ok) {
          localStorage.removeItem(draftKey(form));
          sessionStorage.setItem(NOTE, data.message || "已登记");
          window.location.assign(window.location.pathname);
        } else {
          busy(form, false);
          showErrors(form, typeof data.detail === "string" ? data.detail : "提交没有成功，请检查后重试");
        }
      });
    }).catch(function () {
      queue(entry); busy(form, false);
      say("网络不稳定：走访结果已保存在手机上，联网后自动提交（只提交一次）。", "info");
    });
  }
  document.querySelectorAll("form[data-visit]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (form.dataset.busy) { return; }
      sendVisit(form);
    });
  });

  function markQueued() {
    var waiting = load(OUTBOX, []);
    document.querySelectorAll("[data-task-id]").forEach(function (el) {
      el.classList.toggle("is-queued", waiting.some(function (e) { return e.task === el.dataset.taskId; }));
    });
  }

  var flushing = false;
  function flush() {
    var list = load(OUTBOX, []);
    if (flushing || !list.length) { return; }
    flushing = true;
    var sent = 0, problems = [];
    var next = function (i) {
      if (i >= list.length) { return Promise.resolve(); }
      var entry = list[i];
      return sendOnce(entry).then(function (r) {
        if (r.status === 401) { throw { login: true }; }
        if (r.ok) { sent += 1; localStorage.removeItem(DRAFT + "visit-" + entry.task); }
        else if (r.status === 409 || r.status === 404 || r.status === 422) { problems.push(entry.label || entry.task); }
        else { throw { retry: true }; }
        save(OUTBOX, load(OUTBOX, []).filter(function (e) { return e.key !== entry.key; }));
        return next(i + 1);
      });
    };
    next(0).then(function () {
      var text = sent ? "离线登记的 " + sent + " 条走访结果已提交。" : "";
      if (problems.length) { text += problems.length + " 条未能提交（任务已有结果或已不属于您），请打开任务核对。"; }
      if (text) { say(text, problems.length ? "err" : "ok"); }
    }).catch(function (why) {
      if (why && why.login) { say("有 " + load(OUTBOX, []).length + " 条走访结果等待提交：请重新登录，登录后自动提交。", "err"); }
      // no answer: the network is still gone; the next try comes with the timer or the "online" event
    }).then(function () { flushing = false; markQueued(); });
  }
  window.addEventListener("online", flush);
  // a phone may say it is online on a network that carries nothing: while something waits, try again
  window.setInterval(function () { if (load(OUTBOX, []).length) { flush(); } }, 5000);

  /* ---- what happened on the last page, said once */
  var note = sessionStorage.getItem(NOTE);
  if (note) { sessionStorage.removeItem(NOTE); say(note, "ok"); }

  /* ---- errors: the summary takes the focus (GOV.UK), its links go to the field */
  var summary = document.querySelector(".error-summary:not([hidden])");
  if (summary) { summary.focus(); }

  /* ---- the phone app: a service worker keeps this week's tasks for the doorstep */
  if ("serviceWorker" in navigator && body.dataset.role === "assistant") {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var pages = Array.prototype.map.call(document.querySelectorAll("[data-offline]"), function (a) {
        return a.getAttribute("href");
      });
      if (document.querySelector("[data-inbox]") && reg.active) {
        reg.active.postMessage({ type: "keep", urls: ["/tasks"].concat(pages) });
      }
    }).catch(function () { /* no worker: the pages still work online */ });
  }
  if ("caches" in window && document.querySelector("[data-login]")) {
    caches.keys().then(function (keys) { keys.forEach(function (k) { if (k.indexOf("wugan-pages") === 0) { caches.delete(k); } }); });
  }

  markQueued();
  flush();
})();
