/* Small behaviours shared by every page. No inline script anywhere (strict CSP). */
(function () {
  "use strict";

  // Ask before destructive actions: <button data-confirm="Question?">
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Copy a field's text: <button data-copy="#selector">
  document.addEventListener("click", function (event) {
    var btn = event.target.closest("[data-copy]");
    if (!btn) { return; }
    var field = document.querySelector(btn.getAttribute("data-copy"));
    if (!field) { return; }
    field.select();
    var done = function () { btn.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // A wide series grid opens scrolled to its newest visit (the view column stays pinned).
  document.querySelectorAll(".grid-scroll").forEach(function (el) {
    if (el.scrollWidth > el.clientWidth) { el.scrollLeft = el.scrollWidth; }
  });

  // Thumbnails still being prepared in the background: ask until they are ready.
  function poll(el, onReady, attempt) {
    attempt = attempt || 0;
    if (attempt > 90) { el.textContent = "Preview not ready yet: reload later"; return; }
    fetch(el.getAttribute("data-poll") || el.getAttribute("data-poll-display"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      var photo = data && data.photo;
      if (photo && photo.derivatives === "ready") { onReady(photo); return; }
      if (photo && photo.derivatives === "failed") { el.textContent = "Preview could not be made"; return; }
      window.setTimeout(function () { poll(el, onReady, attempt + 1); }, attempt < 10 ? 1000 : 3000);
    }).catch(function () {
      window.setTimeout(function () { poll(el, onReady, attempt + 1); }, 3000);
    });
  }

  document.querySelectorAll("[data-poll]").forEach(function (el) {
    poll(el, function (photo) {
      var img = document.createElement("img");
      img.src = photo.thumb_url;
      img.alt = photo.view + ", " + photo.time_point;
      el.replaceWith(img);
    });
  });
  document.querySelectorAll("[data-poll-display]").forEach(function (el) {
    poll(el, function (photo) {
      var img = document.createElement("img");
      img.src = photo.display_url;
      img.alt = photo.view + ", " + photo.time_point;
      el.replaceWith(img);
    });
  });

  // Show the close-up region and "days after" fields only when they apply.
  window.trackerToggleTagFields = function (scope, view, timePoint) {
    scope.querySelectorAll("[data-region-field]").forEach(function (f) {
      f.classList.toggle("hidden", view !== "closeup");
    });
    scope.querySelectorAll("[data-days-field]").forEach(function (f) {
      f.classList.toggle("hidden", timePoint !== "after");
    });
  };
})();
