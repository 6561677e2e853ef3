//! GPU launchers.
