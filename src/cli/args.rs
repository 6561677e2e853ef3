//! Raw command-line flags (clap) and how they become a [`Spec`]. Defaults and validation live
//! with the spec (`crate::spec`, `crate::scenario`), so this file says only what a user can
//! type: every setting flag is optional and, when given, overrides the run file (`--spec`) or
//! the spec's default.

use crate::error::Result;
use crate::model::Resolution;
use crate::spec::options::{self, Kind, RunOption, Value};
use crate::spec::{parse_count, parse_count_or_zero, Spec};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use std::path::PathBuf;

/// Options of the commands that run on a GPU.
#[derive(Debug, Clone, Args)]
pub(crate) struct GpuArgs {
    /// Exit with code 2 (instead of 0) when no usable GPU is found.
    #[arg(long)]
    pub require_gpu: bool,
    /// CUDA device ordinal.
    #[arg(long, default_value = "0", value_name = "N")]
    pub device: usize,
}

/// Options of the commands that time kernels (`measure`, `calibrate`): a GPU's, or a synthetic
/// device's instead. `validate` checks the kernels' results, which only a GPU computes.
#[derive(Debug, Clone, Args)]
pub(crate) struct TimingArgs {
    #[command(flatten)]
    pub gpu: GpuArgs,
    /// Time kernels on a synthetic device (a GPU TOML) instead of a GPU.
    ///
    /// Time kernels on a synthetic device instead of a GPU — a GPU TOML whose [efficiency]
    /// table says how fast it runs. For testing the pipeline without a GPU; every result says
    /// "synthetic".
    #[arg(long, value_name = "PATH")]
    pub synthetic_device: Option<String>,
}

/// Element type of the validated kernels' inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum KernelDtype {
    Bf16,
    F32,
}

/// Which preset list `aim-sim list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PresetKind {
    Gpus,
    Models,
    Schedules,
    Frameworks,
}

/// Everything that defines one simulated prefill: the flags of [`options::RUN`], each built
/// from its row there. Each flag overrides the `--spec` run file (or the default); the defaults
/// shown are [`Spec::default`]'s.
#[derive(Debug, Clone, Default)]
pub struct SimArgs {
    /// A run file (TOML/JSON spec, or an earlier run's JSON output); flags override it.
    pub spec: Option<PathBuf>,
    /// Every other flag given, by option name, in the table's order.
    pub given: Vec<(&'static str, Value)>,
}

/// The clap argument of one option of the table. The long flag is leaked: clap without its
/// `string` feature takes `&'static str`, and the command is built once per process.
fn arg(o: &'static RunOption) -> Arg {
    let mut a = Arg::new(o.name)
        .long(o.flag().leak() as &str)
        .help(o.help)
        .help_heading(o.heading)
        .required(false)
        .conflicts_with_all(o.conflicts);
    if let Some(long) = o.long_help {
        a = a.long_help(long);
    }
    if !o.short {
        a = a.hide_short_help(true);
    }
    if let Some((needs, _)) = o.requires {
        a = a.requires(needs);
    }
    if !o.value_name.is_empty() {
        a = a.value_name(o.value_name).action(ArgAction::Set);
    }
    match o.kind {
        Kind::RunFile => a.value_parser(clap::value_parser!(PathBuf)),
        Kind::Preset(presets) => a
            .value_parser(super::preset_or_path(presets))
            .hide_possible_values(true),
        // No visual tokens is a text-only prompt, which `--frames 0` asks for.
        Kind::Count if o.name == "tokens" => a.value_parser(|s: &str| {
            parse_count(s).map_err(|e| match s.trim().parse::<u64>() {
                Ok(0) => format!("{e} (a text-only prompt: --frames 0 --text-tokens N)"),
                _ => e,
            })
        }),
        Kind::Count => a.value_parser(parse_count),
        Kind::CountOrZero => a.value_parser(parse_count_or_zero),
        Kind::Whole => a.value_parser(clap::value_parser!(u64)),
        Kind::Bits => a.value_parser(clap::value_parser!(u32)),
        Kind::Real => a.value_parser(clap::value_parser!(f64)),
        Kind::Size => a.value_parser(clap::value_parser!(Resolution)),
        Kind::Counts => a
            .value_parser(parse_count)
            .action(ArgAction::Append)
            .value_delimiter(','),
        Kind::Choice(words) => a.value_parser(PossibleValuesParser::new(
            words()
                .into_iter()
                .map(|(word, help)| PossibleValue::new(word).help(help)),
        )),
        Kind::Switch => a.action(ArgAction::SetTrue),
    }
}

impl Args for SimArgs {
    fn augment_args(cmd: Command) -> Command {
        options::RUN.iter().fold(cmd, |cmd, o| cmd.arg(arg(o)))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SimArgs {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        let mut args = SimArgs::default();
        for o in options::RUN {
            let value = match o.kind {
                Kind::RunFile => {
                    args.spec = m.get_one::<PathBuf>(o.name).cloned();
                    continue;
                }
                Kind::Preset(_) | Kind::Choice(_) => {
                    m.get_one::<String>(o.name).cloned().map(Value::Text)
                }
                Kind::Count | Kind::CountOrZero | Kind::Whole => {
                    m.get_one::<u64>(o.name).copied().map(Value::Whole)
                }
                Kind::Bits => m.get_one::<u32>(o.name).copied().map(Value::Bits),
                Kind::Real => m.get_one::<f64>(o.name).copied().map(Value::Real),
                Kind::Size => m.get_one::<Resolution>(o.name).copied().map(Value::Size),
                Kind::Counts => m
                    .get_many::<u64>(o.name)
                    .map(|v| Value::Counts(v.copied().collect())),
                Kind::Switch => m.get_flag(o.name).then_some(Value::On),
            };
            if let Some(value) = value {
                args.given.push((o.name, value));
            }
        }
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl SimArgs {
    /// The value given for the option `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.given.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Whether the option `name` was given.
    pub fn is_given(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Gives the option `name` (of [`options::RUN`]) this value, as if typed.
    pub(crate) fn set(&mut self, name: &str, value: Value) {
        let o = options::find(name).expect("an option of the table");
        match self.given.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.given.push((o.name, value)),
        }
    }

    /// The spec these flags describe: the `--spec` file (or the defaults), with every flag
    /// that was given laid over it.
    pub fn to_spec(&self) -> Result<Spec> {
        self.to_spec_beside(|_| false)
    }

    /// [`SimArgs::to_spec`] where the options `also` names are given too, elsewhere (a sweep's
    /// axes): the file's values they replace are cleared as well (`sweep --spec run.json
    /// --model a,b` once priced every model at the run's tokens per frame).
    pub(crate) fn to_spec_beside(&self, also: impl Fn(&str) -> bool) -> Result<Spec> {
        let mut base = match &self.spec {
            Some(path) => {
                let spec = Spec::load(path)?;
                let given = |option: &str| self.is_given(option) || also(option);
                let replaced = |key: &str| {
                    crate::spec::REPLACES
                        .iter()
                        .any(|(option, cleared)| given(option) && cleared.contains(&key))
                };
                super::keys::from_file(
                    path,
                    Spec::keys_in(path)
                        .into_iter()
                        .filter(|k| !given(k) && !replaced(k)),
                );
                spec
            }
            None => Spec::default(),
        };
        base.clear_replaced(also);
        self.overlay(base)
    }

    /// `base` with every flag that was given laid over it. A flag wins over the file, also
    /// over the file's other way of giving the same thing (`crate::spec::REPLACES`).
    pub(crate) fn overlay(&self, base: Spec) -> Result<Spec> {
        let mut s = base;
        s.clear_replaced(|option| self.is_given(option));
        for (name, value) in &self.given {
            s.apply(name, value.clone())?;
        }
        Ok(s)
    }
}

/// Where and how results are written (`crate::cli::format`: each command offers its own
/// formats; `-o FILE` alone takes the format from the extension).
#[derive(Debug, Clone, Args)]
pub(crate) struct OutputArgs {
    /// Output format [default: table, or the -o file's extension].
    #[arg(long, help_heading = "Output", value_name = "FORMAT", value_parser = super::format::parser(super::format::EVERY_VIEW))]
    pub format: Option<super::format::Format>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', help_heading = "Output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    /// The format of a command whose result has `views` (an error for a format it lacks).
    pub(crate) fn resolve(
        &self,
        command: &str,
        views: &[super::format::View],
    ) -> Result<super::format::Format> {
        super::format::resolve(command, views, self.format, self.output.as_deref())
    }
}
