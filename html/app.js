// pg_shell's page script (no inline code: the page's CSP forbids it).
"use strict";
// The API's base URL: <meta name="pg-shell-api">, or ?api=... when it names
// this page's own host (e.g. page on localhost:8080, API on localhost:3000);
// a link cannot point the page at someone else's server. Empty: same origin.
var apiBase = (function () {
  var meta = document.querySelector('meta[name="pg-shell-api"]');
  var base = (meta && meta.content) || "";
  var q = new URLSearchParams(location.search).get("api");
  if (q) {
    try { if (new URL(q).hostname === location.hostname) base = q; } catch (_) { /* not a URL */ }
  }
  if (base && !/\/$/.test(base)) base += "/";
  return base;
})();
// Results show the moment they arrive: no settling delay (htmx waits 20 ms
// by default, for CSS transitions the page does not use).
htmx.config.defaultSettleDelay = 0;
// Server-Sent Events (live output from `pg_shell serve`) go to the API too,
// with the log-in cookie.
htmx.createEventSource = function (url) {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url) && url.indexOf("//") !== 0) url = apiBase + url.replace(/^\//, "");
  return new EventSource(url, { withCredentials: true });
};
// Each session has its own URL (?session=ID): the first request opens it.
var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function urlSession() {
  var id = new URLSearchParams(location.search).get("session");
  return id && UUID.test(id) ? id : null;
}
(function () {
  var app = document.getElementById("app"), id = urlSession();
  if (app && id) app.setAttribute("hx-get", "rpc/ui_home?session_id=" + encodeURIComponent(id));
})();
// Back and forward reload the page, which opens the URL's session (no
// snapshots of pages kept in localStorage).
htmx.config.historyCacheSize = 0;
htmx.config.refreshOnHistoryMiss = true;
window.addEventListener("popstate", function () { location.reload(); });
// Pushed URLs keep the page's other parameters (?api=...).
document.body.addEventListener("htmx:beforeHistoryUpdate", function (e) {
  var h = e.detail.history;
  if (!h || !h.path) return;
  var next = new URL(h.path, location.href), q = new URLSearchParams(location.search);
  q.delete("session");
  next.searchParams.forEach(function (v, k) { q.set(k, v); });
  h.path = next.pathname + (q.toString() ? "?" + q.toString() : "");
});
function setUrlSession(id) {
  var q = new URLSearchParams(location.search);
  if (id) q.set("session", id); else q.delete("session");
  var path = location.pathname + (q.toString() ? "?" + q.toString() : "");
  if (path !== location.pathname + location.search) history.pushState({}, "", path);
}
if (apiBase) {
  htmx.config.selfRequestsOnly = false;
  htmx.config.withCredentials = true;
  document.body.addEventListener("htmx:configRequest", function (e) {
    var p = e.detail.path;
    if (!/^[a-z][a-z0-9+.-]*:/i.test(p) && p.indexOf("//") !== 0) e.detail.path = apiBase + p.replace(/^\//, "");
  });
}
// The log-in form answers 429 (too many failures) and 503 (busy) with the form
// and its message: show it, as for a wrong password.
document.body.addEventListener("htmx:beforeSwap", function (e) {
  var x = e.detail.xhr;
  if ((x.status === 429 || x.status === 503) && /^text\/html/.test(x.getResponseHeader("Content-Type") || "")) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
// Show failed requests (refusals, network errors) instead of failing silently.
document.body.addEventListener("htmx:afterRequest", function (e) {
  var flash = document.getElementById("flash"), x = e.detail.xhr;
  var elt = e.detail.elt;
  // The command line: cleared after a submission, focused either way.
  if (elt && elt.matches && elt.matches("form.input")) {
    if (e.detail.successful) elt.reset();
    if (elt.line) elt.line.focus();
  }
  // An upload sent: the form empties (the file's bytes with it).
  if (elt && elt.matches && elt.matches("form.upload") && e.detail.successful) elt.reset();
  if (e.detail.successful || x.status === 429 || x.status === 503) { flash.hidden = true; return; }
  var msg = "request failed";
  try { var j = JSON.parse(x.responseText); msg = j.message || msg; } catch (_) { if (x.status === 0) msg = "cannot reach the server"; }
  flash.textContent = (x.status ? x.status + ": " : "") + msg;
  flash.hidden = false;
  if (x.status === 401) htmx.ajax("GET", "rpc/ui_home", "#app");
});
// The terminal the page is (issue 11): each line goes with its size in
// characters, measured with the output's own monospace font, so a guest sees a
// terminal (`ls` prints columns for this width) and replay uses the same.
function terminalSize() {
  var cmds = document.getElementById("cmds");
  if (!cmds) return null;
  // A throw-away entry, laid out like a command's output and removed before
  // anything is painted.
  var entry = document.createElement("article"), pre = document.createElement("pre"), span = document.createElement("span");
  entry.className = "cmd";
  pre.className = "out";
  span.textContent = "0000000000";
  pre.appendChild(span);
  entry.appendChild(pre);
  cmds.appendChild(entry);
  var box = span.getBoundingClientRect(), usable = pre.clientWidth;
  cmds.removeChild(entry);
  var cw = box.width / 10, lh = box.height;
  if (!(cw > 0) || !(lh > 0) || !(usable > 0)) return null;
  var cols = Math.floor(usable / cw), rows = Math.floor(window.innerHeight / lh);
  return { tty: true, term: "xterm-256color", columns: Math.max(20, Math.min(10000, cols)), lines: Math.max(5, Math.min(10000, rows)) };
}
document.body.addEventListener("htmx:configRequest", function (e) {
  if (!/(^|\/)rpc\/ui_submit$/.test(e.detail.path)) return;
  var t = terminalSize();
  if (t) e.detail.parameters.terminal = JSON.stringify(t);
});
// Command line: keep focus; Up/Down walk the session's earlier lines;
// Escape cancels the newest command still queued or running (a terminal's
// Ctrl+C), or, with none, clears the line.
document.body.addEventListener("keydown", function (e) {
  var input = e.target;
  if (input.id === "line" && e.key === "Escape") {
    var pending = document.querySelectorAll("#cmds article.cmd.st-running button.cancel, #cmds article.cmd.st-queued button.cancel");
    if (pending.length) pending[pending.length - 1].click();
    else input.value = "";
    e.preventDefault();
    return;
  }
  if (input.id !== "line" || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
  var lines = Array.prototype.map.call(document.querySelectorAll("#cmds .text"), function (n) { return n.textContent; });
  var i = input.dataset.hist === undefined ? lines.length : +input.dataset.hist;
  i = Math.max(0, Math.min(lines.length, i + (e.key === "ArrowUp" ? -1 : 1)));
  input.dataset.hist = i;
  input.value = i < lines.length ? lines[i] : "";
  e.preventDefault();
});
// The terminal follows its output (the newest line and the prompt stay in
// view) unless the reader scrolled up.
var follow = true;
function atBottom() { return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 48; }
window.addEventListener("scroll", function () { follow = atBottom(); }, { passive: true });
function keepInView() {
  if (!follow || !document.getElementById("term")) return;
  window.scrollTo(0, document.documentElement.scrollHeight);
}
// Where the keyboard focus goes in a view: the command line, else the view's
// first heading (focusable by script only), else its first field.
function focusView() {
  var target = document.getElementById("line") || document.querySelector("#app [autofocus]")
    || document.querySelector("#main h2, #main h1, #app h1") || document.querySelector("#app input:not([type=hidden]), #app button");
  if (!target) return;
  if (/^H[1-6]$/.test(target.tagName) && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
}
function focusLost() {
  var a = document.activeElement;
  return !a || a === document.body || !a.isConnected;
}
// A request from the navigation bar (its buttons stay focused on the page).
var navAsked = false;
document.body.addEventListener("htmx:beforeRequest", function (e) {
  var elt = e.detail && e.detail.elt;
  if (elt && elt.closest && elt.closest("nav.top")) navAsked = true;
});
// The skip link: into the view, not to a URL fragment.
document.body.addEventListener("click", function (e) {
  if (!e.target.matches || !e.target.matches("a.skip")) return;
  e.preventDefault();
  focusView();
});
document.body.addEventListener("htmx:afterSettle", function (e) {
  var input = document.getElementById("line");
  if (input) {
    if (e.target && e.target.id !== "cmds" && !e.target.closest("#cmds")) delete input.dataset.hist;
  }
  // A new view (the log-in, a list, a terminal) takes the focus when the old
  // one lost it (the focused element was replaced) or when it was asked for
  // from the navigation bar, whose buttons stay on the page.
  var view = e.target && (e.target.id === "app" || e.target.id === "main");
  if (focusLost() || (view && navAsked)) focusView();
  if (view) navAsked = false;
  // The address bar names the session on screen (or none on the list).
  var term = document.getElementById("term");
  if (term && term.dataset.session) setUrlSession(term.dataset.session);
  else if (document.querySelector("#main section.sessions")) setUrlSession(null);
  keepInView();
});
// A live entry's body was replaced: the entry takes the state it shows.
document.body.addEventListener("htmx:sseMessage", function (e) {
  var body = e.target, st = body && body.querySelector && body.querySelector(".line[data-status]");
  var entry = body && body.closest && body.closest("article.cmd");
  if (st && entry) entry.className = "cmd st-" + st.dataset.status;
  keepInView();
});
// Logged in on a session's URL: open that session.
document.body.addEventListener("htmx:afterSwap", function (e) {
  var id = urlSession();
  if (e.target && e.target.id === "app" && id && document.getElementById("main") && !document.getElementById("term")) {
    htmx.ajax("GET", "rpc/ui_session?session_id=" + encodeURIComponent(id), "#main");
  }
});
// A running command's elapsed time, counted here between updates.
setInterval(function () {
  var now = Date.now();
  document.querySelectorAll(".cmd .elapsed[data-ms]").forEach(function (el) {
    if (!el.dataset.t0) el.dataset.t0 = now;
    el.textContent = ((+el.dataset.ms + now - el.dataset.t0) / 1000).toFixed(1) + " s";
  });
}, 100);
// Without Server-Sent Events (e.g. behind a plain PostgREST), running
// commands are polled instead.
var noSse = false;
document.body.addEventListener("htmx:sseError", function () { noSse = true; });
setInterval(function () {
  if (!noSse) return;
  document.querySelectorAll("article.cmd[data-live]").forEach(function (el) {
    if (el.dataset.polling) return;
    el.dataset.polling = "1";
    htmx.ajax("GET", "rpc/ui_command?id=" + encodeURIComponent(el.dataset.id), { target: el, swap: "outerHTML" });
  });
}, 500);
// Copy buttons (session ids).
document.body.addEventListener("click", function (e) {
  var b = e.target.closest && e.target.closest("[data-copy]");
  if (!b) return;
  var done = function () { b.textContent = "copied"; setTimeout(function () { b.textContent = "copy"; }, 1500); };
  if (navigator.clipboard) navigator.clipboard.writeText(b.dataset.copy).then(done, function () {});
});
// File links (exports) and the download form go to the API as well.
document.body.addEventListener("htmx:load", function (e) {
  if (!apiBase) return;
  e.target.querySelectorAll && e.target.querySelectorAll('a[href^="rpc/"]').forEach(function (a) {
    a.setAttribute("href", apiBase + a.getAttribute("href"));
  });
  e.target.querySelectorAll && e.target.querySelectorAll('form[action^="rpc/"]').forEach(function (f) {
    f.setAttribute("action", apiBase + f.getAttribute("action"));
  });
});
// Uploads (the terminal's upload form): the chosen file's bytes go as a
// bytea in PostgreSQL's hex form (\x...) in the form's `content`, its name
// in `name`; then htmx sends the form (rpc/ui_upload, event pg-upload) and
// appends the command's entry, `cat > 'NAME'` in the working directory.
document.body.addEventListener("submit", function (e) {
  var form = e.target;
  if (!form.matches || !form.matches("form.upload")) return;
  e.preventDefault();
  var input = form.querySelector('input[type="file"]'), file = input && input.files && input.files[0];
  if (!file) return;
  file.arrayBuffer().then(function (buf) {
    var b = new Uint8Array(buf), hex = new Array(b.length);
    for (var i = 0; i < b.length; i++) hex[i] = (b[i] < 16 ? "0" : "") + b[i].toString(16);
    form.querySelector('input[name="name"]').value = file.name;
    form.querySelector('input[name="content"]').value = "\\x" + hex.join("");
    htmx.trigger(form, "pg-upload");
  });
});
