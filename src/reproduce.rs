//! `aim-sim reproduce`: the AIM paper's printed efficiency rows (`reference/paper-cases.toml`)
//! beside what aim-sim computes from each row's settings, with relative differences. Each row
//! is an ordinary [`crate::spec::Spec`] ([`Case::spec`]); the flags shown beside it
//! ([`Case::cli_args`]) give the same run on the command line (tests/paper_cases.rs checks so).

use crate::error::Result;
use crate::paper::{self, Case};
use crate::report::TextFormat;
use crate::scenario::Scenario;
use crate::sim;
use serde::Serialize;
use std::fmt::Write;

/// One paper row and aim-sim's figures for it. Relative differences are `(aim_sim - x) / x`.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: String,
    pub setting: String,
    /// The `aim-sim` flags that reproduce the row.
    pub args: String,
    /// As printed in the paper (rounded).
    pub paper_tflops: f64,
    /// What the LLM-Viewer formulas give (4 decimals).
    pub exact_tflops: f64,
    pub aim_sim_tflops: f64,
    pub tflops_rel_diff_vs_paper: f64,
    pub tflops_rel_diff_vs_exact: f64,
    pub paper_ms: f64,
    pub exact_ms: f64,
    pub aim_sim_ms: f64,
    pub ms_rel_diff_vs_paper: f64,
    pub ms_rel_diff_vs_exact: f64,
}

/// All rows, the largest differences and the headline.
#[derive(Debug, Clone, Serialize)]
pub struct Reproduction {
    pub rows: Vec<Row>,
    /// Largest |relative difference| against the printed figures, TFLOPs and ms together.
    pub max_abs_rel_diff_vs_paper: f64,
    /// Largest |relative difference| against the exact formula values.
    pub max_abs_rel_diff_vs_exact: f64,
    /// The paper's headline as aim-sim computes it (`None` if its two rows were missing).
    pub headline: Option<Headline>,
}

/// The paper's headline claim: AIM's default setting against no reduction (LLaVA-OV-7B, 32
/// frames), as factors (baseline ÷ AIM).
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    /// The rows compared.
    pub baseline_id: String,
    pub aim_id: String,
    /// aim-sim's FLOPs reduction.
    pub flops_reduction: f64,
    /// aim-sim's prefill-time reduction.
    pub time_reduction: f64,
    /// The paper's stated factors (its abstract rounds them: 6.8×, 8.0×).
    pub paper_flops_reduction: f64,
    pub paper_time_reduction: f64,
}

/// The rows of the headline: no reduction, and AIM's default.
const HEADLINE_ROWS: (&str, &str) = ("ov-base", "ov-aim");

fn rel(value: f64, reference: f64) -> f64 {
    (value - reference) / reference
}

/// Runs one case through the simulator.
pub(crate) fn run_case(case: &Case) -> Result<Row> {
    let args = case.cli_args();
    let report = sim::simulate(&Scenario::from_spec(&case.spec())?)?;
    let tflops = report.run.totals.flops / 1e12;
    let ms = report.run.totals.time_s * 1e3;
    Ok(Row {
        id: case.id.clone(),
        setting: case.setting.clone(),
        args: args.join(" "),
        paper_tflops: case.paper_tflops,
        exact_tflops: case.exact_tflops,
        aim_sim_tflops: tflops,
        tflops_rel_diff_vs_paper: rel(tflops, case.paper_tflops),
        tflops_rel_diff_vs_exact: rel(tflops, case.exact_tflops),
        paper_ms: case.paper_ms,
        exact_ms: case.exact_ms,
        aim_sim_ms: ms,
        ms_rel_diff_vs_paper: rel(ms, case.paper_ms),
        ms_rel_diff_vs_exact: rel(ms, case.exact_ms),
    })
}

/// Every paper row, in the paper's order.
pub fn reproduce() -> Result<Reproduction> {
    let rows = paper::cases()
        .iter()
        .map(run_case)
        .collect::<Result<Vec<_>>>()?;
    let max = |f: fn(&Row) -> [f64; 2]| {
        rows.iter()
            .flat_map(f)
            .map(f64::abs)
            .fold(0.0_f64, f64::max)
    };
    let find = |id: &str| rows.iter().find(|x| x.id == id);
    let headline = match (find(HEADLINE_ROWS.0), find(HEADLINE_ROWS.1)) {
        (Some(base), Some(aim)) => Some(Headline {
            baseline_id: base.id.clone(),
            aim_id: aim.id.clone(),
            flops_reduction: base.aim_sim_tflops / aim.aim_sim_tflops,
            time_reduction: base.aim_sim_ms / aim.aim_sim_ms,
            paper_flops_reduction: 6.8,
            paper_time_reduction: 8.0,
        }),
        _ => None,
    };
    Ok(Reproduction {
        max_abs_rel_diff_vs_paper: max(|r| [r.tflops_rel_diff_vs_paper, r.ms_rel_diff_vs_paper]),
        max_abs_rel_diff_vs_exact: max(|r| [r.tflops_rel_diff_vs_exact, r.ms_rel_diff_vs_exact]),
        rows,
        headline,
    })
}

fn table(r: &Reproduction) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "AIM paper (arXiv 2412.03248) efficiency rows beside aim-sim: llm-viewer cost model, A100, batch 1, 16-bit, eager attention"
    );
    let _ = writeln!(
        out,
        "Δ = (aim-sim − x) / x; paper figures are printed rounded, exact ones to 4 (TFLOPs) / 3 (ms) decimals\n"
    );
    let _ = writeln!(
        out,
        "{:<16} {:>8} {:>9} {:>8} {:>9} {:>9} │ {:>8} {:>9} {:>8} {:>9} {:>9}  setting",
        "id",
        "paper",
        "aim-sim",
        "Δ paper",
        "exact",
        "Δ exact",
        "paper",
        "aim-sim",
        "Δ paper",
        "exact",
        "Δ exact"
    );
    let units = format!(
        "{:<16} {:^47} │ {:^47}",
        "", "── TFLOPs ──", "── prefill ms ──"
    );
    let _ = writeln!(out, "{}", units.trim_end());
    for row in &r.rows {
        let _ = writeln!(
            out,
            "{:<16} {:>8.2} {:>9.4} {:>+7.3}% {:>9.4} {:>+9.1e} │ {:>8.2} {:>9.3} {:>+7.3}% {:>9.3} {:>+9.1e}  {}",
            row.id,
            row.paper_tflops,
            row.aim_sim_tflops,
            row.tflops_rel_diff_vs_paper * 100.0,
            row.exact_tflops,
            row.tflops_rel_diff_vs_exact,
            row.paper_ms,
            row.aim_sim_ms,
            row.ms_rel_diff_vs_paper * 100.0,
            row.exact_ms,
            row.ms_rel_diff_vs_exact,
            row.setting
        );
    }
    let _ = writeln!(
        out,
        "\n{} rows; largest |Δ| vs the printed figures {:.3} % (their rounding), vs the exact values {:.1e}",
        r.rows.len(),
        r.max_abs_rel_diff_vs_paper * 100.0,
        r.max_abs_rel_diff_vs_exact
    );
    if let Some(h) = &r.headline {
        let _ = writeln!(
            out,
            "headline: {:.2}× fewer FLOPs (paper: {:.1}×), {:.2}× less prefill time (paper: {:.1}×)",
            h.flops_reduction, h.paper_flops_reduction, h.time_reduction, h.paper_time_reduction
        );
    }
    out
}

/// The rows as CSV, the JSON's columns in its order (`setting` and `args` quoted as needed).
fn csv(r: &Reproduction) -> String {
    let mut out = String::from(
        "id,setting,args,paper_tflops,exact_tflops,aim_sim_tflops,tflops_rel_diff_vs_paper,tflops_rel_diff_vs_exact,paper_ms,exact_ms,aim_sim_ms,ms_rel_diff_vs_paper,ms_rel_diff_vs_exact\n",
    );
    for x in &r.rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            crate::report::csv_field(&x.id),
            crate::report::csv_field(&x.setting),
            crate::report::csv_field(&x.args),
            x.paper_tflops,
            x.exact_tflops,
            x.aim_sim_tflops,
            x.tflops_rel_diff_vs_paper,
            x.tflops_rel_diff_vs_exact,
            x.paper_ms,
            x.exact_ms,
            x.aim_sim_ms,
            x.ms_rel_diff_vs_paper,
            x.ms_rel_diff_vs_exact
        );
    }
    out
}

/// Writes the reproduction as a table, CSV or JSON.
pub fn render(r: &Reproduction, format: TextFormat) -> Result<String> {
    Ok(match format {
        TextFormat::Table => table(r),
        TextFormat::Csv => csv(r),
        TextFormat::Json => crate::report::json_text(r),
        TextFormat::Jsonl => return Err(format.lacks("a reproduction")),
    })
}
