//! Headless Chromium driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`:
//! NUL-separated JSON on the child's fds 3 and 4, here its stdin and stdout moved there by
//! `sh`), so the tests see every console message, uncaught exception, request and failed load
//! of a page — file:// ones included — with no WebSocket client and no new dependency.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Chromium's path: `AIM_SIM_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AIM_SIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Why a browser test cannot run here, when it cannot: no Chromium found and none required.
/// The harness (tests/html.rs) then reports the test as ignored with this reason, as the GPU
/// tests are, instead of a silent pass. With `AIM_SIM_REQUIRE_BROWSER=1` a missing Chromium
/// is no reason: the test runs and fails.
pub fn skip_reason(found: Option<&Path>, required: bool) -> Option<String> {
    match (found, required) {
        (None, false) => Some(
            "no Chromium on PATH (apt-get install chromium, or set AIM_SIM_CHROMIUM; AIM_SIM_REQUIRE_BROWSER=1 makes this a failure)".into(),
        ),
        _ => None,
    }
}

/// Whether `AIM_SIM_REQUIRE_BROWSER=1` is set.
pub fn required() -> bool {
    std::env::var("AIM_SIM_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// The browser when there is one; without, `None` after printing why — or a panic when
/// `AIM_SIM_REQUIRE_BROWSER=1` (CI installs Chromium and sets it).
pub fn launch_or_skip(test: &str, log_dir: &Path) -> Option<Browser> {
    let required = required();
    match find() {
        Some(path) => Some(Browser::launch(&path, log_dir).unwrap_or_else(|e| {
            panic!("{test}: Chromium at {} did not start: {e}", path.display())
        })),
        None if required => panic!(
            "{test}: AIM_SIM_REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium, or set AIM_SIM_CHROMIUM)"
        ),
        None => {
            eprintln!(
                "{test}: skipped: no Chromium on PATH (apt-get install chromium; AIM_SIM_REQUIRE_BROWSER=1 makes this a failure)"
            );
            None
        }
    }
}

pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: u64,
    /// Events not yet claimed by a page.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

/// What went wrong on a page: console messages, exceptions, log errors, requests.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<String>);

impl Browser {
    pub fn launch(path: &Path, log_dir: &Path) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::fs::create_dir_all(log_dir).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(log_dir.join("chromium.log")).map_err(|e| e.to_string())?;
        // Flags: run as root in a container (no sandbox), no GPU, and none of Chromium's own
        // network traffic (this machine has no network; docs: /work/.library/env).
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 3<&0 4>&1 </dev/null >/dev/null")
            .arg(path)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1 << 16];
            loop {
                let n = match stdout.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|&b| b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1]) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            stdin,
            rx,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        };
        b.call("Browser.getVersion", json!({}), None)?;
        Ok(b)
    }

    /// Sends a command and waits for its answer; events that arrive meanwhile are kept.
    pub fn call(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("serialises");
        bytes.push(0);
        self.stdin
            .write_all(&bytes)
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("{method}: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) if v["id"] == json!(id) => {
                    return match v.get("error") {
                        Some(e) => Err(format!("{method}: {e}")),
                        None => Ok(v["result"].clone()),
                    };
                }
                Ok(v) => self.events.push(v),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("{method}: no answer in 60 s"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("{method}: Chromium exited"))
                }
            }
        }
    }

    /// Collects events until `method` arrives for `session` or `timeout` passes.
    fn wait_event(&mut self, method: &str, session: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        if self
            .events
            .iter()
            .any(|e| e["method"] == method && e["sessionId"] == session)
        {
            return true;
        }
        loop {
            match self
                .rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(v) => {
                    let hit = v["method"] == method && v["sessionId"] == session;
                    self.events.push(v);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
    }

    /// Opens `file` in a fresh tab of `width`×`height` and waits until its script set
    /// `data-rendered` on `<html>` (or 20 s pass).
    pub fn open(&mut self, file: &Path, width: u32, height: u32) -> Result<Page, String> {
        self.open_with(file, width, height, true)
    }

    /// [`Browser::open`], with the page's scripts turned off when `scripts` is false (then
    /// nothing sets `data-rendered` and no wait for it is made).
    pub fn open_with(
        &mut self,
        file: &Path,
        width: u32,
        height: u32,
        scripts: bool,
    ) -> Result<Page, String> {
        let target = self.call("Target.createTarget", json!({ "url": "about:blank" }), None)?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or("no targetId")?
            .to_string();
        let attached = self.call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
            None,
        )?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or("no sessionId")?
            .to_string();
        for domain in [
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
            "Page.enable",
        ] {
            self.call(domain, json!({}), Some(&session))?;
        }
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
            Some(&session),
        )?;
        if !scripts {
            self.call(
                "Emulation.setScriptExecutionDisabled",
                json!({ "value": true }),
                Some(&session),
            )?;
        }
        let url = format!(
            "file://{}",
            file.canonicalize().map_err(|e| e.to_string())?.display()
        );
        self.call("Page.navigate", json!({ "url": url }), Some(&session))?;
        if !self.wait_event("Page.loadEventFired", &session, Duration::from_secs(30)) {
            return Err(format!("{url}: no load event in 30 s"));
        }
        let page = Page {
            session,
            target_id,
            url,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while scripts
            && self
                .eval(
                    &page,
                    "document.documentElement.getAttribute('data-rendered')",
                )?
                .is_null()
        {
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(page)
    }

    /// Evaluates `expression` in the page and returns its value (JSON).
    pub fn eval(&mut self, page: &Page, expression: &str) -> Result<Value, String> {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            Some(&page.session),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            return Err(format!("{expression}: {e}"));
        }
        Ok(r["result"]["value"].clone())
    }

    /// A PNG of the viewport, or of the whole page with `full`.
    pub fn screenshot(&mut self, page: &Page, path: &Path, full: bool) -> Result<(), String> {
        let params = if full {
            let m = self.call("Page.getLayoutMetrics", json!({}), Some(&page.session))?;
            let size = &m["cssContentSize"];
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": { "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1 },
            })
        } else {
            json!({ "format": "png" })
        };
        let r = self.call("Page.captureScreenshot", params, Some(&page.session))?;
        let png = base64(r["data"].as_str().ok_or("no screenshot data")?)?;
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Everything that went wrong on the page so far: any console message (the pages log
    /// nothing), uncaught exceptions, error/warning log entries, any request besides the page
    /// itself, failed loads, and the page guard's own record (`data-errors`).
    pub fn problems(&mut self, page: &Page) -> Result<Problems, String> {
        // Let late events (a failed load after the load event) arrive.
        std::thread::sleep(Duration::from_millis(150));
        while let Ok(v) = self.rx.try_recv() {
            self.events.push(v);
        }
        let mut out = Vec::new();
        let (mine, rest): (Vec<Value>, Vec<Value>) = std::mem::take(&mut self.events)
            .into_iter()
            .partition(|e| e["sessionId"] == page.session.as_str());
        self.events = rest;
        for e in mine {
            let p = &e["params"];
            match e["method"].as_str().unwrap_or("") {
                "Runtime.consoleAPICalled" => out.push(format!(
                    "console.{}: {}",
                    p["type"].as_str().unwrap_or("?"),
                    p["args"]
                        .as_array()
                        .map(|a| a
                            .iter()
                            .map(|x| x["value"].to_string())
                            .collect::<Vec<_>>()
                            .join(" "))
                        .unwrap_or_default()
                )),
                "Runtime.exceptionThrown" => {
                    let d = &p["exceptionDetails"];
                    out.push(format!(
                        "exception: {} {} (line {})",
                        d["text"].as_str().unwrap_or(""),
                        d["exception"]["description"].as_str().unwrap_or(""),
                        d["lineNumber"]
                    ));
                }
                "Log.entryAdded" => {
                    let entry = &p["entry"];
                    if matches!(entry["level"].as_str(), Some("error") | Some("warning")) {
                        out.push(format!(
                            "log {}: {} {}",
                            entry["level"].as_str().unwrap_or(""),
                            entry["text"].as_str().unwrap_or(""),
                            entry["url"].as_str().unwrap_or("")
                        ));
                    }
                }
                "Network.requestWillBeSent" => {
                    let url = p["request"]["url"].as_str().unwrap_or("");
                    if url != page.url {
                        out.push(format!("request: {url}"));
                    }
                }
                "Network.loadingFailed" => out.push(format!(
                    "failed load: {} {}",
                    p["type"].as_str().unwrap_or(""),
                    p["errorText"].as_str().unwrap_or("")
                )),
                _ => {}
            }
        }
        if let Value::String(s) =
            self.eval(page, "document.documentElement.getAttribute('data-errors')")?
        {
            out.push(format!("page guard: {s}"));
        }
        Ok(Problems(out))
    }

    pub fn close(&mut self, page: Page) -> Result<(), String> {
        self.call(
            "Target.closeTarget",
            json!({ "targetId": page.target_id }),
            None,
        )
        .map(|_| ())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call("Browser.close", json!({}), None);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An open tab.
pub struct Page {
    session: String,
    target_id: String,
    pub url: String,
}

/// Standard base64 (RFC 4648 §4), as `Page.captureScreenshot` sends PNGs.
fn base64(text: &str) -> Result<Vec<u8>, String> {
    let value = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("not base64: {:?}", c as char)),
        } as u32)
    };
    let bytes: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= if c == b'=' { 0 } else { value(c)? } << (18 - 6 * i);
        }
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    Ok(out)
}

#[test]
fn base64_decodes_the_rfc_vectors() {
    // RFC 4648 §10.
    for (plain, coded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(coded).unwrap(), plain.as_bytes());
    }
}
