/* The page of a budget answer: the priced settings as bars of the compared quantity (frame
   budget) or of the reduction (target), with the limit or target as a dashed line.
   Data: src/html/budget.rs. */
(function () {
  "use strict";
  var D = AIM.data();

  function draw() {
    var box = document.getElementById("chart-budget");
    var target = D.target !== null;
    var value = function (p) {
      if (target) return D.by === "flops" ? p.reduction_flops : p.reduction_time;
      return D.by === "flops" ? p.flops / 1e12 : p.time_s * 1e3;
    };
    var unit = target ? "\u00d7 reduction" : D.by === "flops" ? "TFLOPs" : "ms";
    var line = target ? D.target : D.by === "flops" ? D.limit / 1e12 : D.limit * 1e3;
    var vals = D.points.map(value).concat([line]);
    var labelW = 190;
    var step = 44;
    var f = AIM.frame(box, {
      height: 90 + step * D.points.length, x: AIM.domain(vals, false), y: [0, 1], yticks: false,
      title: (target ? "Reduction against the target" : "Cost against the reference") + " (" + unit + ")",
      // Room on the right for the value after each bar ("91.6 TFLOPs", "8.04 \u00d7 reduction").
      marginLeft: labelW, marginRight: 120, xlabel: unit
    });
    var h = f.height / D.points.length;
    D.points.forEach(function (p, i) {
      var y = f.top + i * h + h * 0.2, bh = h * 0.6;
      AIM.text(f.plot, f.left - 8, y + bh / 2 - 3, p.label, { "text-anchor": "end" });
      AIM.text(f.plot, f.left - 8, y + bh / 2 + 12, p.setting, { "text-anchor": "end", "class": "axis-label" });
      var v = value(p);
      var b = AIM.el("rect", {
        x: f.x(0), y: y, width: Math.max(1, f.x(v) - f.x(0)), height: bh, fill: p.color, "class": "mark"
      }, f.plot);
      AIM.text(f.plot, f.x(v) + 5, y + bh / 2 + 4, AIM.fmt(v) + " " + unit);
      AIM.hover(b, function () {
        return [p.label + ": " + p.schedule, [
          ["setting", p.setting],
          ["TFLOPs", AIM.fix(p.flops / 1e12, 4)],
          ["time", AIM.fix(p.time_s * 1e3, 3) + " ms"],
          ["reduction", AIM.fix(p.reduction_flops, 2) + "\u00d7 FLOPs, " + AIM.fix(p.reduction_time, 2) + "\u00d7 time"]
        ]];
      });
    });
    var lx = f.x(line);
    AIM.el("line", { x1: lx, x2: lx, y1: f.top - 4, y2: f.top + f.height, stroke: "#000", "stroke-width": 2, "stroke-dasharray": "5 3" }, f.plot);
    // The label goes left of the line when it would run past the plot's right edge (clipped).
    var label = (target ? "target " : "limit ") + AIM.fmt(line) + " " + unit;
    var right = lx + 4 + label.length * 7.5 > f.left + f.width;
    AIM.text(f.plot, right ? lx - 4 : lx + 4, f.top + 10, label, right ? { "text-anchor": "end" } : {});
  }

  AIM.start("budget", draw);
})();
