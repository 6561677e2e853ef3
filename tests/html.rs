//! The HTML pages (`--format html`), through the real binary: self-contained (no URL, no
//! request, a Content-Security-Policy that forbids any), small, readable without JavaScript
//! (every figure in an HTML table), and — in headless Chromium — free of console errors and
//! failed requests, with the charts and tables drawn, layer filtering, sorting and legend
//! toggles working, text ≥ 12 px and nothing wider than a 1280 × 800 window.
//!
//! The pages and screenshots stay in `target/tmp/html/` (printed) for a person to look at.
//! Without Chromium the browser tests are reported as *ignored*, with the reason (this target
//! has its own harness, libtest-mimic, as tests/cuda.rs does); `AIM_SIM_REQUIRE_BROWSER=1` (set
//! by .ci/run, which installs Chromium) makes its absence a failure.

mod browser;
mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Completion, Trial};

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = vec![
        plain(
            "pages_are_self_contained_and_small",
            pages_are_self_contained_and_small,
        ),
        plain(
            "the_url_check_finds_what_it_must",
            the_url_check_finds_what_it_must,
        ),
        plain(
            "tables_hold_every_figure_without_javascript",
            tables_hold_every_figure_without_javascript,
        ),
        plain("compare_errors_are_one_line", compare_errors_are_one_line),
        plain(
            "fitted_times_show_their_intervals",
            fitted_times_show_their_intervals,
        ),
        plain(
            "commands_without_a_page_say_so",
            commands_without_a_page_say_so,
        ),
        plain(
            "readme_compare_block_is_the_commands_output",
            readme_compare_block_is_the_commands_output,
        ),
        plain(
            "pages_say_what_does_not_fit_and_per_gpu_figures",
            pages_say_what_does_not_fit_and_per_gpu_figures,
        ),
        plain(
            "browser_tests_without_chromium_are_ignored_with_the_reason",
            browser_tests_without_chromium_are_ignored_with_the_reason,
        ),
    ];
    trials.push(in_browser(
        "pages_render_in_chromium",
        pages_render_in_chromium,
    ));
    trials.push(in_browser(
        "tables_show_without_javascript",
        tables_show_without_javascript,
    ));
    trials.push(in_browser(
        "the_browser_check_catches_planted_errors",
        the_browser_check_catches_planted_errors,
    ));
    libtest_mimic::run(&args, trials).exit_code()
}

/// A test that needs nothing but the binary (a panic is its failure).
fn plain(name: &'static str, test: fn()) -> Trial {
    Trial::test(name, move || {
        test();
        Ok(())
    })
}

/// A test that needs Chromium: ignored, with the reason, when there is none (issue 24: it
/// printed "ok" with the skip hidden by the captured output).
fn in_browser(name: &'static str, test: fn()) -> Trial {
    Trial::ignorable_test(name, move || {
        let found = browser::find();
        Ok(
            match browser::skip_reason(found.as_deref(), browser::required()) {
                Some(reason) => Completion::ignored_with(reason),
                None => {
                    test();
                    Completion::Completed
                }
            },
        )
    })
}

/// Issue 24 item 16: without Chromium a browser test is ignored with a reason, never a pass;
/// when Chromium is required or present it runs.
fn browser_tests_without_chromium_are_ignored_with_the_reason() {
    let reason = browser::skip_reason(None, false).expect("a reason");
    assert!(
        reason.contains("Chromium") && !reason.contains('\n'),
        "{reason}"
    );
    assert_eq!(
        browser::skip_reason(None, true),
        None,
        "required: run and fail"
    );
    assert_eq!(
        browser::skip_reason(Some(Path::new("/usr/bin/chromium")), false),
        None
    );
}

/// Where pages and screenshots are kept (an artifact of the test run).
fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html");
    std::fs::create_dir_all(&d).expect("artifact directory");
    d
}

/// One page: its file name, its kind (`data-page`) and the command that writes it.
struct Kind {
    name: &'static str,
    page: &'static str,
    args: &'static [&'static str],
}

const KINDS: &[Kind] = &[
    Kind {
        name: "run",
        page: "run",
        args: &["--tokens", "6272", "--schedule", "linear", "--gpu", "a100"],
    },
    Kind {
        name: "compare",
        page: "compare",
        args: &[
            "compare",
            "--schedule",
            "none,linear,fastv,pdrop,merge-only",
        ],
    },
    Kind {
        name: "sweep",
        page: "sweep",
        args: &[
            "sweep",
            "--schedule",
            "none,linear,fastv",
            "--frames",
            "8:64:8",
        ],
    },
    Kind {
        name: "budget",
        page: "budget",
        args: &[
            "budget",
            "--schedule",
            "linear",
            "--reference-schedule",
            "none",
            "--reference-frames",
            "32",
        ],
    },
    Kind {
        name: "pareto",
        page: "pareto",
        args: &["pareto", "--benchmark", "videomme"],
    },
    Kind {
        name: "check",
        page: "check",
        args: &["check", "reference/measurements.toml"],
    },
    // Variants: the paper's cost model (no pipeline, no peak memory, no importance), vision +
    // decode + tensor parallelism (more operator kinds), the inverse budget, a token sweep.
    Kind {
        name: "run-llm-viewer",
        page: "run",
        args: &["--cost-model", "llm-viewer", "--skip-mlp-add"],
    },
    Kind {
        name: "run-vision",
        page: "run",
        args: &[
            "--model",
            "llava-1.5-7b",
            "--schedule",
            "aim-image",
            "--include-vision",
            "--gen-tokens",
            "16",
            "--tp",
            "2",
        ],
    },
    Kind {
        name: "compare-llm-viewer",
        page: "compare",
        args: &[
            "compare",
            "--schedule",
            "linear,aim-late",
            "--cost-model",
            "llm-viewer",
        ],
    },
    Kind {
        name: "budget-target",
        page: "budget",
        args: &["budget", "--schedule", "linear", "--target-reduction", "4"],
    },
    Kind {
        name: "sweep-tokens",
        page: "sweep",
        args: &[
            "sweep",
            "--tokens",
            "1000,2000,4000",
            "--text-tokens",
            "10:30:10",
            "--schedule",
            "pdrop",
        ],
    },
    // Under a fitted framework (issue 21): every fitted time with its 80 % interval.
    Kind {
        name: "run-fitted",
        page: "run",
        args: &["--framework", "hf", "--gpu", "a100-80g", "--frames", "32"],
    },
    Kind {
        name: "compare-fitted",
        page: "compare",
        args: &[
            "compare",
            "--schedule",
            "none,linear,fastv",
            "--framework",
            "hf",
            "--gpu",
            "a100-80g",
        ],
    },
    Kind {
        name: "sweep-fitted",
        page: "sweep",
        args: &[
            "sweep",
            "--schedule",
            "linear,fastv",
            "--frames",
            "8:32:8",
            "--framework",
            "hf",
            "--gpu",
            "a100-80g",
        ],
    },
    // Serving (issue 26 item 5): one schedule, several side by side, the rate search.
    Kind {
        name: "serve",
        page: "serve",
        args: &[
            "serve",
            "--schedule",
            "linear",
            "--rate",
            "2",
            "--requests",
            "100",
            "--slo-ttft",
            "2",
        ],
    },
    Kind {
        name: "serve-schedules",
        page: "serve",
        args: &[
            "serve",
            "--schedules",
            "none,linear,fastv",
            "--rate",
            "2",
            "--requests",
            "100",
        ],
    },
    Kind {
        name: "serve-max-rate",
        page: "serve",
        args: &[
            "serve",
            "--schedule",
            "linear",
            "--find-max-rate",
            "--requests",
            "100",
            "--slo-ttft",
            "2",
        ],
    },
    Kind {
        name: "serve-fitted",
        page: "serve",
        args: &[
            "serve",
            "--schedules",
            "none,linear",
            "--framework",
            "hf",
            "--gpu",
            "h100",
            "--find-max-rate",
            "--requests",
            "60",
            "--slo-ttft",
            "2",
        ],
    },
];

/// Every page, written once per test process: `(kind, html path, the command's JSON)`.
fn pages() -> &'static Vec<(&'static Kind, PathBuf, Value)> {
    static PAGES: OnceLock<Vec<(&'static Kind, PathBuf, Value)>> = OnceLock::new();
    PAGES.get_or_init(|| {
        let dir = out_dir();
        KINDS
            .iter()
            .map(|k| {
                let path = dir.join(format!("{}.html", k.name));
                let mut args = k.args.to_vec();
                let p = path.to_str().expect("utf-8 path");
                args.extend(["--format", "html", "-o", p]);
                common::ok(&args);
                let json = common::json(k.args);
                (k, path, json)
            })
            .collect()
    })
}

fn page(kind: &str) -> (PathBuf, String, Value) {
    let (_, path, json) = pages()
        .iter()
        .find(|p| p.0.name == kind)
        .expect("a page of that kind");
    let html = std::fs::read_to_string(path).expect("page written");
    (path.clone(), html, json.clone())
}

/// Every operator of a run's JSON (stages, layers, head), schedule or `baseline`.
fn operators(run: &Value) -> Vec<&Value> {
    let mut v: Vec<&Value> = run["stages"].as_array().into_iter().flatten().collect();
    for l in run["layers"].as_array().into_iter().flatten() {
        v.extend(l["operators"].as_array().into_iter().flatten());
    }
    v.extend(run["head"].as_array().into_iter().flatten());
    v
}

/// The runs of a serve command's JSON, each with the rates its search tried (if searched): a
/// run, a `--find-max-rate` answer, or `--schedules`' list of either.
fn serve_runs(json: &Value) -> Vec<(&Value, Option<&Vec<Value>>)> {
    let answers: Vec<&Value> = match json.get("answers") {
        Some(a) => a.as_array().unwrap().iter().collect(),
        None => vec![json],
    };
    answers
        .into_iter()
        .map(|a| match a.get("at_max") {
            Some(run) => (run, a["tried"].as_array()),
            None => (a, None),
        })
        .collect()
}

/// Rows of the table `id` in the static HTML (no JavaScript).
fn table_rows(html: &str, id: &str) -> usize {
    // (Its class may name more than `data sortable`: `wrap-head`.)
    let start = html
        .match_indices("<table class=\"data sortable")
        .map(|(i, _)| i)
        .find(|&i| {
            html[i..]
                .split('>')
                .next()
                .unwrap()
                .contains(&format!("id=\"{id}\""))
        })
        .unwrap_or_else(|| panic!("table {id} present"));
    let end = start + html[start..].find("</table>").expect("closed");
    html[start..end].matches("<tr").count() - 1
}

/// The URL-shaped strings of a page that are not the SVG namespace name (which scripts pass to
/// `createElementNS`; it names a namespace and is never requested).
fn urls(html: &str) -> Vec<String> {
    const SVG_NS: &str = "\"http://www.w3.org/2000/svg\"";
    let text = html.replace(SVG_NS, "\"svg-namespace\"");
    let mut found = Vec::new();
    for needle in [
        "http://",
        "https://",
        "ftp://",
        "file:",
        "data:image",
        "data:text",
        "data:application",
        "data:font",
        "url(",
        "@import",
        " src=",
        "srcset=",
    ] {
        for (i, _) in text.match_indices(needle) {
            found.push(text[i.saturating_sub(20)..(i + 40).min(text.len())].to_string());
        }
    }
    // A protocol-relative URL in an attribute, a CSS url or a JS string: quote/paren then //.
    for pat in ["\"//", "'//", "(//", "=//"] {
        for (i, _) in text.match_indices(pat) {
            found.push(text[i.saturating_sub(20)..(i + 40).min(text.len())].to_string());
        }
    }
    // Links may only point inside the page.
    for (i, _) in text.match_indices("href=\"") {
        if !text[i + 6..].starts_with('#') {
            found.push(text[i..(i + 40).min(text.len())].to_string());
        }
    }
    found
}

fn pages_are_self_contained_and_small() {
    for (kind, path, _) in pages() {
        let html = std::fs::read_to_string(path).unwrap();
        let found = urls(&html);
        assert!(
            found.is_empty(),
            "{}: URL-like references {found:?}",
            kind.name
        );
        assert!(
            html.contains("content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'\""),
            "{}: the CSP that forbids every request",
            kind.name
        );
        assert!(
            html.contains(&format!("data-page=\"{}\"", kind.page)),
            "{}",
            kind.name
        );
    }
    // The 28-layer run: under 2 MB.
    let (_, html, json) = page("run");
    assert_eq!(json["layers"].as_array().unwrap().len(), 28);
    assert!(html.len() < 2_000_000, "run page is {} bytes", html.len());
    println!("run page (28 layers): {} bytes", html.len());
}

fn the_url_check_finds_what_it_must() {
    for bad in [
        "<script src=\"x.js\"></script>",
        "<link href=\"//cdn.example/x.css\">",
        "body{background:url(a.png)}",
        "fetch('https://example.com')",
        "<a href=\"page2.html\">",
        "<img src='data:image/png;base64,AA'>",
    ] {
        assert!(!urls(bad).is_empty(), "{bad}");
    }
    assert!(urls("el(\"http://www.w3.org/2000/svg\"); // a comment; <a href=\"#x\">").is_empty());
}

fn tables_hold_every_figure_without_javascript() {
    let (_, html, json) = page("run");
    assert_eq!(table_rows(&html, "ops"), operators(&json).len());
    assert_eq!(table_rows(&html, "layers"), 28);
    let (_, html, json) = page("sweep");
    assert_eq!(table_rows(&html, "rows"), json.as_array().unwrap().len());
    let (_, html, json) = page("compare");
    assert_eq!(
        table_rows(&html, "rows"),
        json["rows"].as_array().unwrap().len()
    );
    let (_, html, json) = page("pareto");
    assert_eq!(
        table_rows(&html, "rows"),
        json["rows"].as_array().unwrap().len()
    );
    let (_, html, json) = page("check");
    assert_eq!(
        table_rows(&html, "rows"),
        json["rows"].as_array().unwrap().len()
    );
    assert_eq!(
        table_rows(&html, "speedups"),
        json["speedups"].as_array().unwrap().len()
    );
    // Serving pages: a summary row per schedule, every interval of the timeline, every request,
    // every rate searched; and the JSON's own figures in the cells (p50 TTFT, p99 TPOT, the
    // highest rate), printed from the same numbers.
    for name in ["serve", "serve-schedules", "serve-max-rate"] {
        let (_, html, json) = page(name);
        let runs = serve_runs(&json);
        let len = |v: &Value| v.as_array().unwrap().len();
        assert_eq!(table_rows(&html, "summary"), runs.len(), "{name}");
        assert_eq!(table_rows(&html, "latencies"), 3 * runs.len(), "{name}");
        assert_eq!(
            table_rows(&html, "timeline"),
            runs.iter().map(|(r, _)| len(&r["timeline"])).sum::<usize>(),
            "{name}"
        );
        assert_eq!(
            table_rows(&html, "requests"),
            runs.iter().map(|(r, _)| len(&r["requests"])).sum::<usize>(),
            "{name}"
        );
        let cell = |v: f64, places: usize| format!("data-v=\"{v:e}\">{v:.places$}</td>");
        for (r, tried) in &runs {
            let s = &r["summary"];
            for (k, places) in [("ttft", 1), ("tpot", 1), ("e2e", 1)] {
                for p in ["p50_s", "p99_s"] {
                    let v = s[k][p].as_f64().unwrap() * 1e3;
                    assert!(html.contains(&cell(v, places)), "{name}: {k} {p} = {v} ms");
                }
            }
            let tput = s["throughput_requests_per_s"].as_f64().unwrap();
            assert!(html.contains(&cell(tput, 3)), "{name}: {tput} requests/s");
            if let Some(tried) = tried {
                assert_eq!(table_rows(&html, "search"), tried.len(), "{name}");
                let rate = json["rate_per_s"].as_f64().unwrap();
                assert!(html.contains(&cell(rate, 3)), "{name}: max rate {rate}");
            }
        }
        if !runs.iter().any(|(_, t)| t.is_some()) {
            assert!(
                !html.contains("id=\"search\""),
                "{name}: no search, no table"
            );
        }
    }
    let (_, html, _) = page("serve-schedules");
    for s in ["none", "linear", "fastv"] {
        assert!(html.contains(&format!("<td>{s}</td>")), "{s}'s rows");
    }

    // The colours are the palette's (src/palette.rs), written by Rust into the page's data.
    let (_, html, _) = page("compare");
    assert!(
        html.contains("\"color\":\"#d55e00\""),
        "linear's vermillion"
    );
}

/// `LO–HI` as the pages print an interval in ms (three significant figures, as the text report).
fn interval_text(lo_s: f64, hi_s: f64) -> String {
    let sig3 = |s: f64| {
        let ms = s * 1e3;
        let digits = (2 - ms.abs().log10().floor() as i32).max(0) as usize;
        format!("{ms:.digits$}")
    };
    format!("{}–{}", sig3(lo_s), sig3(hi_s))
}

/// Under a fitted framework every page that shows a time shows its 80 % interval, from the
/// command's own JSON; the roofline pages have none.
fn fitted_times_show_their_intervals() {
    let pair = |v: &Value| (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
    let (_, html, json) = page("run-fitted");
    for run in [&json, &json["baseline"]] {
        let (lo, hi) = pair(&run["totals"]["time_interval_s"]);
        assert!(
            html.contains(&interval_text(lo, hi)),
            "run page lacks {lo}–{hi}"
        );
    }
    let (lo, hi) = pair(&json["reduction"]["time_interval"]);
    assert!(
        html.contains(&format!("{lo:.2}–{hi:.2}×")),
        "run page lacks the speed-up interval"
    );
    let (_, html, json) = page("compare-fitted");
    for r in json["rows"].as_array().unwrap() {
        let (lo, hi) = pair(&r["time_interval_s"]);
        assert!(
            html.contains(&interval_text(lo, hi)),
            "compare page lacks {r}"
        );
    }
    let (_, html, json) = page("sweep-fitted");
    // The page says which profile priced its times (it did not).
    assert!(
        html.contains("framework hf"),
        "sweep page does not name its framework"
    );
    for r in json.as_array().unwrap() {
        let (lo, hi) = (
            r["time_low_s"].as_f64().unwrap(),
            r["time_high_s"].as_f64().unwrap(),
        );
        assert!(
            html.contains(&interval_text(lo, hi)),
            "sweep page lacks {r}"
        );
    }
    let (_, html, json) = page("check");
    let mut shown = 0;
    for r in json["rows"].as_array().unwrap() {
        if let Some(iv) = r.get("predicted_interval_ms").filter(|v| !v.is_null()) {
            let (lo, hi) = pair(iv);
            assert!(
                html.contains(&interval_text(lo / 1e3, hi / 1e3)),
                "check page lacks {r}"
            );
            shown += 1;
        }
    }
    assert!(shown > 10, "{shown} check rows with an interval");
    // serve's intervals (the text report's lines, JSON's `interval`), one row per schedule.
    let (_, html, json) = page("serve-fitted");
    for (run, _) in serve_runs(&json) {
        let iv = &run["interval"];
        for key in ["ttft_p50_s", "ttft_p99_s", "tpot_p50_s", "e2e_p50_s"] {
            let (lo, hi) = pair(&iv[key]);
            assert!(
                html.contains(&interval_text(lo, hi)),
                "serve page lacks {key} {lo}–{hi}"
            );
        }
    }
    for a in json["answers"].as_array().unwrap() {
        let (lo, hi) = pair(&a["rate_interval_per_s"]);
        // A fast end at the search's limit is said as such (serve's text report).
        let want = if hi >= 1e6 {
            format!("{lo:.3} to beyond 1e6")
        } else {
            format!("{lo:.3}–{hi:.3}")
        };
        assert!(
            html.contains(&want),
            "serve page lacks the max rate's interval {lo}–{hi}"
        );
    }
    for kind in ["run", "compare", "sweep", "serve", "serve-max-rate"] {
        let (_, html, _) = page(kind);
        // The page's own text and data, without its scripts (shared by every page).
        let mut text = String::new();
        let mut rest = html.as_str();
        while let Some(a) = rest.find("<script") {
            text.push_str(&rest[..a]);
            let (script, after) = rest[a..]
                .split_once("</script>")
                .unwrap_or((&rest[a..], ""));
            if script.contains("application/json") {
                text.push_str(script);
            }
            rest = after;
        }
        text.push_str(rest);
        // (serve's timeline is "in intervals" of time.)
        assert!(
            !text.contains("80 %") && !text.contains("prediction interval"),
            "the roofline {kind} page shows an interval"
        );
        if !kind.starts_with("serve") {
            assert!(!text.contains("interval"), "the roofline {kind} page");
        }
    }
}

fn compare_errors_are_one_line() {
    for (args, want) in [
        (&["compare"][..], "not provided: --schedule"),
        (&["compare", "--schedule", "linear,linear"][..], "twice"),
        (
            &["compare", "--schedule", "linear,nope"][..],
            "schedule nope",
        ),
    ] {
        let err = common::fails(args);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

fn commands_without_a_page_say_so() {
    // Issue 22: each command's --format offers its own formats only.
    let err = common::fails(&["reproduce", "--format", "html"]);
    assert!(
        err.contains("[possible values: table, json, csv, markdown]"),
        "{err}"
    );
    let err = common::fails(&[
        "serve",
        "--reference",
        "reference/serving.toml",
        "--format",
        "html",
    ]);
    assert!(
        err.contains("serve --reference has no html output"),
        "{err}"
    );
}

/// What the browser is asked about each page (one expression; the answer is JSON).
const PROBE: &str = r#"(() => {
  const q = (s) => document.querySelectorAll(s).length;
  let minFont = 1e9, small = '';
  for (const e of document.querySelectorAll('body *')) {
    if (!e.childNodes.length || e.closest('[hidden]')) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    const px = parseFloat(getComputedStyle(e).fontSize);
    if (px < minFont) { minFont = px; small = e.tagName + ': ' + e.textContent.trim().slice(0, 40); }
  }
  return JSON.stringify({
    rendered: document.documentElement.getAttribute('data-rendered'),
    svgs: q('svg'), marks: q('.chart .mark'), legends: q('.legend button'),
    scrollWidth: document.documentElement.scrollWidth, minFont, small,
    // Tables that scroll sideways, and chart text that runs past its chart's edge.
    wideTables: [...document.querySelectorAll('.table-wrap')]
      .filter((w) => w.scrollWidth > w.clientWidth + 1)
      .map((w) => w.querySelector('table').id),
    clippedText: [...document.querySelectorAll('.chart svg text')]
      .filter((t) => {
        const s = t.ownerSVGElement.getBoundingClientRect(), r = t.getBoundingClientRect();
        return r.width && (r.right > s.right + 1 || r.left < s.left - 1);
      })
      .map((t) => t.textContent.slice(0, 40)),
  });
})()"#;

fn probe(b: &mut browser::Browser, p: &browser::Page) -> Value {
    let s = b.eval(p, PROBE).expect("probe runs");
    serde_json::from_str(s.as_str().expect("a string")).expect("JSON")
}

fn count(b: &mut browser::Browser, p: &browser::Page, selector: &str) -> u64 {
    b.eval(
        p,
        &format!("document.querySelectorAll({selector:?}).length"),
    )
    .unwrap()
    .as_u64()
    .unwrap()
}

/// Rendered marks each page must have, from the same command's JSON.
fn expected_marks(kind: &str, json: &Value) -> Vec<(&'static str, u64)> {
    let len = |v: &Value| v.as_array().map_or(0, |a| a.len()) as u64;
    match kind {
        "run" => {
            let layers = len(&json["layers"]);
            // Every operator that computes is a roofline point, schedule and baseline.
            let points = operators(json)
                .into_iter()
                .chain(operators(&json["baseline"]))
                .filter(|o| {
                    o["flops"].as_f64().unwrap() > 0.0
                        && o["time_s"].as_f64().unwrap() > 0.0
                        && o["arithmetic_intensity"].is_number()
                })
                .count() as u64;
            vec![
                ("#chart-tokens .mark", 2 * layers),
                ("#chart-roofline .mark", points),
                ("#chart-layers .band", layers),
            ]
        }
        "compare" => vec![
            ("#chart-time .mark", len(&json["rows"])),
            ("#chart-memory .mark", len(&json["rows"])),
        ],
        "sweep" => vec![
            ("#chart-flops .mark", len(json)),
            ("#chart-time .mark", len(json)),
        ],
        "budget" => {
            // The reference (frame budget) or the solution (target), the answer, the next.
            let some = |k: &str| u64::from(json.get(k).is_some_and(|v| !v.is_null()));
            vec![(
                "#chart-budget .mark",
                some("reference") + some("schedule") + some("solution") + some("next"),
            )]
        }
        "pareto" => vec![(
            "#chart-pareto .mark",
            json["rows"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["time_s"].is_number())
                .count() as u64,
        )],
        "check" => vec![(
            "#chart-check .mark",
            2 * json["rows"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["predicted_ms"].is_number() && r["roofline_ms"].is_number())
                .count() as u64,
        )],
        "serve" => {
            let runs = serve_runs(json);
            let n = runs.len() as u64;
            let tried: u64 = runs
                .iter()
                .map(|(_, t)| t.map_or(0, |t| t.len() as u64))
                .sum();
            vec![
                // p50, p90, p99 on each CDF, per schedule; one line per schedule in each timeline.
                ("#chart-ttft .mark", 3 * n),
                ("#chart-tpot .mark", 3 * n),
                ("#chart-e2e .mark", 3 * n),
                ("#chart-queue path[data-schedule]", n),
                ("#chart-batch path[data-schedule]", n),
                ("#chart-kv path[data-schedule]", n),
                ("#chart-search .mark", tried),
            ]
        }
        _ => unreachable!(),
    }
}

fn pages_render_in_chromium() {
    let dir = out_dir();
    let Some(mut b) = browser::launch_or_skip("pages_render_in_chromium", &dir) else {
        return;
    };
    for (k, path, json) in pages() {
        let (kind, name) = (&k.page, k.name);
        let p = b.open(path, 1280, 800).unwrap();
        let (shot, full) = (
            dir.join(format!("{name}.png")),
            dir.join(format!("{name}-full.png")),
        );
        b.screenshot(&p, &shot, false).unwrap();
        b.screenshot(&p, &full, true).unwrap();
        println!("{name}: {} and {}", shot.display(), full.display());
        let got = probe(&mut b, &p);
        assert_eq!(
            got["rendered"], **kind,
            "{name}: the page script finished: {got}"
        );
        assert!(got["svgs"].as_u64().unwrap() >= 1, "{name}: {got}");
        let width = got["scrollWidth"].as_u64().unwrap();
        assert!(width <= 1280, "{name}: wider than the window: {got}");
        // Issue 24 item 15: the sweep's table fit 1280 px no more; the budget's limit label
        // was clipped at the chart's right edge.
        // The Pareto table's last column (which rows are on the frontier) sat off-screen.
        if name == "sweep" || name == "pareto" {
            assert_eq!(got["wideTables"], serde_json::json!([]), "{name}: {got}");
        }
        if name == "budget" {
            assert_eq!(got["clippedText"], serde_json::json!([]), "{name}: {got}");
        }
        let font_px = got["minFont"].as_f64().unwrap();
        assert!(font_px >= 12.0, "{name}: text under 12 px: {got}");
        for (selector, want) in expected_marks(kind, json) {
            assert_eq!(count(&mut b, &p, selector), want, "{name}: {selector}");
        }
        match name {
            "run" => check_run_interactions(&mut b, &p, json),
            "sweep" => check_sweep_interactions(&mut b, &p, json),
            "serve-schedules" => check_serve_interactions(&mut b, &p),
            _ => {}
        }
        let problems = b.problems(&p).unwrap();
        assert!(problems.0.is_empty(), "{name}: {:#?}", problems.0);
        b.close(p).unwrap();
    }
}

/// A click on layer 14 leaves its operators in the table; a header click sorts.
fn check_run_interactions(b: &mut browser::Browser, p: &browser::Page, json: &Value) {
    let layer = &json["layers"][14];
    let want = layer["operators"].as_array().unwrap().len() as u64;
    b.eval(
        p,
        "document.querySelector('#chart-layers .band[data-layer=\"14\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))",
    )
    .unwrap();
    assert_eq!(
        count(b, p, "#ops tbody tr:not(.hidden)"),
        want,
        "layer 14's operators"
    );
    assert_eq!(
        b.eval(p, "document.documentElement.getAttribute('data-filter')")
            .unwrap(),
        "14"
    );
    b.eval(p, "document.getElementById('ops-show-all').click()")
        .unwrap();
    assert_eq!(
        count(b, p, "#ops tbody tr:not(.hidden)"),
        operators(json).len() as u64
    );
    // Sort by time, twice: descending; the first row is the slowest operator of the run.
    let slowest = operators(json)
        .into_iter()
        .map(|o| o["time_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let first = b
        .eval(
            p,
            "(() => { const th = [...document.querySelectorAll('#ops th')].find((t) => t.textContent === 'time ms'); th.click(); th.click(); return parseFloat(document.querySelector('#ops tbody tr td[data-v]:nth-child(9)').getAttribute('data-v')); })()",
        )
        .unwrap();
    assert!(
        (first.as_f64().unwrap() / (slowest * 1e3) - 1.0).abs() < 1e-9,
        "{first} vs {slowest}"
    );
}

/// A legend click hides the first schedule in every timeline and CDF; a second shows it again.
fn check_serve_interactions(b: &mut browser::Browser, p: &browser::Page) {
    let marks = "#cdf-grid .chart .mark";
    let lines = "#timeline-grid path[data-schedule]";
    let (before, lines_before) = (count(b, p, marks), count(b, p, lines));
    let click = "document.querySelector('#timeline-grid-legend button').click()";
    b.eval(p, click).unwrap();
    assert_eq!(count(b, p, marks), before - 9, "3 CDFs x 3 percentiles");
    assert_eq!(count(b, p, lines), lines_before - 3, "3 timelines");
    b.eval(p, click).unwrap();
    assert_eq!(count(b, p, marks), before);
}

/// The legend hides a line in both charts; the scale switch changes the axes.
fn check_sweep_interactions(b: &mut browser::Browser, p: &browser::Page, json: &Value) {
    let rows = json.as_array().unwrap();
    let first_schedule = rows[0]["schedule"].as_str().unwrap();
    let of_first = rows
        .iter()
        .filter(|r| r["schedule"] == first_schedule)
        .count() as u64;
    let before = count(b, p, ".chart .mark");
    b.eval(
        p,
        "document.querySelector('#curves-grid-legend button').click()",
    )
    .unwrap();
    assert_eq!(
        count(b, p, ".chart .mark"),
        before - 2 * of_first,
        "one line hidden in both charts"
    );
    let scale = b
        .eval(p, "document.documentElement.getAttribute('data-scale')")
        .unwrap();
    let other = if scale == "log" { "linear" } else { "log" };
    b.eval(
        p,
        &format!("(() => {{ const i = document.querySelector('#curves-grid-scale input[value={other}]'); i.checked = true; i.dispatchEvent(new Event('change')); }})()"),
    )
    .unwrap();
    assert_eq!(
        b.eval(p, "document.documentElement.getAttribute('data-scale')")
            .unwrap(),
        other
    );
}

fn tables_show_without_javascript() {
    let dir = out_dir();
    let Some(mut b) = browser::launch_or_skip("tables_show_without_javascript", &dir) else {
        return;
    };
    let (path, _, json) = page("run");
    let p = b.open_with(&path, 1280, 800, false).unwrap();
    b.screenshot(&p, &dir.join("run-no-js-full.png"), true)
        .unwrap();
    // The operator table is all there and visible; no chart was drawn; the notice shows.
    let visible = "[...document.querySelectorAll('#ops tbody tr')].filter((r) => r.getBoundingClientRect().height > 0).length";
    assert_eq!(b.eval(&p, visible).unwrap(), operators(&json).len());
    assert_eq!(count(&mut b, &p, ".chart svg"), 0);
    let notice = b
        .eval(
            &p,
            "document.body.innerText.includes('The charts need JavaScript')",
        )
        .unwrap();
    assert_eq!(notice, true, "the noscript notice shows");
    let problems = b.problems(&p).unwrap();
    assert!(problems.0.is_empty(), "{:#?}", problems.0);
    b.close(p).unwrap();
    // The serving page: every request of every schedule and the summary show, no chart.
    let (path, _, json) = page("serve-schedules");
    let p = b.open_with(&path, 1280, 800, false).unwrap();
    b.screenshot(&p, &dir.join("serve-no-js-full.png"), true)
        .unwrap();
    let shown = |id: &str| {
        format!("[...document.querySelectorAll('#{id} tbody tr')].filter((r) => r.getBoundingClientRect().height > 0).length")
    };
    let requests: usize = serve_runs(&json)
        .iter()
        .map(|(r, _)| r["requests"].as_array().unwrap().len())
        .sum();
    assert_eq!(b.eval(&p, &shown("requests")).unwrap(), requests);
    assert_eq!(b.eval(&p, &shown("summary")).unwrap(), 3);
    assert_eq!(count(&mut b, &p, ".chart svg"), 0);
    let problems = b.problems(&p).unwrap();
    assert!(problems.0.is_empty(), "{:#?}", problems.0);
    b.close(p).unwrap();
}

fn the_browser_check_catches_planted_errors() {
    let dir = out_dir().join("planted");
    let Some(mut b) = browser::launch_or_skip("the_browser_check_catches_planted_errors", &dir)
    else {
        return;
    };
    // The budget page (small) with a script error, a console error, and a missing image.
    let (_, html, _) = page("budget");
    let planted = html.replacen(
        "</main>",
        "<img src=\"missing.png\" alt=\"\"><script>console.error('planted'); undefinedFunction();</script></main>",
        1,
    );
    // Without the CSP the image is requested and fails; with it, the request is refused. Both
    // must show.
    for (name, text) in [
        (
            "planted.html",
            planted.replace("default-src 'none'", "default-src 'self'"),
        ),
        ("planted-csp.html", planted.clone()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let p = b.open(&path, 1280, 800).unwrap();
        let problems = b.problems(&p).unwrap().0;
        let has = |s: &str| problems.iter().any(|x| x.contains(s));
        assert!(has("console.error: \"planted\""), "{name}: {problems:#?}");
        assert!(
            has("undefinedFunction is not defined"),
            "{name}: {problems:#?}"
        );
        assert!(has("missing.png"), "{name}: {problems:#?}");
        b.close(p).unwrap();
    }
    // A chart that throws: the page says so, and the check sees it.
    let broken = html.replacen(
        "AIM.start(\"budget\", draw);",
        "AIM.start(\"budget\", function () { null.x; });",
        1,
    );
    assert_ne!(
        broken, html,
        "the page's start call is where the test expects it"
    );
    let path = dir.join("broken-chart.html");
    std::fs::write(&path, broken).unwrap();
    let p = b.open(&path, 1280, 800).unwrap();
    assert_eq!(
        b.eval(&p, "document.documentElement.getAttribute('data-rendered')")
            .unwrap(),
        "error"
    );
    let problems = b.problems(&p).unwrap().0;
    assert!(
        problems.iter().any(|x| x.starts_with("exception")),
        "{problems:#?}"
    );
    b.close(p).unwrap();
}

fn readme_compare_block_is_the_commands_output() {
    let cmd = "$ aim-sim compare --schedule none,linear,fastv,pdrop,merge-only\n";
    let want = format!(
        "```text\n{cmd}{}```\n",
        common::ok(&[
            "compare",
            "--schedule",
            "none,linear,fastv,pdrop,merge-only"
        ])
    );
    let mut failures = Vec::new();
    common::doc_block("README.md", "compare", &want, "the command", &mut failures);
    assert!(
        failures.is_empty(),
        "{}\n(rerun the command and paste its output)",
        failures.join("\n")
    );
}

/// The sweep page said nothing of configurations beyond the GPU's memory (standard error
/// warned); the run page's header named no tensor parallelism.
fn pages_say_what_does_not_fit_and_per_gpu_figures() {
    let page = common::ok(&[
        "sweep",
        "--schedule",
        "none,linear",
        "--frames",
        "8,16",
        "--gpu",
        "jetson-orin-nano",
        "--format",
        "html",
    ]);
    assert!(page.contains("Warnings") && page.contains("exceeds the 7.0 GB"));
    assert_eq!(
        page.matches(">NO<").count(),
        4,
        "a fits column, every row NO"
    );
    let fine = common::ok(&["sweep", "--frames", "8,16", "--format", "html"]);
    assert!(!fine.contains("Warnings") && fine.contains(">yes<"));
    let run = common::ok(&["--model", "llava-ov-72b", "--tp", "4", "--format", "html"]);
    assert!(run.contains("× 4 (tensor parallel: figures per GPU)</h1>"));
    // The check page left out what the table lists under the errors.
    let check = common::ok(&["check", "reference/measurements.toml", "--format", "html"]);
    for heading in [
        "Also found",
        "speed-ups not compared:",
        "measured faster than the ideal roofline",
    ] {
        assert!(check.contains(heading), "the check page lacks '{heading}'");
    }
    // The compare page's per-layer charts had no table.
    let compare = common::ok(&["compare", "--schedule", "none,linear", "--format", "html"]);
    assert!(compare.contains("Per layer, as a table") && compare.contains("linear tokens"));
    // The budget page's factors said nothing of what they are against.
    let budget = common::ok(&["budget", "--format", "html"]);
    assert!(budget.contains("× FLOPs vs no reduction"));
}
