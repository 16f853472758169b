/* Region editor: tap points of a polygon on the baseline (full-resolution coordinates), or the
   chart's four corners; drag a point to move it. Values go to hidden fields as JSON. */
(function () {
  "use strict";
  var form = document.querySelector("[data-region-editor]");
  if (!form) { return; }
  var W = Number(form.dataset.width), H = Number(form.dataset.height);
  var stage = form.querySelector("[data-stage]"), svg = form.querySelector("[data-svg]");
  var polyField = form.querySelector("[data-polygon]"), cornerField = form.querySelector("[data-corners]");
  var status = form.querySelector("[data-region-status]");
  var NS = "http://www.w3.org/2000/svg";
  var tool = "polygon", drag = null;
  function parse(v) {
    try { var a = JSON.parse(v || "[]"); if (a.length && typeof a[0] === "number") { var o = []; for (var i = 0; i < a.length; i += 2) { o.push([a[i], a[i + 1]]); } return o; } return a; }
    catch (e) { return []; }
  }
  var pts = { polygon: parse(polyField.value), corners: parse(cornerField.value) };
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);

  function draw() {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    if (pts.polygon.length) {
      var poly = document.createElementNS(NS, "polygon");
      poly.setAttribute("points", pts.polygon.map(function (p) { return p.join(","); }).join(" "));
      svg.appendChild(poly);
    }
    var r = Math.max(W, H) / 120;
    ["polygon", "corners"].forEach(function (kind) {
      pts[kind].forEach(function (p, i) {
        var c = document.createElementNS(NS, "circle");
        c.setAttribute("cx", p[0]); c.setAttribute("cy", p[1]); c.setAttribute("r", r);
        if (kind === "corners") { c.setAttribute("class", "corner"); }
        c.dataset.kind = kind; c.dataset.index = i;
        svg.appendChild(c);
      });
    });
    polyField.value = pts.polygon.length ? JSON.stringify(pts.polygon) : "";
    cornerField.value = pts.corners.length ? JSON.stringify(pts.corners) : "";
    status.textContent = pts.polygon.length + " region points · " + pts.corners.length + " of 4 chart corners";
  }
  function toImage(e) {
    var b = svg.getBoundingClientRect();
    return [Math.round((e.clientX - b.left) / b.width * W), Math.round((e.clientY - b.top) / b.height * H)];
  }
  svg.addEventListener("pointerdown", function (e) {
    if (e.target.tagName === "circle") { drag = e.target.dataset; svg.setPointerCapture(e.pointerId); return; }
    if (tool === "corners" && pts.corners.length >= 4) { status.textContent = "All four corners are marked: drag one to move it, or Clear."; return; }
    pts[tool].push(toImage(e)); draw();
  });
  svg.addEventListener("pointermove", function (e) { if (drag) { pts[drag.kind][Number(drag.index)] = toImage(e); draw(); } });
  svg.addEventListener("pointerup", function () { drag = null; });
  form.querySelectorAll("[data-tool]").forEach(function (b) {
    b.addEventListener("click", function () {
      tool = b.dataset.tool;
      form.querySelectorAll("[data-tool]").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
    });
  });
  form.querySelector("[data-undo]").addEventListener("click", function () { pts[tool].pop(); draw(); });
  form.querySelector("[data-clear]").addEventListener("click", function () { pts[tool] = []; draw(); });
  draw();
})();
