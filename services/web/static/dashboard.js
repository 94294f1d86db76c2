// Tsubame dashboard: the few things pages do by themselves. Served from the
// dashboard itself (Content-Security-Policy: script-src 'self'; no inline code).
(function () {
  "use strict";

  var FRAGMENT = { "X-Requested-With": "dashboard" };

  // Parts that refresh themselves (an app's units): the server renders them.
  function refresh(el) {
    fetch(el.getAttribute("data-refresh"), { credentials: "same-origin", headers: FRAGMENT })
      .then(function (resp) { return resp.ok ? resp.text() : null; })
      .then(function (html) { if (html !== null) { el.innerHTML = html; } })
      .catch(function () { /* next round */ });
  }

  document.querySelectorAll("[data-refresh]").forEach(function (el) {
    var every = parseInt(el.getAttribute("data-every"), 10) || 3000;
    setInterval(function () { refresh(el); }, every);
  });

  // Follow an app's log: new lines are appended as text (never parsed as HTML).
  document.querySelectorAll("[data-follow]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-target"));
    var state = document.getElementById("follow-state");
    var controller = null;

    function say(text) { if (state) { state.textContent = text; } }

    function start() {
      controller = new AbortController();
      button.textContent = "Stop following";
      button.setAttribute("aria-pressed", "true");
      say("connecting…");
      fetch(button.getAttribute("data-follow"), {
        credentials: "same-origin", headers: FRAGMENT, signal: controller.signal
      }).then(function (resp) {
        if (!resp.ok) {
          return resp.text().then(function (text) { throw new Error(text); });
        }
        // The answer's head came: new lines from now on arrive here.
        say("following…");
        var reader = resp.body.getReader();
        var decoder = new TextDecoder();
        function pump() {
          return reader.read().then(function (part) {
            if (part.done) { return; }
            var text = decoder.decode(part.value, { stream: true });
            if (text.trim()) {
              target.appendChild(document.createTextNode(text.replace(/^\n+/, "")));
              target.scrollTop = target.scrollHeight;
            }
            return pump();
          });
        }
        return pump();
      }).then(function () {
        // The server ends a follow after a while: carry on with a new one.
        if (controller && !controller.signal.aborted) { start(); }
      }).catch(function (err) {
        if (controller && controller.signal.aborted) { return; }
        stop();
        say(String(err.message || err));
      });
    }

    function stop() {
      if (controller) { controller.abort(); }
      controller = null;
      button.textContent = "Follow";
      button.setAttribute("aria-pressed", "false");
      say("");
    }

    button.addEventListener("click", function () { if (controller) { stop(); } else { start(); } });
  });
})();
