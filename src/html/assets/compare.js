/* The page of a comparison: a horizontal bar chart per metric (one bar per schedule, in its
   palette colour), tokens and time per layer as lines. Under a fitted framework the time and
   the reduction bars carry a whisker for their 80 % interval. Data: src/html/compare.rs. */
(function () {
  "use strict";
  var D = AIM.data();
  var hidden = {};

  /* The value a metric's bar shows, in the chart's unit, or null when the row has none. */
  function value(r, field) {
    var v = r[field];
    if (v === null || v === undefined) return null;
    if (field === "time_s" || field === "importance_time_s") return v * 1e3;
    if (field === "flops") return v / 1e12;
    if (field === "peak_memory_bytes") return v / 1e9;
    return v;
  }
  /* A bar's 80 % interval in the chart's unit, or null (the roofline, other metrics). */
  function interval(r, field) {
    if (field === "time_s" && r.time_interval_s) return [r.time_interval_s[0] * 1e3, r.time_interval_s[1] * 1e3];
    if (field === "reduction_time" && r.reduction_time_interval) return r.reduction_time_interval;
    return null;
  }
  function unit(field) {
    return { time_s: " ms", importance_time_s: " ms", flops: " TFLOPs", peak_memory_bytes: " GB" }[field] || "\u00d7";
  }

  function rowTip(r) {
    return [r.schedule, [
      ["what it does", r.summary],
      ["time", AIM.fix(r.time_s * 1e3, 3) + " ms" + (r.time_interval_s ? " (80 %: " +
        AIM.fix(r.time_interval_s[0] * 1e3, 1) + "\u2013" + AIM.fix(r.time_interval_s[1] * 1e3, 1) + " ms)" : "")],
      ["TFLOPs", AIM.fix(r.flops / 1e12, 4)],
      ["speed-up vs " + D.first, AIM.fix(r.speedup, 2) + "\u00d7"],
      ["vs no reduction", AIM.fix(r.reduction_time, 2) + "\u00d7 time, " + AIM.fix(r.reduction_flops, 2) + "\u00d7 FLOPs"],
      ["peak memory", AIM.fix(r.peak_memory_bytes / 1e9, 2) + " of " + AIM.fix(r.device_memory_bytes / 1e9, 1) + " GB" + (r.fits ? "" : " (does NOT fit)")],
      ["importance", r.importance_time_s === null ? "not priced (llm-viewer)" : AIM.fix(r.importance_time_s * 1e3, 3) + " ms"]
    ]];
  }

  function bars(m) {
    var box = document.getElementById(m.id);
    var rows = D.rows.filter(function (r) { return !hidden[r.schedule]; });
    var vals = rows.map(function (r) { return value(r, m.field); });
    var extra = [];
    if (m.field === "peak_memory_bytes") extra = rows.map(function (r) { return r.device_memory_bytes / 1e9; });
    rows.forEach(function (r) { var iv = interval(r, m.field); if (iv) extra.push(iv[1]); });
    var rowH = 26;
    var labelW = Math.min(220, 24 + 7.2 * Math.max.apply(null, D.rows.map(function (r) { return r.schedule.length; })));
    var f = AIM.frame(box, {
      height: 58 + rowH * Math.max(1, rows.length) + 28, x: AIM.domain(vals.concat(extra).concat([0]), false), y: [0, 1],
      title: m.label, marginLeft: labelW, marginRight: 100, xlabel: null, yticks: false
    });
    var step = f.height / Math.max(1, rows.length);
    rows.forEach(function (r, i) {
      var v = vals[i];
      var y = f.top + i * step + step * 0.18, h = step * 0.64;
      AIM.text(f.plot, f.left - 8, y + h / 2 + 4, r.schedule, { "text-anchor": "end" });
      if (v === null) {
        AIM.text(f.plot, f.left + 6, y + h / 2 + 4, "not priced by this cost model", { "class": "axis-label" });
        return;
      }
      var x0 = f.x(0), x1 = f.x(v);
      var b = AIM.el("rect", {
        x: Math.min(x0, x1), y: y, width: Math.max(1, Math.abs(x1 - x0)), height: h,
        fill: r.style.color, "class": "mark", "data-schedule": r.schedule,
        "fill-opacity": m.field === "peak_memory_bytes" && !r.fits ? 0.35 : 1
      }, f.plot);
      AIM.hover(b, function () { return rowTip(r); });
      var label = AIM.fmt(v) + unit(m.field) + (m.field === "peak_memory_bytes" && !r.fits ? " (does not fit)" : "");
      var iv = interval(r, m.field);
      if (iv) {
        // The 80 % interval: a whisker across the bar's end, the label past its high end.
        var lo = f.x(iv[0]), hi = f.x(iv[1]), mid = y + h / 2;
        var whisker = "M" + lo + "," + mid + "L" + hi + "," + mid + "M" + lo + "," + (mid - 5) + "L" + lo + "," + (mid + 5) +
            "M" + hi + "," + (mid - 5) + "L" + hi + "," + (mid + 5);
        // A white halo under a dark line: visible on every bar colour, black included.
        AIM.el("path", { d: whisker, stroke: "#fff", "stroke-width": 3.5, fill: "none" }, f.plot);
        AIM.el("path", { d: whisker, stroke: "#222", "stroke-width": 1.5, fill: "none", "class": "interval" }, f.plot);
        x1 = Math.max(x1, hi);
      }
      AIM.text(f.plot, x1 + 5, y + h / 2 + 4, label);
      if (m.field === "peak_memory_bytes") {
        var dx = f.x(r.device_memory_bytes / 1e9);
        AIM.el("line", { x1: dx, x2: dx, y1: y - 3, y2: y + h + 3, stroke: "#000", "stroke-width": 2, "stroke-dasharray": "4 2" }, f.plot);
      }
    });
    if (m.field === "speedup" || m.field === "reduction_time") {
      var one = f.x(1);
      AIM.el("line", { x1: one, x2: one, y1: f.top, y2: f.top + f.height, stroke: "#333", "stroke-dasharray": "3 3" }, f.plot);
    }
  }

  function perLayer(id, title, unitLabel, pick) {
    var box = document.getElementById(id);
    var rows = D.rows.filter(function (r) { return !hidden[r.schedule]; });
    var n = Math.max.apply(null, D.rows.map(function (r) { return r.layer_tokens.length; }));
    var ys = [];
    rows.forEach(function (r) { r.layer_tokens.forEach(function (_, i) { ys.push(pick(r, i)); }); });
    var f = AIM.frame(box, {
      height: 300, x: [0, Math.max(1, n - 1)], y: AIM.domain(ys.length ? ys : [1], false),
      title: title, xlabel: "decoder layer", ylabel: unitLabel, marginLeft: 64
    });
    rows.forEach(function (r) {
      var pts = r.layer_tokens.map(function (_, i) { return [f.x(i), f.y(pick(r, i))]; });
      AIM.line(f.plot, pts, r.style, 2.2);
      r.layer_tokens.forEach(function (_, i) {
        var m = AIM.marker(f.plot, r.style.marker, f.x(i), f.y(pick(r, i)), 3.2, r.style.color, true, { "class": "mark" });
        AIM.hover(m, function () {
          return [r.schedule + " · layer " + i, [
            ["tokens", String(r.layer_tokens[i])],
            ["time", AIM.fix(r.layer_time_s[i] * 1e3, 3) + " ms"]
          ]];
        });
      });
    });
  }

  function draw() {
    D.metrics.forEach(bars);
    perLayer("chart-layer-tokens", "Tokens per layer", "tokens", function (r, i) { return r.layer_tokens[i]; });
    perLayer("chart-layer-time", "Time per layer", "time (ms)", function (r, i) { return r.layer_time_s[i] * 1e3; });
    AIM.legend(document.getElementById("metrics-grid"), D.rows.map(function (r) {
      return { key: r.schedule, label: r.schedule, color: r.style.color, marker: r.style.marker, dash: r.style.dash, kind: "line" };
    }), function (off) { hidden = off; draw(); }, hidden);
  }

  AIM.start("compare", draw);
})();
