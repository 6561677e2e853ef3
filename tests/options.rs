//! The option table (`aim_sim::spec::options`, issue 22) against everything built from it or
//! written beside it: clap's arguments of every command that takes the options of a run, the
//! spec key each option sets, the sweep's list flags and `Axes`, and the Python stub
//! (`python/aim_sim/__init__.pyi`: its keywords, their order, types and defaults). The Python
//! keyword list itself is the table (`python/src/options.rs`); the stub's option parameters are
//! generated from the table into its marked regions (`# <options:begin>` … `# <options:end>`),
//! and python/tests/test_stub.py holds the stub to the functions' signatures. After a change to
//! the table: `AIM_SIM_BLESS=1 cargo test --test options`, review the stub's diff.

#![cfg(feature = "cli")]

use aim_sim::cli::{Cli, SimArgs};
use aim_sim::spec::options::{self, Kind, Value, AXES, RUN};
use aim_sim::sweep::Axes;
use aim_sim::Spec;
use clap::{Arg, Args, Command, CommandFactory, FromArgMatches};
use std::collections::BTreeMap;

/// The subcommands whose flags include the options of a run.
const WITH_RUN_OPTIONS: &[&[&str]] = &[
    &["simulate"],
    &["budget"],
    &["compare"],
    &["pareto"],
    &["serve"],
    &["validate"],
    &["measure"],
    &["calibrate"],
    &["sweep"],
    &["plot"],
];

fn subcommand(path: &[&str]) -> Command {
    let mut cmd = Cli::command();
    cmd.build();
    for name in path {
        cmd = cmd
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("no subcommand {name}"))
            .clone();
    }
    cmd
}

fn arg<'a>(cmd: &'a Command, id: &str) -> &'a Arg {
    cmd.get_arguments()
        .find(|a| a.get_id() == id)
        .unwrap_or_else(|| panic!("{}: no argument '{id}'", cmd.get_name()))
}

/// Each option of the table is a flag of each command that takes a run's options: the long
/// flag, help, section, placeholder and exclusions the table says.
#[test]
fn every_option_is_the_flag_the_table_declares() {
    for path in WITH_RUN_OPTIONS {
        let cmd = subcommand(path);
        for o in RUN {
            let a = arg(&cmd, o.name);
            let at = format!("{path:?} --{}", o.flag());
            // A command that takes a list instead (`compare --schedule A,B`) hides the option's
            // own flag as `--single-NAME`.
            let hidden = format!("single-{}", o.flag());
            if a.get_long() != Some(hidden.as_str()) || !a.is_hide_set() {
                assert_eq!(a.get_long(), Some(o.flag().as_str()), "{at}");
            }
            assert_eq!(
                a.get_help().map(|h| h.to_string()),
                Some(o.help.to_string()),
                "{at}"
            );
            assert_eq!(
                a.get_long_help().map(|h| h.to_string()),
                o.long_help.map(String::from),
                "{at}"
            );
            assert_eq!(a.get_help_heading(), Some(o.heading), "{at}");
            assert_eq!(a.is_hide_short_help_set(), !o.short, "{at}");
            let names: Vec<&str> = a
                .get_value_names()
                .map(|v| v.iter().map(|s| s.as_str()).collect())
                .unwrap_or_default();
            let expected: Vec<&str> = [o.value_name]
                .into_iter()
                .filter(|v| !v.is_empty())
                .collect();
            assert_eq!(names, expected, "{at}");
            let mut conflicts: Vec<&str> = cmd
                .get_arg_conflicts_with(a)
                .iter()
                .map(|c| c.get_id().as_str())
                .filter(|id| RUN.iter().any(|r| r.name == *id))
                .collect();
            let mut declared = o.conflicts.to_vec();
            conflicts.sort();
            declared.sort();
            assert_eq!(conflicts, declared, "{at}");
        }
    }
}

/// A value of the option's kind, as typed on the command line.
fn sample(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::RunFile | Kind::Switch => None,
        Kind::Preset(list) => Some(list[list.len() - 1].0),
        Kind::Count | Kind::CountOrZero | Kind::Whole => Some("3"),
        Kind::Bits => Some("8"),
        Kind::Real => Some("0.5"),
        Kind::Size => Some("640x480"),
        Kind::Counts => Some("5,4,3"),
        Kind::Choice(words) => Some(words()[words().len() - 1].0),
    }
}

fn parse(flags: &[String]) -> Result<SimArgs, clap::Error> {
    let cmd = SimArgs::augment_args(Command::new("t").no_binary_name(true));
    let m = cmd.try_get_matches_from(flags)?;
    SimArgs::from_arg_matches(&m)
}

/// Giving an option on the command line sets the spec key the table says (and only what the
/// table's `REPLACES` clears besides), through `Spec::apply`; an option it needs is enforced.
#[test]
fn every_option_sets_its_spec_key() {
    let default = serde_json::to_value(Spec::default()).unwrap();
    for o in RUN {
        let Some(key) = o.key else { continue };
        let mut flags = vec![format!("--{}", o.flag())];
        flags.extend(sample(o.kind).map(String::from));
        // What it needs must be given too, and clap says so until it is.
        let mut needs = o.requires.map(|(n, _)| n);
        while let Some(name) =
            needs.filter(|n| !flags.contains(&format!("--{}", n.replace('_', "-"))))
        {
            let err = parse(&flags).expect_err(o.name);
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::MissingRequiredArgument,
                "{flags:?}"
            );
            let needed = options::find(name).unwrap();
            flags.push(format!("--{}", needed.flag()));
            flags.extend(sample(needed.kind).map(String::from));
            needs = needed.requires.map(|(n, _)| n);
        }
        let args = parse(&flags).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        assert!(args.is_given(o.name), "{}", o.name);
        let spec = serde_json::to_value(args.to_spec().unwrap()).unwrap();
        assert_ne!(
            spec.get(key),
            default.get(key),
            "--{} does not set '{key}'",
            o.flag()
        );
        let expected = match (o.kind, sample(o.kind)) {
            (Kind::Switch, _) if key == o.name => serde_json::json!(true),
            (Kind::Switch, _) => spec[key].clone(),
            (Kind::Counts, Some(s)) => serde_json::json!(s
                .split(',')
                .map(|v| v.parse::<u64>().unwrap())
                .collect::<Vec<_>>()),
            (Kind::Whole | Kind::Count | Kind::CountOrZero | Kind::Bits, Some(s)) => {
                serde_json::json!(s.parse::<u64>().unwrap())
            }
            (Kind::Real, Some(s)) => serde_json::json!(s.parse::<f64>().unwrap()),
            (_, Some(s)) => serde_json::json!(s),
            (_, None) => unreachable!("only switches and the run file have no value"),
        };
        assert_eq!(spec[key], expected, "--{}", o.flag());
    }
    // The one option that sets another key: flash_attention is attention = "flash".
    let flash = parse(&["--flash-attention".into()])
        .unwrap()
        .to_spec()
        .unwrap();
    assert_eq!(serde_json::to_value(flash).unwrap()["attention"], "flash");
}

/// `Spec::apply` refuses a value of the wrong kind and a name that is no option (no panic).
#[test]
fn apply_refuses_a_wrong_kind_and_an_unknown_option() {
    let mut spec = Spec::default();
    assert!(spec.apply("frames", Value::Text("x".into())).is_err());
    assert!(spec.apply("frmes", Value::Whole(3)).is_err());
    assert!(spec.apply("flash_attention", Value::Whole(1)).is_err());
    spec.apply("frames", Value::Whole(3)).unwrap();
    assert_eq!(spec.frames, Some(3));
}

/// The sweep: each axis of `AXES` is a list flag (with the axis's help) whose option's single
/// flag is hidden, and a field of `Axes` (the sweep's input); every field of `Axes` is an axis.
#[test]
fn every_sweep_axis_is_a_list_flag_and_a_field() {
    let cmd = subcommand(&["sweep"]);
    for axis in AXES {
        let list = arg(&cmd, &format!("list_{}", axis.name));
        assert_eq!(list.get_long(), Some(axis.flag().as_str()));
        assert_eq!(
            list.get_help().map(|h| h.to_string()),
            Some(axis.help.to_string())
        );
        let single = arg(&cmd, axis.name);
        assert!(single.is_hide_set(), "--{} single", axis.flag());
        let mut axes = Axes::default();
        axes.set(axis.name, "1".into()).unwrap();
        assert_eq!(axes.get(axis.name).as_deref(), Some("1"));
        assert_eq!(axes.given().len(), 1);
    }
    assert!(Axes::default().set("frmes", "1".into()).is_err());
    let fields = serde_json::to_value(Axes::default()).unwrap();
    let fields: Vec<&String> = fields.as_object().unwrap().keys().collect();
    let mut names: Vec<&str> = AXES.iter().map(|a| a.name).collect();
    names.sort();
    let mut fields: Vec<&str> = fields.iter().map(|s| s.as_str()).collect();
    fields.sort();
    assert_eq!(fields, names, "Axes' fields are the table's axes");
    // The axes' exclusions are their options' (--frames or --tokens).
    let m = cmd.try_get_matches_from(["sweep", "--frames", "8", "--tokens", "9"]);
    assert_eq!(
        m.unwrap_err().kind(),
        clap::error::ErrorKind::ArgumentConflict
    );
}

/// One parameter of a function in the stub: annotation and default, as written.
#[derive(Debug)]
struct Param {
    annotation: String,
    default: String,
}

/// The keyword parameters of `def NAME(` in the stub (the first such function, at any
/// indentation), in order.
fn stub_params(stub: &str, name: &str) -> Vec<(String, Param)> {
    let start = stub
        .find(&format!("def {name}("))
        .unwrap_or_else(|| panic!("the stub has no {name}"));
    let body = &stub[start..];
    let end = body.find(") ->").expect("a signature ends with ') ->'");
    body[..end]
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "*," && *l != "self," && !l.starts_with('#'))
        .map(|l| {
            let l = l.trim_end_matches(',');
            let (param, rest) = l
                .split_once(": ")
                .unwrap_or_else(|| panic!("{name}: '{l}'"));
            let (annotation, default) = rest.rsplit_once(" = ").unwrap_or((rest, ""));
            (
                param.to_string(),
                Param {
                    annotation: annotation.to_string(),
                    default: default.to_string(),
                },
            )
        })
        .collect()
}

/// The words of `ALIAS = Literal[...]` in the stub.
fn stub_literal(stub: &str, alias: &str) -> Vec<String> {
    let line = stub
        .lines()
        .find(|l| l.starts_with(&format!("{alias} = Literal[")))
        .unwrap_or_else(|| panic!("the stub has no alias {alias}"));
    let inner = line.split_once('[').unwrap().1.trim_end_matches(']');
    inner
        .split(", ")
        .map(|w| w.trim_matches('"').to_string())
        .collect()
}

/// The stub's default for an option: the spec's default, in Python.
fn python_default(o: &options::RunOption, default: &serde_json::Value) -> String {
    if matches!(o.kind, Kind::Switch) {
        return "False".into();
    }
    match o.key.and_then(|k| default.get(k)) {
        None | Some(serde_json::Value::Null) => "None".into(),
        Some(serde_json::Value::String(s)) => format!("\"{s}\""),
        Some(v) => v.to_string(),
    }
}

/// The stub's annotation for an option of this kind (`None`: a `Literal` alias, checked by
/// its words).
fn python_type(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::RunFile => "Union[Spec, PathLike, Mapping[str, Any], None]",
        Kind::Preset(_) => "Optional[Definition]",
        Kind::Count | Kind::CountOrZero | Kind::Whole | Kind::Bits => "Optional[int]",
        Kind::Real => "Optional[float]",
        Kind::Size => "Optional[str]",
        Kind::Counts => "Union[Sequence[int], str, None]",
        Kind::Switch => "Optional[bool]",
        Kind::Choice(_) => return None,
    })
}

/// The stub: `simulate` and `Spec(...)` take the table's options in its order, and `sweep`,
/// `budget` and `serve` take them all; each with the type of its kind (an enum's `Literal` has
/// the enum's words) and the spec's default; a sweep axis takes an `Axis`.
#[test]
fn the_python_stub_takes_every_option_as_the_table_declares() {
    let stub = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/aim_sim/__init__.pyi"),
    )
    .unwrap();
    let default = serde_json::to_value(Spec::default()).unwrap();
    let own: BTreeMap<&str, &[&str]> = [
        ("simulate", &["detail", "anchor_ms", "anchor"][..]),
        ("__init__", &[][..]),
        ("sweep", &["jobs"][..]),
        ("budget", &[][..]),
        ("serve", &[][..]),
    ]
    .into_iter()
    .collect();
    for (function, extra) in own {
        let params = stub_params(&stub, function);
        let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
        let options: Vec<&str> = RUN.iter().map(|o| o.name).collect();
        if matches!(function, "simulate" | "__init__") {
            let in_order: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| !extra.contains(n))
                .collect();
            assert_eq!(
                in_order, options,
                "{function}: the table's options, in its order"
            );
        }
        for o in RUN {
            let (_, p) = params
                .iter()
                .find(|(n, _)| n == o.name)
                .unwrap_or_else(|| panic!("stub {function} lacks '{}'", o.name));
            let at = format!("stub {function}({}=...)", o.name);
            assert_eq!(p.default, python_default(o, &default), "{at}: default");
            if function == "sweep" && AXES.iter().any(|a| a.name == o.name) {
                assert!(
                    p.annotation.contains("Axis"),
                    "{at}: a sweep axis takes an Axis"
                );
                continue;
            }
            match (python_type(o.kind), o.kind) {
                (Some(t), _) => assert_eq!(p.annotation.replace('"', ""), t, "{at}: type"),
                (None, Kind::Choice(words)) => {
                    let alias = p
                        .annotation
                        .strip_prefix("Optional[")
                        .and_then(|a| a.strip_suffix(']'))
                        .unwrap_or_else(|| panic!("{at}: Optional[Alias]"));
                    let expected: Vec<String> =
                        words().iter().map(|(w, _)| w.to_string()).collect();
                    assert_eq!(stub_literal(&stub, alias), expected, "{at}: words");
                }
                (None, _) => unreachable!(),
            }
        }
    }
}

/// `RunOptions::default()` (what the cost model's own tests start from) is the run the spec's
/// defaults describe, eager attention aside (its default is the paper's operator list): the
/// defaults are the spec's, not a second set.
#[test]
fn run_options_default_is_the_default_spec() {
    let spec = Spec {
        attention: Some(aim_sim::spec::AttentionImpl::Eager),
        ..Spec::default()
    };
    let scenario = aim_sim::scenario::Scenario::from_spec(&spec).unwrap();
    assert_eq!(scenario.options, aim_sim::cost::RunOptions::default());
}

/// The stub's annotation of option `o` in function `function` (a sweep axis takes an `Axis`,
/// a preset axis also an inline definition; an enum takes its `Literal` alias, named as the
/// option in CamelCase).
fn stub_annotation(function: &str, o: &options::RunOption) -> String {
    if function == "sweep" && AXES.iter().any(|a| a.name == o.name) {
        return match o.kind {
            Kind::Preset(_) => "Union[Axis, Mapping[str, Any], None]".into(),
            _ => "Optional[Axis]".into(),
        };
    }
    match python_type(o.kind) {
        Some(t) => t.into(),
        None => {
            let alias: String = o
                .name
                .split('_')
                .map(|w| w[..1].to_uppercase() + &w[1..])
                .collect();
            format!("Optional[{alias}]")
        }
    }
}

/// What the table generates for one marked region of the stub: every option but the run file
/// (`spec`, the base, which each function writes first by hand), in the table's order, one
/// `name: annotation = default,` line each at the marker's indentation.
fn stub_region(function: &str, indent: &str, default: &serde_json::Value) -> String {
    RUN.iter()
        .filter(|o| !matches!(o.kind, Kind::RunFile))
        // `compare` takes its schedules as its first parameter, a list.
        .filter(|o| !(function == "compare" && o.name == "schedule"))
        .map(|o| {
            format!(
                "{indent}{}: {} = {},\n",
                o.name,
                stub_annotation(function, o),
                python_default(o, default)
            )
        })
        .collect()
}

/// `text` as one docstring entry `name: text` of an `Args:` section: greedy lines of at most
/// 95 characters (the stub's width), the first at 8 spaces, the rest at 12.
fn doc_entry(name: &str, text: &str) -> String {
    let mut out = String::new();
    let mut line = format!("        {name}:");
    for word in text.split(' ') {
        if line.chars().count() + 1 + word.chars().count() <= 95 {
            line.push(' ');
            line.push_str(word);
        } else {
            out.push_str(&line);
            out.push('\n');
            line = format!("            {word}");
        }
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The stub with `simulate`'s documented options generated from the table: in the `Args:` of
/// its docstring, the entries of the table's options (a docstring has no room for markers: the
/// run of entries from the first that names an option of the table to the next that names none)
/// become each option's `doc`, in the table's order.
fn with_simulate_docs(stub: &str) -> String {
    let def = stub.find("\ndef simulate(").expect("the stub has simulate");
    let args = def
        + stub[def..]
            .find("\n    Args:\n")
            .expect("simulate documents its Args")
        + 1;
    let section_start = args + "    Args:\n".len();
    let section_len = stub[section_start..].find("\n\n").expect("Args ends") + 1;
    let section = &stub[section_start..section_start + section_len];
    let entry = |line: &str| -> Option<bool> {
        let name = line.strip_prefix("        ")?.split_once(':')?.0;
        (!name.starts_with(' ')).then(|| options::find(name).is_some())
    };
    let mut offset = 0;
    let (mut from, mut to) = (None, section.len());
    for line in section.split_inclusive('\n') {
        match (entry(line), from) {
            (Some(true), None) => from = Some(offset),
            (Some(false), Some(_)) => {
                to = offset;
                break;
            }
            _ => {}
        }
        offset += line.len();
    }
    let from = from.expect("simulate documents the table's options");
    let docs: String = RUN.iter().map(|o| doc_entry(o.name, o.doc)).collect();
    format!(
        "{}{docs}{}",
        &stub[..section_start + from],
        &stub[section_start + to..]
    )
}

/// The stub's marked regions (`# <options:begin>` … `# <options:end>` inside `Spec.__init__`,
/// `simulate`, `sweep`, `serve`, `budget` and `compare`, whose schedules are its first parameter) and the options documented in `simulate`'s
/// `Args:` are what the table generates; under `AIM_SIM_BLESS` they are rewritten. A new option of the table is a new parameter of every
/// function without a hand-written line.
#[test]
fn the_python_stub_option_parameters_are_generated_from_the_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/aim_sim/__init__.pyi");
    let stub = std::fs::read_to_string(&path).unwrap();
    let default = serde_json::to_value(Spec::default()).unwrap();
    let (begin, end) = ("# <options:begin>\n", "# <options:end>\n");
    let mut out = String::new();
    let mut rest = stub.as_str();
    let mut functions = Vec::new();
    while let Some(a) = rest.find(begin) {
        let line_start = rest[..a].rfind('\n').map_or(0, |i| i + 1);
        let indent = &rest[line_start..a];
        assert!(
            indent.chars().all(|c| c == ' '),
            "the stub's '{}' stands alone on its line",
            begin.trim_end()
        );
        let before = format!("{out}{}", &rest[..a]);
        let function = before
            .rsplit_once("def ")
            .and_then(|(_, f)| f.split_once('('))
            .map(|(f, _)| f.to_string())
            .expect("a marked region is inside a def's signature");
        let body = &rest[a + begin.len()..];
        let b = body
            .find(&format!("{indent}{end}"))
            .unwrap_or_else(|| panic!("stub {function}: '{}' missing", end.trim_end()));
        out.push_str(&rest[..a + begin.len()]);
        out.push_str(&stub_region(&function, indent, &default));
        functions.push(function);
        rest = &body[b..];
    }
    out.push_str(rest);
    assert_eq!(
        functions,
        ["__init__", "simulate", "sweep", "serve", "budget", "compare"],
        "the stub's marked regions"
    );
    let out = with_simulate_docs(&out);
    if out == stub {
        return;
    }
    if std::env::var_os("AIM_SIM_BLESS").is_some() {
        std::fs::write(&path, out).unwrap();
        return;
    }
    let first = stub
        .lines()
        .zip(out.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(0);
    panic!(
        "python/aim_sim/__init__.pyi differs from the option table at line {}:\n  in the file: {:?}\n  generated:   {:?}\n\
         (after an intended change: AIM_SIM_BLESS=1 cargo test --test options, review the diff)",
        first + 1,
        stub.lines().nth(first).unwrap_or(""),
        out.lines().nth(first).unwrap_or(""),
    );
}
