//! Self-contained interactive HTML pages: one file per run, sweep, budget, Pareto table,
//! measurement check, comparison or serving run, that opens from a laptop, a cluster's file browser or a CI
//! artifact with no network.
//!
//! A page is built here as a string: the figures as plain HTML tables (readable without
//! JavaScript), the data the charts draw as JSON in a `<script type="application/json">`, and
//! hand-written JavaScript and CSS from `assets/` (embedded with `include_str!`) that draw
//! SVG charts, tooltips and sortable tables. Colours come from the core's
//! [`palette`](crate::palette), computed here and written into the data, so a schedule has the
//! same colour as in the PNG charts. A Content-Security-Policy of `default-src 'none'` makes
//! the browser refuse any request the page might make: nothing is fetched, ever.
//!
//! Like `plot`, this layer takes data and names only the core.

mod budget;
mod check;
mod compare;
mod pareto;
mod run;
mod serve;
mod sweep;

pub use budget::budget;
pub use check::check;
pub use compare::compare;
pub use pareto::pareto;
pub use run::run;
pub use serve::{serve, serve_compare};
pub use sweep::sweep;

use crate::palette::{self, Style};
use serde_json::{json, Value};
use std::fmt::Write;

/// Stylesheet of every page.
const STYLE_CSS: &str = include_str!("assets/style.css");
/// Records errors and failed loads before anything else runs (`data-errors` on `<html>`).
const GUARD_JS: &str = include_str!("assets/guard.js");
/// The chart and table helpers every page uses.
const CHARTS_JS: &str = include_str!("assets/charts.js");

/// What every page needs: no request may leave it (inline scripts and styles only).
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'";

/// One page: its kind (`data-page`, which script draws it), titles, body and chart data.
pub(crate) struct Page<'a> {
    /// `run`, `sweep`, `budget`, `pareto`, `check`, `compare` or `serve`.
    pub kind: &'static str,
    pub title: String,
    /// One line under the title.
    pub subtitle: String,
    /// The sections, as HTML.
    pub body: String,
    /// What the page's script reads (`AIM.data()`).
    pub data: Value,
    /// The page's own script (`assets/<kind>.js`).
    pub script: &'a str,
}

impl Page<'_> {
    /// The whole file.
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(self.body.len() + 64 * 1024);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\" data-page=\"{kind}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"aim-sim {version}\">\n\
             <title>{title}</title>\n<script>\n{GUARD_JS}</script>\n<style>\n{STYLE_CSS}</style>\n\
             <noscript><style>figure.chart-box {{ display: none; }}</style></noscript>\n</head>\n<body>\n\
             <header class=\"top\">\n<h1>{title}</h1>\n<p class=\"sub\">{subtitle}</p>\n\
             <noscript><p class=\"note\">The charts need JavaScript; every figure they show is also in the tables below.</p></noscript>\n\
             </header>\n<main>\n{body}</main>\n\
             <footer><p>Written by aim-sim {version}: one self-contained file, nothing loaded from the network. \
             Charts: hover a mark for its figures, click a legend entry to hide or show it.</p></footer>\n\
             <div id=\"tip\" class=\"tip\" role=\"tooltip\" hidden></div>\n\
             <script type=\"application/json\" id=\"aim-data\">{data}</script>\n\
             <script>\n{CHARTS_JS}</script>\n<script>\n{script}</script>\n</body>\n</html>\n",
            kind = self.kind,
            version = env!("CARGO_PKG_VERSION"),
            title = esc(&self.title),
            subtitle = esc(&self.subtitle),
            body = self.body,
            data = script_json(&self.data),
            script = self.script,
        );
        out
    }
}

/// Text for HTML content or a quoted attribute.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that can sit inside `<script>`: `<`, `>` and `&` as `\u` escapes (valid JSON, and no
/// string can close the element). Non-finite numbers (an infinite reduction) become `null`.
fn script_json(v: &Value) -> String {
    let text = serde_json::to_string(v).expect("page data serialises");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// A style as the scripts read it: `{color, marker, dash}`.
pub(crate) fn style_json(s: Style) -> Value {
    json!({ "color": s.color.hex(), "marker": s.marker, "dash": s.dash })
}

/// The grey of baselines and other non-methods.
pub(crate) fn grey() -> String {
    palette::GREY.hex()
}

/// A number with `decimals` places; `-` for none, `∞` for an infinite ratio.
pub(crate) fn fixed(v: f64, decimals: usize) -> String {
    if v.is_infinite() {
        "∞".into()
    } else if v.is_nan() {
        "-".into()
    } else {
        format!("{v:.decimals$}")
    }
}

/// A table cell: its text and the number it sorts by (`data-v`), if numeric.
pub(crate) struct Cell {
    pub text: String,
    pub sort: Option<f64>,
}

/// A numeric cell shown with `decimals` places, sorting by the exact value.
pub(crate) fn num(v: f64, decimals: usize) -> Cell {
    Cell {
        text: fixed(v, decimals),
        sort: v.is_finite().then_some(v),
    }
}

/// A text cell.
pub(crate) fn txt(s: impl Into<String>) -> Cell {
    Cell {
        text: s.into(),
        sort: None,
    }
}

/// A numeric cell with its own text.
pub(crate) fn num_as(v: f64, text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        sort: v.is_finite().then_some(v),
    }
}

/// An optional number: `-` (sorting last) when absent.
pub(crate) fn opt(v: Option<f64>, decimals: usize) -> Cell {
    v.map_or_else(|| txt("-"), |v| num(v, decimals))
}

/// A data table: sortable by clicking a header (with JavaScript), plain HTML without.
pub(crate) struct Table {
    pub id: String,
    pub caption: String,
    /// Column headers; `true` marks a numeric (right-aligned) column.
    pub columns: Vec<(String, bool)>,
    /// Each row's extra attributes (`data-layer="3"`) and cells.
    pub rows: Vec<(String, Vec<Cell>)>,
    /// Columns whose long text wraps (descriptions), by index.
    pub wrap: Vec<usize>,
    /// Headers may wrap (class `wrap-head`).
    wrap_head: bool,
}

impl Table {
    pub(crate) fn new(id: &str, caption: impl Into<String>, columns: &[(&str, bool)]) -> Table {
        Table {
            id: id.to_string(),
            caption: caption.into(),
            columns: columns.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            rows: Vec::new(),
            wrap: Vec::new(),
            wrap_head: false,
        }
    }

    /// Lets the headers wrap between words (a table of many columns fits the window).
    pub(crate) fn wrapping_headers(mut self) -> Table {
        self.wrap_head = true;
        self
    }

    /// Lets column `i`'s text wrap.
    pub(crate) fn wrapping(mut self, i: usize) -> Table {
        self.wrap.push(i);
        self
    }

    pub(crate) fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push((String::new(), cells));
    }

    /// A row with attributes, written as given (`data-layer="3"`).
    pub(crate) fn row_with(&mut self, attrs: String, cells: Vec<Cell>) {
        self.rows.push((attrs, cells));
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<div class=\"table-wrap\"><table class=\"data sortable{}\" id=\"{}\">\n<caption>{}</caption>\n<thead><tr>",
            if self.wrap_head { " wrap-head" } else { "" },
            esc(&self.id),
            esc(&self.caption)
        );
        for (label, numeric) in &self.columns {
            let _ = write!(
                out,
                "<th scope=\"col\"{}>{}</th>",
                if *numeric { " class=\"n\"" } else { "" },
                esc(label)
            );
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (attrs, cells) in &self.rows {
            out.push_str("<tr");
            if !attrs.is_empty() {
                out.push(' ');
                out.push_str(attrs);
            }
            out.push('>');
            for (i, (cell, (_, numeric))) in cells.iter().zip(&self.columns).enumerate() {
                out.push_str("<td");
                if *numeric {
                    out.push_str(" class=\"n\"");
                } else if self.wrap.contains(&i) {
                    out.push_str(" class=\"wrap\"");
                }
                if let Some(v) = cell.sort {
                    let _ = write!(out, " data-v=\"{v:e}\"");
                }
                let _ = write!(out, ">{}</td>", esc(&cell.text));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
        out
    }
}

/// A section with a heading, an anchor and content.
pub(crate) fn section(id: &str, title: &str, content: &str) -> String {
    format!(
        "<section id=\"{}\">\n<h2>{}</h2>\n{content}</section>\n",
        esc(id),
        esc(title)
    )
}

/// A chart's box: the script draws into it; `label` is its accessible name, `hint` the line
/// under it.
pub(crate) fn chart(id: &str, label: &str, hint: &str) -> String {
    format!(
        "<figure class=\"chart-box\"><div class=\"chart\" id=\"{id}\" role=\"img\" aria-label=\"{label}\"></div>\
         <figcaption>{hint}</figcaption></figure>\n",
        id = esc(id),
        label = esc(label),
        hint = esc(hint)
    )
}

/// Summary figures as a row of cards: `(label, value, detail)`.
pub(crate) fn cards(items: &[(String, String, String)]) -> String {
    let mut out = String::from("<div class=\"cards\">");
    for (label, value, detail) in items {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"card-label\">{}</div><div class=\"card-value\">{}</div><div class=\"card-detail\">{}</div></div>",
            esc(label),
            esc(value),
            esc(detail)
        );
    }
    out.push_str("</div>\n");
    out
}

/// Warnings (prominent) and notes as lists; empty when there are none.
pub(crate) fn messages(warnings: &[String], notes: &[String]) -> String {
    let mut out = String::new();
    if !warnings.is_empty() {
        out.push_str("<div class=\"warnings\" role=\"alert\"><h2>Warnings</h2><ul>");
        for w in warnings {
            let _ = write!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul></div>\n");
    }
    if !notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for n in notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>\n");
    }
    out
}

/// A spec (or any flat JSON object) as a two-column table of settings.
pub(crate) fn settings_table(id: &str, caption: &str, v: &Value) -> String {
    let mut t = Table::new(id, caption, &[("setting", false), ("value", false)]);
    if let Value::Object(map) = v {
        for (k, v) in map {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => "-".into(),
                other => other.to_string(),
            };
            t.row(vec![txt(k.clone()), txt(text)]);
        }
    }
    t.render()
}

/// An 80 % prediction interval of a time, `LO–HI` ms to three significant figures (as the text
/// report prints it), sorting by its low end; `-` when there is none (the roofline);
/// "measured" for a zero-width one (a baseline an anchor measured, as the sweep table says).
pub(crate) fn interval_ms(iv: Option<[f64; 2]>) -> Cell {
    iv.map_or_else(
        || txt("-"),
        |[lo, hi]| num_as(lo, crate::report::interval_range_ms(lo, hi)),
    )
}

/// An 80 % prediction interval of a ratio (a speed-up), `LO–HI×`; `-` when there is none.
pub(crate) fn interval_x(iv: Option<[f64; 2]>) -> Cell {
    iv.map_or_else(
        || txt("-"),
        |[lo, hi]| num_as(lo, format!("{}–{}×", fixed(lo, 2), fixed(hi, 2))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let v = json!({"s": "</script><!-- & -->"});
        let s = script_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn tables_sort_by_exact_values() {
        let mut t = Table::new("t", "cap", &[("name", false), ("ms", true)]);
        t.row_with("data-layer=\"3\"".into(), vec![txt("a<b"), num(1.23456, 2)]);
        t.row(vec![txt("c"), num(f64::INFINITY, 2)]);
        let h = t.render();
        assert!(h.contains("<tr data-layer=\"3\"><td>a&lt;b</td><td class=\"n\" data-v=\"1.23456e0\">1.23</td></tr>"), "{h}");
        assert!(h.contains("<td class=\"n\">∞</td>"), "{h}");
    }
}
