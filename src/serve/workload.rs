//! The requests a server sees: Poisson arrivals with lengths fixed or drawn from a stated
//! distribution, or a trace file. Deterministic: the same seed gives the same requests.

use crate::error::{
    keys::{DURATION, RATE, REQUESTS},
    Key,
};
use crate::error::{Error, Result};
use crate::kernels::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// One request: when it arrives and how long its prompt and answer are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub arrival_s: f64,
    /// Video frames (images) of the prompt, before merging.
    pub frames: u64,
    pub text_tokens: u64,
    /// Tokens generated, the first one by the prefill.
    pub output_tokens: u64,
}

/// A length: fixed, or drawn per request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Dist {
    Fixed {
        value: u64,
    },
    /// Uniform over the integers `min..=max`.
    Uniform {
        min: u64,
        max: u64,
    },
    /// Exponential with this mean, rounded to the nearest integer.
    Exponential {
        mean: f64,
    },
}

impl Dist {
    /// `64`, `uniform:8:64` or `exp:64`; `what` names the option in the error.
    pub fn parse(text: &str, what: Key) -> Result<Dist> {
        let bad = || {
            Error::invalid(format!(
                "{what} '{text}': expected a count (64), uniform:MIN:MAX or exp:MEAN"
            ))
        };
        let num = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            [v] => Ok(Dist::Fixed { value: num(v)? }),
            ["uniform", a, b] => {
                let (min, max) = (num(a)?, num(b)?);
                if min > max {
                    return Err(Error::invalid(format!(
                        "{what} '{text}': MIN is above MAX; write uniform:{max}:{min}"
                    )));
                }
                Ok(Dist::Uniform { min, max })
            }
            ["exp", m] => {
                let mean: f64 = m.trim().parse().map_err(|_| bad())?;
                if !(mean.is_finite() && mean > 0.0) {
                    return Err(Error::invalid(format!(
                        "{what} '{text}': the mean must be a positive number"
                    )));
                }
                Ok(Dist::Exponential { mean })
            }
            _ => Err(bad()),
        }
    }

    fn sample(&self, rng: &mut SplitMix64) -> u64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => min + rng.next_u64() % (max - min + 1),
            Dist::Exponential { mean } => (-mean * unit(rng).ln()).round() as u64,
        }
    }

    /// The smallest value a stated range can give (`None` for a draw from a distribution
    /// with no stated minimum: the exponential).
    pub fn min(&self) -> Option<u64> {
        match *self {
            Dist::Fixed { value } => Some(value),
            Dist::Uniform { min, .. } => Some(min),
            Dist::Exponential { .. } => None,
        }
    }

    /// The largest value it can give (`None`: unbounded).
    pub fn max(&self) -> Option<u64> {
        match *self {
            Dist::Fixed { value } => Some(value),
            Dist::Uniform { max, .. } => Some(max),
            Dist::Exponential { .. } => None,
        }
    }
}

/// Uniform in (0, 1): 53 random bits, offset by half a step so the logarithm is finite.
fn unit(rng: &mut SplitMix64) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Poisson arrivals and the length of each request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arrivals {
    pub rate_per_s: f64,
    /// Stop after this many requests …
    pub requests: Option<u64>,
    /// … or at the first arrival after this many seconds.
    pub duration_s: Option<f64>,
    pub frames: Dist,
    pub text_tokens: Dist,
    pub output_tokens: Dist,
    pub seed: u64,
}

/// The slowest Poisson rate simulated, requests per second: one request per 17 minutes, so
/// ten million arrivals span 10¹⁰ s, where an f64 time still resolves microseconds (at
/// 10⁻¹⁶ requests/s the arrivals sit near 10¹⁶ s and millisecond latencies round to 0).
pub const MIN_RATE_PER_S: f64 = 1e-3;
/// The latest arrival a trace may give, seconds: where a Poisson run at [`MIN_RATE_PER_S`]
/// ends after ten million requests. Beyond it an f64 clock no longer resolves the
/// milliseconds latencies are made of (at 10¹⁵ s every latency printed 0).
pub const MAX_ARRIVAL_S: f64 = 1e10;
/// The fastest: a million requests per second, far beyond any one replica (`--find-max-rate`
/// stops its search there).
pub const MAX_RATE_PER_S: f64 = 1e6;

impl Arrivals {
    /// The requests, in arrival order: exponential gaps of mean `1 / rate` (a Poisson process).
    pub fn generate(&self) -> Result<Vec<Request>> {
        if !(self.rate_per_s.is_finite() && self.rate_per_s > 0.0) {
            return Err(Error::invalid(format!(
                "{RATE} {}: give a positive number of requests per second",
                self.rate_per_s
            )));
        }
        if !(MIN_RATE_PER_S..=MAX_RATE_PER_S).contains(&self.rate_per_s) {
            return Err(Error::invalid(format!(
                "{RATE} {:e}: give between {MIN_RATE_PER_S:e} and {MAX_RATE_PER_S:e} requests per second (below, every request is alone and the result is the same; above, no replica keeps up)",
                self.rate_per_s
            )));
        }
        if self.requests.is_none() && self.duration_s.is_none() {
            return Err(Error::invalid(format!(
                "no end to the arrivals: give {REQUESTS} N or {DURATION} SECONDS"
            )));
        }
        if let Some(d) = self.duration_s {
            if !(d.is_finite() && d > 0.0) {
                return Err(Error::invalid(format!(
                    "{DURATION} {d}: give a positive number of seconds"
                )));
            }
        }
        let limit = self.requests.unwrap_or(u64::MAX);
        if let Some(n) = self.requests {
            if n == 0 {
                return Err(Error::invalid(format!(
                    "{REQUESTS} 0: give at least one request"
                )));
            }
        }
        // Separate streams so a change of one length does not move the arrival times.
        let mut gaps = SplitMix64::new(self.seed);
        let mut lengths = SplitMix64::new(self.seed ^ 0x5EED_1E46_7A15_0000);
        let mut out = Vec::new();
        let mut t = 0.0;
        if let Some(n) = self.requests.filter(|&n| n > 10_000_000) {
            // Said before ten million draws, not after them.
            return Err(Error::invalid(format!(
                "{REQUESTS} {n} is more than 10 million requests: give fewer"
            )));
        }
        while (out.len() as u64) < limit {
            t += -unit(&mut gaps).ln() / self.rate_per_s;
            if self.duration_s.is_some_and(|d| t > d) {
                break;
            }
            out.push(Request {
                arrival_s: t,
                frames: self.frames.sample(&mut lengths),
                // An exponential draw rounds to 0 now and then: a prompt holds a text token
                // and a request generates one at least (stated ranges below 1 are refused).
                text_tokens: self.text_tokens.sample(&mut lengths).max(1),
                output_tokens: self.output_tokens.sample(&mut lengths).max(1),
            });
            if out.len() > 10_000_000 {
                return Err(Error::invalid(match self.requests {
                    Some(n) => {
                        format!("{REQUESTS} {n} is more than 10 million requests: give fewer")
                    }
                    None => format!("more than 10 million requests: lower {RATE} or {DURATION}"),
                }));
            }
        }
        Ok(out)
    }
}

/// A trace: CSV with a header (`arrival_s`, `frames` or `visual_tokens`, `text_tokens`,
/// `output_tokens`), or JSON Lines with those keys. Visual tokens become frames of
/// `tokens_per_frame` tokens. Sorted by arrival.
pub fn parse_trace(text: &str, origin: &str, tokens_per_frame: u64) -> Result<Vec<Request>> {
    // Another kind of file says which (a GPU file was "unknown column 'name = …'").
    trace_requests(text, origin, tokens_per_frame)
        .map_err(|e| crate::presets::with_kind_hint(e, text, crate::presets::FileKind::Trace))
}

fn trace_requests(text: &str, origin: &str, tokens_per_frame: u64) -> Result<Vec<Request>> {
    // Spreadsheets save CSV with a byte-order mark, which made the first column unknown.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    // A JSON array was read as CSV ("unknown column '[{\"arrival_s\":0'").
    if first.trim_start().starts_with('[') {
        return Err(Error::Parse {
            origin: origin.into(),
            message: "a JSON trace is JSON Lines, one request object per line, not an array: write each {\"arrival_s\": …} on a line of its own".into(),
        });
    }
    let rows: Vec<(usize, Row)> = if first.trim_start().starts_with('{') {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str::<Row>(l)
                    .map(|r| (i + 1, r))
                    .map_err(|e| parse_error(origin, i + 1, &json_message(l, &e)))
            })
            .collect::<Result<_>>()?
    } else {
        csv_rows(text, origin)?
    };
    if rows.is_empty() {
        return Err(Error::Parse {
            origin: origin.into(),
            message: "no requests in the trace; one row per request".into(),
        });
    }
    let mut out = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        let frames = match (r.frames, r.visual_tokens) {
            (Some(f), None) => f,
            (None, Some(v)) if v % tokens_per_frame == 0 => v / tokens_per_frame,
            (None, Some(v)) => {
                return Err(parse_error(
                    origin,
                    line,
                    &format!("{v} visual tokens is not a whole number of {tokens_per_frame}-token frames; give frames"),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(parse_error(origin, line, "give frames or visual_tokens, not both"))
            }
            // A missing column made every request text-only in silence.
            (None, None) => {
                return Err(parse_error(
                    origin,
                    line,
                    "no frames or visual_tokens: give frames (0 for a text-only request) or visual_tokens",
                ))
            }
        };
        if !(r.arrival_s.is_finite() && r.arrival_s >= 0.0) {
            return Err(parse_error(
                origin,
                line,
                "arrival_s must be a number of seconds ≥ 0",
            ));
        }
        if r.arrival_s > MAX_ARRIVAL_S {
            return Err(parse_error(
                origin,
                line,
                &format!(
                    "arrival_s {} is past {MAX_ARRIVAL_S:e} s, where the clock loses the milliseconds latencies are made of: give arrivals relative to the trace's start (subtract the first one)",
                    crate::error::bounded(r.arrival_s)
                ),
            ));
        }
        if r.output_tokens == 0 {
            return Err(parse_error(
                origin,
                line,
                "output_tokens must be at least 1 (the prefill's token)",
            ));
        }
        if r.text_tokens == 0 {
            return Err(parse_error(
                origin,
                line,
                "text_tokens must be at least 1 (a prompt's template holds some; the command line's text tokens start at 1 too)",
            ));
        }
        out.push(Request {
            arrival_s: r.arrival_s,
            frames,
            text_tokens: r.text_tokens,
            output_tokens: r.output_tokens,
        });
    }
    out.sort_by(|a, b| a.arrival_s.total_cmp(&b.arrival_s));
    // The clock starts at the first arrival: a trace of absolute timestamps (3600 s in) once
    // counted the idle hour in the makespan, and gave throughput and goodput 60× too low.
    let start_s = out[0].arrival_s;
    for r in &mut out {
        r.arrival_s -= start_s;
    }
    Ok(out)
}

/// serde's message for one JSON line in a reader's words: the line is named already (serde
/// said "at line 1 column 27" of a line it saw alone), and no Rust type names ("expected u64").
/// A value of the wrong type is named by its key, in the words CSV rows get
/// ("frames '3.0' is not a whole number").
fn json_message(line: &str, e: &serde_json::Error) -> String {
    if let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line) {
        for (key, v) in &map {
            let bad = match key.as_str() {
                "arrival_s" => (!v.is_number()).then_some("is not a number"),
                "frames" | "visual_tokens" | "text_tokens" | "output_tokens" => {
                    if v.is_i64() && !v.is_u64() {
                        Some("is negative: give a whole number, 0 or more")
                    } else {
                        (!v.is_u64() && !v.is_null()).then_some("is not a whole number")
                    }
                }
                _ => None,
            };
            if let Some(what) = bad {
                return format!("{key} {v} {what}");
            }
        }
    }
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => format!("{} (column {})", &text[..i], e.column()),
        None => text,
    };
    crate::error::plain_types(&text, "an object")
        .replace("floating point `", "the number `")
        .replace(
            ", expected a whole number, 0 or more",
            ", expected a whole number",
        )
}

fn parse_error(origin: &str, line: usize, message: &str) -> Error {
    Error::Parse {
        origin: format!("{origin}, line {line}"),
        message: crate::error::one_line(message),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    arrival_s: f64,
    #[serde(default)]
    frames: Option<u64>,
    #[serde(default)]
    visual_tokens: Option<u64>,
    /// Required: a trace without it was told "text_tokens must be at least 1" on its first
    /// row, where every other missing column is named as missing.
    text_tokens: u64,
    output_tokens: u64,
}

/// One CSV cell, trimmed and unquoted: pandas and spreadsheets may quote every cell
/// (`"arrival_s","frames"`), and the cells here are names and numbers, never holding commas.
fn cell(raw: &str) -> &str {
    let t = raw.trim();
    t.strip_prefix('"')
        .and_then(|u| u.strip_suffix('"'))
        .map(str::trim)
        .unwrap_or(t)
}

/// The cells of one CSV line: commas inside a quoted cell are the cell's (a spreadsheet
/// writes `"1,200"` for a number it shows with a thousands separator; the line was split there
/// and refused as "5 cells, the header has 4"), `""` inside one is a quote. A line with a
/// quote left open is split at every comma, so that the cell is named as it reads.
fn split_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let cur = cells.last_mut().expect("one cell at least");
        match (quoted, c) {
            (true, '"') if chars.next_if_eq(&'"').is_some() => cur.push('"'),
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, ',') => cells.push(String::new()),
            (false, '"') if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return line.split(',').map(|c| cell(c).to_owned()).collect();
    }
    cells.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// The fix for a number a spreadsheet wrote with a thousands separator (`"1,200"`).
fn separator(cell: &str) -> &'static str {
    if cell.contains(',') {
        ": write it without the thousands separator (save the sheet with plain numbers)"
    } else {
        ""
    }
}

/// Comma-separated rows under a header naming [`Row`]'s fields, any order.
fn csv_rows(text: &str, origin: &str) -> Result<Vec<(usize, Row)>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((hline, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let names = split_cells(header);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let known = [
        "arrival_s",
        "frames",
        "visual_tokens",
        "text_tokens",
        "output_tokens",
    ];
    if let Some(bad) = names.iter().find(|n| !known.contains(n)) {
        return Err(parse_error(
            origin,
            hline + 1,
            &format!(
                "unknown column '{bad}': the header names {}",
                known.join(", ")
            ),
        ));
    }
    if !names.contains(&"frames") && !names.contains(&"visual_tokens") {
        return Err(parse_error(
            origin,
            hline + 1,
            "no 'frames' or 'visual_tokens' column in the header: give one (frames 0 for text-only requests)",
        ));
    }
    if let Some(twice) = names
        .iter()
        .enumerate()
        .find_map(|(i, n)| names[..i].contains(n).then_some(n))
    {
        // The last copy won in silence (JSON Lines refuses a key given twice).
        return Err(parse_error(
            origin,
            hline + 1,
            &format!("the column '{twice}' is in the header twice: keep one"),
        ));
    }
    for need in ["arrival_s", "text_tokens", "output_tokens"] {
        if !names.contains(&need) {
            return Err(parse_error(
                origin,
                hline + 1,
                &format!("no '{need}' column in the header"),
            ));
        }
    }
    let mut rows = Vec::new();
    for (i, l) in lines {
        let cells = split_cells(l);
        if cells.len() != names.len() {
            return Err(parse_error(
                origin,
                i + 1,
                &format!("{} cells, the header has {}", cells.len(), names.len()),
            ));
        }
        let mut row = Row {
            arrival_s: 0.0,
            frames: None,
            visual_tokens: None,
            text_tokens: 0,
            output_tokens: 0,
        };
        for (name, cell) in names.iter().zip(&cells) {
            let int = || {
                cell.parse::<u64>().map_err(|_| {
                    parse_error(
                        origin,
                        i + 1,
                        &format!("{name} '{cell}' is not a whole number{}", separator(cell)),
                    )
                })
            };
            match *name {
                "arrival_s" => {
                    row.arrival_s = cell.parse().map_err(|_| {
                        parse_error(
                            origin,
                            i + 1,
                            &format!("arrival_s '{cell}' is not a number{}", separator(cell)),
                        )
                    })?
                }
                // A sheet with both columns fills one per row: an empty cell is absent, as a
                // JSON line's missing key (it was "visual_tokens '' is not a whole number").
                "frames" | "visual_tokens" if cell.is_empty() => {}
                "frames" => row.frames = Some(int()?),
                "visual_tokens" => row.visual_tokens = Some(int()?),
                "text_tokens" => row.text_tokens = int()?,
                _ => row.output_tokens = int()?,
            }
        }
        rows.push((i + 1, row));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arrivals(rate: f64, n: u64, seed: u64) -> Arrivals {
        Arrivals {
            rate_per_s: rate,
            requests: Some(n),
            duration_s: None,
            frames: Dist::Uniform { min: 8, max: 64 },
            text_tokens: Dist::Fixed { value: 100 },
            output_tokens: Dist::Exponential { mean: 64.0 },
            seed,
        }
    }

    #[test]
    fn poisson_mean_gap_is_one_over_rate() {
        let r = arrivals(4.0, 20_000, 7).generate().unwrap();
        let mean_gap = r.last().unwrap().arrival_s / r.len() as f64;
        assert!((mean_gap - 0.25).abs() < 0.01, "{mean_gap}");
        let mean_out = r.iter().map(|q| q.output_tokens as f64).sum::<f64>() / r.len() as f64;
        assert!((mean_out - 64.0).abs() < 2.0, "{mean_out}");
        assert!(r.iter().all(|q| (8..=64).contains(&q.frames)));
    }

    #[test]
    fn distributions_parse_and_reject() {
        assert_eq!(
            Dist::parse("64", Key::FramesDist).unwrap(),
            Dist::Fixed { value: 64 }
        );
        assert_eq!(
            Dist::parse("uniform:8:64", Key::FramesDist).unwrap(),
            Dist::Uniform { min: 8, max: 64 }
        );
        assert!(Dist::parse("uniform:64:8", crate::error::Key::FramesDist)
            .unwrap_err()
            .to_string()
            .contains("uniform:8:64"));
        assert!(Dist::parse("exp:-1", Key::FramesDist).is_err());
        assert!(Dist::parse("normal:3", Key::FramesDist).is_err());
    }

    #[test]
    fn traces_in_csv_and_json_lines_agree() {
        let csv = "arrival_s,visual_tokens,text_tokens,output_tokens\n0.5,392,10,4\n0.1,196,20,8\n";
        let jsonl = "{\"arrival_s\":0.5,\"frames\":2,\"text_tokens\":10,\"output_tokens\":4}\n{\"arrival_s\":0.1,\"frames\":1,\"text_tokens\":20,\"output_tokens\":8}\n";
        let a = parse_trace(csv, "t.csv", 196).unwrap();
        let b = parse_trace(jsonl, "t.jsonl", 196).unwrap();
        assert_eq!(a, b);
        // Sorted, and counted from the first arrival (0.1 s).
        assert_eq!(a[0].arrival_s, 0.0);
        assert!((a[1].arrival_s - 0.4).abs() < 1e-12);
        assert_eq!(a[1].frames, 2);
        let e = parse_trace(
            "arrival_s,visual_tokens,text_tokens,output_tokens\n0,100,5,1\n",
            "t.csv",
            196,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("t.csv, line 2") && e.contains("give frames"),
            "{e}"
        );
        assert!(parse_trace("arrival_s,speed,output_tokens\n", "t.csv", 196).is_err());
        assert!(parse_trace("arrival_s,output_tokens\n1,0\n", "t.csv", 196).is_err());
    }

    /// Each format's mistakes are named as CSV names them: a JSON array was read as CSV, a
    /// wrong type said "expected u64 at line 1 column 27", a missing text_tokens column was
    /// told "must be at least 1", and a CSV column given twice let the last copy win.
    #[test]
    fn trace_mistakes_are_named_by_key() {
        let err =
            |text: &str, origin: &str| parse_trace(text, origin, 196).unwrap_err().to_string();
        let row = r#""arrival_s":0,"text_tokens":5,"output_tokens":4"#;
        for (text, origin, want) in [
            (
                format!("[{{{row},\"frames\":1}}]"),
                "t.json",
                "not an array",
            ),
            (
                format!("{{{row},\"frames\":3.0}}"),
                "t.jsonl",
                "frames 3.0 is not a whole number",
            ),
            (
                format!("{{{row},\"frames\":-3}}"),
                "t.jsonl",
                "frames -3 is negative",
            ),
            (
                r#"{"arrival_s":"0","frames":1,"text_tokens":5,"output_tokens":4}"#.to_string(),
                "t.jsonl",
                "arrival_s \"0\" is not a number",
            ),
            (
                r#"{"arrival_s":0,"frames":1,"output_tokens":4}"#.to_string(),
                "t.jsonl",
                "missing field `text_tokens`",
            ),
            (
                "arrival_s,frames,output_tokens\n0,1,10\n".to_string(),
                "t.csv",
                "line 1: no 'text_tokens' column",
            ),
            (
                "arrival_s,frames,frames,text_tokens,output_tokens\n0,1,64,100,10\n".to_string(),
                "t.csv",
                "the column 'frames' is in the header twice",
            ),
        ] {
            let e = err(&text, origin);
            assert!(e.contains(want) && !e.contains("u64"), "{text}: {e}");
        }
    }

    /// A sheet with both a frames and a visual_tokens column fills one per row, as JSON
    /// Lines may: the empty cell was "visual_tokens '' is not a whole number".
    #[test]
    fn a_csv_row_may_leave_frames_or_visual_tokens_empty() {
        let mixed =
            "arrival_s,frames,visual_tokens,text_tokens,output_tokens\n0,2,,100,4\n1,,196,100,4\n";
        let jsonl = "{\"arrival_s\":0,\"frames\":2,\"text_tokens\":100,\"output_tokens\":4}\n{\"arrival_s\":1,\"visual_tokens\":196,\"text_tokens\":100,\"output_tokens\":4}\n";
        assert_eq!(
            parse_trace(mixed, "t.csv", 196).unwrap(),
            parse_trace(jsonl, "t.jsonl", 196).unwrap()
        );
        let e = parse_trace(
            "arrival_s,frames,visual_tokens,text_tokens,output_tokens\n0,,,100,4\n",
            "t.csv",
            196,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no frames or visual_tokens"), "{e}");
    }

    /// A spreadsheet's CSV (byte-order mark, CRLF, every cell quoted) was refused as
    /// "unknown column '\u{feff}arrival_s'".
    #[test]
    fn a_spreadsheets_csv_reads_as_the_plain_one() {
        let plain =
            "arrival_s,visual_tokens,text_tokens,output_tokens\n0.5,392,10,4\n0.1,196,20,8\n";
        let saved = "\u{feff}\"arrival_s\",\"visual_tokens\",\"text_tokens\",\"output_tokens\"\r\n\"0.5\",\"392\",\"10\",\"4\"\r\n0.1, \"196\" ,20,8\r\n";
        assert_eq!(
            parse_trace(saved, "t.csv", 196).unwrap(),
            parse_trace(plain, "t.csv", 196).unwrap()
        );
        // A lone quote is a cell the parser names, not a panic.
        let e = parse_trace(
            "arrival_s,frames,text_tokens,output_tokens\n\",1,5,1\n",
            "t.csv",
            196,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("arrival_s '\"' is not a number"), "{e}");
    }

    /// A spreadsheet writes a number shown with a thousands separator quoted, `"1,200"`: the
    /// line was split at its comma and refused as "5 cells, the header has 4". Now the cell
    /// is one, and named with the fix; commas and quotes inside quotes are the cell's.
    #[test]
    fn a_quoted_cell_keeps_its_comma() {
        let e = parse_trace(
            "arrival_s,frames,text_tokens,output_tokens\n0,2,\"1,200\",4\n",
            "t.csv",
            196,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("text_tokens '1,200' is not a whole number: write it without the thousands separator"),
            "{e}"
        );
        assert_eq!(
            split_cells(r#" "a, b" ,"say ""hi""",,3 "#),
            ["a, b", "say \"hi\"", "", "3"]
        );
        assert_eq!(split_cells("1,2"), ["1", "2"]);
        assert_eq!(split_cells(""), [""]);
        // A header's quoted names with commas around them read as the plain header.
        assert_eq!(
            parse_trace(
                "\"arrival_s\",\"frames\",\"text_tokens\",\"output_tokens\"\n\"0.5\",\"2\",\"10\",\"4\"\n",
                "t.csv",
                196
            )
            .unwrap(),
            parse_trace(
                "arrival_s,frames,text_tokens,output_tokens\n0.5,2,10,4\n",
                "t.csv",
                196
            )
            .unwrap()
        );
    }

    proptest! {
        #[test]
        fn same_seed_same_requests(seed in any::<u64>(), rate in 0.1f64..100.0) {
            let a = arrivals(rate, 50, seed).generate().unwrap();
            let b = arrivals(rate, 50, seed).generate().unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert!(a.windows(2).all(|w| w[0].arrival_s <= w[1].arrival_s));
        }

        #[test]
        fn trace_parser_never_panics(text in "[ -~\n]{0,200}") {
            let _ = parse_trace(&text, "t", 196);
        }
    }
}
