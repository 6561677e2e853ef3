/* The page of a sweep: FLOPs and time against frames (or tokens), one line per series.
   Hover a point for its row; the legend hides and shows lines in both charts; the switch
   sets the y axes to log or linear. Under a fitted framework the time chart shades each
   line's 80 % interval (time_low_s to time_high_s). Data: src/html/sweep.rs. */
(function () {
  "use strict";
  var D = AIM.data();
  var hidden = {};
  var spread = function (values) {
    var v = values.filter(function (x) { return x > 0; });
    return v.length ? Math.max.apply(null, v) / Math.min.apply(null, v) : 1;
  };
  // As `plot curves --scale auto`: log when the values span more than 20x.
  var log = spread(D.rows.map(function (r) { return r.time_s; })) > 20;

  function rowTip(r, s) {
    return [s.label, [
      [D.x_label, String(r[D.x])],
      ["visual tokens after merging", String(r.merged_visual_tokens)],
      ["TFLOPs", AIM.fix(r.flops / 1e12, 4) + " (baseline " + AIM.fix(r.baseline_flops / 1e12, 4) + ")"],
      ["time", AIM.fix(r.time_s * 1e3, 3) + " ms (baseline " + AIM.fix(r.baseline_time_s * 1e3, 3) + ")"],
      ["reduction", AIM.fix(r.reduction_flops, 2) + "\u00d7 FLOPs, " + AIM.fix(r.reduction_time, 2) + "\u00d7 time"],
      ["80 % interval", r.time_low_s === undefined ? "none (the roofline is a bound)" :
        AIM.fix(r.time_low_s * 1e3, 1) + "\u2013" + AIM.fix(r.time_high_s * 1e3, 1) + " ms, " +
        AIM.fix(r.reduction_time_low, 2) + "\u2013" + AIM.fix(r.reduction_time_high, 2) + "\u00d7 time"],
      ["memory", AIM.fix(r.memory_consumption_bytes / 1e9, 2) + " GB"],
      ["model · GPU", r.model + " \u00b7 " + r.gpu],
      ["cost model", r.cost_model]
    ]];
  }

  /* `interval(row)`: [low, high] shaded around each line, or null. */
  function panel(id, title, unit, value, interval) {
    var box = document.getElementById(id);
    var xs = D.rows.map(function (r) { return r[D.x]; });
    var ys = [];
    D.series.forEach(function (s, i) {
      if (hidden[i]) return;
      s.rows.forEach(function (k) {
        ys.push(value(D.rows[k]));
        if (interval) { ys.push.apply(ys, interval(D.rows[k])); }
      });
    });
    var xd = [Math.min.apply(null, xs), Math.max.apply(null, xs)];
    if (xd[1] <= xd[0]) { xd = [Math.max(0, xd[0] - 1), xd[1] + 1]; }
    var f = AIM.frame(box, {
      height: 360, x: xd, y: AIM.domain(ys.length ? ys : [1], log, 1.25), ylog: log,
      title: title, xlabel: D.x_label, ylabel: unit + (log ? ", log scale" : ""), marginLeft: 64
    });
    D.series.forEach(function (s, i) {
      if (hidden[i]) return;
      if (interval && s.rows.length) {
        var lo = s.rows.map(function (k) { return [f.x(D.rows[k][D.x]), f.y(interval(D.rows[k])[0])]; });
        var hi = s.rows.map(function (k) { return [f.x(D.rows[k][D.x]), f.y(interval(D.rows[k])[1])]; });
        var d = lo.concat(hi.reverse()).map(function (p, j) {
          return (j ? "L" : "M") + p[0].toFixed(1) + "," + p[1].toFixed(1);
        }).join("") + "Z";
        AIM.el("path", { d: d, fill: s.style.color, "fill-opacity": 0.14, stroke: "none", "class": "band" }, f.plot);
      }
      var pts = s.rows.map(function (k) { return [f.x(D.rows[k][D.x]), f.y(value(D.rows[k]))]; });
      AIM.line(f.plot, pts, s.style, 2.2);
      var every = Math.max(1, Math.ceil(s.rows.length / 40));
      s.rows.forEach(function (k, j) {
        var r = D.rows[k];
        var small = j % every !== 0;
        var m = AIM.marker(f.plot, s.style.marker, f.x(r[D.x]), f.y(value(r)), small ? 2.5 : 4.2, s.style.color, true, {
          "class": "mark", "data-series": i
        });
        AIM.hover(m, function () { return rowTip(r, s); });
      });
    });
    return box;
  }

  function draw() {
    panel("chart-flops", "Prefill FLOPs", "TFLOPs", function (r) { return r.flops / 1e12; });
    var fitted = D.rows.length && D.rows[0].time_low_s !== undefined;
    panel("chart-time", fitted ? "Prefill time, shaded: 80 % interval" : "Prefill time", "time (ms)",
      function (r) { return r.time_s * 1e3; },
      fitted ? function (r) { return [r.time_low_s * 1e3, r.time_high_s * 1e3]; } : null);
    var grid = document.getElementById("curves-grid");
    AIM.legend(grid, D.series.map(function (s, i) {
      return { key: i, label: s.label, color: s.style.color, marker: s.style.marker, dash: s.style.dash, kind: "line" };
    }), function (off) { hidden = off; draw(); }, hidden);
    AIM.scaleSwitch(grid, "y axes", log, function (l) { log = l; draw(); });
    document.documentElement.setAttribute("data-scale", log ? "log" : "linear");
  }

  AIM.start("sweep", draw);
})();
