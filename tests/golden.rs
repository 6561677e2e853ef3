//! Golden outputs: a fixed set of commands (tests/golden/commands.txt) must print exactly what
//! they printed when the outputs were last blessed. Text outputs are compared byte for byte
//! (dates masked); JSON outputs as JSON values without any "spec" key, so the resolved input
//! that JSON carries can grow without touching the figures.
//!
//! After an intended change of output: `AIM_SIM_BLESS=1 cargo test --test golden`, then review
//! the diff of tests/golden/out/ before committing it.

mod common;

use std::path::Path;

/// `YYYY-MM-DD` → `DATE`, so a calibrated profile's header does not age the file.
fn mask_dates(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let is_date = i + 10 <= b.len()
            && b[i..i + 10].iter().enumerate().all(|(k, c)| match k {
                4 | 7 => *c == b'-',
                _ => c.is_ascii_digit(),
            });
        if is_date {
            out.push_str("DATE");
            i += 10;
        } else {
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Removes every "spec" key, recursively.
fn without_spec(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.remove("spec");
            map.values_mut().for_each(without_spec);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_spec),
        _ => {}
    }
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  want: {w}\n  got:  {g}", i + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn golden_outputs_are_unchanged() {
    let dir = Path::new("tests/golden");
    let bless = std::env::var_os("AIM_SIM_BLESS").is_some();
    let list = std::fs::read_to_string(dir.join("commands.txt")).expect("commands.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut words = line.split_whitespace();
        let name = words.next().expect("a name");
        let args: Vec<&str> = words.collect();
        let got = mask_dates(&common::ok(&args));
        let path = dir.join("out").join(format!("{name}.out"));
        count += 1;
        // The core's key marks (private-use characters) are never output: one was blessed
        // into layer-tokens.out and read as a plain `layer_tokens` in every diff.
        if got.contains(['\u{e000}', '\u{e001}']) {
            failures.push(format!(
                "{name}: the output holds a key's private-use marks"
            ));
        }
        let got_json: Option<serde_json::Value> = serde_json::from_str(&got).ok();
        if bless {
            let text = match &got_json {
                Some(v) => {
                    let mut v = v.clone();
                    without_spec(&mut v);
                    serde_json::to_string(&v).expect("serialises") + "\n"
                }
                None => got.clone(),
            };
            std::fs::write(&path, text).expect("golden file written");
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (bless with AIM_SIM_BLESS=1)", path.display()));
        let want = mask_dates(&want);
        match got_json {
            Some(mut g) => {
                let mut w: serde_json::Value = serde_json::from_str(&want).expect("golden JSON");
                without_spec(&mut g);
                without_spec(&mut w);
                if g != w {
                    let (gs, ws) = (
                        serde_json::to_string_pretty(&g).unwrap(),
                        serde_json::to_string_pretty(&w).unwrap(),
                    );
                    failures.push(format!("{name}: JSON {}", first_difference(&ws, &gs)));
                }
            }
            None if got != want => {
                failures.push(format!("{name}: {}", first_difference(&want, &got)))
            }
            None => {}
        }
    }
    assert!(count >= 20, "only {count} golden commands");
    assert!(
        failures.is_empty(),
        "{} of {count} golden outputs changed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
