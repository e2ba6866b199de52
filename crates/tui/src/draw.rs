//! Drawing: a pure function of the cockpit state and the theme. It reads
//! rows already built, draws only the rows that fit, and never waits.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::keymap::{Action, Context};
use super::rows::{AppRow, BuildRow, PodRow, RouteRow, Row, Table, TreeRow};
use super::state::{Cockpit, Focus, InputKind, Overlay, Pane};
use super::theme::Theme;
use kdeck_command::apps::Sync;
use kdeck_fleet::live::Rollout;
use kdeck_fleet::live::{BuildState, Health};
use kdeck_fleet::logs::LineKind;
use kdeck_model::clock::age;

/// Draws the whole screen.
pub fn draw(f: &mut Frame, c: &Cockpit, t: &Theme) {
    let area = f.area();
    f.render_widget(Block::default().style(t.text), area);
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(area);
    draw_header(f, header, c, t);
    let tree_w = (area.width / 4).clamp(24, 36).min(area.width.saturating_sub(20));
    let [left, right] = Layout::horizontal([Constraint::Length(tree_w), Constraint::Min(10)]).areas(body);
    draw_tree(f, left, c, t);
    match c.pane {
        Pane::Apps if c.pods_of.is_some() => draw_pods(f, right, c, t),
        Pane::Apps => draw_apps(f, right, c, t),
        Pane::Routes => draw_routes(f, right, c, t),
        Pane::Builds => draw_builds(f, right, c, t),
        Pane::Logs => draw_logs(f, right, c, t),
    }
    draw_footer(f, footer, c, t);
    if let Some(o) = &c.overlay {
        draw_overlay(f, area, o, c, t);
    }
    if let Some(form) = &c.form {
        draw_form(f, area, form, t);
    }
}

/// A form: each field as `label  [text]` with its error (or help) below;
/// a multi-line field gets three lines of text.
fn draw_form(f: &mut Frame, area: Rect, form: &super::state::Form, t: &Theme) {
    let rows: u16 = form
        .fields
        .iter()
        .map(|x| if x.multiline { x.rows + 2 } else { 2 })
        .sum();
    let h = (rows + 2 + u16::from(form.failure.is_some()) * 2).min(area.height);
    let w = 72.min(area.width);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + area.height.saturating_sub(h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let b = block(
        title_line(
            &form.title,
            if form.fields.iter().any(|f| f.multiline) {
                "ctrl-s apply · tab next · esc cancel".into()
            } else {
                "enter apply · tab next · esc cancel".into()
            },
            "",
            t,
        ),
        true,
        t,
    );
    let inner = b.inner(r);
    f.render_widget(b, r);
    let bottom = inner.y + inner.height;
    let mut y = inner.y;
    let line = |f: &mut Frame, y: u16, text: String, style: Style| {
        if y < bottom {
            f.render_widget(
                Paragraph::new(Line::styled(text, style)),
                Rect { y, height: 1, ..inner },
            );
        }
    };
    if let Some(why) = &form.failure {
        line(f, y, cut(why, usize::from(inner.width)), t.error);
        y += 2;
    }
    let label_w = 11u16;
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focused;
        let label_style = if focused { t.title } else { t.text };
        line(f, y, field.label.to_string(), label_style);
        let (tx, ty, th) = if field.multiline {
            (inner.x + 2, y + 1, field.rows)
        } else {
            (inner.x + label_w, y, 1)
        };
        let tw = inner.width.saturating_sub(tx - inner.x);
        if ty + th <= bottom {
            let mut ta = field.input.clone();
            let style = if field.error.is_some() {
                t.error
            } else if focused {
                t.selected_unfocused
            } else {
                t.dim
            };
            ta.set_style(style.add_modifier(Modifier::UNDERLINED));
            ta.set_cursor_line_style(Style::default());
            if !focused {
                ta.set_cursor_style(style);
            }
            f.render_widget(
                &ta,
                Rect {
                    x: tx,
                    y: ty,
                    width: tw,
                    height: th,
                },
            );
        }
        let below = ty + th;
        let (msg, style) = match &field.error {
            Some(e) => (format!("  {e}"), t.error),
            None => (format!("  {}", field.help), t.dim),
        };
        line(f, below, cut(&msg, usize::from(inner.width)), style);
        y = below + 1;
    }
}

/// How many rows a list gets in a body of `height` rows: borders and header.
pub fn page_for(height: u16) -> usize {
    usize::from(height.saturating_sub(2 + 2 + 1))
}

fn health_mark(h: &Health, t: &Theme) -> Span<'static> {
    match h {
        Health::Live => Span::styled("●", t.ok),
        Health::Connecting => Span::styled("◌", t.dim),
        Health::Stale { .. } => Span::styled("◐", t.warn),
        Health::Unreachable { .. } => Span::styled("✖", t.error),
        Health::Forbidden { .. } => Span::styled("⊘", t.warn),
    }
}

fn draw_header(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    let mut spans = vec![
        Span::styled(" kdeck ", t.header.add_modifier(Modifier::BOLD)),
        Span::styled("│ ", t.header),
        Span::styled(c.scope.describe(), t.header.add_modifier(Modifier::BOLD)),
        Span::styled(" ", t.header),
    ];
    if c.prod_in_view() {
        spans.push(Span::styled(" PROD ", t.prod.add_modifier(Modifier::REVERSED)));
        spans.push(Span::styled(" ", t.header));
    }
    spans.push(Span::styled("│ ", t.header));
    let summary = c.health_summary();
    if summary.is_empty() {
        spans.push(Span::styled("no clusters ", t.header));
    }
    for (i, (word, n)) in summary.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.header));
        }
        spans.push(Span::styled(format!("{n} {word}"), t.header));
    }
    spans.push(Span::styled(" ", t.header));
    if !c.marks.is_empty() {
        spans.push(Span::styled(format!("│ {} marked ", c.marks.len()), t.header));
    }
    if c.running > 0 {
        spans.push(Span::styled(format!("│ {} running ", c.running), t.header));
    }
    if c.read_only {
        spans.push(Span::styled(" READ-ONLY ", t.warn.add_modifier(Modifier::REVERSED)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.header), area);
}

fn block<'a>(title: Line<'a>, focused: bool, t: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(if focused { t.border_focus } else { t.border })
        .title(title)
}

fn title_line<'a>(name: &str, detail: String, filter: &str, t: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(format!(" {name} "), t.title)];
    if !detail.is_empty() {
        spans.push(Span::styled(format!("{detail} "), t.text));
    }
    if !filter.is_empty() {
        spans.push(Span::styled(format!("/{filter} "), t.key));
    }
    Line::from(spans)
}

fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn pad(s: &str, w: usize) -> String {
    let s = cut(s, w);
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

fn draw_tree(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    let focused = c.focus == Focus::Tree;
    let filter = c.tree_filter();
    let b = block(
        title_line(
            "spaces",
            format!("{}", c.tree.len().saturating_sub(1 + c.clusters.len())),
            filter,
            t,
        ),
        focused,
        t,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let w = usize::from(inner.width);
    let (_, rows) = c.tree.window(usize::from(inner.height));
    let mut lines = Vec::new();
    for (pos, r) in rows {
        let selected = pos == c.tree.cursor;
        let mut spans: Vec<Span> = Vec::new();
        let mut used = 0usize;
        match r {
            TreeRow::All { spaces, clusters } => {
                let s = format!("◆ all spaces ({spaces} on {clusters})");
                used += s.chars().count();
                spans.push(Span::styled(s, t.title));
            }
            TreeRow::Cluster {
                name,
                health,
                spaces,
                collapsed,
                restricted,
            } => {
                spans.push(Span::raw(if *collapsed { "▸ " } else { "▾ " }));
                spans.push(health_mark(health, t));
                spans.push(Span::raw(" "));
                let label = cut(name, w.saturating_sub(8));
                used += 4 + label.chars().count();
                spans.push(Span::styled(label, t.cluster(name).add_modifier(Modifier::BOLD)));
                let tail = format!(" {spaces}{}", if *restricted { " ⚿" } else { "" });
                used += tail.chars().count();
                spans.push(Span::styled(tail, t.dim));
            }
            TreeRow::Space {
                space,
                terminating,
                attached,
            } => {
                let marked = c.marked_spaces.contains(space);
                let mark = if marked { "✓ " } else { "  " };
                spans.push(Span::styled(format!("  {mark}"), t.marked));
                let mut style = if marked { t.marked } else { t.text };
                if *terminating {
                    style = t.dim;
                }
                let in_scope =
                    c.scope.contains(&space.cluster, &space.namespace) && c.scope != super::state::Scope::All;
                if in_scope {
                    style = style.add_modifier(Modifier::BOLD);
                }
                let suffix = match (terminating, attached) {
                    (true, _) => " (terminating)",
                    (false, true) => " @",
                    _ => "",
                };
                let label = cut(&space.namespace, w.saturating_sub(4 + suffix.chars().count()));
                used += 4 + label.chars().count() + suffix.chars().count();
                spans.push(Span::styled(label, style));
                spans.push(Span::styled(suffix, t.dim));
            }
        }
        if selected {
            let sel = if focused { t.selected } else { t.selected_unfocused };
            spans = spans.into_iter().map(|s| s.patch_style(sel)).collect();
            spans.push(Span::styled(" ".repeat(w.saturating_sub(used)), sel));
        }
        lines.push(Line::from(spans));
    }
    if c.tree.total() <= 1 {
        lines.push(Line::styled("no clusters yet", t.dim));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// A column: header, width, whether it grows into spare room, and whether
/// it stays when the pane is narrow (the others go, rightmost first).
struct Col {
    head: &'static str,
    width: usize,
    flex: bool,
    essential: bool,
}

const fn col(head: &'static str, width: usize, flex: bool, essential: bool) -> Col {
    Col {
        head,
        width,
        flex,
        essential,
    }
}

fn fit(cols: &[Col], total: usize) -> Vec<(usize, usize)> {
    let mut keep: Vec<usize> = (0..cols.len()).collect();
    let need = |keep: &[usize]| keep.iter().map(|i| cols[*i].width + 1).sum::<usize>();
    while need(&keep) > total {
        match keep.iter().rposition(|i| !cols[*i].essential) {
            Some(p) => {
                keep.remove(p);
            }
            None => break,
        }
    }
    // Spare room goes to the growing columns, in proportion to their width.
    let spare = total.saturating_sub(need(&keep));
    let flex_total: usize = keep
        .iter()
        .filter(|i| cols[**i].flex)
        .map(|i| cols[*i].width)
        .sum::<usize>()
        .max(1);
    keep.into_iter()
        .map(|i| {
            let c = &cols[i];
            let w = if c.flex {
                c.width + spare * c.width / flex_total
            } else {
                c.width
            };
            (i, w)
        })
        .collect()
}

/// Draws a table's window: header, rows with selection and marks.
#[allow(clippy::too_many_arguments)]
fn draw_table<R: Row>(
    f: &mut Frame,
    area: Rect,
    table: &Table<R>,
    cols: &[Col],
    focused: bool,
    t: &Theme,
    title: Line,
    empty: &str,
    cells: impl Fn(&R) -> (Vec<(String, Style)>, bool),
) {
    let b = block(title, focused, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let w = usize::from(inner.width);
    let layout = fit(cols, w.saturating_sub(2));
    let mut lines = Vec::new();
    let mut head = vec![Span::raw("  ")];
    for (i, cw) in &layout {
        let mut h = cols[*i].head.to_string();
        if let Some((sc, rev)) = table.sort
            && sc == *i
        {
            h.push(if rev { '▼' } else { '▲' });
        }
        head.push(Span::styled(pad(&h, *cw), t.column));
        head.push(Span::raw(" "));
    }
    lines.push(Line::from(head));
    let (_, rows) = table.window(usize::from(inner.height.saturating_sub(1)));
    for (pos, r) in rows {
        let (cells, marked) = cells(r);
        let selected = pos == table.cursor;
        let mut spans = vec![Span::styled(if marked { "✓ " } else { "  " }, t.marked)];
        for (i, cw) in &layout {
            let (text, style) = cells.get(*i).cloned().unwrap_or_default();
            let style = if marked && *i == 0 { t.marked } else { style };
            spans.push(Span::styled(pad(&text, *cw), style));
            spans.push(Span::raw(" "));
        }
        let used: usize = 2 + layout.iter().map(|(_, cw)| cw + 1).sum::<usize>();
        if selected {
            let sel = if focused { t.selected } else { t.selected_unfocused };
            spans = spans.into_iter().map(|s| s.patch_style(sel)).collect();
            spans.push(Span::styled(" ".repeat(w.saturating_sub(used)), sel));
        }
        lines.push(Line::from(spans));
    }
    if table.is_empty() {
        lines.push(Line::styled(format!("  {empty}"), t.dim));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn count(table_len: usize, total: usize) -> String {
    if table_len == total {
        format!("{total}")
    } else {
        format!("{table_len} of {total}")
    }
}

fn ready_style(ready: i32, desired: i32, t: &Theme) -> Style {
    if ready >= desired {
        t.ok
    } else if ready == 0 && desired > 0 {
        t.error
    } else {
        t.warn
    }
}

fn draw_apps(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    let cols = [
        col("NAME", 12, true, true),
        col("SPACE", 18, true, true),
        col("READY", 5, false, true),
        col("STATUS", 11, false, true),
        col("SYNC", 7, false, false),
        col("AGE", 4, false, true),
        col("KIND", 4, false, false),
        col("IMAGE", 16, true, false),
        col("ROUTES", 20, true, false),
    ];
    let title = title_line(
        "apps",
        format!("{} · {}", c.scope.describe(), count(c.apps.len(), c.apps.total())),
        super::rows::Nav::filter(&c.apps),
        t,
    );
    let loading =
        c.clusters.iter().all(|s| s.apps.is_empty()) && c.clusters.iter().any(|s| s.health == Health::Connecting);
    let empty = if c.clusters.is_empty() {
        "no clusters: import them with `kdeck clusters import`, or try `kdeck demo`"
    } else if loading {
        "loading…"
    } else {
        "no apps here"
    };
    draw_table(
        f,
        area,
        &c.apps,
        &cols,
        c.focus == Focus::Pane,
        t,
        title,
        empty,
        |r: &AppRow| {
            let a = &r.app;
            let routes = c
                .cluster(&r.cluster)
                .map(|s| {
                    s.routes_in(&a.namespace)
                        .flat_map(|rv| rv.rules.iter())
                        .filter(|(_, svc)| *svc == a.name)
                        .map(|(h, _)| h.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let marked = c.marks.contains(&r.app_ref());
            (
                vec![
                    (a.name.clone(), t.text),
                    (format!("{}/{}", r.cluster, a.namespace), t.cluster(&r.cluster)),
                    if r.sync == Some(Sync::Draft) {
                        ("-".to_string(), t.dim)
                    } else {
                        (format!("{}/{}", a.ready, a.desired), ready_style(a.ready, a.desired, t))
                    },
                    if r.sync == Some(Sync::Draft) {
                        ("draft".to_string(), t.dim.add_modifier(Modifier::ITALIC))
                    } else {
                        let style = match a.rollout() {
                            Rollout::Ready => t.ok,
                            Rollout::Rolling { .. } => t.info,
                            Rollout::Unready { .. } => t.warn,
                            Rollout::Stopped => t.dim,
                        };
                        (super::rows::rollout_word(a), style)
                    },
                    match r.sync {
                        None => ("-".to_string(), t.dim),
                        Some(s) => (
                            s.word().to_string(),
                            match s {
                                Sync::Synced => t.ok,
                                Sync::Drift => t.error,
                                Sync::Pending | Sync::NeedsRestart => t.warn,
                                Sync::Draft => t.dim.add_modifier(Modifier::ITALIC),
                            },
                        ),
                    },
                    (age(&a.created, c.now), t.dim),
                    ((if a.kind == "StatefulSet" { "sts" } else { "dep" }).to_string(), t.dim),
                    (a.image.clone(), t.dim),
                    (if routes.is_empty() { "-".into() } else { routes }, t.info),
                ],
                marked,
            )
        },
    );
}

fn draw_pods(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    let Some((app, kind)) = &c.pods_of else {
        return;
    };
    let cols = [
        col("NAME", 20, true, true),
        col("READY", 5, false, true),
        col("STATUS", 16, false, true),
        col("RESTARTS", 8, false, false),
        col("AGE", 4, false, true),
        col("NODE", 12, true, false),
    ];
    let standing = c
        .cluster(&app.space.cluster)
        .and_then(|s| s.focus.get(&app.space.namespace).map(|w| w.pods.clone()));
    let empty = match standing {
        Some(kdeck_fleet::live::Standing::Failed { why }) => why,
        Some(kdeck_fleet::live::Standing::Live) => "no pods".to_string(),
        _ => "loading…".to_string(),
    };
    let title = title_line(
        "pods",
        format!(
            "of {} {app} · {} · esc back",
            if *kind == "StatefulSet" { "sts" } else { "deploy" },
            c.pods.len()
        ),
        super::rows::Nav::filter(&c.pods),
        t,
    );
    draw_table(
        f,
        area,
        &c.pods,
        &cols,
        c.focus == Focus::Pane,
        t,
        title,
        &empty,
        |r: &PodRow| {
            let p = &r.pod;
            let status_style = match p.status.as_str() {
                "Running" | "Completed" | "Succeeded" => t.ok,
                "Pending" | "ContainerCreating" | "Terminating" => t.warn,
                _ if p.status.starts_with("Init:") => t.warn,
                _ => t.error,
            };
            (
                vec![
                    (p.name.clone(), t.text),
                    (
                        format!("{}/{}", p.ready, p.total),
                        if p.ready == p.total { t.ok } else { t.warn },
                    ),
                    (p.status.clone(), status_style),
                    (p.restarts.to_string(), if p.restarts > 0 { t.warn } else { t.dim }),
                    (age(&p.created, c.now), t.dim),
                    (p.node.clone(), t.dim),
                ],
                false,
            )
        },
    );
}

fn draw_routes(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    let cols = [
        col("HOST", 24, true, true),
        col("SPACE", 18, true, true),
        col("INGRESS", 12, true, false),
        col("SERVICE", 12, true, false),
    ];
    let title = title_line(
        "routes",
        format!("{} · {}", c.scope.describe(), count(c.routes.len(), c.routes.total())),
        super::rows::Nav::filter(&c.routes),
        t,
    );
    draw_table(
        f,
        area,
        &c.routes,
        &cols,
        c.focus == Focus::Pane,
        t,
        title,
        "no routes here",
        |r: &RouteRow| {
            (
                vec![
                    (r.host.clone(), t.info),
                    (format!("{}/{}", r.cluster, r.namespace), t.cluster(&r.cluster)),
                    (r.ingress.clone(), t.text),
                    (r.service.clone(), t.dim),
                ],
                false,
            )
        },
    );
}

fn duration(started: &str, finished: &str, now: time::OffsetDateTime) -> String {
    use time::format_description::well_known::Rfc3339;
    let Ok(s) = time::OffsetDateTime::parse(started, &Rfc3339) else {
        return "-".into();
    };
    let end = time::OffsetDateTime::parse(finished, &Rfc3339).unwrap_or(now);
    let secs = (end - s).whole_seconds().max(0);
    if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

fn draw_builds(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    let cols = [
        col("NAME", 12, true, true),
        col("STATE", 9, false, true),
        col("DURATION", 8, false, true),
        col("FAILED STEP", 14, true, true),
        col("AGE", 4, false, true),
        col("SPACE", 18, true, false),
        col("APP", 10, true, false),
    ];
    let title = title_line(
        "builds",
        format!("{} · {}", c.scope.describe(), count(c.builds.len(), c.builds.total())),
        super::rows::Nav::filter(&c.builds),
        t,
    );
    let empty = match c.focus_too_wide() {
        Some(n) => {
            format!("{n} spaces in view: pick spaces in the tree (enter, or space to mark several) to see their builds")
        }
        None => {
            let failed: Vec<String> = c
                .clusters
                .iter()
                .flat_map(|s| s.focus.values())
                .filter_map(|w| match &w.builds {
                    kdeck_fleet::live::Standing::Failed { why } => Some(why.clone()),
                    _ => None,
                })
                .collect();
            failed.first().cloned().unwrap_or_else(|| "no builds here".to_string())
        }
    };
    draw_table(
        f,
        area,
        &c.builds,
        &cols,
        c.focus == Focus::Pane,
        t,
        title,
        &empty,
        |r: &BuildRow| {
            let b = &r.build;
            let style = match b.state {
                BuildState::Succeeded => t.ok,
                BuildState::Failed => t.error,
                BuildState::Cancelled => t.dim,
                BuildState::Running | BuildState::Pending => t.warn,
            };
            (
                vec![
                    (b.name.clone(), t.text),
                    (b.state.word().to_string(), style),
                    (duration(&b.started, &b.finished, c.now), t.dim),
                    (r.failing.clone().unwrap_or_default(), t.error),
                    (age(&b.created, c.now), t.dim),
                    (format!("{}/{}", r.cluster, b.namespace), t.cluster(&r.cluster)),
                    (b.app.clone().unwrap_or_else(|| "-".into()), t.text),
                ],
                false,
            )
        },
    );
}

/// Splits `s` at every match of `needle`, for highlighting.
fn highlight<'a>(s: &'a str, needle: &str, base: Style, hit: Style) -> Vec<Span<'a>> {
    if needle.is_empty() {
        return vec![Span::styled(s, base)];
    }
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(needle) {
        if i > 0 {
            out.push(Span::styled(&rest[..i], base));
        }
        out.push(Span::styled(&rest[i..i + needle.len()], hit));
        rest = &rest[i + needle.len()..];
    }
    if !rest.is_empty() {
        out.push(Span::styled(rest, base));
    }
    out
}

fn wrap_chars(s: &str, w: usize) -> Vec<String> {
    if w == 0 {
        return vec![String::new()];
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(w).map(|c| c.iter().collect()).collect()
}

fn draw_logs(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    let l = &c.logs;
    let mut detail = String::new();
    if l.open {
        detail.push_str(&l.title);
        detail.push_str(if l.follow { " · following" } else { " · paused" });
        detail.push_str(&format!(" · {} lines", l.buffer.len()));
        if l.buffer.dropped() > 0 {
            detail.push_str(&format!(" ({} dropped)", l.buffer.dropped()));
        }
        if let Some(cn) = &l.container {
            detail.push_str(&format!(" · container {cn}"));
        }
        if l.wrap {
            detail.push_str(" · wrap");
        }
    }
    let b = block(title_line("logs", detail, "", t), c.focus == Focus::Pane, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let h = usize::from(inner.height);
    let w = usize::from(inner.width);
    if !l.open {
        let hint = format!(
            "no logs open: select an app (or a pod, or a build) and press {}",
            c.keymap.hint(Context::List, Action::Logs)
        );
        f.render_widget(Paragraph::new(Line::styled(hint, t.dim)), inner);
        return;
    }
    let several = l
        .buffer
        .iter()
        .take(200)
        .any(|x| x.kind == LineKind::Out && !x.source.is_empty())
        && {
            let mut it = l.buffer.iter().filter(|x| x.kind == LineKind::Out).map(|x| &x.source);
            let first = it.next();
            it.any(|s| Some(s) != first)
        };
    // The lines that end at `scroll` from the bottom, wrapped if asked; a
    // scroll past the oldest pageful shows that pageful, never a part-empty pane.
    let total = l.visible().count();
    let scroll = if l.wrap {
        l.scroll
    } else {
        l.scroll.min(total.saturating_sub(h))
    };
    let mut rows: Vec<Line> = Vec::new();
    for line in l.visible().rev().skip(scroll) {
        if rows.len() >= h {
            break;
        }
        let base = match line.kind {
            LineKind::Out => t.text,
            LineKind::Notice => t.info,
            LineKind::Error => t.error,
        };
        let mut prefix = String::new();
        if l.timestamps
            && let Some(ts) = &line.time
        {
            prefix.push_str(ts);
            prefix.push(' ');
        }
        if (several || line.kind != LineKind::Out) && !line.source.is_empty() {
            prefix.push('[');
            prefix.push_str(&line.source);
            prefix.push_str("] ");
        }
        let text = if line.kind == LineKind::Out {
            line.text.clone()
        } else {
            format!("— {}", line.text)
        };
        let pieces = if l.wrap {
            wrap_chars(&format!("{prefix}{text}"), w)
        } else {
            vec![format!("{prefix}{text}")]
        };
        for (k, piece) in pieces.into_iter().enumerate().rev() {
            if rows.len() >= h {
                break;
            }
            let shown = if l.wrap { piece } else { cut(&piece, w) };
            // The prefix in a quieter style; matches of the search highlighted.
            let pre_len = if k == 0 {
                prefix.chars().count().min(shown.chars().count())
            } else {
                0
            };
            let split = shown.char_indices().nth(pre_len).map_or(shown.len(), |(i, _)| i);
            let (p, body) = shown.split_at(split);
            let mut spans = vec![Span::styled(p.to_string(), t.dim)];
            spans.extend(
                highlight(body, &l.search, base, t.match_)
                    .into_iter()
                    .map(|s| Span::styled(s.content.into_owned(), s.style)),
            );
            rows.push(Line::from(spans));
        }
    }
    rows.reverse();
    f.render_widget(Paragraph::new(rows), inner);
}

fn draw_footer(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    if let Some(input) = &c.input {
        let (label, text) = match input.kind {
            InputKind::Filter => ("/", input.text.as_str()),
            InputKind::Palette => (":", input.text.as_str()),
            InputKind::LogSearch => ("search: ", input.text.as_str()),
        };
        let line = Line::from(vec![
            Span::styled(label.to_string(), t.key),
            Span::styled(text.to_string(), t.text),
            Span::styled("█", t.key),
            Span::styled("   enter keep · esc clear", t.dim),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    // On a cluster that is not live, the footer says why, in words.
    if c.focus == Focus::Tree
        && let Some(TreeRow::Cluster { name, health, .. }) = c.tree.current()
    {
        let said = match health {
            Health::Stale { since, why } => Some((format!("stale since {since}: {why}"), t.warn)),
            Health::Unreachable { since, why } => Some((format!("unreachable since {since}: {why}"), t.error)),
            Health::Forbidden { verb, why } => Some((format!("forbidden to {verb}: {why}"), t.warn)),
            Health::Connecting | Health::Live => None,
        };
        if let Some((text, style)) = said {
            let line = Line::from(vec![
                health_mark(health, t),
                Span::styled(format!(" {name} {text}"), style),
            ]);
            f.render_widget(Paragraph::new(line), area);
            return;
        }
    }
    if let Some(toast) = c.toasts.last() {
        let style = if toast.error { t.toast_error } else { t.toast };
        f.render_widget(Paragraph::new(Line::styled(format!(" {} ", toast.text), style)), area);
        return;
    }
    let ctx = c.context();
    let actions: &[(Action, &str)] = match ctx {
        Context::Tree => &[
            (Action::Enter, "view"),
            (Action::Mark, "mark"),
            (Action::Filter, "filter"),
            (Action::NextPane, "panes"),
            (Action::Palette, "palette"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Context::Logs => &[
            (Action::Follow, "follow"),
            (Action::Wrap, "wrap"),
            (Action::Timestamps, "time"),
            (Action::Search, "search"),
            (Action::Container, "container"),
            (Action::Back, "back"),
            (Action::Help, "help"),
        ],
        _ => &[
            (Action::Enter, "open"),
            (Action::Logs, "logs"),
            (Action::Yaml, "yaml"),
            (Action::Describe, "describe"),
            (Action::Mark, "mark"),
            (Action::Filter, "filter"),
            (Action::SortNext, "sort"),
            (Action::Back, "back"),
            (Action::Help, "help"),
        ],
    };
    // Help first: on a narrow terminal the line is cut from the right.
    let mut spans = Vec::new();
    for (a, label) in std::iter::once(&(Action::Help, "help")).chain(actions.iter().filter(|(a, _)| *a != Action::Help))
    {
        let k = c.keymap.hint(ctx, *a);
        if k.is_empty() {
            continue;
        }
        spans.push(Span::styled(format!(" {k}"), t.key));
        spans.push(Span::styled(format!(" {label} "), t.footer));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn popup(area: Rect, w_pct: u16, h_pct: u16) -> Rect {
    let w = (area.width * w_pct / 100).max(40).min(area.width);
    let h = (area.height * h_pct / 100).max(8).min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The help text: every binding of the keymap in use, by context.
pub fn help_lines(c: &Cockpit) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for w in &c.warnings {
        out.push(("warning".to_string(), w.clone()));
    }
    for ctx in Context::ALL {
        let mut first = true;
        for (cx, a, keys) in c.keymap.entries() {
            if cx != ctx {
                continue;
            }
            if first {
                out.push((format!("[{}]", ctx.name()), String::new()));
                first = false;
            }
            let ks = keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
            out.push((ks, format!("{} — {}", a.name(), a.help())));
        }
    }
    out
}

fn draw_overlay(f: &mut Frame, area: Rect, o: &Overlay, c: &Cockpit, t: &Theme) {
    match o {
        Overlay::Help { scroll } => {
            let r = popup(area, 80, 85);
            f.render_widget(Clear, r);
            let b = block(
                title_line("help", "keys of the keymap in use · esc closes".into(), "", t),
                true,
                t,
            );
            let inner = b.inner(r);
            f.render_widget(b, r);
            let lines: Vec<Line> = help_lines(c)
                .into_iter()
                .skip(*scroll)
                .take(usize::from(inner.height))
                .map(|(k, h)| {
                    if k == "warning" {
                        Line::from(vec![Span::styled("warning ", t.warn), Span::styled(h, t.text)])
                    } else if h.is_empty() {
                        Line::styled(k, t.title)
                    } else {
                        Line::from(vec![Span::styled(pad(&k, 18), t.key), Span::styled(h, t.text)])
                    }
                })
                .collect();
            f.render_widget(Paragraph::new(lines), inner);
        }
        Overlay::Text {
            title,
            lines,
            scroll,
            loading,
        } => {
            let r = popup(area, 90, 90);
            f.render_widget(Clear, r);
            let detail = if *loading {
                "loading…".to_string()
            } else {
                format!("{} lines · esc closes", lines.len())
            };
            let b = block(title_line(title, detail, "", t), true, t);
            let inner = b.inner(r);
            f.render_widget(b, r);
            let h = usize::from(inner.height);
            let start = (*scroll).min(lines.len().saturating_sub(h));
            let shown: Vec<Line> = lines
                .iter()
                .skip(start)
                .take(h)
                .map(|l| {
                    let style = if l.ends_with(':') && !l.starts_with(' ') {
                        t.title
                    } else {
                        t.text
                    };
                    Line::styled(l.clone(), style)
                })
                .collect();
            f.render_widget(Paragraph::new(shown), inner);
        }
        Overlay::Palette {
            items, shown, selected, ..
        } => {
            let r = popup(area, 70, 60);
            let r = Rect {
                y: area.y + 2.min(area.height),
                ..r
            };
            f.render_widget(Clear, r);
            let typed = c.input.as_ref().map(|i| i.text.as_str()).unwrap_or("");
            let b = block(title_line("palette", format!(": {typed}█"), "", t), true, t);
            let inner = b.inner(r);
            f.render_widget(b, r);
            let w = usize::from(inner.width);
            let lines: Vec<Line> = shown
                .iter()
                .take(usize::from(inner.height))
                .enumerate()
                .filter_map(|(n, i)| items.get(*i).map(|it| (n, it)))
                .map(|(n, it)| {
                    let label = it.label();
                    let help = it.help();
                    let text = format!("{} {}", pad(&label, w.saturating_sub(2) * 3 / 5), cut(&help, w * 2 / 5));
                    let style = if n == *selected { t.selected } else { t.text };
                    Line::styled(pad(&text, w), style)
                })
                .collect();
            let lines = if lines.is_empty() {
                vec![Line::styled("nothing matches", t.dim)]
            } else {
                lines
            };
            f.render_widget(Paragraph::new(lines), inner);
        }
        Overlay::Confirm { question, .. } => {
            let r = popup(area, 50, 20);
            f.render_widget(Clear, r);
            let b = block(title_line("confirm", String::new(), "", t), true, t);
            let inner = b.inner(r);
            f.render_widget(b, r);
            let text = vec![Line::styled(question.clone(), t.warn), Line::styled("y / n", t.text)];
            f.render_widget(Paragraph::new(text), inner);
        }
        Overlay::Copy(flow) => {
            let r = popup(area, 85, 75);
            f.render_widget(Clear, r);
            let (title, lines) = flow.view();
            let b = block(title_line(&title, String::new(), "", t), true, t);
            let inner = b.inner(r);
            f.render_widget(b, r);
            let w = usize::from(inner.width);
            let shown: Vec<Line> = lines
                .into_iter()
                .take(usize::from(inner.height))
                .enumerate()
                .map(|(n, (l, selected))| {
                    let style = if selected {
                        t.selected
                    } else if n == 0 {
                        t.title
                    } else if l.starts_with('✖') || l.starts_with("fail") {
                        t.error
                    } else if l.starts_with("skip") || l.starts_with("    ") {
                        t.warn
                    } else {
                        t.text
                    };
                    Line::styled(pad(&cut(&l, w), w), style)
                })
                .collect();
            f.render_widget(Paragraph::new(shown), inner);
        }
        Overlay::ConfirmQuit => {
            let r = popup(area, 50, 20);
            f.render_widget(Clear, r);
            let b = block(title_line("quit?", String::new(), "", t), true, t);
            let inner = b.inner(r);
            f.render_widget(b, r);
            let text = vec![
                Line::styled(format!("{} command(s) still running.", c.running), t.warn),
                Line::styled("Quit anyway? y / n", t.text),
            ];
            f.render_widget(Paragraph::new(text), inner);
        }
    }
}

/// Draws the cockpit into an off-screen buffer of `width` × `height`, as the
/// terminal would show it (snapshot tests, screenshots, benchmarks).
pub fn render(c: &Cockpit, t: &Theme, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let backend = ratatui::backend::TestBackend::new(width, height);
    match ratatui::Terminal::new(backend) {
        Ok(mut term) => {
            let _ = term.draw(|f| draw(f, c, t));
            term.backend().buffer().clone()
        }
        Err(_) => ratatui::buffer::Buffer::empty(Rect::new(0, 0, width, height)),
    }
}

/// The characters of a buffer, one line per row, trailing blanks cut.
pub fn buffer_text(b: &ratatui::buffer::Buffer) -> String {
    let area = b.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(b[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
