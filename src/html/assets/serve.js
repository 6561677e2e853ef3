/* The page of a serving run: the timeline (queue, batch, KV use; one line per schedule),
   latency CDFs with the p50/p90/p99 marked, and the --find-max-rate search.
   Data: src/html/serve.rs. */
(function () {
  "use strict";
  var D = AIM.data();
  var hidden = {};

  function visible() {
    return D.runs.filter(function (r) { return !hidden[r.name]; });
  }

  /* One timeline chart: the buckets' `field` (times k) as a step line per schedule; the
     pointer shows every schedule's value in the interval under it. */
  function timeline(id, title, ylabel, field, k, unit) {
    var box = document.getElementById(id);
    var runs = visible();
    var t1 = 0, ys = [];
    runs.forEach(function (r) {
      r.timeline.forEach(function (b) { t1 = Math.max(t1, b.end_s); ys.push(b[field] * k); });
    });
    var f = AIM.frame(box, {
      height: 260, x: [0, Math.max(t1, 1e-9)], y: AIM.domain(ys.length ? ys : [1], false),
      title: title, xlabel: "time (s)", ylabel: ylabel, marginLeft: 64
    });
    runs.forEach(function (r) {
      var pts = [];
      r.timeline.forEach(function (b) {
        pts.push([f.x(b.start_s), f.y(b[field] * k)]);
        pts.push([f.x(b.end_s), f.y(b[field] * k)]);
      });
      var p = AIM.line(f.plot, pts, r.style, 1.8);
      if (p) p.setAttribute("data-schedule", r.name);
    });
    var over = AIM.el("rect", {
      x: f.left, y: f.top, width: f.width, height: f.height, fill: "transparent", "class": "band"
    }, f.plot);
    AIM.hover(over, function (evt) {
      var box2 = f.svg.getBoundingClientRect();
      var t = f.x.lo + ((evt.clientX - box2.left - f.left) / f.width) * (f.x.hi - f.x.lo);
      var rows = runs.map(function (r) {
        var b = r.timeline.filter(function (b) { return b.start_s <= t && t <= b.end_s; })[0];
        return [r.name, b ? AIM.fix(b[field] * k, 2) + unit : "-"];
      });
      return ["t = " + AIM.fix(t, 2) + " s", rows];
    });
  }

  /* The empirical CDF of `key` (seconds, shown in ms) per schedule, p50/p90/p99 marked, the
     target dashed. */
  function cdf(id, title, key, lat, target) {
    var box = document.getElementById(id);
    var runs = visible();
    var xs = [];
    runs.forEach(function (r) { r[key].forEach(function (v) { xs.push(v * 1e3); }); });
    if (target !== null && target !== undefined) xs.push(target * 1e3);
    var f = AIM.frame(box, {
      height: 280, x: AIM.domain(xs.length ? xs : [1], false), y: [0, 1],
      title: title, xlabel: "latency (ms)", ylabel: "share of requests", marginLeft: 64,
      yfmt: function (v) { return Math.round(v * 100) + " %"; }
    });
    if (target !== null && target !== undefined) {
      var tx = f.x(target * 1e3);
      AIM.el("line", { x1: tx, x2: tx, y1: f.top, y2: f.top + f.height, stroke: "#333", "stroke-dasharray": "5 3" }, f.plot);
      AIM.text(f.plot, tx - 4, f.top + f.height - 6, "target " + AIM.fmt(target * 1e3) + " ms", { "class": "axis-label", "text-anchor": "end" });
    }
    runs.forEach(function (r) {
      var v = r[key].map(function (x) { return x * 1e3; }).sort(function (a, b) { return a - b; });
      var n = v.length;
      var pts = [[f.x(f.x.lo), f.y(0)]];
      v.forEach(function (x, i) {
        pts.push([f.x(x), f.y(i / n)]);
        pts.push([f.x(x), f.y((i + 1) / n)]);
      });
      var p = AIM.line(f.plot, pts, r.style, 2);
      if (p) p.setAttribute("data-schedule", r.name);
      var l = r.summary[lat];
      [["p50", l.p50_s, 0.5], ["p90", l.p90_s, 0.9], ["p99", l.p99_s, 0.99]].forEach(function (q) {
        var m = AIM.marker(f.plot, r.style.marker, f.x(q[1] * 1e3), f.y(q[2]), 4, r.style.color, true, { "class": "mark" });
        AIM.hover(m, function () {
          return [r.name + " · " + title, [
            [q[0], AIM.fix(q[1] * 1e3, 2) + " ms"],
            ["mean", AIM.fix(l.mean_s * 1e3, 2) + " ms"],
            ["requests", String(n)]
          ]];
        });
      });
    });
  }

  /* The rates the search tried against the share meeting the targets; the highest that met
     it ringed. */
  function search() {
    var box = document.getElementById("chart-search");
    if (!box) return;
    var runs = visible().filter(function (r) { return r.tried; });
    var xs = [], need = D.runs[0].slo.attainment;
    runs.forEach(function (r) { r.tried.forEach(function (t) { xs.push(t[0]); }); });
    var f = AIM.frame(box, {
      height: 260, x: AIM.domain(xs.length ? xs : [1], false), y: [0, 1.05],
      title: "Targets met at each rate tried", xlabel: "Poisson rate (requests/s)",
      ylabel: "share meeting the targets", marginLeft: 64,
      yfmt: function (v) { return Math.round(v * 100) + " %"; }
    });
    var ny = f.y(need);
    AIM.el("line", { x1: f.left, x2: f.left + f.width, y1: ny, y2: ny, stroke: "#333", "stroke-dasharray": "5 3" }, f.plot);
    runs.forEach(function (r) {
      var sorted = r.tried.slice().sort(function (a, b) { return a[0] - b[0]; });
      var pl = AIM.line(f.plot, sorted.map(function (t) { return [f.x(t[0]), f.y(t[1])]; }), r.style, 1.2);
      if (pl) pl.setAttribute("data-schedule", r.name);
      r.tried.forEach(function (t) {
        var m = AIM.marker(f.plot, r.style.marker, f.x(t[0]), f.y(t[1]), 4, r.style.color, t[1] >= need, { "class": "mark" });
        AIM.hover(m, function () {
          return [r.name, [
            ["rate", AIM.fix(t[0], 4) + " req/s"],
            ["meeting the targets", AIM.fix(t[1] * 100, 1) + " %"],
            ["needed", AIM.fix(need * 100, 0) + " %"]
          ]];
        });
      });
      var mx = f.x(r.max_rate_per_s);
      AIM.el("circle", { cx: mx, cy: f.y(r.summary.slo_attainment), r: 8, fill: "none", stroke: r.style.color, "stroke-width": 1.5 }, f.plot);
      AIM.text(f.plot, mx, f.y(r.summary.slo_attainment) + 24, AIM.fmt(r.max_rate_per_s) + "/s", { "text-anchor": "middle" });
    });
  }

  function draw() {
    var slo = D.runs[0].slo;
    timeline("chart-queue", "Requests waiting", "requests", "queued", 1, "");
    timeline("chart-batch", "Batch size", "requests per step", "batch", 1, "");
    timeline("chart-kv", "KV-cache use", "share of blocks (%)", "kv_utilization", 100, " %");
    cdf("chart-ttft", "TTFT", "ttft_s", "ttft", slo.ttft_s);
    cdf("chart-tpot", "TPOT", "tpot_s", "tpot", slo.tpot_s);
    cdf("chart-e2e", "End to end", "e2e_s", "e2e", null);
    search();
    if (D.runs.length > 1) {
      var items = D.runs.map(function (r) {
        return { key: r.name, label: r.name, color: r.style.color, marker: r.style.marker, dash: r.style.dash, kind: "line" };
      });
      ["timeline-grid", "cdf-grid"].forEach(function (g) {
        AIM.legend(document.getElementById(g), items, function (off) { hidden = off; draw(); }, hidden);
      });
    }
  }

  AIM.start("serve", draw);
})();
