//! Headless Chromium over the DevTools protocol, for the page tests (the report and the
//! workbench): `--remote-debugging-pipe`, commands on fd 3, replies and events on fd 4,
//! each message ending with a NUL byte.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

// --- Chromium over the DevTools protocol (--remote-debugging-pipe: commands on fd 3,
// --- replies and events on fd 4, each message ending with a NUL byte).

pub struct Browser {
    child: std::process::Child,
    to: std::fs::File,
    from: std::io::BufReader<std::fs::File>,
    next: u64,
    pub session: Option<String>,
    pub events: Vec<Value>,
}

pub fn chromium() -> PathBuf {
    find_chromium().unwrap_or_else(|| {
        panic!("the pages are tested in headless Chromium: install it (Debian: apt-get install chromium) or set ZAITAKU_CHROMIUM")
    })
}

/// Chromium's path: `ZAITAKU_CHROMIUM`, else the first of the usual names on PATH.
pub fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("ZAITAKU_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.exists() {
                return Some(p);
            }
        }
    }
    None
}

impl Browser {
    pub fn launch(profile: &Path) -> Browser {
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::os::unix::process::CommandExt;
        let pipe = || {
            let mut fds = [0i32; 2];
            assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
            // Above 4, so that placing them on 3 and 4 in the child cannot overwrite each other.
            let high = |fd: i32| {
                let h = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
                unsafe { libc::close(fd) };
                h
            };
            (high(fds[0]), high(fds[1]))
        };
        let (cmd_read, cmd_write) = pipe();
        let (ev_read, ev_write) = pipe();
        let mut command = Command::new(chromium());
        command
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--allow-file-access-from-files",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(cmd_read, 3) < 0 || libc::dup2(ev_write, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().unwrap();
        unsafe {
            libc::close(cmd_read);
            libc::close(ev_write);
        }
        let to = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(cmd_write) });
        let from = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(ev_read) });
        Browser {
            child,
            to,
            from: std::io::BufReader::new(from),
            next: 0,
            session: None,
            events: Vec::new(),
        }
    }

    fn read_message(&mut self) -> Value {
        use std::io::BufRead;
        let mut buf = Vec::new();
        let n = self.from.read_until(0, &mut buf).unwrap();
        assert!(n > 0, "chromium closed the pipe");
        buf.pop();
        serde_json::from_slice(&buf).unwrap()
    }

    /// Sends a command (in the page's session once attached) and waits for its reply,
    /// keeping the events that arrive meanwhile.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        use std::io::Write;
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        loop {
            let m = self.read_message();
            if m["id"].as_u64() == Some(id) {
                assert!(m.get("error").is_none(), "{method}: {}", m["error"]);
                return m["result"].clone();
            }
            self.events.push(m);
        }
    }

    pub fn wait_for(&mut self, method: &str) {
        if self.events.iter().any(|e| e["method"] == method) {
            return;
        }
        loop {
            let m = self.read_message();
            let found = m["method"] == method;
            self.events.push(m);
            if found {
                return;
            }
        }
    }

    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expression}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// A browser with one page attached, its domains enabled, `width` x `height` pixels.
    pub fn page(profile: &Path, width: u32, height: u32) -> Browser {
        let mut b = Browser::launch(profile);
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        b.session = Some(attached["sessionId"].as_str().unwrap().to_string());
        for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
            b.call(domain, json!({}));
        }
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        b
    }

    /// A left click with real mouse events at (x, y).
    pub fn click(&mut self, x: f64, y: f64) {
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Waits (up to 30 s) until the expression is true in the page.
    pub fn until(&mut self, condition: &str) {
        let ok = self.eval(&format!(
            "new Promise(done => {{ const t0 = Date.now(); const tick = () => {{
                let v = false; try {{ v = !!({condition}); }} catch (e) {{}}
                if (v) done(true); else if (Date.now() - t0 > 30000) done(false); else setTimeout(tick, 50); }}; tick(); }})"
        ));
        assert_eq!(ok, json!(true), "timed out waiting for {condition}");
    }
}
