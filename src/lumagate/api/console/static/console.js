/* lumagate console: the little script the pages need (copy, confirm, live task progress).
   Served from the gateway itself; no library, no other host. */
(function () {
  "use strict";

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.querySelector(button.getAttribute("data-copy"));
        if (!source) { return; }
        var text = source.textContent.trim();
        var done = function () {
          var label = button.textContent;
          button.textContent = button.getAttribute("data-copied") || label;
          setTimeout(function () { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
        } else {
          selectText(source);
          try { document.execCommand("copy"); done(); } catch (e) { /* selected for the user */ }
        }
      });
    });
  }

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  var TERMINAL = { completed: true, failed: true };

  function livePlayer() {
    var player = document.getElementById("player");
    if (!player || TERMINAL[player.getAttribute("data-state")]) { return; }
    var url = player.getAttribute("data-status-url");
    var pill = document.getElementById("live-state");
    var labels = JSON.parse(pill.getAttribute("data-labels") || "{}");
    var bar = document.getElementById("live-progress");
    var percent = document.getElementById("live-percent");
    var failure = document.getElementById("live-failure");
    var video = document.getElementById("video");

    function show(status) {
      player.setAttribute("data-state", status.state);
      pill.className = "pill " + status.state;
      pill.textContent = labels[status.state] || status.state;
      bar.value = status.progress;
      percent.textContent = status.progress + "%";
      if (status.failure_reason) {
        failure.textContent = status.failure_reason;
        failure.hidden = false;
      }
      if (status.state === "completed" && status.video) {
        if (status.thumbnail) { video.poster = status.thumbnail; }
        video.src = status.video;
        video.hidden = false;
        video.play().catch(function () { /* autoplay refused: the controls remain */ });
        var extend = document.getElementById("extend-form");
        if (extend) { extend.hidden = false; }
      }
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (status) {
          show(status);
          if (!TERMINAL[status.state]) { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons();
    confirmations();
    livePlayer();
  });
})();
