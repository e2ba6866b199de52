//! Colours by role, from YAML. Components ask for a role (`ok`, `selected`,
//! `prod`…), never for a colour. `NO_COLOR` turns any theme into the
//! monochrome one.

use std::collections::BTreeMap;

use crate::error::ConfigError;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub const SHIPPED: &[(&str, &str)] = &[
    ("dark", include_str!("../../../themes/dark.yaml")),
    ("light", include_str!("../../../themes/light.yaml")),
    ("mono", include_str!("../../../themes/mono.yaml")),
];

macro_rules! roles {
    ($($field:ident,)*) => {
        /// The styles of a theme, one per role.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            pub name: String,
            $(pub $field: Style,)*
        }
        const ROLE_NAMES: &[&str] = &[$(stringify!($field),)*];
        impl Theme {
            fn set(&mut self, role: &str, style: Style) -> bool {
                match role {
                    $(stringify!($field) => { self.$field = style; true })*
                    _ => false,
                }
            }
            fn blank(name: &str) -> Self {
                Self { name: name.to_string(), $($field: Style::default(),)* }
            }
        }
    };
}

roles! {
    text,
    dim,
    border,
    border_focus,
    title,
    header,
    footer,
    key,
    selected,
    selected_unfocused,
    marked,
    ok,
    warn,
    error,
    info,
    match_,
    prod,
    stage,
    dev,
    other_cluster,
    toast,
    toast_error,
    column,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RoleSpec {
    Color(String),
    Full {
        #[serde(default)]
        fg: Option<String>,
        #[serde(default)]
        bg: Option<String>,
        #[serde(default)]
        bold: bool,
        #[serde(default)]
        dim: bool,
        #[serde(default)]
        italic: bool,
        #[serde(default)]
        underline: bool,
        #[serde(default)]
        reversed: bool,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    roles: BTreeMap<String, RoleSpec>,
}

fn color(s: &str) -> Result<Color, ConfigError> {
    let c = match s.to_ascii_lowercase().as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        hex if hex.starts_with('#') && hex.len() == 7 => {
            let v = u32::from_str_radix(&hex[1..], 16).map_err(|_| ConfigError(format!("bad colour {s:?}")))?;
            Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8)
        }
        n => match n.parse::<u8>() {
            Ok(i) => Color::Indexed(i),
            Err(_) => {
                return Err(ConfigError(format!(
                    "bad colour {s:?}: use a colour name (red, lightblue…), reset, an index 0-255 or #rrggbb"
                )));
            }
        },
    };
    Ok(c)
}

fn style(spec: &RoleSpec) -> Result<Style, ConfigError> {
    match spec {
        RoleSpec::Color(c) => Ok(Style::default().fg(color(c)?)),
        RoleSpec::Full {
            fg,
            bg,
            bold,
            dim,
            italic,
            underline,
            reversed,
        } => {
            let mut s = Style::default();
            if let Some(c) = fg {
                s = s.fg(color(c)?);
            }
            if let Some(c) = bg {
                s = s.bg(color(c)?);
            }
            for (on, m) in [
                (bold, Modifier::BOLD),
                (dim, Modifier::DIM),
                (italic, Modifier::ITALIC),
                (underline, Modifier::UNDERLINED),
                (reversed, Modifier::REVERSED),
            ] {
                if *on {
                    s = s.add_modifier(m);
                }
            }
            Ok(s)
        }
    }
}

impl Theme {
    /// A shipped theme by name (`dark`, `light`, `mono`).
    pub fn shipped(name: &str) -> Option<Theme> {
        let (_, yaml) = SHIPPED.iter().find(|(n, _)| *n == name)?;
        let (t, _) = Theme::parse(name, yaml, None);
        Some(t)
    }

    pub fn dark() -> Theme {
        Theme::shipped("dark").unwrap_or_else(|| Theme::blank("dark"))
    }

    /// Reads a theme file. Roles it leaves out or gets wrong keep `base`'s
    /// style (the dark theme when `None`); problems come back as warnings.
    pub fn parse(origin: &str, yaml: &str, base: Option<&Theme>) -> (Theme, Vec<String>) {
        let mut warnings = Vec::new();
        let mut t = match base {
            Some(b) => b.clone(),
            None => Theme::blank(origin),
        };
        let file: ThemeFile = match serde_saphyr::from_str(yaml) {
            Ok(f) => f,
            Err(e) => {
                warnings.push(format!(
                    "{origin}: not a theme ({}); expected `roles: {{ROLE: COLOUR}}`; using the default theme",
                    kdeck_command::files::yaml_problem(&e)
                ));
                return (t, warnings);
            }
        };
        if let Some(n) = file.name {
            t.name = n;
        }
        for (role, spec) in &file.roles {
            let key = if role == "match" { "match_" } else { role.as_str() };
            match style(spec) {
                Ok(s) => {
                    if !t.set(key, s) {
                        warnings.push(format!(
                            "{origin}: unknown role {role:?}; ignored (roles: {})",
                            ROLE_NAMES.join(", ").replace("match_", "match")
                        ));
                    }
                }
                Err(e) => warnings.push(format!("{origin}: {role}: {e}; the default stays")),
            }
        }
        if base.is_none() {
            for r in ROLE_NAMES {
                let name = if *r == "match_" { "match" } else { r };
                if !file.roles.contains_key(name) {
                    warnings.push(format!("{origin}: role {name:?} is missing"));
                }
            }
        }
        (t, warnings)
    }

    /// The theme to use: `NO_COLOR` wins; then the user's choice (a shipped
    /// name, or a file read by the caller); the dark theme otherwise.
    pub fn choose(no_color: bool, choice: Option<(&str, Option<&str>)>) -> (Theme, Vec<String>) {
        if no_color {
            return (Theme::shipped("mono").unwrap_or_else(Theme::dark), Vec::new());
        }
        match choice {
            None => (Theme::dark(), Vec::new()),
            Some((name, None)) => match Theme::shipped(name) {
                Some(t) => (t, Vec::new()),
                None => (
                    Theme::dark(),
                    vec![format!(
                        "theme {name:?} is not shipped (dark, light, mono) and no such file was found; using dark"
                    )],
                ),
            },
            Some((origin, Some(yaml))) => Theme::parse(origin, yaml, Some(&Theme::dark())),
        }
    }

    /// The accent of a cluster by its role, so prod is unmistakable.
    pub fn cluster(&self, name: &str) -> Style {
        match cluster_tier(name) {
            Tier::Prod => self.prod,
            Tier::Stage => self.stage,
            Tier::Dev => self.dev,
            Tier::Other => self.other_cluster,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Prod,
    Stage,
    Dev,
    Other,
}

/// Prod, stage or dev, from the words in a cluster's name.
pub fn cluster_tier(name: &str) -> Tier {
    let words: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let has = |w: &[&str]| words.iter().any(|x| w.iter().any(|p| x.eq_ignore_ascii_case(p)));
    let starts = |p: &str| words.iter().any(|x| x.to_ascii_lowercase().starts_with(p));
    if has(&["prod", "prd", "production", "live"]) || starts("prod") {
        Tier::Prod
    } else if has(&["stage", "staging", "stg", "preprod", "uat"]) || starts("stag") {
        Tier::Stage
    } else if has(&["dev", "development", "test", "qa", "sandbox"]) || starts("dev") {
        Tier::Dev
    } else {
        Tier::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_parses_whole() {
        for (name, yaml) in SHIPPED {
            let (t, warnings) = Theme::parse(name, yaml, None);
            assert!(warnings.is_empty(), "{name}: {warnings:?}");
            assert_eq!(t.name, *name);
            // Selection and prod must stand out in every theme.
            assert_ne!(t.selected, Style::default(), "{name}");
            assert_ne!(t.prod, Style::default(), "{name}");
        }
    }

    #[test]
    fn shipped_colour_themes_use_the_16_colours_only() {
        for name in ["dark", "light"] {
            let (_, yaml) = SHIPPED.iter().find(|(n, _)| *n == name).unwrap();
            let (t, _) = Theme::parse(name, yaml, None);
            for s in [t.selected, t.ok, t.warn, t.error, t.prod, t.header] {
                for c in [s.fg, s.bg].into_iter().flatten() {
                    assert!(!matches!(c, Color::Rgb(..) | Color::Indexed(_)), "{name}: {c:?}");
                }
            }
        }
        let mono = Theme::shipped("mono").unwrap();
        for s in [mono.selected, mono.prod, mono.error, mono.ok, mono.header] {
            assert!(
                s.fg.is_none_or(|c| c == Color::Reset) && s.bg.is_none(),
                "mono has no colour: {s:?}"
            );
        }
    }

    #[test]
    fn no_color_wins_and_bad_files_warn() {
        let (t, _) = Theme::choose(true, Some(("light", None)));
        assert_eq!(t.name, "mono");
        let (t, w) = Theme::choose(false, Some(("solarized", None)));
        assert_eq!(t.name, "dark");
        assert!(w[0].contains("not shipped"), "{w:?}");
        let (t, w) = Theme::choose(false, Some(("my.yaml", Some("roles: [oops"))));
        assert_eq!(t, Theme::dark());
        assert!(w[0].starts_with("my.yaml: not a theme"), "{w:?}");
        let (t, w) = Theme::choose(
            false,
            Some((
                "my.yaml",
                Some("roles:\n  ok: '#00ff00'\n  warn: chartreuse\n  sparkle: red\n"),
            )),
        );
        assert_eq!(t.ok.fg, Some(Color::Rgb(0, 255, 0)));
        assert_eq!(t.warn, Theme::dark().warn, "a bad colour keeps the default");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w.iter().any(|w| w.contains("bad colour \"chartreuse\"")));
        assert!(w.iter().any(|w| w.contains("unknown role \"sparkle\"")));
    }

    #[test]
    fn tiers_from_names() {
        assert_eq!(cluster_tier("prod-eu1"), Tier::Prod);
        assert_eq!(cluster_tier("eks-production-us"), Tier::Prod);
        assert_eq!(cluster_tier("stage-eu1"), Tier::Stage);
        assert_eq!(cluster_tier("dev-us1"), Tier::Dev);
        assert_eq!(cluster_tier("kind-local"), Tier::Other);
        assert_eq!(
            cluster_tier("product-catalog"),
            Tier::Prod,
            "prod prefix reads as prod: err on the safe side"
        );
    }
}
