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
  if (e.detail.successful || x.status === 429 || x.status === 503) { flash.hidden = true; return; }
  var msg = "request failed";
  try { var j = JSON.parse(x.responseText); msg = j.message || msg; } catch (_) { if (x.status === 0) msg = "cannot reach the server"; }
  flash.textContent = (x.status ? x.status + ": " : "") + msg;
  flash.hidden = false;
  if (x.status === 401) htmx.ajax("GET", "rpc/ui_home", "#app");
});
// Command line: keep focus; Up/Down walk the session's earlier lines.
document.body.addEventListener("keydown", function (e) {
  var input = e.target;
  if (input.id !== "line" || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
  var lines = Array.prototype.map.call(document.querySelectorAll("#cmds .text"), function (n) { return n.textContent; });
  var i = input.dataset.hist === undefined ? lines.length : +input.dataset.hist;
  i = Math.max(0, Math.min(lines.length, i + (e.key === "ArrowUp" ? -1 : 1)));
  input.dataset.hist = i;
  input.value = i < lines.length ? lines[i] : "";
  e.preventDefault();
});
document.body.addEventListener("htmx:afterSettle", function () {
  var input = document.getElementById("line");
  if (input) { delete input.dataset.hist; if (document.activeElement === document.body) input.focus(); }
});
