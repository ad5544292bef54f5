// Live tiles and lists for the console over the server's event stream, /v1/ws (issue 11): envelope
// {topic, event, seq, payload}. The connection is same-origin, so the browser sends the console's HttpOnly session
// cookie with the handshake; no token is ever put in the URL or readable by script. It resumes with ?since=<last
// seq> after any drop (exponential backoff with jitter, capped at 30 s), and treats 45 s of silence (no event, no
// heartbeat) as a dead connection. When the server closes it for an expired token (4401), the page first asks
// /console/session, which refreshes the session's cookies, so the reconnect's handshake carries the fresh access
// token (a page left open all day outlives many tokens); a signed-out session goes to the sign-in page. An event whose name is listed in an element's data-live-events makes htmx
// re-fetch that element ("live" trigger), so what is shown is always the server's page under the user's RLS.
// Nothing is kept in browser storage.
(function () {
  "use strict";
  var lastSeq = null, socket = null, attempt = 0, openedAt = 0, silenceTimer = null, retryTimer = null;
  var SILENCE_MS = 45000, MAX_BACKOFF_MS = 30000, CLOSE_AUTH = 4401, SHORT_LIVED_MS = 2000;

  function status(text, on) {
    var el = document.getElementById("live-status");
    if (el) { el.textContent = "live: " + text; el.classList.toggle("on", !!on); }
  }
  function url() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/v1/ws" + (lastSeq === null ? "" : "?since=" + encodeURIComponent(lastSeq));
  }
  function armSilence() {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(function () { if (socket) socket.close(4000, "silent"); }, SILENCE_MS);
  }
  function deliver(msg) {
    if (typeof msg.seq === "number") {
      if (lastSeq !== null && msg.seq <= lastSeq) return;  // a replay we already applied
      lastSeq = msg.seq;
    }
    document.querySelectorAll("[data-live-events]").forEach(function (el) {
      if (el.getAttribute("data-live-events").split(/\s+/).indexOf(msg.event) >= 0 && window.htmx) {
        window.htmx.trigger(el, "live");
      }
    });
    document.dispatchEvent(new CustomEvent("hs:event", { detail: msg }));
  }
  function connect() {
    clearTimeout(retryTimer);
    try { socket = new WebSocket(url()); } catch (e) { return schedule(connect); }
    status("connecting", false);
    socket.onopen = function () { attempt = 0; openedAt = Date.now(); status("on", true); armSilence(); };
    socket.onmessage = function (e) {
      armSilence();
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (msg && msg.event && msg.event !== "heartbeat") deliver(msg);
    };
    socket.onclose = function (e) {
      clearTimeout(silenceTimer);
      socket = null;
      status("reconnecting", false);
      if (e.code !== CLOSE_AUTH) return schedule(connect);
      // A token that ran out on a socket that served a while: refresh and reconnect at once. Refused again at
      // once (the refresh did not help): keep refreshing, but with backoff, never in a tight loop.
      var lived = openedAt ? Date.now() - openedAt : 0;
      openedAt = 0;
      if (lived >= SHORT_LIVED_MS) refreshThenConnect(); else schedule(refreshThenConnect);
    };
    socket.onerror = function () { if (socket) socket.close(); };
  }
  function refreshThenConnect() {
    // The session's refresh rides on an ordinary same-origin request: its answer rotates the HttpOnly cookies.
    fetch("/console/session", { credentials: "same-origin", redirect: "manual" }).then(function (r) {
      if (r.status === 204) { connect(); return; }
      if (r.type === "opaqueredirect" || r.status === 401 || r.status === 303) {
        status("signed out", false);
        location.assign("/console/login");
        return;
      }
      schedule(refreshThenConnect);
    }, function () { schedule(refreshThenConnect); });  // the server is down: try again later, refreshing first
  }
  function schedule(next) {
    attempt += 1;
    var cap = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, attempt));
    clearTimeout(retryTimer);
    retryTimer = setTimeout(next, Math.random() * cap);
  }
  window.hsLive = { deliver: deliver, lastSeq: function () { return lastSeq; } };
  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.getAttribute("data-live") === "1" && "WebSocket" in window) connect();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !socket) connect();
  });
})();
