//! `aim-sim budget`: frames a schedule fits in a reference's cost, or the setting that reaches
//! a reduction factor (the logic is `crate::budget`).

use crate::budget::{self, BudgetQuery, By, Solve, DEFAULT_MAX_FRAMES};
use crate::cli::format::{self, Output, Sink, View};
use crate::cli::{choice, html, OutputArgs, SimArgs};
use crate::error::Result;
use crate::spec::parse_count;

/// Flags of `aim-sim budget` besides those of a single run.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BudgetArgs {
    /// Schedule of the reference run.
    #[arg(long, default_value = "none", value_name = "NAME")]
    pub reference_schedule: String,
    /// Reference frames [default: --frames, else the model's].
    #[arg(long, value_name = "F", value_parser = parse_count)]
    pub reference_frames: Option<u64>,
    /// What is compared.
    #[arg(long, value_name = "QUANTITY", default_value = "flops", value_parser = choice::<By>())]
    pub by: By,
    /// Largest frame count considered.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAMES, value_name = "F", value_parser = parse_count)]
    pub max_frames: u64,
    /// The mildest --solve setting that reaches reduction X.
    ///
    /// Inverse question: the least aggressive --solve setting whose reduction factor
    /// (baseline / schedule, --by) reaches X at the given input.
    // Negative numbers are values here, so that `-1` gets the range error, not "unexpected
    // argument".
    #[arg(long, value_name = "X", allow_negative_numbers = true, conflicts_with_all = ["reference_frames", "max_frames"])]
    pub target_reduction: Option<f64>,
    /// The knob: window, start, end or merge [default: window].
    #[arg(long, value_name = "KNOB", value_parser = choice::<Solve>(), hide_possible_values = true)]
    pub solve: Option<Solve>,
}

impl BudgetArgs {
    fn query(&self) -> BudgetQuery {
        BudgetQuery {
            reference_schedule: self.reference_schedule.clone(),
            reference_frames: self.reference_frames,
            by: self.by,
            max_frames: self.max_frames,
            target_reduction: self.target_reduction,
            solve: self.solve,
        }
    }
}

/// With an anchor (`--by time` only), the answer under the profile refitted to it; its note on
/// standard error, as `sweep` puts it.
pub fn command(
    sim: &SimArgs,
    b: &BudgetArgs,
    anchor: &super::run::AnchorArgs,
    output: &OutputArgs,
) -> Result<()> {
    let format = output.resolve("budget", VIEWS)?;
    let (answer, note) = budget::answer_anchored(
        &sim.to_spec()?,
        &b.query(),
        anchor.anchor_ms,
        anchor.anchor.as_deref(),
    )?;
    if let Some(note) = note {
        crate::cli::to_stderr(format_args!("note: {}", crate::cli::keys::flags_in(&note)));
    }
    super::run::warn(answer.warnings());
    format::write(format, output.output.as_deref(), &answer)
}

/// A budget answers one question: no rows, so no CSV.
pub const VIEWS: &[View] = &[View::Table, View::Json, View::Html];

impl Output for budget::Answer {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&match view {
            View::Html => html::budget(self)?,
            view => budget::render(self, format::text("budget", view)?)?,
        })
    }
}
