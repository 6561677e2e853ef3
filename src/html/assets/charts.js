/* aim-sim charts: the SVG, tooltip, legend and table helpers every page uses. Hand-written,
   no library, nothing loaded. Each page script calls AIM.start(kind, draw); when draw has
   run, <html> gets data-rendered="kind" (the browser test waits for it). */
var AIM = (function () {
  "use strict";
  // The SVG namespace is a name, not a request.
  var SVG_NS = "http://www.w3.org/2000/svg";

  function data() {
    return JSON.parse(document.getElementById("aim-data").textContent);
  }

  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVG_NS, tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
      });
    }
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, s, attrs) {
    var a = attrs || {};
    a.x = x;
    a.y = y;
    var t = el("text", a, parent);
    t.textContent = s;
    return t;
  }

  function html(tag, attrs, parent, content) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    }
    if (content !== undefined) e.textContent = content;
    if (parent) parent.appendChild(e);
    return e;
  }

  /* Numbers: 3 significant digits, no exponent between 1e-3 and 1e6. */
  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return "-";
    if (!isFinite(v)) return "\u221e";
    var a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1e6 || a < 1e-3) return v.toExponential(2).replace("e+", "e");
    var d = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
    var s = v.toFixed(d);
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  /* Fixed places, for tables and tooltips. */
  function fix(v, places) {
    if (v === null || v === undefined || isNaN(v)) return "-";
    if (!isFinite(v)) return "\u221e";
    return v.toFixed(places);
  }

  /* "Nice" linear ticks covering [lo, hi]. */
  function niceTicks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var err = (n / span) * step;
    if (err <= 0.15) step *= 10;
    else if (err <= 0.35) step *= 5;
    else if (err <= 0.75) step *= 2;
    var out = [];
    for (var v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.round(v / step) * step);
    }
    return out;
  }

  /* A scale from a domain to pixels; .ticks() gives labelled values. */
  function scale(lo, hi, r0, r1, log) {
    var f;
    if (log) {
      var l0 = Math.log10(lo), l1 = Math.log10(hi);
      f = function (v) { return r0 + ((Math.log10(Math.max(v, lo * 1e-3)) - l0) / (l1 - l0)) * (r1 - r0); };
      f.ticks = function () {
        var out = [];
        var decades = l1 - l0;
        var mult = decades < 1.2 ? [1, 1.5, 2, 3, 5, 7] : decades < 3 ? [1, 2, 5] : [1];
        var stride = decades > 8 ? 2 : 1;
        for (var e = Math.floor(l0); e <= Math.ceil(l1); e += stride) {
          mult.forEach(function (m) {
            var v = m * Math.pow(10, e);
            if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
          });
        }
        return out;
      };
    } else {
      f = function (v) { return r0 + ((v - lo) / (hi - lo)) * (r1 - r0); };
      f.ticks = function () { return niceTicks(lo, hi, Math.max(2, Math.round(Math.abs(r1 - r0) / 70))); };
    }
    f.log = !!log;
    f.lo = lo;
    f.hi = hi;
    return f;
  }

  /* A domain for values: [0, max] padded for linear, [min/k, max*k] for log. */
  function domain(values, log, pad) {
    var v = values.filter(function (x) { return x !== null && isFinite(x) && (!log || x > 0); });
    if (!v.length) return log ? [1, 10] : [0, 1];
    var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    if (log) {
      var k = pad || 1.6;
      if (hi / lo < 1.01) { lo /= 2; hi *= 2; }
      return [lo / k, hi * k];
    }
    lo = Math.min(0, lo);
    if (hi <= lo) hi = lo + 1;
    var t = niceTicks(lo, hi, 5);
    var top = t[t.length - 1] < hi ? hi * 1.05 : t[t.length - 1];
    return [lo, top];
  }

  /* Axes, grid and labels in a fresh <svg> filling box's width. Returns the plot geometry:
     {svg, plot (the <g> for marks), x, y, left, top, width, height}. */
  function frame(box, o) {
    box.textContent = "";
    var W = Math.max(320, box.clientWidth || 800), H = o.height || 320;
    var m = { l: o.marginLeft || 74, r: o.marginRight || 18, t: o.title ? 28 : 10, b: o.xlabel ? 48 : 28 };
    var svg = el("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H }, box);
    var pw = W - m.l - m.r, ph = H - m.t - m.b;
    if (o.title) text(svg, m.l, 17, o.title, { "class": "title" });
    var x = o.xband ? band(o.xband, m.l, m.l + pw) : scale(o.x[0], o.x[1], m.l, m.l + pw, o.xlog);
    var y = scale(o.y[0], o.y[1], m.t + ph, m.t, o.ylog);
    var grid = el("g", {}, svg);
    (o.yticks === false ? [] : y.ticks()).forEach(function (v) {
      var py = y(v);
      el("line", { x1: m.l, x2: m.l + pw, y1: py, y2: py, "class": "grid" }, grid);
      text(grid, m.l - 6, py + 4, (o.yfmt || fmt)(v), { "text-anchor": "end" });
    });
    var xt = x.ticks();
    xt.forEach(function (v) {
      var px = o.xband ? x.center(v) : x(v);
      if (!o.xband) el("line", { x1: px, x2: px, y1: m.t, y2: m.t + ph, "class": "grid" }, grid);
      text(grid, px, m.t + ph + 16, (o.xfmt || fmt)(v), { "text-anchor": "middle" });
    });
    el("line", { x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph, "class": "axis" }, svg);
    el("line", { x1: m.l, x2: m.l, y1: m.t, y2: m.t + ph, "class": "axis" }, svg);
    if (o.xlabel) text(svg, m.l + pw / 2, H - 8, o.xlabel, { "text-anchor": "middle", "class": "axis-label" });
    if (o.ylabel) {
      text(svg, 0, 0, o.ylabel, {
        "text-anchor": "middle", "class": "axis-label",
        transform: "translate(14," + (m.t + ph / 2) + ") rotate(-90)"
      });
    }
    var plot = el("g", {}, svg);
    return { svg: svg, plot: plot, x: x, y: y, left: m.l, top: m.t, width: pw, height: ph };
  }

  /* Categories 0..n-1 over [r0, r1]: .center(i), .step. */
  function band(n, r0, r1) {
    var step = (r1 - r0) / Math.max(1, n);
    var f = function (i) { return r0 + i * step; };
    f.step = step;
    f.center = function (i) { return r0 + (i + 0.5) * step; };
    f.ticks = function () {
      var every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((r1 - r0) / 34))));
      var out = [];
      for (var i = 0; i < n; i += every) out.push(i);
      return out;
    };
    return f;
  }

  var DASH = { solid: null, dashed: "7 4", dotted: "2 3" };

  /* A marker of the palette's shapes centred on (x, y). */
  function marker(parent, shape, x, y, r, color, filled, attrs) {
    var a = attrs || {};
    var fill = filled ? color : "#fff";
    var e;
    var d;
    switch (shape) {
      case "square":
        e = el("rect", { x: x - r * 0.85, y: y - r * 0.85, width: r * 1.7, height: r * 1.7 }, parent);
        break;
      case "diamond":
        d = "M" + x + "," + (y - r * 1.2) + "L" + (x + r * 1.2) + "," + y + "L" + x + "," + (y + r * 1.2) + "L" + (x - r * 1.2) + "," + y + "Z";
        e = el("path", { d: d }, parent);
        break;
      case "triangle-up":
        d = "M" + x + "," + (y - r * 1.2) + "L" + (x + r * 1.1) + "," + (y + r * 0.8) + "L" + (x - r * 1.1) + "," + (y + r * 0.8) + "Z";
        e = el("path", { d: d }, parent);
        break;
      case "triangle-down":
        d = "M" + x + "," + (y + r * 1.2) + "L" + (x + r * 1.1) + "," + (y - r * 0.8) + "L" + (x - r * 1.1) + "," + (y - r * 0.8) + "Z";
        e = el("path", { d: d }, parent);
        break;
      case "cross":
        d = "M" + (x - r) + "," + (y - r) + "L" + (x + r) + "," + (y + r) + "M" + (x + r) + "," + (y - r) + "L" + (x - r) + "," + (y + r);
        e = el("path", { d: d, "stroke-width": 2.2 }, parent);
        fill = "none";
        break;
      case "plus":
        d = "M" + (x - r * 1.2) + "," + y + "L" + (x + r * 1.2) + "," + y + "M" + x + "," + (y - r * 1.2) + "L" + x + "," + (y + r * 1.2);
        e = el("path", { d: d, "stroke-width": 2.2 }, parent);
        fill = "none";
        break;
      default:
        e = el("circle", { cx: x, cy: y, r: r }, parent);
    }
    e.setAttribute("fill", fill);
    e.setAttribute("stroke", color);
    if (!e.getAttribute("stroke-width")) e.setAttribute("stroke-width", filled ? 1 : 1.6);
    Object.keys(a).forEach(function (k) { e.setAttribute(k, a[k]); });
    return e;
  }

  /* A polyline through points [[px, py], ...] in a style {color, dash}. */
  function line(parent, pts, style, width) {
    if (!pts.length) return null;
    var d = pts.map(function (p, i) { return (i ? "L" : "M") + p[0].toFixed(1) + "," + p[1].toFixed(1); }).join("");
    return el("path", {
      d: d, fill: "none", stroke: style.color, "stroke-width": width || 2.2,
      "stroke-dasharray": DASH[style.dash] || null
    }, parent);
  }

  /* The tooltip: a title and [label, value] rows, placed beside the pointer. */
  function showTip(evt, title, rows) {
    var tip = document.getElementById("tip");
    tip.textContent = "";
    html("b", null, tip, title);
    var t = html("table", null, tip);
    rows.forEach(function (r) {
      var tr = html("tr", null, t);
      html("td", null, tr, r[0]);
      html("td", null, tr, r[1]);
    });
    tip.hidden = false;
    var x = evt.clientX + 14, y = evt.clientY + 12;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 4) x = evt.clientX - w - 10;
    if (y + h > window.innerHeight - 4) y = evt.clientY - h - 10;
    tip.style.left = Math.max(2, x) + "px";
    tip.style.top = Math.max(2, y) + "px";
  }
  function hideTip() {
    document.getElementById("tip").hidden = true;
  }
  /* Shows content(evt) → [title, rows] while the pointer is over e. */
  function hover(e, content) {
    e.addEventListener("mousemove", function (evt) {
      var c = content(evt);
      showTip(evt, c[0], c[1]);
    });
    e.addEventListener("mouseleave", hideTip);
  }

  /* A legend of toggle buttons before box: items [{key, label, color, marker?, dash?, kind}],
     kind "line" | "box" | "marker". onToggle(hiddenKeys) after each click. */
  function legend(box, items, onToggle, hidden) {
    var id = box.id + "-legend";
    var old = document.getElementById(id);
    if (old) old.parentNode.removeChild(old);
    var div = html("div", { "class": "legend", id: id, role: "group", "aria-label": "legend: click to hide or show" });
    box.parentNode.insertBefore(div, box);
    var off = hidden || {};
    items.forEach(function (it) {
      var b = html("button", { type: "button", "aria-pressed": off[it.key] ? "false" : "true", "data-key": it.key }, div);
      var s = el("svg", { width: 26, height: 14 }, b);
      if (it.kind === "box") {
        el("rect", { x: 6, y: 1, width: 13, height: 12, fill: it.color, rx: 2 }, s);
      } else {
        if (it.kind !== "marker") line(s, [[1, 7], [25, 7]], { color: it.color, dash: it.dash }, 2);
        marker(s, it.marker || "circle", 13, 7, 4, it.color, it.filled !== false);
      }
      html("span", null, b, it.label);
      b.addEventListener("click", function () {
        off[it.key] = !off[it.key];
        b.setAttribute("aria-pressed", off[it.key] ? "false" : "true");
        onToggle(off);
      });
    });
    return off;
  }

  /* Click a header to sort by it (numbers by data-v, text otherwise); again to reverse. */
  function sortable(table) {
    var ths = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(ths, function (th, col) {
      th.classList.add("sortable-th");
      th.setAttribute("tabindex", "0");
      th.setAttribute("title", "sort by " + th.textContent);
      function go() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(ths, function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (r) {
          var c = r.cells[col];
          if (!c) return "";
          var v = c.getAttribute("data-v");
          return v === null ? c.textContent : parseFloat(v);
        };
        // Numbers before text ("-") either way; Array.sort is stable, so ties keep their order.
        rows.sort(function (a, b) {
          var ka = key(a), kb = key(b);
          var na = typeof ka === "number", nb = typeof kb === "number";
          if (na !== nb) return na ? -1 : 1;
          var r = na ? ka - kb : String(ka).localeCompare(String(kb));
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", go);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
    });
  }

  function debounce(f, ms) {
    var t = null;
    return function () {
      if (t) clearTimeout(t);
      t = setTimeout(f, ms);
    };
  }

  /* Draws the page once the DOM is there, again on resize; a chart that throws shows its
     error in place and in the console (the browser test fails on it). */
  function start(kind, draw) {
    function go(first) {
      try {
        draw(first);
        document.documentElement.setAttribute("data-rendered", kind);
      } catch (e) {
        document.documentElement.setAttribute("data-rendered", "error");
        var m = document.querySelector("main");
        if (m) html("p", { "class": "chart error" }, m, "A chart failed to draw: " + e.message);
        if (window.AIM_RECORD_ERROR) window.AIM_RECORD_ERROR(e.message);
        throw e;
      }
    }
    function first() {
      Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
      go(true);
      var w = window.innerWidth;
      window.addEventListener("resize", debounce(function () {
        if (window.innerWidth !== w) {
          w = window.innerWidth;
          go(false);
        }
      }, 150));
    }
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", first);
    else first();
  }

  /* A log/linear switch for `axis` ("x axis", "y axes") before box; onChange(log). */
  function scaleSwitch(box, axis, log, onChange) {
    var id = box.id + "-scale";
    if (document.getElementById(id)) return;
    var div = html("div", { "class": "controls", id: id });
    box.parentNode.insertBefore(div, box);
    html("span", null, div, axis + ": ");
    ["log", "linear"].forEach(function (k) {
      var lab = html("label", null, div);
      var inp = html("input", { type: "radio", name: id, value: k }, lab);
      if ((k === "log") === log) inp.checked = true;
      lab.appendChild(document.createTextNode(" " + k));
      inp.addEventListener("change", function () { if (inp.checked) onChange(k === "log"); });
    });
  }

  return {
    data: data, el: el, text: text, html: html, fmt: fmt, fix: fix, scale: scale, domain: domain,
    frame: frame, marker: marker, line: line, hover: hover, showTip: showTip, hideTip: hideTip,
    legend: legend, start: start, scaleSwitch: scaleSwitch, DASH: DASH
  };
})();
