//! The one mapping from the core's keys to the command line's flags: the core's errors name a
//! [`Key`] (`prune_start`, as a run file and Python say it); the command line says `--prune-start`.

use crate::error::{Error, Key};
use std::cell::RefCell;
use std::path::Path;

thread_local! {
    /// The `--spec` run file of the command being run and its keys that no flag replaced: an
    /// error about one of them names it as the file does, since the user typed no flag
    /// (`--layer-tokens has 2 values` was said of a file's `layer_tokens`).
    static FROM_FILE: RefCell<Option<(String, Vec<Key>)>> = const { RefCell::new(None) };
}

/// Records that the run file `path` set `keys` (the spec's key names) and no flag replaced
/// them: from now on [`message`] names them as the file does.
pub(crate) fn from_file(path: &Path, keys: impl IntoIterator<Item = String>) {
    let keys: Vec<Key> = keys
        .into_iter()
        .filter_map(|k| Key::ALL.iter().find(|key| key.name() == k).copied())
        .collect();
    FROM_FILE.with(|f| *f.borrow_mut() = Some((path.display().to_string(), keys)));
}

/// Forgets the run file (a new command line starts with none).
pub(crate) fn forget_file() {
    FROM_FILE.with(|f| *f.borrow_mut() = None);
}

/// The flag of `key`: its name with `-` for `_`, except where the flag is a negation.
pub fn flag(key: Key) -> String {
    match key {
        Key::NoChunkedPrefill => "--no-chunked-prefill".to_string(),
        key => format!("--{}", key.name().replace('_', "-")),
    }
}

/// `text` (any output of the core: a warning, a note, a table, a JSON document) as the command
/// line says it: each marked key as its flag. A warning's advice (`use --tp`) holds over a run
/// file too, a flag replacing the file's value, so it names flags even where a file set them
/// (a replayed run's JSON sets every key).
pub fn flags_in(text: &str) -> std::borrow::Cow<'_, str> {
    crate::error::with_keys(text, flag)
}

/// `e`'s message as the command line says it: each key as its flag.
///
/// Where it names a key the run file set and no flag replaced ([`from_file`]), it names each
/// such key as the file does and starts with the file: `run.json: tp 3 does not divide …`.
pub fn message(e: &Error) -> String {
    let file = FROM_FILE.with(|f| f.borrow().clone());
    let Some((file, keys)) = file else {
        return e.render(flag);
    };
    let named = std::cell::Cell::new(false);
    let text = e.render(|key| {
        if keys.contains(&key) {
            named.set(true);
            key.name().to_string()
        } else {
            flag(key)
        }
    });
    if named.get() && !text.starts_with(&file) {
        format!("{file}: {text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_is_a_plain_long_flag() {
        for key in Key::ALL {
            let f = flag(*key);
            let name = f.strip_prefix("--").expect("a long flag");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{key:?}: {f}"
            );
        }
    }

    #[test]
    fn the_command_line_says_flags_where_display_says_keys() {
        let e = Error::invalid(format!(
            "{} and {} go together",
            Key::PruneStart,
            Key::PruneEnd
        ));
        assert_eq!(e.to_string(), "prune_start and prune_end go together");
        assert_eq!(message(&e), "--prune-start and --prune-end go together");
        // Wrapped in another message, the marks survive.
        let wrapped = Error::invalid(format!("row 3: {}", e.marked()));
        assert_eq!(
            message(&wrapped),
            "row 3: --prune-start and --prune-end go together"
        );
    }
}
