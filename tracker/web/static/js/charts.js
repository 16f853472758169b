/* Progress charts drawn with the vendored uPlot from the chart JSON (the same numbers as the CSV).
   Exposes window.trackerCharts[view|region][measure] = {plot, data} so tests can read the drawn numbers. */
(function () {
  "use strict";
  window.trackerCharts = window.trackerCharts || {};
  var DAY = 86400;

  function ts(iso) { return Date.parse(iso + "T12:00:00Z") / 1000; }
  // Values arrive in the registry's display unit; they are printed with its decimals, like every page.
  function fmt(v, m) { return v === null || v === undefined ? "–" : v.toFixed(m.decimals); }
  // Y ticks: at most 5, each a distinct value at the measure's precision (no label printed twice).
  function ticks(lo, hi, decimals) {
    var step = Math.pow(10, -decimals), span = hi - lo, raw = span / 4;
    var nice = [1, 2, 2.5, 5, 10].map(function (k) { return k * Math.pow(10, Math.floor(Math.log10(raw || step))); })
      .filter(function (k) { return k >= raw; })[0] || raw;
    nice = Math.max(nice, step);
    var out = [];
    for (var t = Math.ceil(lo / nice) * nice; t <= hi + 1e-9; t += nice) { out.push(Number(t.toFixed(decimals))); }
    return out.filter(function (v, i) { return out.indexOf(v) === i; });
  }
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
      // Each later photo's band: that pair's baseline ± the MDC its verdict used (from the same record).
      var bands = data.points.map(function (p) { return p.bands[m.key] || null; });
      var draw = function (u) {
        var ctx = u.ctx, half = 9 * devicePixelRatio;
        ctx.save();
        ctx.fillStyle = "rgba(15,118,110,0.18)";
        bands.forEach(function (b, i) {
          if (!b || b[0] === null || b[1] === null) { return; }
          var px = u.valToPos(xs[i], "x", true);
          var top = u.valToPos(b[1], "y", true), bot = u.valToPos(b[0], "y", true);
          ctx.fillRect(px - half, top, 2 * half, Math.max(bot - top, 1));
        });
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
      bands.forEach(function (b) { if (b && b[0] !== null && b[1] !== null) { vals.push(b[0], b[1]); } });
      var step = Math.pow(10, -m.decimals);
      var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
      if (hi - lo < 4 * step) { var mid = (hi + lo) / 2; lo = mid - 2 * step; hi = mid + 2 * step; }
      var pad = (hi - lo) * 0.15;
      var ylo = lo - pad, yhi = hi + pad;
      if (m.minimum !== null) { ylo = Math.max(ylo, m.minimum); }  // no negative area or count on the axis
      if (m.maximum !== null) { yhi = Math.min(yhi, m.maximum); }
      var xmin = Math.min.apply(null, xs.concat(sessionXs)) - 5 * DAY, xmax = Math.max.apply(null, xs.concat(sessionXs)) + 5 * DAY;
      var width = Math.max(260, wrap.clientWidth || 480);
      var plot = new uPlot({
        width: width, height: 220,
        scales: { x: { time: true, range: [xmin, xmax] }, y: { range: [ylo, yhi] } },
        legend: { show: false },
        series: [
          { label: "Date", value: function (u, v) { return v ? new Date(v * 1000).toISOString().slice(0, 10) : "–"; } },
          { label: "Progress", stroke: "#0f766e", width: 2, spanGaps: true, points: { size: 8, fill: "#0f766e" },
            value: function (u, v) { return fmt(v, m); } },
          { label: "Healing", stroke: "#9a6700", width: 0, dash: [4, 4], points: { size: 9, fill: "#ffffff", stroke: "#9a6700", width: 2 },
            value: function (u, v) { return fmt(v, m); } }
        ],
        axes: [{}, { size: 56, splits: function () { return ticks(ylo, yhi, m.decimals); },
                     values: function (u, vs) { return vs.map(function (v) { return v.toFixed(m.decimals); }); } }],
        hooks: { drawClear: [draw] }
      }, plotData, wrap);
      window.trackerCharts[key][m.key] = { plot: plot, data: plotData, bands: bands,
                                           ticks: ticks(ylo, yhi, m.decimals).map(function (v) { return v.toFixed(m.decimals); }) };
    });
    if (!box.children.length) { box.appendChild(el("p", "muted", "No measurements yet for this view.")); }
    table(section.querySelector("[data-table]"), data);
    var list = section.querySelector("[data-sessions]");
    list.textContent = "";
    data.sessions.forEach(function (s, i) {
      list.appendChild(el("li", "", "S" + (i + 1) + " · " + s.label + ", " + s.date + (s.device ? " · " + s.device : "") + (s.settings ? " · " + s.settings : "")));
    });
  }

  function table(target, data) {
    target.textContent = "";
    var t = el("table", "verdicts chart-table"), head = el("tr");
    ["Date", "Photo"].concat(data.measures.map(function (m) { return m.label + (m.unit ? " (" + m.unit + ")" : ""); })).forEach(function (h) { head.appendChild(el("th", "", h)); });
    var thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    var body = el("tbody");
    data.points.forEach(function (p) {
      var tr = el("tr");
      tr.appendChild(el("td", "", p.date));
      tr.appendChild(el("td", "", p.label + (p.kind === "healing" ? " (healing)" : "")));
      data.measures.forEach(function (m) {
        var td = el("td", "", fmt(p.values[m.key], m));
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
