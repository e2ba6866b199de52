use super::*;

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

#[test]
fn every_shipped_keymap_parses_without_a_warning() {
    for (name, yaml) in SHIPPED {
        let (k, warnings) = Keymap::with_overlay(name, yaml);
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        assert_eq!(k.action(Context::List, key("down")), Some(Action::Down), "{name}");
    }
    let (emacs, _) = Keymap::with_overlay("emacs", SHIPPED[1].1);
    assert_eq!(emacs.action(Context::List, key("ctrl-n")), Some(Action::Down));
    assert_eq!(
        emacs.action(Context::List, key("j")),
        None,
        "overlaid actions lose their old keys"
    );
    assert_eq!(
        emacs.action(Context::Tree, key("?")),
        Some(Action::Help),
        "the rest stays"
    );
}

#[test]
fn defaults_follow_k9s_habits() {
    let k = Keymap::default_map();
    assert_eq!(k.action(Context::Tree, key("j")), Some(Action::Down));
    assert_eq!(k.action(Context::List, key("G")), Some(Action::Bottom));
    assert_eq!(k.action(Context::List, key("shift-g")), Some(Action::Bottom));
    assert_eq!(k.action(Context::List, key("ctrl-d")), Some(Action::HalfPageDown));
    assert_eq!(k.action(Context::Logs, key("/")), Some(Action::Search));
    assert_eq!(k.action(Context::List, key("/")), Some(Action::Filter));
    assert_eq!(k.action(Context::Logs, key("q")), Some(Action::Quit));
    assert_eq!(k.action(Context::List, key("shift-tab")), Some(Action::PrevPane));
    assert_eq!(k.hint(Context::Tree, Action::Mark), "space");
    assert!(Action::ALL.iter().all(|a| !a.help().is_empty()));
}

#[test]
fn keys_parse_and_print_the_same() {
    for s in [
        "q",
        "ctrl-c",
        "alt-x",
        "pageup",
        "f5",
        "space",
        "?",
        "G",
        "backtab",
        "ctrl-alt-delete",
    ] {
        assert_eq!(key(s).to_string(), s);
    }
    assert!(Key::parse("hyper-x").unwrap_err().to_string().contains("unknown key"));
    assert!(Key::parse("f13").is_err());
}

#[test]
fn terminal_events_match_parsed_keys() {
    let ev = |c, m| Key::from_event(&KeyEvent::new(c, m)).unwrap();
    assert_eq!(ev(KeyCode::Char('G'), KeyModifiers::SHIFT), key("G"));
    assert_eq!(ev(KeyCode::Char('c'), KeyModifiers::CONTROL), key("ctrl-c"));
    assert_eq!(ev(KeyCode::BackTab, KeyModifiers::SHIFT), key("backtab"));
    assert_eq!(ev(KeyCode::PageDown, KeyModifiers::NONE), key("pagedown"));
}

#[test]
fn a_broken_user_file_warns_and_keeps_the_defaults() {
    let (k, w) = Keymap::with_overlay("user.yaml", "global: [not, a, map");
    assert_eq!(k, Keymap::default_map());
    assert!(w[0].starts_with("user.yaml: not a keymap"), "{w:?}");

    let yaml = "list:\n  down: [hyper-j]\n  teleport: [t]\n  up: [ctrl-k]\nwidgets:\n  x: [y]\n";
    let (k, w) = Keymap::with_overlay("user.yaml", yaml);
    assert_eq!(
        k.action(Context::List, key("j")),
        Some(Action::Down),
        "bad key: default stays"
    );
    assert_eq!(k.action(Context::List, key("ctrl-k")), Some(Action::Up));
    assert_eq!(k.action(Context::List, key("k")), None);
    let all = w.join("\n");
    assert!(all.contains("unknown key \"hyper-j\""), "{all}");
    assert!(all.contains("unknown action \"teleport\""), "{all}");
    assert!(all.contains("unknown context \"widgets\""), "{all}");

    let (_, w) = Keymap::with_overlay("user.yaml", "list:\n  yaml: [j]\n");
    assert!(
        w.iter().any(|w| w.contains("key j is bound to both down and yaml")),
        "{w:?}"
    );
}
