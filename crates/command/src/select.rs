//! Spaces named many at once: `CLUSTER/NAMESPACE` patterns with `*` and `?`
//! (`'*/shop'`, `'eu1/team-*'`), and a label selector on namespaces
//! (`team=shop,tier!=dev`, the server's own syntax), resolved against the
//! clusters kdeck stores into the plain list a journalled command carries.

use kube::api::ListParams;

use super::{Executor, Failure, cluster_failure, invalid};
use kdeck_fleet::describe;
use kdeck_model::Cluster;

/// Whether `s` has a wildcard in it.
pub fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// `*` matches any run of characters (none too), `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The last star seen and where the text stood then: backtrack to it.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The spaces found, and the clusters that could not be read (named, with
/// the server's reason).
#[derive(Debug, Default)]
pub struct Resolved {
    pub spaces: Vec<String>,
    pub unread: Vec<String>,
}

/// Every space the `names` (plain or patterns) and the `selector` name. A
/// plain name is kept as it is (the command says if it is not there); with
/// a selector, plain names must carry its labels too. With no names, a
/// selector reads every stored cluster. `only` (the clusters a cluster
/// selector chose) keeps it all to those clusters; with no names and no
/// selector it means every namespace on them.
pub async fn resolve(
    ex: &Executor,
    names: &[String],
    selector: Option<&str>,
    only: Option<&[String]>,
) -> Result<Resolved, Failure> {
    let on_chosen =
        |space: &str| only.is_none_or(|o| space.split_once('/').is_some_and(|(c, _)| o.iter().any(|x| x == c)));
    let patterns: Vec<&String> = names.iter().filter(|n| is_pattern(n) || selector.is_some()).collect();
    let mut out = Resolved {
        spaces: names
            .iter()
            .filter(|n| !is_pattern(n) && selector.is_none() && on_chosen(n))
            .cloned()
            .collect(),
        unread: Vec::new(),
    };
    if patterns.is_empty() && selector.is_none() && (only.is_none() || !names.is_empty()) {
        return Ok(out);
    }
    for p in &patterns {
        if !p.contains('/') {
            return Err(invalid(format!(
                "{p:?}: a space pattern is CLUSTER/NAMESPACE, e.g. '*/shop' or 'eu1/team-*'"
            )));
        }
    }
    let clusters: Vec<Cluster> = ex.store().list::<Cluster>()?;
    let wanted = |c: &str| {
        patterns.is_empty()
            || patterns
                .iter()
                .any(|p| p.split_once('/').is_some_and(|(pc, _)| glob(pc, c)))
    };
    let chosen = |c: &str| only.is_none_or(|o| o.iter().any(|x| x == c));
    let reads = clusters
        .iter()
        .filter(|c| wanted(&c.name) && chosen(&c.name))
        .map(|c| async move {
            let read = async {
                let (api, _) = ex.gateway().api(c, "Namespace", "").await.map_err(cluster_failure)?;
                let mut lp = ListParams::default();
                if let Some(s) = selector {
                    lp = lp.labels(s);
                }
                api.list_metadata(&lp)
                    .await
                    .map(|l| l.items.into_iter().filter_map(|n| n.metadata.name).collect::<Vec<_>>())
                    .map_err(|e| cluster_failure(describe(c, "list namespaces", &e)))
            };
            let r = tokio::time::timeout(std::time::Duration::from_secs(20), read)
                .await
                .unwrap_or_else(|_| Err(invalid(format!("cluster {}: no answer within 20 s", c.name))));
            (c.name.clone(), r)
        });
    for (cluster, r) in futures::future::join_all(reads).await {
        match r {
            Ok(names) => out.spaces.extend(
                names
                    .into_iter()
                    .map(|n| format!("{cluster}/{n}"))
                    .filter(|s| patterns.is_empty() || patterns.iter().any(|p| glob(p, s))),
            ),
            Err(e) => out.unread.push(format!("{cluster}: {}", e.reason)),
        }
    }
    out.spaces.sort();
    out.spaces.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_as_a_shell_does() {
        assert!(glob("*/shop", "eu1/shop"));
        assert!(!glob("*/shop", "eu1/shop-2"));
        assert!(glob("eu1/team-*", "eu1/team-a"));
        assert!(glob("eu?/*", "eu2/x"));
        assert!(!glob("eu?/*", "us1/x"));
        assert!(glob("*a*b*", "xxaxxbxx"));
        assert!(!glob("*a*b", "xxaxxbxx"));
        assert!(glob("*", ""));
    }
}
