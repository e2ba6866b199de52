//! Telling the user a command ended when they may be looking elsewhere:
//! over SSH (or with no desktop), the terminal's own notification escape
//! codes, OSC 9 and OSC 777; on a desktop, a notification through
//! notify-rust, off the UI loop and given up after a few seconds.

use std::io::Write;
use std::time::Duration;

/// How to notify here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Desktop,
    Terminal,
}

/// A desktop session, not an SSH one, decides the channel.
pub fn channel(env: impl Fn(&str) -> Option<String>) -> Channel {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    if set("SSH_CONNECTION") || set("SSH_TTY") || !(set("DISPLAY") || set("WAYLAND_DISPLAY")) {
        Channel::Terminal
    } else {
        Channel::Desktop
    }
}

/// The escape codes terminals turn into notifications (iTerm2, kitty,
/// WezTerm, foot and others take one or the other).
pub fn osc(title: &str, body: &str) -> String {
    let clean = |s: &str| s.replace(['\x07', '\x1b', ';'], " ");
    format!(
        "\x1b]9;{}: {}\x07\x1b]777;notify;{};{}\x07",
        clean(title),
        clean(body),
        clean(title),
        clean(body)
    )
}

/// Sends a notification; never blocks the caller for long, never fails it.
pub fn send(title: String, body: String) {
    match channel(|k| std::env::var(k).ok()) {
        Channel::Terminal => {
            let mut out = std::io::stdout();
            let _ = out.write_all(osc(&title, &body).as_bytes());
            let _ = out.flush();
        }
        Channel::Desktop => {
            tokio::spawn(async move {
                let show = tokio::task::spawn_blocking(move || {
                    let _ = notify_rust::Notification::new().summary(&title).body(&body).show();
                });
                let _ = tokio::time::timeout(Duration::from_secs(3), show).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_and_headless_use_the_terminal() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(channel(env(&[("DISPLAY", ":0")])), Channel::Desktop);
        assert_eq!(
            channel(env(&[("DISPLAY", ":0"), ("SSH_CONNECTION", "1 2 3 4")])),
            Channel::Terminal
        );
        assert_eq!(channel(env(&[])), Channel::Terminal);
        assert_eq!(channel(env(&[("WAYLAND_DISPLAY", "wayland-0")])), Channel::Desktop);
    }

    #[test]
    fn escape_codes_carry_the_text_and_nothing_that_breaks_them() {
        let s = osc("kdeck", "deploy of web; done\x07");
        assert!(s.starts_with("\x1b]9;kdeck: deploy of web  done \x07"));
        assert!(s.contains("\x1b]777;notify;kdeck;deploy of web  done \x07"));
    }
}
