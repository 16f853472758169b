/* Progress charts drawn with the vendored uPlot from the chart JSON (the same numbers as the CSV).
   Exposes window.trackerCharts[view|region][measure] = {plot, data} so tests can read the drawn numbers. */
(function () {
  "use strict";
  window.trackerCharts = window.trackerCharts || {};
  var DAY = 86400;
  // Height (CSS px) of the band above each plotting area that holds the session labels.
  var LABEL_BAND = 20;
  // Their font size (CSS px): also the height of each label's box in u.sessionLabels.
  var LABEL_FONT_PX = 11;
  // One colour per area of the face (FACE_REGIONS order), apart from the whole face's teal.
  var AREA_COLOURS = ["#7c3aed", "#c2410c", "#b91c1c", "#1d4ed8", "#4d7c0f", "#be185d", "#0e7490", "#a16207"];

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
    var areas = (data.regions || []).map(function (r, i) { return { key: r.key, label: r.label, colour: AREA_COLOURS[i % AREA_COLOURS.length] }; });
    var shownAreas = {};
    areaControl(section, areas, shownAreas, key);
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
      // Each area's line: the pair's own figure for that area (healing photos are not progress).
      var areaLines = areas.map(function (a) {
        return data.points.map(function (p) { var r = p.regions && p.regions[a.key]; return p.kind === "healing" || !r ? null : (r.values[m.key] === undefined ? null : r.values[m.key]); });
      });
      var areaBands = areas.map(function (a) {
        return data.points.map(function (p) { var r = p.regions && p.regions[a.key]; return p.kind === "healing" || !r ? null : (r.bands[m.key] || null); });
      });
      var plotData = [xs, progress, healing].concat(areaLines);
      // Each later photo's band: that pair's baseline ± the MDC its verdict used (from the same record).
      var bands = data.points.map(function (p) { return p.bands[m.key] || null; });
      var draw = function (u) {
        var ctx = u.ctx, half = 9 * devicePixelRatio;
        ctx.save();
        ctx.fillStyle = "rgba(15,118,110,0.18)";
        var paint = function (b, i, w) {
          if (!b || b[0] === null || b[1] === null) { return; }
          var px = u.valToPos(xs[i], "x", true);
          var top = u.valToPos(b[1], "y", true), bot = u.valToPos(b[0], "y", true);
          ctx.fillRect(px - w, top, 2 * w, Math.max(bot - top, 1));
        };
        bands.forEach(function (b, i) { paint(b, i, half); });
        // A shown area's band: that area's baseline ± its own detectable change, narrower, in its colour.
        areas.forEach(function (a, j) {
          if (!shownAreas[a.key]) { return; }
          ctx.fillStyle = a.colour + "33";
          areaBands[j].forEach(function (b, i) { paint(b, i, half / 2); });
        });
        ctx.strokeStyle = "#7a8796";
        ctx.setLineDash([4, 4]);
        // Session labels sit in the band above the plotting area (LABEL_BAND), never over a point:
        // a figure at the top of its scale (a red area of 100 %) would otherwise hide under "S1".
        var labels = [];
        ctx.font = (LABEL_FONT_PX * devicePixelRatio) + "px system-ui";
        sessionXs.forEach(function (x, i) {
          var px = u.valToPos(x, "x", true), text = "S" + (i + 1), baseline = u.bbox.top - 5 * devicePixelRatio;
          ctx.beginPath(); ctx.moveTo(px, u.bbox.top); ctx.lineTo(px, u.bbox.top + u.bbox.height); ctx.stroke();
          ctx.fillStyle = "#5b6878";
          ctx.fillText(text, px + 3, baseline);
          var w = ctx.measureText(text).width;
          labels.push({ left: (px + 3) / devicePixelRatio, right: (px + 3 + w) / devicePixelRatio,
                        top: baseline / devicePixelRatio - LABEL_FONT_PX, bottom: baseline / devicePixelRatio });
        });
        u.sessionLabels = labels;  // CSS px from the canvas's top left, for the page's own checks
        ctx.restore();
      };
      var vals = progress.concat(healing).filter(function (v) { return v !== null && v !== undefined; });
      areaLines.forEach(function (line) { line.forEach(function (v) { if (v !== null) { vals.push(v); } }); });
      bands.concat.apply(bands, areaBands).forEach(function (b) { if (b && b[0] !== null && b[1] !== null) { vals.push(b[0], b[1]); } });
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
        width: width, height: 220, padding: [LABEL_BAND, null, null, null],
        scales: { x: { time: true, range: [xmin, xmax] }, y: { range: [ylo, yhi] } },
        legend: { show: false },
        series: [
          { label: "Date", value: function (u, v) { return v ? new Date(v * 1000).toISOString().slice(0, 10) : "–"; } },
          { label: "Progress", stroke: "#0f766e", width: 2, spanGaps: true, points: { size: 8, fill: "#0f766e" },
            value: function (u, v) { return fmt(v, m); } },
          { label: "Healing", stroke: "#9a6700", width: 0, dash: [4, 4], points: { size: 9, fill: "#ffffff", stroke: "#9a6700", width: 2 },
            value: function (u, v) { return fmt(v, m); } }
        ].concat(areas.map(function (a) {
          return { label: a.label, stroke: a.colour, width: 1.5, spanGaps: true, show: !!shownAreas[a.key],
                   points: { size: 6, fill: a.colour }, value: function (u, v) { return fmt(v, m); } };
        })),
        axes: [{}, { size: 56, splits: function () { return ticks(ylo, yhi, m.decimals); },
                     values: function (u, vs) { return vs.map(function (v) { return v.toFixed(m.decimals); }); } }],
        hooks: { drawClear: [draw] }
      }, plotData, wrap);
      window.trackerCharts[key][m.key] = { plot: plot, data: plotData, bands: bands, areaBands: areaBands,
                                           areas: areas.map(function (a) { return a.key; }),
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

  // "Areas of the face": a checkbox per measured area; a ticked area's line is drawn next to the whole face.
  function areaControl(section, areas, shownAreas, key) {
    var old = section.querySelector("[data-areas]");
    if (old) { old.remove(); }
    if (!areas.length) { return; }
    var box = el("fieldset", "area-choice");
    box.setAttribute("data-areas", "");
    box.appendChild(el("legend", "", "Areas of the face"));
    var whole = el("span", "area-whole");
    whole.appendChild(el("span", "key key-progress"));
    whole.appendChild(document.createTextNode("Whole face"));
    box.appendChild(whole);
    areas.forEach(function (a, j) {
      var label = el("label", "area-option"), input = el("input"), swatch = el("span", "key");
      input.type = "checkbox";
      input.value = a.key;
      input.setAttribute("data-area", a.key);
      swatch.style.background = a.colour;
      label.appendChild(input);
      label.appendChild(swatch);
      label.appendChild(document.createTextNode(a.label));
      input.addEventListener("change", function () {
        shownAreas[a.key] = input.checked;
        Object.keys(window.trackerCharts[key] || {}).forEach(function (m) {
          var plot = window.trackerCharts[key][m].plot;
          plot.setSeries(3 + j, { show: input.checked });
          plot.redraw(false);
        });
      });
      box.appendChild(label);
    });
    section.querySelector("[data-charts]").before(box);
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
