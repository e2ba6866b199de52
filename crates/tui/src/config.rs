//! The user's choices, from the config dir (`$KDECK_CONFIG_DIR`, else
//! `$XDG_CONFIG_HOME/kdeck`, else `~/.config/kdeck`):
//!
//! - `config.yaml`: `theme: dark|light|mono|FILE`, `keymap: default|emacs|FILE`,
//!   `log_lines: N`;
//! - `keymap.yaml`: a keymap overlay, laid over the chosen keymap;
//! - theme and keymap files named in `config.yaml`, relative to the dir.
//!
//! Nothing here fails: what cannot be read becomes a warning and the
//! defaults stay.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::keymap::{self, Keymap};
use super::theme::Theme;
use kdeck_fleet::logs::LogBuffer;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    theme: Option<String>,
    keymap: Option<String>,
    log_lines: Option<usize>,
}

/// What the cockpit starts with.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub keymap: Keymap,
    pub theme: Theme,
    pub log_lines: usize,
    pub warnings: Vec<String>,
}

pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KDECK_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("kdeck"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/kdeck"))
}

fn read(path: &Path, warnings: &mut Vec<String>) -> Option<String> {
    if !path.exists() {
        return None;
    }
    match kdeck_command::files::read_text(path, kdeck_command::files::SMALL_LIMIT) {
        Ok(s) => Some(s),
        Err(why) => {
            warnings.push(format!("{}: {why}; using the defaults", path.display()));
            None
        }
    }
}

/// Reads the config dir. `no_color` is whether `NO_COLOR` is set.
pub fn load(dir: Option<&Path>, no_color: bool) -> Loaded {
    let mut warnings = Vec::new();
    let cfg: ConfigFile = match dir.map(|d| d.join("config.yaml")) {
        Some(p) => match read(&p, &mut warnings) {
            Some(text) => match serde_saphyr::from_str(&text) {
                Ok(c) => c,
                Err(e) => {
                    warnings.push(format!(
                        "{}: not a kdeck config ({}); it takes theme, keymap and log_lines; using the defaults",
                        p.display(),
                        kdeck_command::files::yaml_problem(&e)
                    ));
                    ConfigFile::default()
                }
            },
            None => ConfigFile::default(),
        },
        None => ConfigFile::default(),
    };
    // Keymap: the default, then the chosen one, then keymap.yaml.
    let mut keymap = Keymap::default_map();
    if let Some(k) = cfg.keymap.as_deref().filter(|k| *k != "default") {
        let shipped = keymap::SHIPPED
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, y)| (*y).to_string());
        let text = shipped.or_else(|| dir.and_then(|d| read(&d.join(k), &mut warnings)));
        match text {
            Some(yaml) => {
                let (km, w) = Keymap::with_overlay(k, &yaml);
                keymap = km;
                warnings.extend(w);
            }
            None => warnings.push(format!(
                "keymap {k:?} is neither shipped (default, emacs) nor a file in the config dir; using the default keys"
            )),
        }
    }
    if let Some(d) = dir {
        let p = d.join("keymap.yaml");
        if let Some(yaml) = read(&p, &mut warnings) {
            let (km, w) = overlay(&keymap, &p.display().to_string(), &yaml);
            keymap = km;
            warnings.extend(w);
        }
    }
    // Theme: NO_COLOR wins, then the choice.
    let theme_text = cfg.theme.as_deref().and_then(|t| {
        if super::theme::SHIPPED.iter().any(|(n, _)| *n == t) {
            None
        } else {
            dir.and_then(|d| read(&d.join(t), &mut warnings))
        }
    });
    let (theme, w) = Theme::choose(no_color, cfg.theme.as_deref().map(|t| (t, theme_text.as_deref())));
    warnings.extend(w);
    let log_lines = match cfg.log_lines {
        Some(0) => {
            warnings.push("config.yaml: log_lines must be at least 1; using 10000".into());
            LogBuffer::DEFAULT_LINES
        }
        Some(n) => n.min(1_000_000),
        None => LogBuffer::DEFAULT_LINES,
    };
    Loaded {
        keymap,
        theme,
        log_lines,
        warnings,
    }
}

/// A user overlay on top of an already chosen keymap.
fn overlay(base: &Keymap, origin: &str, yaml: &str) -> (Keymap, Vec<String>) {
    let mut k = base.clone();
    let mut w = Vec::new();
    k.overlay(origin, yaml, &mut w);
    (k, w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::{Action, Context, Key};

    #[test]
    fn an_empty_dir_gives_the_defaults() {
        let d = tempfile::tempdir().unwrap();
        let l = load(Some(d.path()), false);
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(l.theme.name, "dark");
        assert_eq!(l.log_lines, 10_000);
        assert_eq!(l.keymap, Keymap::default_map());
    }

    #[test]
    fn choices_and_overlays_apply_and_bad_ones_warn() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("config.yaml"),
            "theme: light\nkeymap: emacs\nlog_lines: 500\n",
        )
        .unwrap();
        std::fs::write(d.path().join("keymap.yaml"), "global:\n  quit: [ctrl-q]\n  warp: [x]\n").unwrap();
        let l = load(Some(d.path()), false);
        assert_eq!(l.theme.name, "light");
        assert_eq!(l.log_lines, 500);
        let k = |s| Key::parse(s).unwrap();
        assert_eq!(
            l.keymap.action(Context::List, k("ctrl-n")),
            Some(Action::Down),
            "emacs chosen"
        );
        assert_eq!(
            l.keymap.action(Context::List, k("ctrl-q")),
            Some(Action::Quit),
            "user overlay on top"
        );
        assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
        assert!(l.warnings[0].contains("unknown action \"warp\""));
        // NO_COLOR beats the choice.
        assert_eq!(load(Some(d.path()), true).theme.name, "mono");

        std::fs::write(d.path().join("config.yaml"), "colour: purple\n").unwrap();
        let l = load(Some(d.path()), false);
        assert!(
            l.warnings.iter().any(|w| w.contains("not a kdeck config")),
            "{:?}",
            l.warnings
        );
        assert_eq!(l.theme.name, "dark");

        std::fs::write(d.path().join("config.yaml"), "theme: mine.yaml\n").unwrap();
        std::fs::write(d.path().join("mine.yaml"), "roles:\n  ok: magenta\n").unwrap();
        let l = load(Some(d.path()), false);
        assert_eq!(l.theme.ok.fg, Some(ratatui::style::Color::Magenta));
    }
}
