//! Drawing the cockpit from fixed data with a fixed clock, at 80x24 and
//! 160x48, against the snapshots in `tests/snapshots/`; shared by the
//! screen tests.
#![allow(dead_code)]

use std::path::PathBuf;

use kdeck_fixture::small_fleet;
use kdeck_tui::cockpit::{Cockpit, Effect};
use kdeck_tui::draw::{buffer_text, render};
use kdeck_tui::keymap::{Key, Keymap};
use kdeck_tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

pub const NOW: time::OffsetDateTime = time::macros::datetime!(2026-11-22 10:00:00 UTC);

pub fn cockpit() -> Cockpit {
    let mut c = Cockpit::new(Keymap::default_map(), NOW, 10_000);
    c.set_fleet(small_fleet(NOW));
    c.refresh();
    c
}

/// Presses keys as written in keymap files, one after another.
pub fn press(c: &mut Cockpit, keys: &[&str]) -> Vec<Effect> {
    let mut effects = Vec::new();
    for k in keys {
        effects.extend(c.key(Key::parse(k).unwrap()));
        c.refresh();
    }
    effects
}

/// The request of the copy flow open now.
pub fn copy_request(c: &Cockpit) -> kdeck_tui::cockpit::RequestId {
    match &c.overlay {
        Some(kdeck_tui::overlays::Overlay::Copy(f)) => f.request,
        other => panic!("no copy flow: {other:?}"),
    }
}

pub fn type_text(c: &mut Cockpit, text: &str) {
    for ch in text.chars() {
        let k = if ch == ' ' { "space".to_string() } else { ch.to_string() };
        press(c, &[&k]);
    }
}

pub fn snapshot(name: &str, c: &Cockpit) -> Vec<Buffer> {
    let theme = Theme::dark();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var_os("KDECK_UPDATE_SNAPSHOTS").is_some();
    let mut bufs = Vec::new();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut c = c.clone();
        c.page = kdeck_tui::draw::page_for(h);
        let buf = render(&c, &theme, w, h);
        let text = buffer_text(&buf);
        let path = dir.join(format!("{name}-{w}x{h}.txt"));
        match std::fs::read_to_string(&path) {
            Ok(want) if !update => {
                if want != text {
                    let diff: Vec<String> = want
                        .lines()
                        .zip(text.lines())
                        .enumerate()
                        .filter(|(_, (a, b))| a != b)
                        .map(|(i, (a, b))| format!("line {i}:\n  want {a}\n  got  {b}"))
                        .collect();
                    panic!(
                        "{} changed (KDECK_UPDATE_SNAPSHOTS=1 to accept):\n{}\n\n{text}",
                        path.display(),
                        diff.join("\n")
                    );
                }
            }
            _ => {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
        }
        bufs.push(buf);
    }
    bufs
}

/// Where `needle` is on screen: (x, y) of its first character.
pub fn find(b: &Buffer, needle: &str) -> (u16, u16) {
    let text = buffer_text(b);
    for (y, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("{needle:?} is not on screen:\n{text}");
}

pub fn fg(b: &Buffer, needle: &str) -> Option<Color> {
    let (x, y) = find(b, needle);
    b[(x, y)].style().fg
}

/// A kdeck-managed app as the store has it: deployed at `generation`
/// with `deployed` as its digest, `now` its settings' digest.
pub fn managed(
    app: &str,
    image: &str,
    generation: Option<i64>,
    deployed: &str,
    now: &str,
) -> kdeck_command::apps::Managed {
    use kdeck_command::apps::{AppState, Managed};
    use kdeck_model::{App, AppRef};
    let a = AppRef::parse("app", app).unwrap();
    let mut settings = App::new(a.clone(), image);
    settings.env = vec![kdeck_model::EnvEntry {
        name: "MODE".into(),
        source: kdeck_model::EnvSource::Value("live".into()),
    }];
    Managed {
        settings,
        state: AppState {
            app: Some(a),
            deployed_generation: generation,
            deployed_digest: Some(deployed.into()),
            ..Default::default()
        },
        digest: Some(now.into()),
    }
}
