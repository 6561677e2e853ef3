//! The one mapping from the core's keys to the command line's flags: the core's errors name a
//! [`Key`] (`prune_start`, as a run file and Python say it); the command line says `--prune-start`.

use crate::error::{Error, Key};

/// The flag of `key`: its name with `-` for `_`, except where the flag is a negation.
pub fn flag(key: Key) -> String {
    match key {
        Key::NoChunkedPrefill => "--no-chunked-prefill".to_string(),
        key => format!("--{}", key.name().replace('_', "-")),
    }
}

/// `text` (any output of the core: a warning, a note, a table, a JSON document) as the command
/// line says it: each marked key as its flag.
pub fn flags_in(text: &str) -> std::borrow::Cow<'_, str> {
    crate::error::with_keys(text, flag)
}

/// `e`'s message as the command line says it: each key as its flag.
pub fn message(e: &Error) -> String {
    e.render(flag)
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
