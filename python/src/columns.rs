//! Sweep rows as columns, built in Rust so Python makes one array per column instead of one
//! object per cell: numbers as packed native-endian bytes (`numpy.frombuffer` over a
//! `bytearray`: no copy, and writable), names as categorical codes plus their categories
//! (`pandas.Categorical.from_codes`).

use aim_sim::sweep::SweepRow;
use aim_sim::{Error, Result};
use std::collections::HashMap;

/// How one column is read from a row.
enum Get {
    /// A name: a categorical column.
    Name(fn(&SweepRow) -> &str),
    /// A count: an `int64` column.
    Count(fn(&SweepRow) -> u64),
    /// A quantity: a `float64` column.
    Quantity(fn(&SweepRow) -> f64),
}

/// The columns of `aim-sim sweep --format csv`, in its order (`sweep::render`'s header; the
/// Python tests compare the two).
const COLUMNS: &[(&str, Get)] = &[
    ("model", Get::Name(|r| &r.model)),
    ("gpu", Get::Name(|r| &r.gpu)),
    ("schedule", Get::Name(|r| &r.schedule)),
    ("cost_model", Get::Name(|r| &r.cost_model)),
    ("frames", Get::Count(|r| r.frames)),
    ("tokens_per_frame", Get::Count(|r| r.tokens_per_frame)),
    ("visual_tokens", Get::Count(|r| r.visual_tokens)),
    (
        "merged_visual_tokens",
        Get::Count(|r| r.merged_visual_tokens),
    ),
    ("text_tokens", Get::Count(|r| r.text_tokens)),
    ("batch", Get::Count(|r| r.batch)),
    ("flops", Get::Quantity(|r| r.flops)),
    ("bytes", Get::Quantity(|r| r.bytes)),
    ("time_s", Get::Quantity(|r| r.time_s)),
    (
        "memory_consumption_bytes",
        Get::Quantity(|r| r.memory_consumption_bytes),
    ),
    ("baseline_flops", Get::Quantity(|r| r.baseline_flops)),
    ("baseline_bytes", Get::Quantity(|r| r.baseline_bytes)),
    ("baseline_time_s", Get::Quantity(|r| r.baseline_time_s)),
    (
        "baseline_memory_consumption_bytes",
        Get::Quantity(|r| r.baseline_memory_consumption_bytes),
    ),
    ("reduction_flops", Get::Quantity(|r| r.reduction_flops)),
    ("reduction_time", Get::Quantity(|r| r.reduction_time)),
];

/// The column a framework profile other than the roofline adds, after `cost_model` as in the
/// CLI's CSV (one sweep has one framework: every row has it when the first has).
const FRAMEWORK_COLUMN: &[(&str, Get)] = &[(
    "framework",
    Get::Name(|r| r.framework.as_deref().unwrap_or("")),
)];

/// Where [`FRAMEWORK_COLUMN`] goes in [`COLUMNS`]: after `cost_model`.
const FRAMEWORK_AT: usize = 4;

/// The columns a fitted framework profile adds (its 80 % intervals), after [`COLUMNS`] as in
/// the CLI's CSV; every row has them when the first has.
const INTERVAL_COLUMNS: &[(&str, Get)] = &[
    ("time_low_s", Get::Quantity(|r| interval(r).time_low_s)),
    ("time_high_s", Get::Quantity(|r| interval(r).time_high_s)),
    (
        "baseline_time_low_s",
        Get::Quantity(|r| interval(r).baseline_time_low_s),
    ),
    (
        "baseline_time_high_s",
        Get::Quantity(|r| interval(r).baseline_time_high_s),
    ),
    (
        "reduction_time_low",
        Get::Quantity(|r| interval(r).reduction_time_low),
    ),
    (
        "reduction_time_high",
        Get::Quantity(|r| interval(r).reduction_time_high),
    ),
];

/// A row's intervals; NaN where it has none (never, beside a row that has them: one sweep has
/// one framework).
fn interval(r: &SweepRow) -> aim_sim::sweep::RowInterval {
    r.interval.unwrap_or(aim_sim::sweep::RowInterval {
        time_low_s: f64::NAN,
        time_high_s: f64::NAN,
        baseline_time_low_s: f64::NAN,
        baseline_time_high_s: f64::NAN,
        reduction_time_low: f64::NAN,
        reduction_time_high: f64::NAN,
    })
}

/// One column's values.
pub enum Column {
    /// `int32` codes (native endian) into `categories`, in order of first appearance.
    Categorical {
        codes: Vec<u8>,
        categories: Vec<String>,
    },
    /// `int64` values, native endian.
    Int64(Vec<u8>),
    /// `float64` values, native endian.
    Float64(Vec<u8>),
}

/// Named columns, in CSV order.
pub fn from_rows(rows: &[SweepRow]) -> Result<Vec<(&'static str, Column)>> {
    let intervals = rows.first().is_some_and(|r| r.interval.is_some());
    let framework = rows.first().is_some_and(|r| r.framework.is_some());
    COLUMNS[..FRAMEWORK_AT]
        .iter()
        .chain(FRAMEWORK_COLUMN.iter().filter(|_| framework))
        .chain(&COLUMNS[FRAMEWORK_AT..])
        .chain(INTERVAL_COLUMNS.iter().filter(|_| intervals))
        .map(|(name, get)| {
            let column = match get {
                Get::Name(f) => categorical(rows, *f)?,
                Get::Count(f) => {
                    let mut bytes = Vec::with_capacity(rows.len() * 8);
                    for r in rows {
                        let v = i64::try_from(f(r)).map_err(|_| {
                            Error::invalid(format!("{name} {} does not fit an int64 column", f(r)))
                        })?;
                        bytes.extend_from_slice(&v.to_ne_bytes());
                    }
                    Column::Int64(bytes)
                }
                Get::Quantity(f) => {
                    let mut bytes = Vec::with_capacity(rows.len() * 8);
                    for r in rows {
                        bytes.extend_from_slice(&f(r).to_ne_bytes());
                    }
                    Column::Float64(bytes)
                }
            };
            Ok((*name, column))
        })
        .collect()
}

fn categorical(rows: &[SweepRow], name: fn(&SweepRow) -> &str) -> Result<Column> {
    let mut index: HashMap<&str, i32> = HashMap::new();
    let mut categories = Vec::new();
    let mut codes = Vec::with_capacity(rows.len() * 4);
    let mut last: Option<(&str, i32)> = None;
    for r in rows {
        let value = name(r);
        // Neighbouring rows mostly share a name (one axis varies fastest): skip the lookup.
        if let Some((_, code)) = last.filter(|(previous, _)| *previous == value) {
            codes.extend_from_slice(&code.to_ne_bytes());
            continue;
        }
        let code = match index.get(value) {
            Some(&code) => code,
            None => {
                let code = i32::try_from(categories.len())
                    .map_err(|_| Error::invalid("more than 2³¹ distinct names in one column"))?;
                index.insert(value, code);
                categories.push(value.to_string());
                code
            }
        };
        last = Some((value, code));
        codes.extend_from_slice(&code.to_ne_bytes());
    }
    Ok(Column::Categorical { codes, categories })
}
