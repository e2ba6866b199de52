use super::*;

fn line(n: usize) -> LogLine {
    LogLine {
        source: Arc::from("p"),
        time: None,
        text: n.to_string(),
        kind: LineKind::Out,
    }
}

#[test]
fn the_buffer_keeps_the_last_lines() {
    let mut b = LogBuffer::new(3);
    for i in 0..5 {
        b.push(line(i));
    }
    assert_eq!(
        b.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        vec!["2", "3", "4"]
    );
    assert_eq!((b.len(), b.dropped()), (3, 2));
    b.clear();
    assert!(b.is_empty());
    assert_eq!(b.dropped(), 5);
}

#[test]
fn stamps_are_split_off_lines() {
    let (s, t) = split_stamp("2026-11-22T05:00:00.5Z level=info msg=hi");
    assert_eq!(s.map(|(s, _)| s), Some("2026-11-22T05:00:00.5Z"));
    assert_eq!(t, "level=info msg=hi");
    let (s, t) = split_stamp("no stamp here");
    assert!(s.is_none());
    assert_eq!(t, "no stamp here");
}

#[test]
fn selectors_as_the_api_takes_them() {
    let s: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                             {"key": "canary", "operator": "DoesNotExist"}]
    }))
    .unwrap();
    assert_eq!(selector_string(&s), "app=web,tier in (a,b),!canary");
}
