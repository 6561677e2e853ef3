//! Writing sweep rows: an aligned table in human units, or CSV / JSON / JSON Lines in base
//! units (one row or object per configuration, fields as in [`SweepRow`]). Each row is
//! formatted on its own ([`RowWriter`]), so rows can be written as they are priced; rendering
//! all rows at once ([`render`]) gives the same text.

use super::SweepRow;
use crate::report::{csv_field, push_f64, TextFormat};
use std::fmt::Write;

/// CSV columns, in [`SweepRow`] field order (the framework's, when present, after `cost_model`:
/// [`CSV_FRAMEWORK_AFTER`]).
const CSV_HEADER: &str = "model,gpu,schedule,cost_model,frames,tokens_per_frame,visual_tokens,merged_visual_tokens,text_tokens,batch,flops,bytes,time_s,memory_consumption_bytes,baseline_flops,baseline_bytes,baseline_time_s,baseline_memory_consumption_bytes,reduction_flops,reduction_time";

/// The column a framework profile other than the roofline adds, and the column it follows.
const CSV_FRAMEWORK_AFTER: (&str, &str) = ("cost_model", ",framework");

/// CSV columns a fitted framework profile adds, in [`super::RowInterval`] field order.
const CSV_INTERVAL_HEADER: &str = ",time_low_s,time_high_s,baseline_time_low_s,baseline_time_high_s,reduction_time_low,reduction_time_high";

/// Formats rows one at a time: the text before the first row, each row (knowing whether it is
/// the first), and the text after the last.
#[derive(Debug, Clone)]
pub struct RowWriter {
    format: TextFormat,
    /// Table column widths of model, GPU and schedule.
    widths: [usize; 3],
    /// Whether rows carry 80 % intervals (a fitted framework profile): extra columns.
    intervals: bool,
    /// The table width of the framework column, when rows name one (not the roofline).
    framework: Option<usize>,
}

impl RowWriter {
    /// `labels`: every model, GPU and schedule label the rows can hold (the table's column
    /// widths; other formats ignore them).
    pub fn new<'a>(
        format: TextFormat,
        models: impl IntoIterator<Item = &'a str>,
        gpus: impl IntoIterator<Item = &'a str>,
        schedules: impl IntoIterator<Item = &'a str>,
    ) -> RowWriter {
        let width = |labels: &mut dyn Iterator<Item = &'a str>, title: &str| {
            labels
                .map(|l| l.chars().count())
                .chain([title.len()])
                .max()
                .unwrap_or(0)
        };
        RowWriter {
            format,
            widths: [
                width(&mut models.into_iter(), "model"),
                width(&mut gpus.into_iter(), "gpu"),
                width(&mut schedules.into_iter(), "schedule"),
            ],
            intervals: false,
            framework: None,
        }
    }

    /// With the framework column, when `name` is a profile other than the roofline (the rows
    /// then carry it: [`SweepRow::framework`]).
    pub fn with_framework(mut self, name: Option<&str>) -> RowWriter {
        self.framework = name.map(|n| n.chars().count().max("framework".len()));
        self
    }

    /// With the interval columns (rows priced under a fitted framework profile carry them).
    pub fn with_intervals(mut self, intervals: bool) -> RowWriter {
        self.intervals = intervals;
        self
    }

    /// For rows already at hand: the widths of their own labels.
    pub fn for_rows(format: TextFormat, rows: &[SweepRow]) -> RowWriter {
        RowWriter::new(
            format,
            rows.iter().map(|r| r.model.as_str()),
            rows.iter().map(|r| r.gpu.as_str()),
            rows.iter().map(|r| r.schedule.as_str()),
        )
        .with_intervals(rows.first().is_some_and(|r| r.interval.is_some()))
        .with_framework(rows.first().and_then(|r| r.framework.as_deref()))
    }

    /// Text before the first row: the header (table, CSV).
    pub fn begin(&self, out: &mut String) {
        let [wm, wg, ws] = self.widths;
        match self.format {
            TextFormat::Table => {
                let _ = write!(
                    out,
                    "{:<wm$} {:<wg$} {:<ws$} {:>11}",
                    "model", "gpu", "schedule", "cost model"
                );
                if let Some(wf) = self.framework {
                    let _ = write!(out, " {:<wf$}", "framework");
                }
                let _ = writeln!(
                    out,
                    " {:>7} {:>8} {:>7} {:>6} {:>6} {:>10} {:>10} {:>11} {:>10} {:>8} {:>8}",
                    "frames",
                    "visual",
                    "into L0",
                    "text",
                    "batch",
                    "TFLOPs",
                    "time ms",
                    "base TFLOPs",
                    "base ms",
                    "×FLOPs",
                    "×time"
                );
                if self.intervals {
                    // Before the newline: the interval columns extend the same line.
                    out.pop();
                    let _ = writeln!(
                        out,
                        " {:>15} {:>15} {:>11}",
                        "time 80 % ms", "base 80 % ms", "×time 80 %"
                    );
                }
            }
            TextFormat::Csv => {
                match self.framework {
                    Some(_) => {
                        let (after, column) = CSV_FRAMEWORK_AFTER;
                        let at = CSV_HEADER.find(after).expect("the header has it") + after.len();
                        out.push_str(&CSV_HEADER[..at]);
                        out.push_str(column);
                        out.push_str(&CSV_HEADER[at..]);
                    }
                    None => out.push_str(CSV_HEADER),
                }
                if self.intervals {
                    out.push_str(CSV_INTERVAL_HEADER);
                }
                out.push('\n');
            }
            TextFormat::Json | TextFormat::Jsonl => {}
        }
    }

    /// One row; `first`: whether it is the first row written.
    pub fn row(&self, r: &SweepRow, first: bool, out: &mut String) {
        match self.format {
            TextFormat::Table => self.table_row(r, out),
            TextFormat::Csv => csv_row(r, self.framework.is_some(), out),
            TextFormat::Json => {
                // `serde_json::to_string_pretty` of the whole array, element by element.
                out.push_str(if first { "[\n" } else { ",\n" });
                let object = serde_json::to_string_pretty(r).expect("rows serialise");
                for (i, line) in object.lines().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    out.push_str("  ");
                    out.push_str(line);
                }
            }
            TextFormat::Jsonl => {
                out.push_str(&serde_json::to_string(r).expect("rows serialise"));
                out.push('\n');
            }
        }
    }

    /// Text after the last row; `rows`: how many were written.
    pub fn end(&self, rows: usize, out: &mut String) {
        if self.format == TextFormat::Json {
            out.push_str(if rows == 0 { "[]\n" } else { "\n]\n" });
        }
    }

    /// Human units: TFLOPs = 1e12 FLOPs, ms.
    fn table_row(&self, r: &SweepRow, out: &mut String) {
        let [wm, wg, ws] = self.widths;
        let _ = write!(
            out,
            "{:<wm$} {:<wg$} {:<ws$} {:>11}",
            r.model, r.gpu, r.schedule, r.cost_model
        );
        if let Some(wf) = self.framework {
            let _ = write!(out, " {:<wf$}", r.framework.as_deref().unwrap_or(""));
        }
        let _ = writeln!(
            out,
            " {:>7} {:>8} {:>7} {:>6} {:>6} {:>10.4} {:>10.3} {:>11.4} {:>10.3} {:>8.2} {:>8.2}",
            r.frames,
            r.visual_tokens,
            r.merged_visual_tokens,
            r.text_tokens,
            r.batch,
            r.flops / 1e12,
            r.time_s * 1e3,
            r.baseline_flops / 1e12,
            r.baseline_time_s * 1e3,
            r.reduction_flops,
            r.reduction_time
        );
        if let Some(i) = r.interval.filter(|_| self.intervals) {
            out.pop();
            // A zero-width interval is a measured time (a baseline an anchor measured).
            let ms = crate::report::interval_range_ms;
            let _ = writeln!(
                out,
                " {:>15} {:>15} {:>11}",
                ms(i.time_low_s, i.time_high_s),
                ms(i.baseline_time_low_s, i.baseline_time_high_s),
                format!("{:.2}–{:.2}", i.reduction_time_low, i.reduction_time_high)
            );
        }
    }
}

/// Renders the rows in the chosen format, all at once.
pub fn render(rows: &[SweepRow], format: TextFormat) -> String {
    let writer = RowWriter::for_rows(format, rows);
    let mut out = String::with_capacity(64 + rows.len() * 320);
    writer.begin(&mut out);
    for (i, r) in rows.iter().enumerate() {
        writer.row(r, i == 0, &mut out);
    }
    writer.end(rows.len(), &mut out);
    out
}

/// `n` in decimal, as `{}` prints it, without going through `core::fmt` (a CSV row has six).
fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits only.
    out.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

/// `framework`: whether the header has the framework column.
fn csv_row(r: &SweepRow, framework: bool, out: &mut String) {
    for text in [
        csv_field(&r.model),
        csv_field(&r.gpu),
        csv_field(&r.schedule),
        r.cost_model.as_str().into(),
    ] {
        out.push_str(&text);
        out.push(',');
    }
    if framework {
        out.push_str(&csv_field(r.framework.as_deref().unwrap_or("")));
        out.push(',');
    }
    for count in [
        r.frames,
        r.tokens_per_frame,
        r.visual_tokens,
        r.merged_visual_tokens,
        r.text_tokens,
        r.batch,
    ] {
        push_u64(out, count);
        out.push(',');
    }
    let numbers = [
        r.flops,
        r.bytes,
        r.time_s,
        r.memory_consumption_bytes,
        r.baseline_flops,
        r.baseline_bytes,
        r.baseline_time_s,
        r.baseline_memory_consumption_bytes,
        r.reduction_flops,
        r.reduction_time,
    ];
    for (i, x) in numbers.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Shortest round-trip digits, as `{}` prints them (report::push_f64).
        push_f64(out, x);
    }
    if let Some(i) = r.interval {
        for x in [
            i.time_low_s,
            i.time_high_s,
            i.baseline_time_low_s,
            i.baseline_time_high_s,
            i.reduction_time_low,
            i.reduction_time_high,
        ] {
            out.push(',');
            push_f64(out, x);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The hand-written integer digits are `{}`'s.
        #[test]
        fn counts_print_as_display_does(n in any::<u64>()) {
            let mut out = String::from("x");
            super::push_u64(&mut out, n);
            prop_assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn counts_print_as_display_does_at_the_edges() {
        for n in [0, 9, 10, 99, 100, u64::MAX] {
            let mut out = String::new();
            super::push_u64(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn header_names_every_field_in_order() {
        let row = super::SweepRow {
            model: "m,1".into(),
            gpu: "g".into(),
            schedule: "s".into(),
            cost_model: "llm-viewer".into(),
            framework: None,
            frames: 1,
            tokens_per_frame: 2,
            visual_tokens: 2,
            merged_visual_tokens: 2,
            text_tokens: 3,
            batch: 1,
            flops: 1.0,
            bytes: 2.0,
            time_s: 3.0,
            memory_consumption_bytes: 4.0,
            baseline_flops: 5.0,
            baseline_bytes: 6.0,
            baseline_time_s: 7.0,
            baseline_memory_consumption_bytes: 8.0,
            reduction_flops: 5.0,
            reduction_time: 7.0 / 3.0,
            interval: None,
        };
        let json = serde_json::to_value(&row).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut header: Vec<&str> = super::CSV_HEADER.split(',').collect();
        keys.sort_unstable();
        header.sort_unstable();
        assert_eq!(keys, header);
        let csv = super::render(std::slice::from_ref(&row), super::TextFormat::Csv);
        assert!(
            csv.lines().nth(1).unwrap().starts_with("\"m,1\",g,s,"),
            "{csv}"
        );
        assert_eq!(csv.lines().nth(1).unwrap().split(',').count(), 21);
    }

    fn rows(n: usize) -> Vec<super::SweepRow> {
        (0..n)
            .map(|i| super::SweepRow {
                model: if i % 2 == 0 { "llava-ov-7b" } else { "m" }.into(),
                gpu: "a100".into(),
                schedule: "linear \"quoted\"".into(),
                cost_model: "refined".into(),
                framework: None,
                frames: i as u64 + 1,
                tokens_per_frame: 196,
                visual_tokens: 196 * (i as u64 + 1),
                merged_visual_tokens: 49 * (i as u64 + 1),
                text_tokens: 100,
                batch: 1,
                flops: 1.5e13 * i as f64,
                bytes: 2.0e10 / (i as f64 + 3.0),
                time_s: 0.1 / 3.0,
                memory_consumption_bytes: 1.6e10,
                baseline_flops: 9e13,
                baseline_bytes: 9e10,
                baseline_time_s: 0.3,
                baseline_memory_consumption_bytes: 1.7e10,
                reduction_flops: f64::INFINITY,
                reduction_time: 6.0,
                interval: None,
            })
            .collect()
    }

    #[test]
    fn json_rows_one_by_one_are_the_pretty_array() {
        for n in [0, 1, 2, 5] {
            let rows = rows(n);
            let mut want = serde_json::to_string_pretty(&rows).unwrap();
            want.push('\n');
            assert_eq!(
                super::render(&rows, super::TextFormat::Json),
                want,
                "{n} rows"
            );
        }
    }

    #[test]
    fn json_lines_parse_back_one_row_per_line() {
        let rows = rows(3);
        let text = super::render(&rows, super::TextFormat::Jsonl);
        assert_eq!(text.lines().count(), 3);
        for (line, row) in text.lines().zip(&rows) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v, serde_json::to_value(row).unwrap());
        }
    }
}
