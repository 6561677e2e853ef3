//! The layers of docs/architecture.md, checked on the source: which top-level module of
//! `src/` names which (`crate::x` in code, comments excluded), no reference from the core up to
//! the command line, the plots or the GPU code, inside the core no reference up a tier, and no
//! import cycle between modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Tiers of the simulation core (which builds with `--no-default-features`), lowest first: a
/// module may name modules of its own tier or a lower one, never a higher one. The order is the
/// path of a run: what a run is (the spec) → what it reads (models, GPUs, schedules) → what
/// its kernels cost → one run priced → questions asked of many runs.
const TIERS: &[(&str, &[&str])] = &[
    // What every module uses: typed errors and keys, enum words, the embedded preset files,
    // how attention runs (named by specs, measurement rows and framework profiles alike).
    (
        "foundations",
        &[
            "error",
            "choice",
            "presets",
            "attention",
            "experts",
            "selection",
            "stats",
        ],
    ),
    ("spec", &["spec"]),
    ("data", &["model", "hardware", "schedule", "framework"]),
    // The cost models, and the kernels (CPU references) they price.
    ("cost", &["cost", "kernels"]),
    // One run: a validated scenario, priced with its baseline, rendered; its colours.
    ("sim", &["scenario", "sim", "report", "palette"]),
    (
        "questions",
        &[
            "sweep",
            "budget",
            "pareto",
            "check",
            "compare",
            "reproduce",
            "paper",
            "serve",
            "measure",
        ],
    ),
];

/// References against the tiers that stay, each named and explained (fixing them is larger
/// than the rule is worth today). An entry that no longer occurs fails the test: drop it.
const TIER_EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "spec",
        "model",
        "a spec may carry its model inline (`Definition<Model>`), and `Definition::load` \
         loads and validates it; moving the loaders to `scenario` would leave the inline type",
    ),
    (
        "spec",
        "hardware",
        "an inline GPU (`Definition<Gpu>`), as for the model",
    ),
    (
        "spec",
        "schedule",
        "an inline schedule (`Definition<Schedule>`) and the `PruneTiming` key",
    ),
    (
        "spec",
        "framework",
        "an inline framework profile (`Definition<Framework>`) and the default `roofline`",
    ),
    (
        "spec",
        "cost",
        "the keys `cost_model` and `importance_kernel` are enums the cost models define \
         (`CostModelKind`, `ImportanceKernel`); they would move to spec.rs",
    ),
];

/// Every top-level module of the core.
fn core() -> Vec<&'static str> {
    TIERS.iter().flat_map(|(_, m)| m.iter().copied()).collect()
}

/// The tier (its index in [`TIERS`]) of a core module.
fn tier(module: &str) -> Option<usize> {
    TIERS.iter().position(|(_, m)| m.contains(&module))
}

/// Layers above the core, and what each may name besides the core.
const UPPER: &[(&str, &[&str])] = &[
    ("kernel_validation", &[]),
    ("plot", &[]),
    ("html", &[]),
    ("cli", &["plot", "html", "kernel_validation"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/cost/refined/layer.rs` → `cost`).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix("src").expect("under src/");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

/// Code without `//` comments (doc comments may link anywhere).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level modules named as `crate::x` (or `crate::{x, y}`) in `text`.
fn references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|s| s.trim().split("::").next().unwrap_or(""))
                .collect()
        } else {
            vec![rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")]
        };
        out.extend(
            names
                .into_iter()
                .filter(|n| !n.is_empty())
                .map(String::from),
        );
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let module = module_of(&f);
        if module == "main" || module == "lib" {
            continue;
        }
        let text = code(&std::fs::read_to_string(&f).expect("readable"));
        // Unit tests may build inputs any way they like; only the module's own code counts.
        let text = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
        let refs = references(&text);
        edges
            .entry(module.clone())
            .or_default()
            .extend(refs.into_iter().filter(|r| *r != module));
    }
    edges
}

#[test]
fn every_module_is_in_a_layer() {
    for module in graph().keys() {
        assert!(
            tier(module).is_some() || UPPER.iter().any(|(m, _)| m == module),
            "src/{module} is in no tier or layer of tests/architecture.rs (and docs/architecture.md)"
        );
    }
}

#[test]
fn the_core_never_names_a_layer_above_it() {
    let mut bad = Vec::new();
    for (module, refs) in graph() {
        let core = core();
        let allowed: Vec<&str> = if core.contains(&module.as_str()) {
            core.clone()
        } else {
            let (_, extra) = UPPER
                .iter()
                .find(|(m, _)| *m == module)
                .expect("in a layer");
            core.iter().chain(extra.iter()).copied().collect()
        };
        for r in refs {
            if !allowed.contains(&r.as_str())
                && (core.contains(&r.as_str()) || UPPER.iter().any(|(m, _)| *m == r))
            {
                bad.push(format!("{module} → {r}"));
            }
        }
    }
    assert!(bad.is_empty(), "references against the layers: {bad:?}");
}

#[test]
fn core_modules_name_only_their_tier_or_below() {
    let mut bad = Vec::new();
    let mut used = Vec::new();
    for (module, refs) in graph() {
        let Some(own) = tier(&module) else { continue };
        for r in refs {
            let Some(theirs) = tier(&r) else { continue };
            if theirs <= own {
                continue;
            }
            if TIER_EXCEPTIONS
                .iter()
                .any(|(from, to, _)| *from == module && *to == r)
            {
                used.push((module.clone(), r.clone()));
            } else {
                bad.push(format!(
                    "{module} ({}) → {r} ({})",
                    TIERS[own].0, TIERS[theirs].0
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "a core module names a higher tier (move the item down, or list the reference in \
         TIER_EXCEPTIONS with why): {bad:?}"
    );
    for (from, to, why) in TIER_EXCEPTIONS {
        assert!(
            used.iter().any(|(f, t)| f == from && t == to),
            "{from} → {to} no longer occurs ({why}): drop the exception"
        );
    }
}

#[test]
fn modules_form_no_cycle() {
    let g = graph();
    // Depth-first search with colours; report the first cycle found.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n).copied() {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|p| p == n).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if g.contains_key(m) {
                if let Some(c) = visit(m, g, state, path) {
                    return Some(c);
                }
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(n, &g, &mut state, &mut path) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_checker_sees_references() {
    // The parser itself: grouped and plain paths, comments ignored.
    let refs = references(&code(
        "use crate::{cost::X, spec};\nlet a = crate::sim::simulate(s); // crate::cli",
    ));
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["cost", "sim", "spec"]
    );
}
