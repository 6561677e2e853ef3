/* The page of a Pareto table: accuracy against cost, one point per priced row in its
   method's style, the frontier as a staircase. Data: src/html/pareto.rs. */
(function () {
  "use strict";
  var D = AIM.data();
  var hidden = {};
  var log = D.x_log; /* as the PNG draws it (src/plot/pareto.rs) */
  var cost = function (r) {
    var v = D.by === "flops" ? r.flops : r.time_s;
    return v === null ? null : D.by === "flops" ? v / 1e12 : v * 1e3;
  };
  var unit = D.by === "flops" ? "TFLOPs" : "prefill time (ms)";
  var priced = D.rows.filter(function (r) { return cost(r) !== null; });

  function draw() {
    var box = document.getElementById("chart-pareto");
    var shown = priced.filter(function (r) { return !hidden[r.method]; });
    var xs = priced.map(cost), ys = priced.map(function (r) { return r.accuracy; });
    var ylo = Math.min.apply(null, ys), yhi = Math.max.apply(null, ys);
    var pad = Math.max(0.5, (yhi - ylo) * 0.08);
    var f = AIM.frame(box, {
      height: 470, x: AIM.domain(xs, log, 1.3), xlog: log, y: [ylo - pad, yhi + pad],
      title: D.benchmark + ": accuracy against " + unit, xlabel: unit + (log ? ", log scale" : ""),
      ylabel: "accuracy (" + D.unit + ")"
    });
    // The frontier: optimal rows in cost order, as a staircase (accuracy holds until the next).
    var front = priced.filter(function (r) { return r.pareto; }).sort(function (a, b) { return cost(a) - cost(b); });
    var stairs = [];
    front.forEach(function (r, i) {
      if (i) stairs.push([f.x(cost(r)), f.y(front[i - 1].accuracy)]);
      stairs.push([f.x(cost(r)), f.y(r.accuracy)]);
    });
    if (front.length) stairs.push([f.left + f.width, f.y(front[front.length - 1].accuracy)]);
    AIM.line(f.plot, stairs, { color: "#999", dash: "solid" }, 6).setAttribute("opacity", 0.35);
    shown.forEach(function (r) {
      var px = f.x(cost(r)), py = f.y(r.accuracy);
      if (r.pareto) AIM.el("circle", { cx: px, cy: py, r: 10, fill: "none", stroke: "#000", "stroke-width": 1.2 }, f.plot);
      var m = AIM.marker(f.plot, r.style.marker, px, py, 5.5, r.style.color, true, { "class": "mark", "data-pareto": r.pareto });
      AIM.hover(m, function () {
        return [r.label, [
          ["method", r.method],
          ["setting", r.setting],
          ["accuracy", AIM.fix(r.accuracy, 1) + " " + D.unit],
          ["TFLOPs", AIM.fix(r.flops / 1e12, 2)],
          ["time", AIM.fix(r.time_s * 1e3, 2) + " ms"],
          ["setting known", r.status],
          ["Pareto-optimal", r.pareto ? "yes" : "no"]
        ]];
      });
    });
    var methods = [];
    priced.forEach(function (r) {
      if (!methods.some(function (m) { return m.key === r.method; })) {
        methods.push({ key: r.method, label: r.method, color: r.style.color, marker: r.style.marker, kind: "marker" });
      }
    });
    AIM.legend(box, methods, function (off) { hidden = off; draw(); }, hidden);
    AIM.scaleSwitch(box, "x axis", log, function (l) { log = l; draw(); });
  }

  AIM.start("pareto", draw);
})();
