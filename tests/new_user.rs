//! What a new user hits (issue 24): each test names the item of the issue it covers and failed
//! before its fix.

mod common;

use common::{fails, run};

/// Item 2: an invalid configuration inside the grid (not at its extremes) is found before the
/// first row: no file with rows that look complete, no rows on standard output.
#[test]
fn item2_an_invalid_row_inside_the_grid_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    let grid = [
        "sweep",
        "--merge-tokens-per-frame",
        "300",
        "--tokens",
        "300:400",
        "--format",
        "csv",
    ];
    let mut with_file: Vec<&str> = grid.to_vec();
    with_file.extend(["-o", path.to_str().unwrap()]);
    let err = fails(&with_file);
    assert!(err.contains("tokens=392"), "{err}");
    assert!(!path.exists(), "a partial s.csv was left");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let out = run(&grid);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{} bytes of rows reached stdout",
        out.stdout.len()
    );
}

/// Item 3: a grid larger than a page or a chart draws is refused before a row is priced (it
/// used to hold every row in memory first: 3.9 GB and 41 s for 10 M rows).
#[test]
fn item3_too_many_rows_to_draw_are_refused_before_pricing() {
    let start = std::time::Instant::now();
    let err = fails(&["sweep", "--frames", "1:2000000", "--format", "html"]);
    assert!(err.contains("at most 5000 rows"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("c.png");
    let err = fails(&[
        "plot",
        "curves",
        "--frames",
        "1:2000000",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(err.contains("at most 5000"), "{err}");
    assert!(!png.exists());
    // Refused, not priced: a debug build prices ~10^5 rows a second at best.
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}
