//! Release forms of an app: its autoscaling (bounds and targets) and a
//! canary (a new image, by weight or by replicas).
use kdeck_model::{AppRef, Autoscale};

use super::{Field, Form, FormKind};

impl Form {
    /// Autoscaling of an app, starting from what it has (1 to 3 at 80 % CPU when none).
    pub fn autoscale(app: AppRef, now: Option<&Autoscale>) -> Form {
        let n = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        let (min, max, cpu, memory, after) = match now {
            Some(a) => (
                a.min.to_string(),
                a.max.to_string(),
                n(a.cpu),
                n(a.memory),
                n(a.scale_down_after),
            ),
            None => ("1".into(), "3".into(), "80".into(), String::new(), String::new()),
        };
        Form::make(
            format!("autoscale {app}"),
            FormKind::Autoscale(app, now.is_some()),
            vec![
                Field::new("min", "fewest replicas, at least 1", &min),
                Field::new("max", "most replicas; empty turns autoscaling off", &max),
                Field::new("cpu %", "target CPU use, percent of the request (empty: none)", &cpu),
                Field::new(
                    "memory %",
                    "target memory use, percent of the request (empty: none)",
                    &memory,
                ),
                Field::new("scale down after", "seconds of lower load first (empty: 300)", &after),
            ],
        )
    }

    /// A canary of an app: a new image beside it.
    pub fn canary(app: AppRef, image: &str) -> Form {
        Form::make(
            format!("canary of {app}"),
            FormKind::Canary(app),
            vec![
                Field::new("image", "the new version's image", image),
                Field::new(
                    "weight %",
                    "share of requests (ingress-nginx routes); empty: by replicas",
                    "",
                ),
                Field::new("canary replicas", "canary pods beside the app's (empty: 1)", ""),
            ],
        )
    }

    pub(super) fn autoscale_spec(&self, app: &AppRef, had: bool) -> Option<kdeck_command::apps::AutoscaleSpec> {
        let num = |l: &str| -> Option<Option<u32>> {
            let v = self.get(l);
            if v.is_empty() {
                Some(None)
            } else {
                v.parse().ok().map(Some)
            }
        };
        let max = num("max")?;
        if max.is_none() {
            // Empty max: off (only for an app that autoscales; the check says so otherwise).
            return had.then(|| kdeck_command::apps::AutoscaleSpec {
                app: app.to_string(),
                off: true,
                ..Default::default()
            });
        }
        Some(kdeck_command::apps::AutoscaleSpec {
            app: app.to_string(),
            min: num("min")?,
            max,
            cpu: num("cpu %")?,
            memory: num("memory %")?,
            scale_down_after: num("scale down after")?,
            off: false,
        })
    }

    /// What the autoscale and canary fields say is wrong with them.
    pub(super) fn release_check(&self, label: &str, val: &str) -> Option<String> {
        let number = |max: u32| match val.parse::<u32>() {
            _ if val.is_empty() => None,
            Ok(n) if n >= 1 && n <= max => None,
            Ok(n) => Some(format!("{n} is not between 1 and {max}")),
            Err(_) => Some(format!("{val:?} is not a whole number")),
        };
        match (&self.kind, label) {
            (FormKind::Autoscale(_, had), "max") if val.is_empty() => {
                (!had).then(|| "give the most replicas (empty turns an autoscaler off)".into())
            }
            (FormKind::Autoscale(..), "max") => number(1000).or_else(|| {
                let min = self.get("min").parse::<u32>().unwrap_or(1);
                (val.parse::<u32>().unwrap_or(0) < min).then(|| format!("below min {min}"))
            }),
            (FormKind::Autoscale(..), "min") if val.is_empty() => Some("a number is needed".into()),
            (FormKind::Autoscale(..), "min") => number(1000),
            (FormKind::Autoscale(..), "cpu %" | "memory %") => number(1000),
            (FormKind::Autoscale(..), "scale down after") => match val.parse::<u32>() {
                _ if val.is_empty() => None,
                Ok(n) if n <= 3600 => None,
                _ => Some("seconds, 0 to 3600".into()),
            },
            (FormKind::Canary(_), "weight %") => number(99).or_else(|| {
                (!val.is_empty() && !self.get("canary replicas").is_empty())
                    .then(|| "weight or replicas, not both".into())
            }),
            (FormKind::Canary(_), "canary replicas") => number(100),
            _ => None,
        }
    }
}
