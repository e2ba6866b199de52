//! The header in team mode: the hub followed, the team's settings view-only
//! for a user the hub's RBAC lets only view, and a hub that is down with
//! since when. Snapshotted at 80x24 and 160x48.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/screens.rs"]
mod screens;

use kdeck_team::HubState;
use kdeck_tui::draw::buffer_text;

use screens::*;

#[test]
fn the_header_says_the_team_and_a_hub_that_is_down() {
    let mut c = cockpit();
    c.team = Some(HubState::Live {
        hub: "prod-eu1".into(),
        view_only: false,
    });
    let bufs = snapshot("team-live", &c);
    assert!(
        buffer_text(&bufs[1])
            .lines()
            .next()
            .unwrap()
            .contains("│ team prod-eu1 │ 1 live")
    );
    c.team = Some(HubState::Live {
        hub: "prod-eu1".into(),
        view_only: true,
    });
    let bufs = snapshot("team-view-only", &c);
    assert!(
        buffer_text(&bufs[1])
            .lines()
            .next()
            .unwrap()
            .contains("team prod-eu1  TEAM VIEW-ONLY")
    );
    c.team = Some(HubState::Unreachable {
        hub: "prod-eu1".into(),
        since: "2026-11-22T09:58:12Z".into(),
        reason: "connection refused".into(),
    });
    let bufs = snapshot("team-hub-down", &c);
    let top = buffer_text(&bufs[0]).lines().next().unwrap().to_string();
    assert!(
        top.contains("HUB prod-eu1 DOWN SINCE 09:58:12 · TEAM READ-ONLY"),
        "{top}"
    );
}
