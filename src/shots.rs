//! `kdeck demo --screenshots DIR`: the main screens, drawn from the live
//! demo fleet at 160x48 and written as SVG images.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::CliError;
use crate::svg::to_svg;
use kdeck_fleet::live::{Fleet, Health, Standing};
use kdeck_model::{Cluster, SpaceRef};
use kdeck_tui::cockpit::{Cockpit, Effect, Scope};
use kdeck_tui::draw::{page_for, render};
use kdeck_tui::keymap::{Key, Keymap};
use kdeck_tui::theme::Theme;

const W: u16 = 160;
const H: u16 = 48;

fn press(c: &mut Cockpit, keys: &[&str]) -> Vec<Effect> {
    let mut out = Vec::new();
    for k in keys {
        if let Ok(key) = Key::parse(k) {
            out.extend(c.key(key));
            c.refresh();
        }
    }
    out
}

async fn until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while !f() {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// Writes the screenshots; returns the files written.
pub async fn write(clusters: &[Cluster], dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::failed(format!("{}: {e}", dir.display())))?;
    let (tx, _rx) = tokio::sync::mpsc::channel(1024);
    let fleet = Fleet::start(clusters, &[], tx);
    if !until(Duration::from_secs(30), || {
        fleet.snapshot().iter().all(|s| s.health == Health::Live)
    })
    .await
    {
        return Err(CliError::failed("the demo clusters did not all come live within 30 s"));
    }
    let theme = Theme::dark();
    let mut c = Cockpit::new(Keymap::default_map(), time::OffsetDateTime::now_utc(), 10_000);
    c.page = page_for(H);
    c.set_fleet(fleet.snapshot());
    c.refresh();
    let mut written = Vec::new();
    let mut shot = |name: &str, c: &Cockpit| -> Result<(), CliError> {
        let path = dir.join(format!("{name}.svg"));
        std::fs::write(&path, to_svg(&render(c, &theme, W, H)))
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
        written.push(path);
        Ok(())
    };
    shot("cockpit", &c)?;

    let space = SpaceRef::new("prod-eu1", "shop-prod");
    c.set_scope(Scope::Spaces(BTreeSet::from([space.clone()])));
    fleet.focus(&c.focus_spaces());
    let live = until(Duration::from_secs(20), || {
        fleet.cluster("prod-eu1").is_some_and(|s| {
            s.focus
                .get("shop-prod")
                .is_some_and(|w| w.pods == Standing::Live && w.builds == Standing::Live)
                && s.builds_in("shop-prod").iter().all(|b| b.state.finished())
        })
    })
    .await;
    if !live {
        return Err(CliError::failed(
            "the pods and builds of prod-eu1/shop-prod did not arrive within 20 s",
        ));
    }
    c.set_fleet(fleet.snapshot());
    c.refresh();
    c.apps.table.select_where(|r| r.app.name == "web");
    shot("apps", &c)?;

    press(&mut c, &["3"]);
    shot("builds", &c)?;

    press(&mut c, &["1"]);
    for e in press(&mut c, &["l"]) {
        if let Effect::OpenLogs { cluster, req } = e
            && let Some(mut logs) = fleet.logs(&cluster, req)
        {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
            while let Ok(Some(l)) = tokio::time::timeout_at(deadline, logs.next()).await {
                c.log_line(l);
            }
        }
    }
    press(&mut c, &["/"]);
    for ch in "error".chars() {
        press(&mut c, &[&ch.to_string()]);
    }
    press(&mut c, &["enter", "G"]);
    shot("logs", &c)?;

    press(&mut c, &["esc", ":"]);
    for ch in "shop".chars() {
        press(&mut c, &[&ch.to_string()]);
    }
    shot("palette", &c)?;
    Ok(written)
}
