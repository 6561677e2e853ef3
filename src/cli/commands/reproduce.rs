//! `aim-sim reproduce`: the AIM paper's efficiency rows beside aim-sim's figures.

use crate::cli::{emit, OutputArgs};
use crate::error::Result;
use crate::reproduce;

pub fn command(output: &OutputArgs) -> Result<()> {
    let r = reproduce::reproduce()?;
    emit(
        output,
        &reproduce::render(&r, output.format.text("reproduce")?),
    )
}
