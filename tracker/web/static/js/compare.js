/* Compare viewer: side by side, slider, blink; zoom and pan move both photos together; overlay toggles. */
(function () {
  "use strict";

  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });

  var viewer = document.querySelector("[data-viewer]");
  if (!viewer) { return; }
  var stage = viewer.querySelector("[data-stage]");
  var slider = viewer.querySelector("[data-slider]");
  var later = viewer.querySelector(".pane-later");
  var layers = viewer.querySelectorAll(".zoomable");
  var view = { scale: 1, x: 0, y: 0 };
  var blinkTimer = null;

  function apply() {
    layers.forEach(function (el) {
      el.style.transform = "translate(" + view.x + "px," + view.y + "px) scale(" + view.scale + ")";
    });
  }
  // Display-size images first; the full-resolution ones only once the viewer zooms in.
  var FULL_AT = 1.5;
  function sharpen() {
    if (view.scale < FULL_AT) { return; }
    viewer.querySelectorAll("img[data-full]").forEach(function (img) {
      if (img.getAttribute("src") && !img.classList.contains("hidden") && img.getAttribute("src") !== img.dataset.full) {
        img.src = img.dataset.full;
      }
    });
  }
  function clampScale(s) { return Math.min(8, Math.max(1, s)); }
  function zoomAt(factor, cx, cy) {
    var s = clampScale(view.scale * factor);
    var k = s / view.scale;
    view.x = cx - (cx - view.x) * k;
    view.y = cy - (cy - view.y) * k;
    view.scale = s;
    if (s === 1) { view.x = 0; view.y = 0; }
    apply();
    sharpen();
  }
  function setSlider(value) {
    later.style.clipPath = viewer.dataset.mode === "slider" ? "inset(0 0 0 " + value + "%)" : "";
    stage.style.setProperty("--split", value + "%");
  }
  function setMode(mode) {
    viewer.dataset.mode = mode;
    viewer.querySelectorAll("[data-mode-btn]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.modeBtn === mode));
    });
    if (blinkTimer) { window.clearInterval(blinkTimer); blinkTimer = null; later.classList.remove("blink-off"); }
    if (mode === "blink") {
      blinkTimer = window.setInterval(function () { later.classList.toggle("blink-off"); }, 700);
    }
    setSlider(slider.value);
  }

  viewer.querySelectorAll("[data-mode-btn]").forEach(function (b) {
    b.addEventListener("click", function () { setMode(b.dataset.modeBtn); });
  });
  slider.addEventListener("input", function () { setSlider(slider.value); });
  viewer.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var r = stage.getBoundingClientRect();
      if (b.dataset.zoom === "reset") { view = { scale: 1, x: 0, y: 0 }; apply(); return; }
      var paneW = viewer.dataset.mode === "side" ? r.width / 2 : r.width;
      zoomAt(b.dataset.zoom === "in" ? 1.5 : 1 / 1.5, paneW / 2, r.height / 2);
    });
  });
  viewer.querySelectorAll("[data-overlay]").forEach(function (box) {
    box.addEventListener("change", function () {
      viewer.querySelectorAll("[data-layer='" + box.dataset.overlay + "']").forEach(function (img) {
        if (box.checked && !img.getAttribute("src")) { img.src = img.dataset.src; } // loaded when first shown
        img.classList.toggle("hidden", !box.checked);
      });
      sharpen();
    });
  });

  // Zoom with the wheel, pan by dragging (mouse, pen or one finger); the slider thumb keeps its drag.
  stage.addEventListener("wheel", function (e) {
    e.preventDefault();
    var pane = e.target.closest(".pane") || stage;
    var r = pane.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  var drag = null;
  stage.addEventListener("pointerdown", function (e) {
    if (e.target === slider || view.scale === 1) { return; }
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    view.x = drag.vx + (e.clientX - drag.x);
    view.y = drag.vy + (e.clientY - drag.y);
    apply();
  });
  stage.addEventListener("pointerup", function () { drag = null; });
  stage.addEventListener("pointercancel", function () { drag = null; });

  setMode(viewer.dataset.mode || "slider");
  window.trackerCompare = { view: view, setMode: setMode };
})();
