//! One module per subcommand: flags → core call → text. The core never calls back up here.

pub mod budget;
pub mod check;
pub mod compare;
pub mod gpu;
pub mod list;
pub mod pareto;
pub mod plot;
pub mod reproduce;
pub mod run;
pub mod serve;
pub mod sweep;
