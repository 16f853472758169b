/* Progress charts drawn with the vendored uPlot from the chart JSON (the same numbers as the CSV).
   Exposes window.trackerCharts[view|region][measure] = {plot, data} so tests can read the drawn numbers. */
(function () {
  "use strict";
  window.trackerCharts = window.trackerCharts || {};
  var DAY = 86400;

  function ts(iso) { return Date.parse(iso + "T12:00:00Z") / 1000; }
  function fmt(v) { return v === null || v === undefined ? "–" : (Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function build(section, data) {
    var key = data.view + "|" + data.region;
    var box = section.querySelector("[data-charts]");
    box.textContent = "";
    window.trackerCharts[key] = {};
    var xs = data.points.map(function (p) { return ts(p.date); });
    var sessionXs = data.sessions.map(function (s) { return ts(s.date); });
    var pending = [];
    data.measures.forEach(function (m) {
      var progress = data.points.map(function (p) { return p.kind === "healing" ? null : p.values[m.key]; });
      var healing = data.points.map(function (p) { return p.kind === "healing" ? p.values[m.key] : null; });
      if (progress.concat(healing).every(function (v) { return v === null || v === undefined; })) { return; }
      var wrap = el("div", "chart-box");
      wrap.setAttribute("data-measure", m.key);
      wrap.appendChild(el("h3", "", m.label + (m.unit ? " (" + m.unit + ")" : "")));
      box.appendChild(wrap);
      pending.push({ m: m, wrap: wrap, progress: progress, healing: healing });
    });
    // Plots are made once every box is in the grid, so each takes its column's width.
    pending.forEach(function (item) {
      var m = item.m, wrap = item.wrap, progress = item.progress, healing = item.healing;
      var plotData = [xs, progress, healing];
      var band = function (u) {
        if (m.baseline === null || m.mdc === null) { return; }
        var ctx = u.ctx;
        var top = u.valToPos(m.baseline + m.mdc, "y", true), bot = u.valToPos(m.baseline - m.mdc, "y", true);
        ctx.save();
        ctx.fillStyle = "rgba(15,118,110,0.15)";
        ctx.fillRect(u.bbox.left, top, u.bbox.width, bot - top);
        ctx.strokeStyle = "#7a8796";
        ctx.setLineDash([4, 4]);
        sessionXs.forEach(function (x, i) {
          var px = u.valToPos(x, "x", true);
          ctx.beginPath(); ctx.moveTo(px, u.bbox.top); ctx.lineTo(px, u.bbox.top + u.bbox.height); ctx.stroke();
          ctx.fillStyle = "#5b6878";
          ctx.font = (11 * devicePixelRatio) + "px system-ui";
          ctx.fillText("S" + (i + 1), px + 3, u.bbox.top + 12 * devicePixelRatio);
        });
        ctx.restore();
      };
      var vals = progress.concat(healing).filter(function (v) { return v !== null && v !== undefined; });
      if (m.baseline !== null && m.mdc !== null) { vals.push(m.baseline + m.mdc, m.baseline - m.mdc); }
      var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals), pad = (hi - lo) * 0.15 || 1;
      var xmin = Math.min.apply(null, xs.concat(sessionXs)) - 5 * DAY, xmax = Math.max.apply(null, xs.concat(sessionXs)) + 5 * DAY;
      var width = Math.max(260, wrap.clientWidth || 480);
      var plot = new uPlot({
        width: width, height: 220,
        scales: { x: { time: true, range: [xmin, xmax] }, y: { range: [lo - pad, hi + pad] } },
        legend: { show: false },
        series: [
          { label: "Date", value: function (u, v) { return v ? new Date(v * 1000).toISOString().slice(0, 10) : "–"; } },
          { label: "Progress", stroke: "#0f766e", width: 2, spanGaps: true, points: { size: 8, fill: "#0f766e" },
            value: function (u, v) { return fmt(v); } },
          { label: "Healing", stroke: "#9a6700", width: 0, dash: [4, 4], points: { size: 9, fill: "#ffffff", stroke: "#9a6700", width: 2 },
            value: function (u, v) { return fmt(v); } }
        ],
        axes: [{}, { size: 56 }],
        hooks: { drawClear: [band] }
      }, plotData, wrap);
      window.trackerCharts[key][m.key] = { plot: plot, data: plotData, baseline: m.baseline, mdc: m.mdc };
    });
    if (!box.children.length) { box.appendChild(el("p", "muted", "No measurements yet for this view.")); }
    table(section.querySelector("[data-table]"), data);
    var list = section.querySelector("[data-sessions]");
    list.textContent = "";
    data.sessions.forEach(function (s, i) {
      var parts = Object.keys(s.settings).map(function (k) { return k.replace(/_/g, " ") + " " + s.settings[k]; });
      list.appendChild(el("li", "", "S" + (i + 1) + " · " + s.label + ", " + s.date + (s.device ? " · " + s.device : "") + (parts.length ? " · " + parts.join(", ") : "")));
    });
  }

  function table(target, data) {
    target.textContent = "";
    var t = el("table", "verdicts chart-table"), head = el("tr");
    ["Date", "Photo"].concat(data.measures.map(function (m) { return m.label; })).forEach(function (h) { head.appendChild(el("th", "", h)); });
    var thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    var body = el("tbody");
    data.points.forEach(function (p) {
      var tr = el("tr");
      tr.appendChild(el("td", "", p.date));
      tr.appendChild(el("td", "", p.label + (p.kind === "healing" ? " (healing)" : "")));
      data.measures.forEach(function (m) {
        var td = el("td", "", fmt(p.values[m.key]));
        if (p.verdicts[m.key] && p.verdicts[m.key] !== "baseline") { td.title = p.verdicts[m.key]; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    t.appendChild(body);
    target.appendChild(t);
  }

  document.querySelectorAll("[data-chart-view]").forEach(function (section) {
    fetch(section.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("status " + r.status); } return r.json(); })
      .then(function (data) { build(section, data); section.setAttribute("data-ready", "1"); })
      .catch(function () { section.querySelector("[data-charts]").textContent = "The chart could not be loaded. Reload the page to try again."; });
  });
})();
