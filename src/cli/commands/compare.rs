//! `aim-sim compare --schedule a,b,c`: the flags of a single run, with `--schedule` taking a
//! list; every schedule prices the same input (the logic is `crate::compare`).

use super::run::AnchorArgs;
use crate::cli::format::{self, Output, Sink, View};
use crate::cli::{html, OutputArgs, SimArgs};
use crate::compare::{self, Query};
use crate::error::Result;
use clap::{Arg, ArgMatches, Args, FromArgMatches};

/// The flags of a single run; `--schedule` is a comma list here.
#[derive(Debug, Clone)]
pub(crate) struct CompareArgs {
    /// The single-run flags; their `--schedule` is never set here.
    pub sim: SimArgs,
    /// The schedules, in the order given.
    pub schedules: Vec<String>,
    /// Your measured baseline: every schedule is priced under the profile refitted to it.
    pub anchor: AnchorArgs,
}

impl Args for CompareArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        AnchorArgs::augment_args(SimArgs::augment_args(cmd))
            .mut_arg("schedule", |a| a.long("single-schedule").hide(true))
            // The core says why compare takes no selection; clap's "required --layer-tokens"
            // sent the user to a flag compare refuses.
            .mut_arg("selection", |a| {
                a.requires(clap::builder::Resettable::Reset)
            })
            .arg(
                Arg::new("compare_schedules")
                    .long("schedule")
                    .value_name("A,B,...")
                    .value_delimiter(',')
                    .required(true)
                    .help("Schedules, comma-separated; speed-ups against the first"),
            )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for CompareArgs {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        Ok(CompareArgs {
            sim: SimArgs::from_arg_matches(m)?,
            schedules: m
                .get_many::<String>("compare_schedules")
                .into_iter()
                .flatten()
                .map(|s| s.trim().to_string())
                .collect(),
            anchor: AnchorArgs::from_arg_matches(m)?,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// `aim-sim compare`.
pub fn command(args: &CompareArgs, output: &OutputArgs) -> Result<()> {
    let format = output.resolve("compare", VIEWS)?;
    let c = compare::compare(&Query::anchored(
        args.sim.to_spec()?,
        args.schedules.clone(),
        args.anchor.anchor_ms,
        args.anchor.anchor.as_deref(),
    )?)?;
    format::write(format, output.output.as_deref(), &c)
}

/// What a comparison can be written as.
pub const VIEWS: &[View] = &[View::Table, View::Json, View::Csv, View::Html];

impl Output for compare::Comparison {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&match view {
            View::Html => html::compare(self)?,
            view => compare::render(self, format::text("compare", view)?)?,
        })
    }
}
