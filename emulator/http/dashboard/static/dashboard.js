// The dashboard's only script: while a page is open, it fetches the page's live part again every
// `data-refresh-ms` milliseconds and swaps it in, keeping open details open. It reads what the
// control plane reads: a refresh never counts as a client's read of a job. Without it the pages
// work as they are (reload to update).
(function () {
  "use strict";
  var live = document.getElementById("live");
  var toggle = document.getElementById("auto-refresh");
  var state = document.querySelector("[data-refresh-state]");
  if (!live) {
    if (toggle) toggle.closest("label").hidden = true;
    return;
  }
  var every = parseInt(document.body.getAttribute("data-refresh-ms"), 10) || 1000;
  var busy = false;
  var refreshes = 0;

  function say(text) {
    if (state) state.textContent = text;
  }

  function openDetails() {
    return Array.prototype.map.call(live.querySelectorAll("details[open][id]"), function (d) { return d.id; });
  }

  function refresh() {
    if (busy || document.hidden || (toggle && !toggle.checked)) return;
    busy = true;
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "live");
    fetch(url.toString(), { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401) {
          window.location.reload(); // the session ended: show the token form
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        var open = openDetails();
        if (html !== live.innerHTML) {
          live.innerHTML = html;
          open.forEach(function (id) {
            var details = document.getElementById(id);
            if (details) details.open = true;
          });
        }
        refreshes += 1;
        document.body.setAttribute("data-refreshes", String(refreshes));
        say("");
      })
      .catch(function (error) {
        say("(not updated: " + error.message + ")");
      })
      .finally(function () {
        busy = false;
      });
  }

  window.setInterval(refresh, every);
})();
