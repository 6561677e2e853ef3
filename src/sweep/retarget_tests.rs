//! Issue 25: a sweep worker re-targets its last scenario along the count axes
//! ([`Scenario::retarget`]) instead of building each configuration's. Every configuration it
//! makes so must be the one built afresh: the same scenario, resolved spec, warnings and token
//! plan, and for an invalid configuration the same error.

use super::*;
use proptest::prelude::*;

/// Grids along every count axis, with run flags that make the checks and the resolved spec
/// depend on the counts (a resolution-aware tower, a video, merging overrides; a decode length
/// did too until sweeps refused `--gen-tokens`, which priced nothing in them).
fn grids() -> Vec<Grid> {
    let axes = |frames: &str, text: &str, per_frame: Option<&str>, batch: &str| Axes {
        model: Some("llava-ov-7b,qwen3-vl-30b-a3b".into()),
        schedule: Some("none,linear,pdrop".into()),
        frames: Some(frames.into()),
        text_tokens: Some(text.into()),
        tokens_per_frame: per_frame.map(Into::into),
        batch: Some(batch.into()),
        ..Axes::default()
    };
    let grid = |flags: &[&str], axes: Axes| {
        Grid::new(&GridSpec {
            base: Spec::from_flags(flags).unwrap(),
            axes,
        })
        .unwrap()
    };
    vec![
        grid(
            &[],
            axes("0:9:3", "1,50,999999990", Some("64,150,196"), "1,2"),
        ),
        grid(
            &["--merge-tokens-per-frame", "100"],
            axes("0:4", "1,999990000", Some("64,196"), "1,3"),
        ),
        grid(
            &["--model", "qwen2.5-vl-7b", "--video-size", "640x360"],
            Axes {
                frames: Some("0:9:3".into()),
                text_tokens: Some("5,100,999999990".into()),
                schedule: Some("linear,fastv".into()),
                ..Axes::default()
            },
        ),
        grid(
            &["--model", "qwen2.5-vl-7b", "--include-vision"],
            Axes {
                tokens: Some("100,196,392,1000,999999999".into()),
                tokens_per_frame: Some("98,196".into()),
                schedule: Some("linear,none".into()),
                ..Axes::default()
            },
        ),
    ]
}

/// What a configuration's scenario is, in text: every field the sweep or a report reads.
fn describe_scenario(s: &Scenario, plan: &TokenPlan) -> String {
    format!(
        "{}\n{:?}\n{:?}\n{:?}\n{:?}",
        serde_json::to_string(s).unwrap(),
        s.resolved_spec(),
        s.warnings,
        s.framework_notes,
        plan
    )
}

fn fresh(grid: &Grid, loaded: &Loaded, index: usize) -> std::result::Result<String, String> {
    let spec = grid.spec(index);
    let [m, g, _, _, _, _, _, s] = grid.position(index);
    Scenario::from_loaded_planned(
        &spec,
        loaded.models[m].clone(),
        loaded.gpus[g].clone(),
        loaded.schedules[s].clone(),
        &loaded.framework,
    )
    .map(|(s, plan)| describe_scenario(&s, &plan))
    .map_err(|e| format!("{}: {e}", describe(&spec)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Configurations in any order (a worker's chunks jump about; an invalid configuration
    /// leaves the worker's scenario to be built afresh) are each the one built afresh.
    #[test]
    fn a_retargeted_scenario_is_the_one_built_afresh(
        which in 0..4usize,
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..60),
    ) {
        let grid = &grids()[which];
        let loaded = Loaded::new(grid).unwrap();
        let mut scratch = Scratch::new(grid);
        for pick in picks {
            let i = pick.index(grid.len());
            let got = loaded.scenario(grid, i, &mut scratch).map(|plan| {
                let built = scratch.built.as_ref().map(|(_, s)| s).unwrap();
                describe_scenario(built, &plan)
            });
            prop_assert_eq!(got.map_err(|e| e.to_string()), fresh(grid, &loaded, i), "configuration {}", i);
        }
    }
}

/// The same in row order, every configuration of each grid, as a worker prices a chunk.
#[test]
fn every_configuration_in_row_order_is_the_one_built_afresh() {
    for grid in grids() {
        let loaded = Loaded::new(&grid).unwrap();
        let mut scratch = Scratch::new(&grid);
        let (mut ok, mut failed) = (0, 0);
        for i in 0..grid.len() {
            let got = loaded.scenario(&grid, i, &mut scratch).map(|plan| {
                let built = scratch.built.as_ref().map(|(_, s)| s).unwrap();
                describe_scenario(built, &plan)
            });
            let got = got.map_err(|e| e.to_string());
            if got.is_ok() {
                ok += 1;
            } else {
                failed += 1;
            }
            assert_eq!(got, fresh(&grid, &loaded, i), "configuration {i}");
        }
        // Each grid has valid and invalid configurations, so both paths are taken.
        assert!(ok > 0 && failed > 0, "{ok} valid, {failed} invalid");
    }
}

/// A framework profile's warning on the GPU (it replaced a GPU file's own `[efficiency]`
/// table) does not depend on the counts: a retargeted scenario keeps it, as a fresh one has
/// it (retargeting once rebuilt the warnings from the input alone).
#[test]
fn a_retargeted_scenario_keeps_the_profiles_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let gpu = dir.path().join("measured.toml");
    let rtx4090 = crate::presets::GPUS
        .iter()
        .find(|(n, _)| *n == "rtx4090")
        .unwrap()
        .1;
    std::fs::write(
        &gpu,
        format!("{rtx4090}\n[efficiency]\nmatmul = 0.7\nattention = 0.45\nelementwise = 0.8\nlaunch_overhead_s = 5e-6\n"),
    )
    .unwrap();
    let grid = Grid::new(&GridSpec {
        base: Spec::from_flags(&["--gpu", gpu.to_str().unwrap(), "--framework", "hf"]).unwrap(),
        axes: Axes {
            frames: Some("1:4".into()),
            text_tokens: Some("10,20".into()),
            ..Axes::default()
        },
    })
    .unwrap();
    let loaded = Loaded::new(&grid).unwrap();
    let mut scratch = Scratch::new(&grid);
    for i in 0..grid.len() {
        let plan = loaded.scenario(&grid, i, &mut scratch).unwrap();
        let built = scratch.built.as_ref().map(|(_, s)| s).unwrap();
        assert!(
            built
                .warnings
                .iter()
                .any(|w| w.contains("is used, not the [efficiency] table")),
            "configuration {i}: {:?}",
            built.warnings
        );
        assert_eq!(
            Ok(describe_scenario(built, &plan)),
            fresh(&grid, &loaded, i)
        );
    }
}
