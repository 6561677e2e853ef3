/* The page of one run: tokens and time per layer (click a layer to filter the operator
   table), the roofline with every operator. Data: src/html/run.rs. */
(function () {
  "use strict";
  var D = AIM.data();
  var kindOf = {};
  D.kinds.forEach(function (k) { kindOf[k.kind] = k; });
  var hiddenKinds = {};
  var selected = null;
  // Operator rows: [place, layer, name, kind, flops, bytes, ai, time_s, bound].
  var OP = { place: 0, layer: 1, name: 2, kind: 3, flops: 4, bytes: 5, ai: 6, time: 7, bound: 8 };

  function where(o) {
    return o[OP.layer] === null ? o[OP.place] : "layer " + o[OP.layer];
  }

  /* Shows only the operators of `layer` (a number, "before LLM", "head") or all (null). */
  function filter(layer) {
    selected = layer;
    var rows = document.querySelectorAll("#ops tbody tr");
    var shown = 0;
    Array.prototype.forEach.call(rows, function (r) {
      var hide = layer !== null && r.getAttribute("data-layer") !== String(layer);
      r.classList.toggle("hidden", hide);
      if (!hide) shown += 1;
    });
    var p = document.getElementById("ops-filter");
    p.textContent = layer === null
      ? "All " + shown + " operators. Click a layer in the chart above to show only its operators."
      : "Showing the " + shown + " operators of " + (typeof layer === "number" ? "layer " + layer : layer) + ".";
    if (layer !== null) {
      var b = AIM.html("button", { type: "button", id: "ops-show-all" }, p, "show all");
      b.addEventListener("click", function () { filter(null); });
    }
    document.documentElement.setAttribute("data-filter", layer === null ? "" : String(layer));
    Array.prototype.forEach.call(document.querySelectorAll("#chart-layers .band, #chart-tokens .band"), function (b) {
      b.classList.toggle("selected", layer !== null && b.getAttribute("data-layer") === String(layer));
    });
  }

  /* A click on a layer selects it (again: all layers); the chart's caption says so. */
  function pick(layer) {
    filter(selected === layer ? null : layer);
    var cap = document.querySelector("#chart-layers + figcaption");
    if (cap) {
      if (!cap.getAttribute("data-text")) cap.setAttribute("data-text", cap.textContent);
      cap.textContent = selected === null
        ? cap.getAttribute("data-text")
        : (typeof selected === "number" ? "Layer " + selected : selected) +
          " selected: its operators are in the Operators table below (click it again for all).";
    }
  }

  /* Transparent full-height bands behind each layer: hover and click anywhere in the column. */
  function bands(f, n, onHover) {
    for (var i = 0; i < n; i++) {
      (function (i) {
        var b = AIM.el("rect", {
          x: f.x(i), y: f.top, width: f.x.step, height: f.height, fill: "transparent",
          "class": "band", "data-layer": D.layers[i].layer
        }, f.plot);
        b.addEventListener("click", function () { pick(D.layers[i].layer); });
        AIM.hover(b, function () { return onHover(i); });
      })(i);
    }
  }

  function layerTip(i) {
    var l = D.layers[i];
    var rows = [
      ["tokens", l.tokens + " (baseline " + l.base_tokens + ")"],
      ["time", AIM.fix(l.time_s * 1e3, 3) + " ms (baseline " + AIM.fix(l.base_time_s * 1e3, 3) + ")"],
      ["TFLOPs", AIM.fix(l.flops / 1e12, 4)]
    ];
    D.kinds.forEach(function (k) {
      if (l.kinds[k.kind]) rows.push([k.label, AIM.fix(l.kinds[k.kind] * 1e3, 3) + " ms"]);
    });
    rows.push(["", "click: its operators"]);
    return ["layer " + l.layer, rows];
  }

  function drawTokens() {
    var box = document.getElementById("chart-tokens");
    var n = D.layers.length;
    var max = Math.max.apply(null, D.layers.map(function (l) { return Math.max(l.tokens, l.base_tokens); }));
    var f = AIM.frame(box, {
      height: 210, xband: n, y: AIM.domain([max], false), title: "Tokens per layer",
      xlabel: "decoder layer", ylabel: "tokens", xfmt: function (i) { return String(D.layers[i].layer); }
    });
    bands(f, n, layerTip);
    var w = f.x.step * 0.4;
    D.layers.forEach(function (l, i) {
      var x0 = f.x(i) + f.x.step * 0.08;
      AIM.el("rect", {
        x: x0, y: f.y(l.base_tokens), width: w, height: f.y(0) - f.y(l.base_tokens),
        fill: D.baseline_color, opacity: 0.45, "class": "mark base", "pointer-events": "none"
      }, f.plot);
      AIM.el("rect", {
        x: x0 + w, y: f.y(l.tokens), width: w, height: f.y(0) - f.y(l.tokens),
        fill: D.style.color, "class": "mark", "pointer-events": "none"
      }, f.plot);
    });
    AIM.legend(box, [
      { key: "base", label: "baseline (no reduction)", color: D.baseline_color, kind: "box" },
      { key: "run", label: "schedule " + D.schedule, color: D.style.color, kind: "box" }
    ], function () {}, {});
    // This legend only names the bars; its buttons do nothing useful, so make them plain.
    Array.prototype.forEach.call(document.querySelectorAll("#chart-tokens-legend button"), function (b) {
      b.disabled = true;
      b.removeAttribute("aria-pressed");
    });
  }

  function drawLayers() {
    var box = document.getElementById("chart-layers");
    var n = D.layers.length;
    var total = function (kinds) {
      return D.kinds.reduce(function (s, k) { return s + (hiddenKinds[k.kind] ? 0 : (kinds[k.kind] || 0)); }, 0);
    };
    var max = Math.max.apply(null, D.layers.map(function (l) { return Math.max(total(l.kinds), total(l.base_kinds)); }));
    var f = AIM.frame(box, {
      height: 330, xband: n, y: AIM.domain([max * 1e3], false), title: "Time per layer by operator kind",
      xlabel: "decoder layer (left bar: baseline, right: schedule)", ylabel: "time (ms)",
      xfmt: function (i) { return String(D.layers[i].layer); }
    });
    bands(f, n, layerTip);
    var w = f.x.step * 0.4;
    D.layers.forEach(function (l, i) {
      [[l.base_kinds, 0.4, f.x(i) + f.x.step * 0.08], [l.kinds, 1, f.x(i) + f.x.step * 0.08 + w]].forEach(function (b) {
        var acc = 0;
        if (b[1] < 1) {
          // The baseline's stack, outlined in grey so its faded colours are not read as kinds.
          var t = total(b[0]);
          AIM.el("rect", {
            x: b[2], y: f.y(t * 1e3), width: w, height: f.y(0) - f.y(t * 1e3), fill: "none",
            stroke: D.baseline_color, "stroke-width": 1, "pointer-events": "none"
          }, f.plot);
        }
        D.kinds.forEach(function (k) {
          var t = b[0][k.kind];
          if (!t || hiddenKinds[k.kind]) return;
          var y0 = f.y(acc * 1e3), y1 = f.y((acc + t) * 1e3);
          acc += t;
          AIM.el("rect", {
            x: b[2], y: y1, width: w, height: Math.max(0.5, y0 - y1), fill: k.color, opacity: b[1],
            "class": "mark", "pointer-events": "none", "data-kind": k.kind
          }, f.plot);
        });
      });
    });
    // The kinds the layers have (merging and the head are outside them).
    var inLayers = D.kinds.filter(function (k) {
      return D.layers.some(function (l) { return l.kinds[k.kind] || l.base_kinds[k.kind]; });
    });
    AIM.legend(box, inLayers.map(function (k) {
      return { key: k.kind, label: k.label, color: k.color, kind: "box" };
    }), function (off) { hiddenKinds = off; drawLayers(); drawRoofline(); }, hiddenKinds);
  }

  var showBaseline = true;
  function drawRoofline() {
    var box = document.getElementById("chart-roofline");
    var P = D.roof.peak_flops_per_s / 1e12, BW = D.roof.bandwidth_bytes_per_s;
    var ridge = D.roof.peak_flops_per_s / BW;
    var pts = function (ops) {
      return ops.filter(function (o) { return o[OP.flops] > 0 && o[OP.time] > 0 && o[OP.ai] !== null; });
    };
    var run = pts(D.ops), base = pts(D.base_ops);
    var all = run.concat(base);
    var ais = all.map(function (o) { return o[OP.ai]; }).concat([ridge]);
    var perf = all.map(function (o) { return o[OP.flops] / o[OP.time] / 1e12; }).concat([P]);
    var x0 = Math.max(1e-3, Math.min.apply(null, ais) / 3), x1 = Math.max.apply(null, ais) * 3;
    var y0 = Math.max(1e-6, Math.min.apply(null, perf) / 3), y1 = P * 3;
    var f = AIM.frame(box, {
      height: 440, x: [x0, x1], xlog: true, y: [y0, y1], ylog: true,
      title: "Roofline: " + D.roof.gpu + " (peak " + AIM.fmt(P) + " TFLOP/s, " + AIM.fmt(BW / 1e9) + " GB/s)",
      xlabel: "arithmetic intensity (FLOP/byte)", ylabel: "attained TFLOP/s"
    });
    // The roof: bandwidth-bound slope up to the ridge, flat compute peak after it.
    var roof = [[x0, x0 * BW / 1e12], [ridge, P], [x1, P]].map(function (p) { return [f.x(p[0]), f.y(Math.max(p[1], y0))]; });
    AIM.line(f.plot, roof, { color: "#333", dash: "solid" }, 2);
    AIM.text(f.plot, f.x(ridge) + 8, f.y(P) + 18, "ridge " + AIM.fmt(ridge) + " FLOP/byte");
    function dot(o, isBase) {
      var k = kindOf[o[OP.kind]];
      if (hiddenKinds[o[OP.kind]] || (isBase && !showBaseline)) return;
      var px = f.x(o[OP.ai]), py = f.y(o[OP.flops] / o[OP.time] / 1e12);
      var m = AIM.marker(f.plot, "circle", px, py, isBase ? 4 : 4.5, isBase ? D.baseline_color : k.color, !isBase, {
        "class": "mark" + (isBase ? " base" : ""), "data-kind": o[OP.kind], "data-layer": o[OP.layer] === null ? o[OP.place] : o[OP.layer]
      });
      AIM.hover(m, function () {
        return [(isBase ? "baseline · " : "") + where(o) + " · " + o[OP.name], [
          ["kind", k.label],
          ["FLOPs", AIM.fmt(o[OP.flops] / 1e9) + " G"],
          ["bytes", AIM.fmt(o[OP.bytes] / 1e6) + " MB"],
          ["intensity", AIM.fmt(o[OP.ai]) + " FLOP/byte"],
          ["time", AIM.fix(o[OP.time] * 1e3, 4) + " ms"],
          ["bound", o[OP.bound]]
        ]];
      });
      if (!isBase) {
        m.addEventListener("click", function () { pick(o[OP.layer] === null ? o[OP.place] : o[OP.layer]); });
      }
    }
    base.forEach(function (o) { dot(o, true); });
    run.forEach(function (o) { dot(o, false); });
    var items = D.kinds.map(function (k) { return { key: k.kind, label: k.label, color: k.color, kind: "marker" }; });
    items.push({ key: "__baseline", label: "baseline operators", color: D.baseline_color, kind: "marker", filled: false });
    var off = {};
    D.kinds.forEach(function (k) { off[k.kind] = !!hiddenKinds[k.kind]; });
    off.__baseline = !showBaseline;
    AIM.legend(box, items, function (o) {
      showBaseline = !o.__baseline;
      D.kinds.forEach(function (k) { hiddenKinds[k.kind] = !!o[k.kind]; });
      drawLayers();
      drawRoofline();
    }, off);
  }

  AIM.start("run", function (first) {
    drawTokens();
    drawLayers();
    drawRoofline();
    filter(first ? null : selected);
  });
})();
