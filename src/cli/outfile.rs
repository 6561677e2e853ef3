//! Output files written whole or not at all: the text goes to a temporary file beside the
//! destination, renamed over it when the command succeeds, so a failed or interrupted run never
//! leaves a partial file that looks complete (issue 24). A destination that exists and is not a
//! regular file (a FIFO, `/dev/stdout`, a terminal) is written directly: it is what it is.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Runs `write` on a buffered writer for `path` and puts the result in place on success; on
/// failure the temporary file is removed and `path` is left as it was.
pub fn write_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let io = |source: std::io::Error| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
    if special {
        let mut out = BufWriter::with_capacity(1 << 16, File::create(path).map_err(io)?);
        write(&mut out)?;
        return out.flush().map_err(io);
    }
    let temp = temporary(path);
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 16, File::create(&temp).map_err(io)?);
        write(&mut out)?;
        out.into_inner()
            .map_err(|e| io(e.into_error()))?
            .sync_all()
            .map_err(io)?;
        std::fs::rename(&temp, path).map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// A hidden sibling of `path`, unique to this process.
fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.aim-sim-{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old\n").unwrap();
        let e = write_with(&path, |w| {
            w.write_all(b"half a row").unwrap();
            Err(Error::invalid("row 90 is invalid"))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_with(&path, |w| {
            w.write_all(b"new\n").unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
