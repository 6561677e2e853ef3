//! Enums a user names by a word (`--cost-model llm-viewer`, `cost_model = "llm-viewer"` in a
//! spec file). The core lists each enum's words and their help here, so the command line can
//! offer, complete and suggest them without the core depending on the command-line crate.

/// An enum whose variants are chosen by name.
pub trait Choice: Sized + Copy + PartialEq + Send + Sync + 'static {
    /// Every variant: the value, its word, one line of help.
    const CHOICES: &'static [(Self, &'static str, &'static str)];

    /// The word for this variant.
    fn name(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(v, _, _)| *v == self)
            .map(|(_, name, _)| *name)
            .expect("every variant is listed in CHOICES")
    }

    /// The variant named `word` (ASCII case ignored).
    fn from_name(word: &str) -> Option<Self> {
        Self::CHOICES
            .iter()
            .find(|(_, name, _)| name.eq_ignore_ascii_case(word.trim()))
            .map(|(v, _, _)| *v)
    }

    /// The words, comma-separated, for error messages.
    fn names() -> String {
        Self::CHOICES
            .iter()
            .map(|(_, name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
