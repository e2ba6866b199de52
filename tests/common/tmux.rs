//! The real binary in a real terminal: tmux sessions driven with
//! `send-keys` and read with `capture-pane`, and child processes that end
//! with the test however it ends.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
    pub config: tempfile::TempDir,
}

impl Tmux {
    pub fn new(tag: &str) -> Tmux {
        Tmux {
            socket: format!("kdeck-test-{tag}-{}", std::process::id()),
            config: tempfile::tempdir().unwrap(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs (it is on the machine image; .ci/run installs it otherwise)")
    }

    /// Starts `command` (run by sh) in a 120x36 session.
    pub fn start(&self, command: &str) {
        let out = self.run(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "120",
            "-y",
            "36",
            "-e",
            "TERM=tmux-256color",
            command,
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout).into_owned()
    }

    pub fn wait_for(&self, what: &str, within: Duration, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "main", k]);
            // Apart, so that esc and the next key are not read as alt-key.
            std::thread::sleep(Duration::from_millis(120));
        }
    }

    pub fn text(&self, s: &str) {
        self.run(&["send-keys", "-t", "main", "-l", s]);
        std::thread::sleep(Duration::from_millis(120));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kdeck")
}

pub fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// A child process killed when the test ends, however it ends.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
