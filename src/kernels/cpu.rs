//! CPU references.
