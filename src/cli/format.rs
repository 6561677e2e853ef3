//! One output shape: every command writes its result through the one [`Format`] enum and the
//! one [`Exporter`] trait, one file per format in `src/cli/format/` (the list is [`formats!`]'s
//! call below). A command's result says which [`View`]s it has (its table, JSON, CSV, page,
//! chart — [`Output`]); a format is written from one view, so a command has exactly the formats
//! whose view it offers, and `--format` lists only those.
//!
//! `-o FILE` without `--format` takes the format from the file's extension (`.csv`, `.json`,
//! `.jsonl`, `.md`, `.html`, `.png`, `.svg`); an extension that says another format than
//! `--format` is an error, an unknown one keeps the default (the table).

use crate::error::{Error, Result};
use crate::report::TextFormat;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Declares the formats: `Variant in file` for each `src/cli/format/<file>.rs`, whose unit
/// struct `Variant` is the format's [`Exporter`]. Adding a format is one file and one line here.
macro_rules! formats {
    ($($variant:ident in $file:ident,)*) => {
        $(mod $file;)*

        /// An output format (`--format`, or `-o FILE`'s extension).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Format {
            $($variant,)*
        }

        impl Format {
            /// Every format, in the order `--help` and the errors list them.
            pub const ALL: &'static [Format] = &[$(Format::$variant,)*];

            /// The file that writes it.
            pub fn exporter(self) -> &'static dyn Exporter {
                match self {
                    $(Format::$variant => &$file::$variant,)*
                }
            }
        }
    };
}

formats! {
    Table in table,
    Json in json,
    Csv in csv,
    Jsonl in jsonl,
    Markdown in markdown,
    Html in html,
    Png in png,
    Svg in svg,
}

/// A part of a command's result that formats are written from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// The human table (human units).
    Table,
    /// The result as pretty JSON (base units).
    Json,
    /// Rows with a header, base units (also what a Markdown table is made of).
    Csv,
    /// One compact JSON object per line.
    Jsonl,
    /// One self-contained interactive page (`crate::html`).
    Html,
    /// The chart that `aim-sim plot` draws of this result (`crate::plot`).
    Chart,
}

/// Every view: the formats `--format` accepts before a command narrows them ([`offer`]).
pub const EVERY_VIEW: &[View] = &[
    View::Table,
    View::Json,
    View::Csv,
    View::Jsonl,
    View::Html,
    View::Chart,
];

/// A text destination: the writer and its name for errors.
pub(crate) struct Sink<'a> {
    pub out: &'a mut dyn Write,
    /// The file (or "standard output") the text goes to.
    pub name: &'a Path,
    /// Options a warning or note names are written as the spec's keys (`tokens_per_frame`),
    /// not as flags: JSON is data in a run file's and Python's words (a run's JSON replays as
    /// a run file, and Python's report is the same document).
    pub key_names: bool,
}

impl Sink<'_> {
    /// Writes `text`, the options a warning or a note names as flags
    /// ([`super::keys::flags_in`]), or as keys where [`Sink::key_names`] says so.
    pub(crate) fn put(&mut self, text: &str) -> Result<()> {
        let text = if self.key_names {
            crate::error::with_key_names(text)
        } else {
            super::keys::flags_in(text)
        };
        self.out
            .write_all(text.as_bytes())
            .map_err(|source| Error::Output {
                path: self.name.to_path_buf(),
                source,
            })
    }
}

/// Where an exporter writes: a stream of text, or an image file it draws itself.
pub(crate) enum To<'a> {
    Stream(Sink<'a>),
    File(&'a Path),
}

/// One output format: its name, its help, the extensions that imply it, the view it is written
/// from, and the writing.
pub(crate) trait Exporter: Sync {
    /// The word of `--format`.
    fn name(&self) -> &'static str;
    /// What `--help` says of it.
    fn help(&self) -> &'static str;
    /// What `--help` says of it for a command whose figures are in `units` rather than base
    /// units (`reproduce`: the paper's TFLOPs and ms); `None` when the format has no units.
    fn help_in(&self, units: &str) -> Option<String> {
        let _ = units;
        None
    }
    /// Lowercase file extensions (no dot) that make `-o FILE` mean this format.
    fn extensions(&self) -> &'static [&'static str] {
        &[]
    }
    /// The view of a result it is written from.
    fn view(&self) -> View;
    /// Whether it writes a file itself (an image) rather than a stream of text.
    fn draws_file(&self) -> bool {
        false
    }
    /// Writes `result` (whose views include [`Exporter::view`]): by default the view itself,
    /// or the chart drawn to the file.
    fn export(&self, result: &dyn Output, to: To<'_>) -> Result<()> {
        match to {
            To::Stream(mut sink) => result.write(self.view(), &mut sink),
            To::File(path) => result.draw(path),
        }
    }
}

/// A command's result, as the exporters see it.
pub(crate) trait Output {
    /// Writes one text view (never [`View::Chart`]; only views the command offers).
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()>;
    /// Draws the chart to `path` (PNG or SVG by its extension).
    fn draw(&self, path: &Path) -> Result<()> {
        Err(Error::invalid(format!(
            "{}: this result has no chart",
            path.display()
        )))
    }
}

/// The error of a view a result does not have (the commands refuse the format before they
/// compute, so this is a guard, never a fallback to another format).
pub fn lacks(command: &str, view: View) -> Error {
    Error::invalid(format!("{command} has no {view:?} output"))
}

/// The core's text format of a view: the one place the command line's views map to the
/// renderers' [`TextFormat`]; a page or a chart has none ([`lacks`]).
pub(crate) fn text(command: &str, view: View) -> Result<TextFormat> {
    match view {
        View::Table => Ok(TextFormat::Table),
        View::Json => Ok(TextFormat::Json),
        View::Csv => Ok(TextFormat::Csv),
        View::Jsonl => Ok(TextFormat::Jsonl),
        View::Html | View::Chart => Err(lacks(command, view)),
    }
}

impl Format {
    /// The word of `--format`.
    pub(crate) fn name(self) -> &'static str {
        self.exporter().name()
    }

    /// The format a file name's extension says, if it says one.
    pub(crate) fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.exporter().extensions().contains(&ext.as_str()))
    }

    /// The formats a command whose result has `views` can be written in.
    pub(crate) fn offered(views: &[View]) -> Vec<Format> {
        Format::ALL
            .iter()
            .copied()
            .filter(|f| views.contains(&f.exporter().view()))
            .collect()
    }
}

/// `table, json, csv` for the errors.
fn names(formats: &[Format]) -> String {
    formats
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The format of a command whose result has `views`: `--format`, else `-o`'s extension, else
/// the table; a contradiction, a format the command lacks or an image without its file is a
/// one-line error.
/// A file name whose extension says a binary or document format aim-sim's text formats are
/// not (a name without an extension, or `.txt`/`.log`, takes the table).
fn foreign(path: &Path) -> bool {
    const FOREIGN: &[&str] = &[
        "pdf", "png", "svg", "jpg", "jpeg", "gif", "webp", "tif", "tiff", "bmp", "eps", "ps",
        "xls", "xlsx", "ods", "doc", "docx", "odt", "ppt", "pptx", "parquet", "feather", "arrow",
        "npy", "npz", "pkl", "pickle", "h5", "hdf5", "zip", "gz", "tar", "bz2", "xz", "zst",
    ];
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| FOREIGN.contains(&e.to_ascii_lowercase().as_str()))
}

/// The extension of `path` and the format extension it is one edit from (`cvs` → `csv`), when
/// it is no extension of a format itself; `txt`, `log` and `out` name the table on purpose.
fn misspelt(path: &Path) -> Option<(String, &'static str)> {
    let typed = path.extension()?.to_str()?.to_ascii_lowercase();
    if typed.len() < 2 || ["txt", "log", "out"].contains(&typed.as_str()) {
        return None;
    }
    Format::ALL
        .iter()
        .flat_map(|f| f.exporter().extensions().iter().copied())
        .find(|e| crate::presets::edit_distance(&typed, e) == 1)
        .map(|e| (typed, e))
}

pub fn resolve(
    command: &str,
    views: &[View],
    format: Option<Format>,
    output: Option<&Path>,
) -> Result<Format> {
    let by_name = output.and_then(Format::from_path);
    let chosen = match (format, by_name, output) {
        (Some(f), Some(e), Some(path)) if f != e => {
            return Err(Error::invalid(format!(
            "--format {} contradicts -o {} (a {} file name): drop --format, or name the file .{}",
            f.name(),
            path.display(),
            e.name(),
            f.exporter().extensions().first().copied().unwrap_or("txt")
        )))
        }
        (Some(f), _, _) => f,
        (None, Some(e), _) => e,
        // A file name of a format no command writes (`-o x.pdf`) got the text table in silence.
        (None, None, Some(path)) if foreign(path) => {
            let offered = Format::offered(views);
            return Err(Error::invalid(format!(
                "-o {}: {command} writes no .{} file: name it for one of its formats ({}), or give --format",
                path.display(),
                path.extension().unwrap_or_default().to_string_lossy(),
                names(&offered)
            )));
        }
        // `-o rows.cvs`: a typo of a format's extension wrote the table in silence.
        (None, None, Some(path)) if misspelt(path).is_some() => {
            let (typed, meant) = misspelt(path).unwrap_or_default();
            return Err(Error::invalid(format!(
                "-o {}: .{typed} is no format aim-sim writes; did you mean .{meant}? (a name without an extension, or .txt, takes the table; --format names the format whatever the name)",
                path.display()
            )));
        }
        (None, None, _) => Format::Table,
    };
    let offered = Format::offered(views);
    if !offered.contains(&chosen) {
        let asked = match (format, output) {
            (None, Some(path)) => format!(" (-o {} says {})", path.display(), chosen.name()),
            _ => String::new(),
        };
        return Err(Error::invalid(format!(
            "{command} has no {} output{asked}: its formats are {}",
            chosen.name(),
            names(&offered)
        )));
    }
    let exporter = chosen.exporter();
    if exporter.draws_file() && by_name != Some(chosen) {
        let ext = exporter.extensions().first().copied().unwrap_or("");
        return Err(Error::invalid(match output {
            None => format!(
                "--format {} draws an image file: give -o FILE.{ext}",
                chosen.name()
            ),
            Some(path) => format!(
                "--format {} draws an image: name the file .{ext}, not {}",
                chosen.name(),
                path.display()
            ),
        }));
    }
    Ok(chosen)
}

/// Writes `result` as `format` to `output` (a file written whole or not at all,
/// [`super::outfile`]) or standard output; a closed pipe (`| head`) is not an error.
pub fn write(format: Format, output: Option<&Path>, result: &dyn Output) -> Result<()> {
    let exporter = format.exporter();
    let key_names = matches!(format, Format::Json | Format::Jsonl);
    match output {
        Some(path) if exporter.draws_file() => exporter.export(result, To::File(path)),
        Some(path) => super::outfile::write_with(path, |out| {
            exporter.export(
                result,
                To::Stream(Sink {
                    out,
                    name: path,
                    key_names,
                }),
            )
        }),
        None => {
            let name = Path::new("standard output");
            let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let result = exporter
                .export(
                    result,
                    To::Stream(Sink {
                        out: &mut out,
                        name,
                        key_names,
                    }),
                )
                .and_then(|()| {
                    out.flush().map_err(|source| Error::Output {
                        path: name.to_path_buf(),
                        source,
                    })
                });
            match result {
                Err(Error::Output { source, .. })
                    if source.kind() == std::io::ErrorKind::BrokenPipe =>
                {
                    Ok(())
                }
                other => other,
            }
        }
    }
}

/// What `--help` says of format `f`, in `units` when the command gives its own.
fn help_of(f: Format, units: Option<&str>) -> String {
    units
        .and_then(|u| f.exporter().help_in(u))
        .unwrap_or_else(|| f.exporter().help().to_string())
}

/// The `--format` parser of a command whose result has `views`: its formats only.
pub fn parser(views: &'static [View]) -> impl TypedValueParser<Value = Format> {
    parser_in(views, None)
}

/// [`parser`] of a command whose figures are in `units` ([`Exporter::help_in`]).
fn parser_in(views: &'static [View], units: Option<&str>) -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(
        Format::offered(views)
            .into_iter()
            .map(|f| PossibleValue::new(f.name()).help(help_of(f, units))),
    )
    .map(|word| {
        *Format::ALL
            .iter()
            .find(|f| f.name() == word)
            .expect("clap accepted only listed words")
    })
}

/// Short `--help` of `--format` for these views: the formats on one line.
pub fn short_help(views: &[View]) -> String {
    let offered = Format::offered(views);
    format!("Output format: table (default), {}", names(&offered[1..]))
}

/// Long `--help` of `--format`, each format's figures in `units` when the command gives its
/// own (else base units).
pub fn long_help(views: &[View], units: Option<&str>) -> String {
    let offered = Format::offered(views);
    let width = offered.iter().map(|f| f.name().len()).max().unwrap_or(0);
    let extensions: Vec<String> = offered
        .iter()
        .filter_map(|f| f.exporter().extensions().first())
        .map(|e| format!(".{e}"))
        .collect();
    let mut s = format!(
        "Output format [default: table]. -o FILE without --format takes it from the file's\n\
         extension ({}); a --format that the extension contradicts is an error\n",
        extensions.join(" ")
    );
    for f in offered {
        s.push_str(&format!("\n- {:<width$}  {}", f.name(), help_of(f, units)));
    }
    s
}

/// `cmd`'s `--format` (id `format`) offering the formats of `views`, whose figures are in
/// `units` where the command gives its own (else base units).
pub fn offer(cmd: clap::Command, views: &'static [View], units: Option<&str>) -> clap::Command {
    cmd.mut_arg("format", |a| {
        a.value_parser(parser_in(views, units))
            .hide_possible_values(true)
            .help(short_help(views))
            .long_help(long_help(views, units))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_VIEWS: &[View] = EVERY_VIEW;

    #[test]
    fn extensions_name_their_format() {
        for (file, want) in [
            ("a.csv", Some(Format::Csv)),
            ("a.JSON", Some(Format::Json)),
            ("a.jsonl", Some(Format::Jsonl)),
            ("a.md", Some(Format::Markdown)),
            ("a.html", Some(Format::Html)),
            ("a.png", Some(Format::Png)),
            ("a.svg", Some(Format::Svg)),
            ("a.txt", None),
            ("a", None),
        ] {
            assert_eq!(Format::from_path(Path::new(file)), want, "{file}");
        }
    }

    #[test]
    fn names_and_extensions_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for f in Format::ALL {
            assert!(seen.insert(f.name().to_string()), "{}", f.name());
            for e in f.exporter().extensions() {
                assert!(seen.insert(format!(".{e}")), "{e}");
            }
        }
    }

    proptest::proptest! {
        /// The rules of `resolve`, for any pair of --format and file extension: the format
        /// given wins unless the extension names another (an error); no --format takes the
        /// extension's, else the table; an image needs its own extension.
        #[test]
        fn resolution_follows_the_rules(
            given in proptest::option::of(0..Format::ALL.len()),
            ext in proptest::sample::select(vec![
                "csv", "json", "jsonl", "md", "markdown", "html", "htm", "png", "svg", "txt",
                "toml", "",
            ]),
        ) {
            let given = given.map(|i| Format::ALL[i]);
            let file = format!("out.{ext}");
            let path = Path::new(&file);
            let named = Format::from_path(path);
            let got = resolve("sweep", EVERY_VIEW, given, Some(path));
            let want = given.or(named).unwrap_or(Format::Table);
            let contradicts = matches!((given, named), (Some(g), Some(n)) if g != n);
            let image_misnamed = want.exporter().draws_file() && named != Some(want);
            if contradicts || image_misnamed {
                proptest::prop_assert!(got.is_err());
                let e = got.unwrap_err().to_string();
                proptest::prop_assert!(e.contains(&file) && e.lines().count() == 1, "{}", e);
            } else {
                proptest::prop_assert_eq!(got.unwrap(), want);
            }
        }
    }

    #[test]
    fn resolution() {
        let csv = Some(Path::new("x.csv"));
        let txt = Some(Path::new("x.txt"));
        let r = |f, o| resolve("sweep", ALL_VIEWS, f, o);
        assert_eq!(r(None, None).unwrap(), Format::Table);
        assert_eq!(r(None, csv).unwrap(), Format::Csv);
        assert_eq!(r(None, txt).unwrap(), Format::Table);
        assert_eq!(r(Some(Format::Csv), csv).unwrap(), Format::Csv);
        assert_eq!(r(Some(Format::Json), txt).unwrap(), Format::Json);
        let e = r(Some(Format::Json), csv).unwrap_err().to_string();
        assert!(e.contains("--format json") && e.contains("x.csv"), "{e}");
        let e = r(Some(Format::Png), None).unwrap_err().to_string();
        assert!(e.contains("-o FILE.png"), "{e}");
        let e = r(Some(Format::Svg), txt).unwrap_err().to_string();
        assert!(e.contains(".svg"), "{e}");
        let e = resolve("budget", &[View::Table, View::Json], None, csv)
            .unwrap_err()
            .to_string();
        assert!(e.contains("table, json") && e.contains("x.csv"), "{e}");
    }
}
