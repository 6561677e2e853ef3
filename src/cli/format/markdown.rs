//! `--format markdown` (or `-o FILE.md`): a tabular result as a Markdown pipe table (GitHub
//! flavoured), made from the result's CSV view — the same columns, the same base units —
//! and streamed row by row, so a sweep of a million rows needs no more memory than its CSV.
//!
//! This file is the whole format: it and its line in `formats!` (src/cli/format.rs) are all
//! that adding it took (docs/architecture.md, "How to add an output format").

use super::{Exporter, Output, Sink, To, View};
use crate::error::{Error, Result};
use std::io::Write;

pub(crate) struct Markdown;

impl Exporter for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn help(&self) -> &'static str {
        "The CSV's rows as a Markdown pipe table, base units"
    }

    fn help_in(&self, units: &str) -> Option<String> {
        Some(format!("The CSV's rows as a Markdown pipe table, {units}"))
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["md", "markdown"]
    }

    fn view(&self) -> View {
        View::Csv
    }

    fn export(&self, result: &dyn Output, to: To<'_>) -> Result<()> {
        let To::Stream(sink) = to else {
            return Err(Error::invalid("--format markdown writes text, not an image"));
        };
        let name = sink.name;
        let mut table = PipeTable::new(sink.out);
        result.write(
            View::Csv,
            &mut Sink {
                out: &mut table,
                name,
                key_names: false,
            },
        )?;
        table.finish().map_err(|source| Error::Output {
            path: name.to_path_buf(),
            source,
        })
    }
}

/// A writer that reads CSV (RFC 4180: quoted fields, `""` for a quote, line breaks inside
/// quotes) and writes each record as a pipe-table row, the header followed by its `---` line.
/// A blank line ends a table; the next record is a new header.
struct PipeTable<'a> {
    out: &'a mut dyn Write,
    /// The row being read, as pipe-table text.
    line: Vec<u8>,
    /// Fields read in this record; bytes in the current field.
    fields: usize,
    field_bytes: usize,
    /// Inside a quoted field; just read a quote inside one (the end, or the first of `""`).
    quoted: bool,
    after_quote: bool,
    /// Rows written in the current table (0: the next one is a header).
    rows: usize,
}

impl<'a> PipeTable<'a> {
    fn new(out: &'a mut dyn Write) -> PipeTable<'a> {
        PipeTable {
            out,
            line: b"|".to_vec(),
            fields: 0,
            field_bytes: 0,
            quoted: false,
            after_quote: false,
            rows: 0,
        }
    }

    /// One byte of a field's text, escaped for a table cell.
    fn text(&mut self, b: u8) {
        if self.field_bytes == 0 {
            self.line.push(b' ');
        }
        self.field_bytes += 1;
        match b {
            b'|' => self.line.extend_from_slice(b"\\|"),
            b'\n' => self.line.extend_from_slice(b"<br>"),
            b'\r' => {}
            _ => self.line.push(b),
        }
    }

    fn end_field(&mut self) {
        self.line.extend_from_slice(if self.field_bytes == 0 {
            b"  |"
        } else {
            b" |"
        });
        self.fields += 1;
        self.field_bytes = 0;
    }

    fn end_record(&mut self) -> std::io::Result<()> {
        let blank = self.fields == 0 && self.field_bytes == 0;
        if blank {
            if self.rows > 0 {
                self.out.write_all(b"\n")?;
            }
            self.rows = 0;
        } else {
            self.end_field();
            self.line.push(b'\n');
            self.out.write_all(&self.line)?;
            if self.rows == 0 {
                let mut rule = b"|".to_vec();
                for _ in 0..self.fields {
                    rule.extend_from_slice(b" --- |");
                }
                rule.push(b'\n');
                self.out.write_all(&rule)?;
            }
            self.rows += 1;
        }
        self.line.truncate(1);
        self.fields = 0;
        self.field_bytes = 0;
        Ok(())
    }

    fn byte(&mut self, b: u8) -> std::io::Result<()> {
        if self.quoted {
            if b == b'"' {
                self.quoted = false;
                self.after_quote = true;
            } else {
                self.text(b);
            }
            return Ok(());
        }
        if std::mem::take(&mut self.after_quote) && b == b'"' {
            // `""` inside a quoted field: one quote, and the field goes on.
            self.text(b'"');
            self.quoted = true;
            return Ok(());
        }
        match b {
            b'"' => self.quoted = true,
            b',' => self.end_field(),
            b'\n' => self.end_record()?,
            b'\r' => {}
            _ => self.text(b),
        }
        Ok(())
    }

    /// Writes a last record that had no line break.
    fn finish(mut self) -> std::io::Result<()> {
        if self.fields > 0 || self.field_bytes > 0 {
            self.end_record()?;
        }
        Ok(())
    }
}

impl Write for PipeTable<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.byte(b)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn convert(csv: &[u8], chunk: usize) -> String {
        let mut out = Vec::new();
        let mut t = PipeTable::new(&mut out);
        for part in csv.chunks(chunk.max(1)) {
            t.write_all(part).unwrap();
        }
        t.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn header_rule_and_rows() {
        let md = convert(b"model,flops\nllava,1.5e13\n\"a,b\",\n", 64);
        assert_eq!(
            md,
            "| model | flops |\n| --- | --- |\n| llava | 1.5e13 |\n| a,b |  |\n"
        );
    }

    #[test]
    fn quotes_pipes_and_line_breaks_are_escaped() {
        let md = convert(b"x\n\"say \"\"hi\"\" | bye\nnow\"\n", 1);
        assert_eq!(md, "| x |\n| --- |\n| say \"hi\" \\| bye<br>now |\n");
    }

    #[test]
    fn a_blank_line_starts_a_new_table_and_a_last_line_needs_no_break() {
        let md = convert(b"a\n1\n\nb\n2", 3);
        assert_eq!(md, "| a |\n| --- |\n| 1 |\n\n| b |\n| --- |\n| 2 |\n");
    }

    proptest! {
        /// Every record of a CSV written with `report::csv_field` comes back as one row with
        /// the same number of cells, however the bytes are split into writes.
        #[test]
        fn one_row_per_record(
            cells in proptest::collection::vec(
                proptest::collection::vec("[a-z0-9 ,\"|\n]{0,6}", 3), 1..6),
            chunk in 1usize..17,
        ) {
            let mut csv = String::new();
            for record in &cells {
                let fields: Vec<_> = record.iter().map(|c| crate::report::csv_field(c)).collect();
                csv.push_str(&fields.join(","));
                csv.push('\n');
            }
            let md = convert(csv.as_bytes(), chunk);
            let lines: Vec<&str> = md.lines().collect();
            prop_assert_eq!(lines.len(), cells.len() + 1);
            for line in lines.iter().filter(|l| !l.starts_with("| ---")) {
                let unescaped = line.replace("\\|", "");
                prop_assert_eq!(unescaped.matches('|').count(), 4, "{}", line);
            }
        }
    }
}
