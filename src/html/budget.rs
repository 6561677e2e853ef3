//! The page of a budget answer (`aim-sim budget ... --format html`): the answer in words, the
//! priced points (the reference, the answer, the first setting past it) as bars of the
//! compared quantity against the limit or the target, and the points as a table.

use super::{cards, chart, fixed, grey, num, section, style_json, txt, Page, Table};
use crate::budget::{Answer, By, Point};
use crate::error::Result;
use crate::palette;
use serde_json::{json, Value};

const BUDGET_JS: &str = include_str!("assets/budget.js");

/// What a point changes: frames, the pruning window or the merge.
fn setting(p: &Point) -> String {
    match (p.merge_tokens_per_frame, p.prune_start, p.prune_end) {
        (Some(k), _, _) => format!("{} frames, merge to {k} per frame", p.frames),
        (None, Some(s), Some(e)) => format!("{} frames, prune l1={s} l2={e}", p.frames),
        _ => format!("{} frames", p.frames),
    }
}

fn point_json(label: &str, p: &Point, color: String) -> Value {
    let mut v = serde_json::to_value(p).expect("point serialises");
    v["label"] = json!(label);
    v["setting"] = json!(setting(p));
    v["color"] = json!(color);
    v
}

/// The page of a budget answer.
pub fn budget(answer: &Answer) -> Result<String> {
    let (model, gpu, cost_model, by, points, headline, detail, limit, target) = match answer {
        Answer::Frames(a) => {
            let mut pts = vec![("reference", &a.reference, grey())];
            if let Some(s) = &a.schedule {
                pts.push(("answer", s, palette::style(&s.schedule).color.hex()));
            }
            if let Some(n) = &a.next {
                pts.push(("one frame more", n, palette::GREY.hex()));
            }
            let metric = |p: &Point| match a.by {
                By::Flops => p.flops,
                By::Time => p.time_s,
            };
            (
                &a.model,
                &a.gpu,
                format!(
                    "{}{}",
                    a.cost_model,
                    crate::budget::framework_words(&a.framework)
                ),
                a.by,
                pts,
                format!("{} frames", a.frames),
                format!(
                    "the most frames of {} whose {} stay within {} at {} frames{}",
                    a.schedule
                        .as_ref()
                        .map_or("the schedule", |s| s.schedule.as_str()),
                    a.by.noun(),
                    a.reference.schedule,
                    a.reference.frames,
                    if a.at_max_frames {
                        " (the search stopped at --max-frames)"
                    } else {
                        ""
                    }
                ),
                Some(metric(&a.reference)),
                None,
            )
        }
        Answer::Target(t) => {
            let mut pts = vec![(
                "answer",
                &t.solution,
                palette::style(&t.solution.schedule).color.hex(),
            )];
            if let Some(n) = &t.next {
                pts.push(("next, less aggressive", n, grey()));
            }
            (
                &t.model,
                &t.gpu,
                format!(
                    "{}{}",
                    t.cost_model,
                    crate::budget::framework_words(&t.framework)
                ),
                t.by,
                pts,
                setting(&t.solution),
                format!(
                    "the least aggressive setting whose {} reduction reaches {}×",
                    t.by.noun(),
                    fixed(t.target_reduction, 2)
                ),
                None,
                Some(t.target_reduction),
            )
        }
    };
    let title = format!("Budget: {headline}");
    let subtitle = format!(
        "{model} on {gpu} · cost model {cost_model} · by {}",
        by.noun()
    );
    let mut t = Table::new(
        "points",
        // The factors are each setting's own reduction (the same input without reduction
        // over it), not against the budget's reference: unexplained, 8.04× beside a cost
        // equal to the reference's read as a contradiction.
        "The priced settings; × FLOPs and × time: each setting's own reduction, the same frames with no reduction over it (not against the reference)",
        &[
            ("point", false),
            ("schedule", false),
            ("setting", false),
            ("TFLOPs", true),
            ("time ms", true),
            ("× FLOPs vs no reduction", true),
            ("× time vs no reduction", true),
        ],
    );
    for (label, p, _) in &points {
        t.row(vec![
            txt(*label),
            txt(p.schedule.clone()),
            txt(setting(p)),
            num(p.flops / 1e12, 4),
            num(p.time_s * 1e3, 3),
            num(p.reduction_flops, 2),
            num(p.reduction_time, 2),
        ]);
    }
    // The answer past the GPU's memory first, as the table says it: a budget of FLOPs or
    // time once answered a frame count the GPU could not hold, without a word.
    let mut warnings: Vec<String> = match answer {
        Answer::Frames(a) => a.memory_sentence().into_iter().collect(),
        Answer::Target(_) => Vec::new(),
    };
    warnings.extend(answer.warnings().iter().cloned());
    let mut body = super::messages(&warnings, &[]);
    body.push_str(&cards(&[(
        "answer".into(),
        headline.clone(),
        detail.clone(),
    )]));
    body.push_str(&section(
        "chart",
        "The answer against its limit",
        &chart(
            "chart-budget",
            "The priced settings against the limit",
            "Each priced setting; the dashed line is the limit (the reference) or the target.",
        ),
    ));
    body.push_str(&section("points-section", "Points", &t.render()));
    Ok(Page {
        kind: "budget",
        title,
        subtitle,
        body,
        data: json!({
            "page": "budget",
            "by": by,
            "limit": limit,
            "target": target,
            "style": points.iter().find(|p| p.0 == "answer").map(|p| style_json(palette::style(&p.1.schedule))),
            "points": points.iter().map(|(l, p, c)| point_json(l, p, c.clone())).collect::<Vec<_>>(),
        }),
        script: BUDGET_JS,
    }
    .render())
}
