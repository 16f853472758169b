/* Live analysis states: queued, analysing, measured, retake needed, not comparable (why) or
   failed, updated without a reload. An element with data-live-status="<states URL>" is watched:
   - thumbnails inside it (a[data-photo-id]) get a small badge, the reason as its tooltip;
   - if it carries data-photo-id itself (the photo page), a status line with the reason;
   - when a photo's result arrives, every [data-live-fragment="<URL>"] on the page (the progress
     panel, the photo's measures) is fetched again and swapped in.
   It asks every 2 s while something is queued or analysing, then stops. */
(function () {
  "use strict";

  var BADGE = { queued: "", analysing: "accent", measured: "ok", retake: "warn", not_comparable: "warn",
                failed: "danger", none: "" };
  var BUSY = { queued: true, analysing: true };

  function refreshFragments() {
    document.querySelectorAll("[data-live-fragment]").forEach(function (box) {
      fetch(box.getAttribute("data-live-fragment"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) { return; }
          box.innerHTML = html;
          box.setAttribute("data-refreshed", String(Date.now()));
        });
    });
  }

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
    // Why a retake is needed or the photo is not comparable: written out, not only a tooltip.
    var why = thumb.querySelector(".live-reason");
    var text = (info.state === "retake" || info.state === "not_comparable" || info.state === "failed") ? info.reason : "";
    if (text && !why) {
      why = document.createElement("span");
      why.className = "live-reason";
      thumb.appendChild(why);
    }
    if (why) { why.textContent = text || ""; why.hidden = !text; }
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
    if (info.state === "measured") { text = info.note ? " " + info.note : " The results are shown below."; }
    if (info.state === "analysing" && info.attempts > 1) { text = " (attempt " + info.attempts + ")"; }
    line.appendChild(document.createTextNode(text));
  }

  function watch(box) {
    var url = box.getAttribute("data-live-status");
    var own = box.getAttribute("data-photo-id");
    var initial = box.getAttribute("data-initial-state") || "";
    var polls = 0;
    var last = {};

    function apply(data) {
      var photos = (data && data.photos) || {};
      var arrived = false;
      Object.keys(photos).forEach(function (id) {
        var was = last[id];
        if (was !== undefined && BUSY[was] && !BUSY[photos[id].state]) { arrived = true; }
        last[id] = photos[id].state;
      });
      if (arrived) { refreshFragments(); }
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
