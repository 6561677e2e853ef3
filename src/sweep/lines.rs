//! A sweep's rows grouped into the lines of its efficiency curves (`plot curves` and the HTML
//! page draw the same lines): rows that differ only in x (frames, or visual tokens) form one.

use super::SweepRow;

/// One line: its legend label and its rows.
pub struct Line {
    /// The parts of the key that differ between lines, joined with " · " (the schedule always).
    pub label: String,
    /// The schedule's name (what picks the line's colour).
    pub schedule: String,
    /// Indices into the rows, in increasing x (ties in row order).
    pub rows: Vec<usize>,
}

/// The columns that tell two lines apart, besides x. Against tokens, the frame split that
/// `--tokens` implies is part of x, not of the line.
fn key(r: &SweepRow, tokens: bool) -> [String; 7] {
    [
        r.schedule.clone(),
        r.model.clone(),
        r.gpu.clone(),
        r.cost_model.clone(),
        if tokens {
            String::new()
        } else {
            format!("{} tokens/frame", r.tokens_per_frame)
        },
        format!("{} text", r.text_tokens),
        format!("batch {}", r.batch),
    ]
}

/// x of a row: visual tokens when `tokens`, else frames.
fn x(r: &SweepRow, tokens: bool) -> u64 {
    if tokens {
        r.visual_tokens
    } else {
        r.frames
    }
}

/// The lines of `rows`, in order of first appearance.
pub fn lines(rows: &[SweepRow], tokens: bool) -> Vec<Line> {
    let mut keys: Vec<[String; 7]> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let k = key(r, tokens);
        match keys.iter().position(|x| *x == k) {
            Some(line) => members[line].push(i),
            None => {
                keys.push(k);
                members.push(vec![i]);
            }
        }
    }
    let varies: Vec<bool> = (0..7)
        .map(|k| k == 0 || keys.iter().any(|x| x[k] != keys[0][k]))
        .collect();
    keys.into_iter()
        .zip(members)
        .map(|(k, mut members)| {
            members.sort_by_key(|&i| x(&rows[i], tokens));
            let label = k
                .iter()
                .zip(&varies)
                .filter(|(_, v)| **v)
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(" · ");
            let [schedule, ..] = k;
            Line {
                label,
                schedule,
                rows: members,
            }
        })
        .collect()
}
