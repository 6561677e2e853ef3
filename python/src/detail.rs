//! How much of a report `simulate` returns: the whole report (the CLI's JSON), or its totals
//! for loops and searches, which never build the per-operator part as Python objects.

use aim_sim::cost::Totals;
use aim_sim::sim::Reduction;
use aim_sim::{Error, Report, Result, Spec};
use serde::Serialize;

/// How much of a report `simulate` returns.
#[derive(Debug, Clone, Copy)]
pub enum Detail {
    /// The whole report: the CLI's JSON.
    Full,
    /// [`TotalsOnly`]: the figures a search over schedules reads.
    Totals,
}

impl Detail {
    pub fn parse(word: &str) -> Result<Detail> {
        match word {
            "full" => Ok(Detail::Full),
            "totals" => Ok(Detail::Totals),
            other => Err(Error::invalid(format!(
                "invalid value '{other}' for 'detail': use \"full\" (the whole report) or \"totals\""
            ))),
        }
    }

    /// What this detail keeps of a report (a batch drops the operators as it goes).
    pub fn keep(self, report: Report) -> Kept {
        match self {
            Detail::Full => Kept::Full(Box::new(report)),
            Detail::Totals => Kept::Totals(Box::new(TotalsOnly::of(report))),
        }
    }
}

/// A report, whole or its totals; serialises as that.
pub enum Kept {
    Full(Box<Report>),
    Totals(Box<TotalsOnly>),
}

impl Serialize for Kept {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Kept::Full(report) => report.serialize(s),
            Kept::Totals(totals) => totals.serialize(s),
        }
    }
}

/// `detail="totals"`: the report's `spec`, `totals`, `warnings`, `baseline` (its `totals`
/// only) and `reduction`, in the report's key order; each is the full report's value at the
/// same key, so code written for one reads the other.
#[derive(Serialize)]
pub struct TotalsOnly {
    spec: Spec,
    totals: Totals,
    warnings: Vec<String>,
    baseline: BaselineTotals,
    reduction: Reduction,
}

#[derive(Serialize)]
pub struct BaselineTotals {
    totals: Totals,
}

impl TotalsOnly {
    fn of(report: Report) -> Self {
        TotalsOnly {
            spec: report.spec,
            totals: report.run.totals,
            warnings: report.run.warnings,
            baseline: BaselineTotals {
                totals: report.baseline.totals,
            },
            reduction: report.reduction,
        }
    }
}
