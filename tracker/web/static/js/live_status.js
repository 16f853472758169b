/* Live analysis states: queued, analysing, measured, refused or failed (with the reason),
   updated without a reload. An element with data-live-status="<states URL>" is watched:
   - thumbnails inside it (a[data-photo-id]) get a small badge, the reason as its tooltip;
   - if it carries data-photo-id itself (the photo page), a status line with the reason.
   It asks every 2 s while something is queued or analysing, then stops. */
(function () {
  "use strict";

  var BADGE = { queued: "", analysing: "accent", done: "ok", refused: "warn", failed: "danger", none: "" };

  function badge(el, info) {
    el.className = "badge live-state " + (BADGE[info.state] || "");
    el.textContent = info.label;
    el.setAttribute("data-state", info.state);
    if (info.reason) {
      el.title = info.reason;
    } else {
      el.removeAttribute("title");
    }
  }

  function updateThumb(thumb, info) {
    var el = thumb.querySelector(".live-state");
    if (!el) {
      el = document.createElement("span");
      thumb.appendChild(el);
    }
    badge(el, info);
    el.setAttribute("aria-label", "Analysis " + info.label + (info.reason ? ": " + info.reason : ""));
  }

  function updateLine(box, info, initial) {
    var line = box.querySelector(".live-state-line");
    if (!line) {
      if (info.state === initial) { return; } // the page already says it
      line = document.createElement("p");
      line.className = "live-state-line";
      line.setAttribute("role", "status");
      var heading = box.querySelector("h2");
      box.insertBefore(line, heading ? heading.nextSibling : box.firstChild);
      // The server-rendered state paragraph is now out of date.
      box.querySelectorAll("p").forEach(function (p) {
        if (p !== line && p.querySelector(".badge")) { p.hidden = true; }
      });
    }
    line.textContent = "";
    var el = document.createElement("span");
    badge(el, info);
    line.appendChild(el);
    var text = info.reason ? " " + info.reason : "";
    if (info.state === "done") { text = " The results are ready: reload the page to see them."; }
    if (info.state === "analysing" && info.attempts > 1) { text = " (attempt " + info.attempts + ")"; }
    line.appendChild(document.createTextNode(text));
  }

  function watch(box) {
    var url = box.getAttribute("data-live-status");
    var own = box.getAttribute("data-photo-id");
    var initial = box.getAttribute("data-initial-state") || "";
    var polls = 0;

    function apply(data) {
      var photos = (data && data.photos) || {};
      box.querySelectorAll("a[data-photo-id]").forEach(function (thumb) {
        var info = photos[thumb.getAttribute("data-photo-id")];
        if (info) { updateThumb(thumb, info); }
      });
      if (own && photos[own]) { updateLine(box, photos[own], initial); }
    }

    function tick() {
      polls += 1;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; } // signed out or no access: stop quietly
          apply(data);
          if (data.busy) { window.setTimeout(tick, polls < 60 ? 2000 : 5000); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    tick();
  }

  document.querySelectorAll("[data-live-status]").forEach(watch);
})();
