//! CronJobs: a Job for each time the schedule (standard five-field cron,
//! in UTC) comes round, with the concurrency policy and history limits.

use super::*;
use crate::ptr::At;

/// The times a cron field allows, or why it does not parse.
fn field(spec: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<bool>, String> {
    let mut allowed = vec![false; hi as usize + 1];
    let value = |t: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(t)) {
            return Ok(lo + i as u32);
        }
        t.parse::<u32>().map_err(|_| format!("failed to parse int from {t}"))
    };
    for part in spec.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>().map_err(|_| format!("failed to parse int from {s}"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err(format!("step of range should be a positive number: {part}"));
        }
        let (a, b) = match range {
            "*" | "?" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let v = value(r)?;
                    (v, if part.contains('/') { hi } else { v })
                }
            },
        };
        if a < lo || b > hi || a > b {
            return Err(format!("end of range ({b}) above maximum ({hi}): {part}"));
        }
        let mut x = a;
        while x <= b {
            allowed[x as usize] = true;
            x += step;
        }
    }
    Ok(allowed)
}

/// A parsed schedule.
#[derive(Debug)]
pub(crate) struct Schedule {
    minute: Vec<bool>,
    hour: Vec<bool>,
    dom: Vec<bool>,
    month: Vec<bool>,
    dow: Vec<bool>,
    dom_any: bool,
    dow_any: bool,
}

impl Schedule {
    pub(crate) fn parse(spec: &str) -> Result<Schedule, String> {
        let spec = match spec.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s => s,
        };
        let f: Vec<&str> = spec.split_whitespace().collect();
        if f.len() != 5 {
            return Err(format!("expected exactly 5 fields, found {}: {spec}", f.len()));
        }
        const MONTHS: &[&str] = &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let mut dow = field(f[4], 0, 7, DAYS)?;
        if dow[7] {
            dow[0] = true;
        }
        Ok(Schedule {
            minute: field(f[0], 0, 59, &[])?,
            hour: field(f[1], 0, 23, &[])?,
            dom: field(f[2], 1, 31, &[])?,
            month: field(f[3], 1, 12, MONTHS)?,
            dow,
            dom_any: f[2] == "*" || f[2] == "?",
            dow_any: f[4] == "*" || f[4] == "?",
        })
    }

    fn matches(&self, t: time::OffsetDateTime) -> bool {
        let day = match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (false, true) => self.dom[t.day() as usize],
            (true, false) => self.dow[t.weekday().number_days_from_sunday() as usize],
            (false, false) => self.dom[t.day() as usize] || self.dow[t.weekday().number_days_from_sunday() as usize],
        };
        self.minute[t.minute() as usize]
            && self.hour[t.hour() as usize]
            && self.month[u8::from(t.month()) as usize]
            && day
    }

    /// The latest time in `(after, until]` the schedule takes, to the minute.
    pub(crate) fn last_between(&self, after: i64, until: i64) -> Option<i64> {
        let mut m = until - until.rem_euclid(60);
        // A year of minutes at most: a schedule that never comes round ends the search.
        let floor = after.max(until - 366 * 24 * 3600);
        while m > floor {
            if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(m)
                && self.matches(t)
            {
                return Some(m);
            }
            m -= 60;
        }
        None
    }
}

/// A Job deleted with its pods, as the controller deletes the ones it replaces or prunes.
fn delete_job(s: &mut State, ids: &Ids, ns: &str, job: &Value) {
    let background = DeleteOptions {
        propagation: Some("Background".into()),
        ..Default::default()
    };
    let _ = s.delete(ids.job, ns, name_of(job), &background);
}

pub(super) fn cronjob(s: &mut State, ids: &Ids, cj: &Value, cx: &mut Ctx) {
    if is_terminating(cj) {
        return;
    }
    let ns = ns_of(cj);
    let uid = uid_of(cj);
    let name = name_of(cj).to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Look again at the next minute.
    cx.later.push((
        Instant::now() + Duration::from_secs((60 - now.rem_euclid(60)) as u64),
        (ids.cj, ns.clone(), name.clone()),
    ));
    let schedule = match Schedule::parse(cj.at("/spec/schedule").and_then(Value::as_str).unwrap_or("")) {
        Ok(sch) => sch,
        Err(e) => {
            emit(
                s,
                ids,
                cj,
                "Warning",
                "UnparseableSchedule",
                &format!("unparseable schedule: {e}"),
            );
            return;
        }
    };
    let jobs: Vec<Arc<Value>> = s
        .iter_kind(ids.job, Some(&ns))
        .filter(|(_, j)| owned_by(j, &uid))
        .map(|(_, j)| j.clone())
        .collect();
    let finished = |j: &Value, t: &str| {
        j.at("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == t && c["status"] == "True"))
    };
    let active: Vec<&Arc<Value>> = jobs
        .iter()
        .filter(|j| !finished(j, "Complete") && !finished(j, "Failed"))
        .collect();
    let mut status = cj.get("status").cloned().unwrap_or(json!({}));
    let suspended = cj.at("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let since = status
        .get("lastScheduleTime")
        .and_then(Value::as_str)
        .or_else(|| cj.at("/metadata/creationTimestamp").and_then(Value::as_str))
        .and_then(crate::table::unix_of)
        .unwrap_or(now);
    let mut created = None;
    if !suspended && let Some(due) = schedule.last_between(since, now) {
        let job_name = format!("{name}-{}", due / 60);
        let policy = cj
            .at("/spec/concurrencyPolicy")
            .and_then(Value::as_str)
            .unwrap_or("Allow");
        let go = match policy {
            "Forbid" => active.is_empty(),
            "Replace" => {
                for j in &active {
                    delete_job(s, ids, &ns, j);
                }
                true
            }
            _ => true,
        };
        if go && s.get(ids.job, &ns, &job_name).is_none() {
            let tmpl = cj.at("/spec/jobTemplate").cloned().unwrap_or(json!({}));
            let scheduled = time::OffsetDateTime::from_unix_timestamp(due)
                .map(crate::state::seconds_utc)
                .unwrap_or_default();
            let mut meta = tmpl.get("metadata").cloned().unwrap_or(json!({}));
            meta["name"] = json!(job_name);
            meta["namespace"] = json!(ns);
            meta["ownerReferences"] = json!([owner_ref(cj, true)]);
            meta["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] = json!(scheduled);
            let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": tmpl.get("spec").cloned().unwrap_or(json!({}))});
            let job = s.put(ids.job, &ns, job);
            emit(
                s,
                ids,
                cj,
                "Normal",
                "SuccessfulCreate",
                &format!("Created job {job_name}"),
            );
            created = Some(job);
            status["lastScheduleTime"] = json!(scheduled);
        }
    }
    // History: the oldest finished Jobs beyond the limits go.
    for (kind, limit, default) in [
        ("Complete", "/spec/successfulJobsHistoryLimit", 3),
        ("Failed", "/spec/failedJobsHistoryLimit", 1),
    ] {
        let keep = cj.at(limit).and_then(Value::as_u64).unwrap_or(default) as usize;
        let mut done: Vec<&Arc<Value>> = jobs.iter().filter(|j| finished(j, kind)).collect();
        done.sort_by_key(|j| {
            j.at("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        });
        let extra = done.len().saturating_sub(keep);
        for j in done.into_iter().take(extra) {
            delete_job(s, ids, &ns, j);
            emit(
                s,
                ids,
                cj,
                "Normal",
                "SuccessfulDelete",
                &format!("Deleted job {}", name_of(j)),
            );
        }
    }
    let mut refs: Vec<Value> = active
        .iter()
        .map(
            |j| json!({"apiVersion": "batch/v1", "kind": "Job", "name": name_of(j), "namespace": ns, "uid": uid_of(j)}),
        )
        .collect();
    if let Some(j) = created {
        refs.push(
            json!({"apiVersion": "batch/v1", "kind": "Job", "name": name_of(&j), "namespace": ns, "uid": uid_of(&j)}),
        );
    }
    if refs.is_empty() {
        if let Value::Object(m) = &mut status {
            m.remove("active");
        }
    } else {
        status["active"] = Value::Array(refs);
    }
    if let Some(last) = jobs
        .iter()
        .filter(|j| finished(j, "Complete"))
        .filter_map(|j| j.at("/status/completionTime").and_then(Value::as_str))
        .max()
    {
        status["lastSuccessfulTime"] = json!(last);
    }
    set_status(s, ids.cj, cj, status);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_come_round_as_cron_says() {
        let every5 = Schedule::parse("*/5 * * * *").unwrap();
        // 2026-12-02T08:07:30Z: the last */5 minute is 08:05.
        let now = 1_796_198_850;
        assert_eq!(every5.last_between(now - 3600, now), Some(now - 150));
        let nightly = Schedule::parse("0 3 * * MON-FRI").unwrap();
        assert!(nightly.last_between(now - 86400, now).is_some());
        assert!(Schedule::parse("@hourly").is_ok());
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("* * *").unwrap_err().contains("5 fields"));
        // Nothing due since the last time.
        assert_eq!(every5.last_between(now - 150, now), None);
    }
}
