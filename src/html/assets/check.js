/* The page of a measurement check: predicted against measured time, log-log, y = x with a
   +-20 % band; filled points the framework profile (with a bar for its 80 % interval under a
   fitted profile), hollow the ideal roofline.
   Data: src/html/check.rs. */
(function () {
  "use strict";
  var D = AIM.data();
  var hidden = {};
  var styleOf = {};
  D.frameworks.forEach(function (f) { styleOf[f.name] = f.style; });

  function draw() {
    var box = document.getElementById("chart-check");
    var vals = [];
    D.rows.forEach(function (r) {
      vals.push(r.measured_ms, r.predicted_ms, r.roofline_ms);
      if (r.predicted_interval_ms) { vals.push.apply(vals, r.predicted_interval_ms); }
    });
    var d = AIM.domain(vals, true, 1.4);
    var f = AIM.frame(box, {
      height: 500, x: d, xlog: true, y: d, ylog: true,
      title: "Predicted against measured time, as each row was timed", xlabel: "measured (ms)", ylabel: "predicted (ms)"
    });
    // The +-20 % band and the y = x line.
    var band = [[d[0], d[0] * 1.2], [d[1] / 1.2, d[1]], [d[1], d[1]], [d[1], d[1] * 0.8], [d[0], d[0] * 0.8]];
    AIM.el("path", {
      d: band.map(function (p, i) { return (i ? "L" : "M") + f.x(p[0]) + "," + f.y(Math.min(p[1], d[1])); }).join("") + "Z",
      fill: "#000", "fill-opacity": 0.06, stroke: "none"
    }, f.plot);
    AIM.line(f.plot, [[f.x(d[0]), f.y(d[0])], [f.x(d[1]), f.y(d[1])]], { color: "#555", dash: "dashed" }, 1.2);
    // Each prediction's 80 % interval: a translucent bar under the points.
    D.rows.forEach(function (r) {
      if (hidden[r.framework] || !r.predicted_interval_ms) return;
      var x = f.x(r.measured_ms);
      AIM.el("path", {
        d: "M" + x + "," + f.y(r.predicted_interval_ms[0]) + "L" + x + "," + f.y(r.predicted_interval_ms[1]),
        stroke: styleOf[r.framework].color, "stroke-opacity": 0.3, "stroke-width": 5, fill: "none",
        "class": "interval", "data-framework": r.framework
      }, f.plot);
    });
    [false, true].forEach(function (profile) {
      D.rows.forEach(function (r) {
        if (hidden[r.framework]) return;
        var st = styleOf[r.framework];
        var y = profile ? r.predicted_ms : r.roofline_ms;
        var m = AIM.marker(f.plot, st.marker, f.x(r.measured_ms), f.y(y), profile ? 5 : 4.2, st.color, profile, {
          "class": "mark", "data-framework": r.framework
        });
        AIM.hover(m, function () {
          return [r.id, [
            ["framework", r.framework + " \u00b7 " + r.gpu],
            ["model", r.model],
            ["measured", AIM.fix(r.measured_ms, 2) + " ms"],
            ["profile", AIM.fix(r.predicted_ms, 2) + " ms (" + AIM.fix(r.error * 100, 1) + " %)" +
              (r.predicted_interval_ms ? ", 80 %: " + AIM.fix(r.predicted_interval_ms[0], 1) + "\u2013" +
                AIM.fix(r.predicted_interval_ms[1], 1) + " ms" : "")],
            ["roofline", AIM.fix(r.roofline_ms, 2) + " ms (" + AIM.fix(r.roofline_error * 100, 1) + " %)"]
          ]];
        });
      });
    });
    AIM.legend(box, D.frameworks.map(function (fw) {
      return { key: fw.name, label: fw.name, color: fw.style.color, marker: fw.style.marker, kind: "marker" };
    }), function (off) { hidden = off; draw(); }, hidden);
  }

  AIM.start("check", draw);
})();
