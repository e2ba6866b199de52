//! What a step prints and how it exits, from its script (or command and
//! args) after substitution: `echo` and `printf` lines are printed, `exit N`
//! is honoured, writes to `/tekton/results/NAME` become results, and the
//! tools a build uses (git, kaniko's executor, kubectl) answer as they would.
//! Any other command prints the line a `set -x` shell would.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// What the step's pod may see.
#[derive(Debug, Default, Clone)]
pub struct Env {
    pub namespace: String,
    /// Deployments of the namespace, with their containers' names.
    pub deployments: BTreeMap<String, Vec<String>>,
    /// A registry login is mounted at `/kaniko/.docker` (a Secret that exists).
    pub docker_config: bool,
}

/// A change a step makes in the cluster when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    SetImage {
        deployment: String,
        container: String,
        image: String,
    },
}

impl Effect {
    pub fn to_json(&self) -> Value {
        match self {
            Effect::SetImage {
                deployment,
                container,
                image,
            } => json!({"setImage": {"deployment": deployment, "container": container, "image": image}}),
        }
    }
    pub fn from_json(v: &Value) -> Option<Self> {
        let s = v.get("setImage")?;
        Some(Effect::SetImage {
            deployment: s.get("deployment")?.as_str()?.to_string(),
            container: s.get("container")?.as_str()?.to_string(),
            image: s.get("image")?.as_str()?.to_string(),
        })
    }
}

/// How a step ran.
#[derive(Debug, Default, Clone)]
pub struct StepRun {
    pub lines: Vec<String>,
    pub exit: i32,
    pub effects: Vec<Effect>,
}

/// The state that steps of one TaskRun share: files written (results), and
/// the repository a clone checked out.
#[derive(Debug, Default)]
pub struct Shell {
    pub env: Env,
    pub files: BTreeMap<String, String>,
    repo: Option<(String, String)>,
}

fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn hex(seed: &str, len: usize) -> String {
    let mut out = String::new();
    let mut i = 0u64;
    while out.len() < len {
        // splitmix64's finalizer spreads FNV's close values apart.
        let mut z = fnv(&format!("{seed}/{i}")).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.push_str(&format!("{:016x}", z ^ (z >> 31)));
        i += 1;
    }
    out.truncate(len);
    out
}

fn is_hex_commit(rev: &str) -> bool {
    (7..=40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The revisions the simulated git hosts have: the usual branches
/// (`main`, `master`, `develop`, `release*`, `feature/…`, `fix/…`,
/// `refs/heads/…`), `v`-tags, and commit ids.
pub fn known_revision(rev: &str) -> bool {
    let rev = rev
        .strip_prefix("refs/heads/")
        .or_else(|| rev.strip_prefix("refs/tags/"))
        .unwrap_or(rev);
    matches!(rev, "main" | "master" | "develop" | "HEAD")
        || rev.starts_with("release")
        || rev.starts_with("feature/")
        || rev.starts_with("fix/")
        || (rev.starts_with('v') && rev[1..].starts_with(|c: char| c.is_ascii_digit()))
        || is_hex_commit(rev)
}

/// The commit a revision of a repository names.
pub fn commit_of(url: &str, rev: &str) -> String {
    if rev.len() == 40 && is_hex_commit(rev) {
        return rev.to_ascii_lowercase();
    }
    hex(&format!("{url}@{rev}"), 40)
}

/// Words of a shell line: quotes removed, `\` continuations already joined.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `$NAME` and `${NAME}` from the step's env.
fn expand(word: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = word.to_string();
    for (k, v) in env {
        out = out.replace(&format!("${{{k}}}"), v).replace(&format!("${k}"), v);
    }
    out
}

fn flag_value(args: &[String], name: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix(&format!("{name}="))
            .map(str::to_string)
            .or_else(|| (a == name).then(|| args.get(i + 1).cloned()).flatten())
    })
}

impl Shell {
    pub fn new(env: Env) -> Self {
        Self { env, ..Self::default() }
    }

    /// Runs one step (already substituted).
    pub fn run_step(&mut self, step: &Value) -> StepRun {
        let env: BTreeMap<String, String> = step
            .get("env")
            .and_then(Value::as_array)
            .map(|es| {
                es.iter()
                    .filter_map(|e| {
                        Some((
                            e.get("name")?.as_str()?.to_string(),
                            e.get("value")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut run = StepRun::default();
        let script = step.get("script").and_then(Value::as_str).map(str::to_string);
        let lines: Vec<String> = match script {
            Some(s) => s.replace("\\\n", " ").lines().map(str::to_string).collect(),
            None => {
                let strs = |k: &str| -> Vec<String> {
                    step.get(k)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(|s| format!("'{s}'")).collect())
                        .unwrap_or_default()
                };
                let mut all = strs("command");
                all.extend(strs("args"));
                if all.is_empty() { vec![] } else { vec![all.join(" ")] }
            }
        };
        for line in lines {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // `a; b` runs both, `a && b` runs b when a did well, `a || b`
            // when it did not; a failure that nothing catches ends the
            // script (`set -e`, as Tekton's scripts mostly are).
            for list in line.split(';') {
                let code = self.and_or(list, &env, &mut run);
                if code != 0 {
                    run.exit = code;
                    return run;
                }
            }
        }
        run
    }

    /// A list of commands joined by `&&` and `||`: its exit code.
    fn and_or(&mut self, list: &str, env: &BTreeMap<String, String>, run: &mut StepRun) -> i32 {
        let mut code = 0;
        let mut rest = list;
        let mut run_next = true;
        loop {
            let (cmd, op, after) = match (rest.find("&&"), rest.find("||")) {
                (Some(a), Some(o)) if a < o => (&rest[..a], "&&", &rest[a + 2..]),
                (_, Some(o)) => (&rest[..o], "||", &rest[o + 2..]),
                (Some(a), None) => (&rest[..a], "&&", &rest[a + 2..]),
                (None, None) => (rest, "", ""),
            };
            if run_next {
                code = self.command(cmd, env, run);
            }
            if op.is_empty() {
                return code;
            }
            run_next = (op == "&&") == (code == 0);
            rest = after;
        }
    }

    /// Runs one command; returns its exit code.
    fn command(&mut self, text: &str, env: &BTreeMap<String, String>, run: &mut StepRun) -> i32 {
        let mut ws: Vec<String> = words(text.trim()).iter().map(|w| expand(w, env)).collect();
        // A redirect sends the output to a file (a result, when under /tekton/results).
        let mut target = None;
        if let Some(i) = ws.iter().position(|w| w == ">" || w == ">>") {
            target = ws.get(i + 1).cloned();
            ws.truncate(i);
        } else if let Some(i) = ws.iter().position(|w| w.starts_with('>') && w.len() > 1) {
            target = Some(ws[i].trim_start_matches('>').to_string());
            ws.truncate(i);
        }
        if let Some(i) = ws.iter().position(|w| w == "|") {
            ws.truncate(i);
        }
        let Some(cmd) = ws.first().cloned() else {
            return 0;
        };
        let args = &ws[1..];
        let mut out: Vec<String> = Vec::new();
        let code = match cmd.rsplit('/').next().unwrap_or("") {
            "set" | "cd" | "mkdir" | "export" | "true" | ":" | "sleep" | "rm" | "cp" | "chmod" => 0,
            "false" => 1,
            "exit" => return args.first().and_then(|a| a.parse().ok()).unwrap_or(0),
            "echo" => {
                let parts: Vec<&String> = args.iter().filter(|a| !matches!(a.as_str(), "-n" | "-e")).collect();
                out.push(parts.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
                0
            }
            "printf" => {
                let mut fmt = args.first().cloned().unwrap_or_default();
                for a in args.iter().skip(1) {
                    fmt = fmt.replacen("%s", a, 1);
                }
                out.push(fmt.replace("\\n", ""));
                0
            }
            "git" => self.git(args, &mut out),
            "executor" => self.kaniko(args, &mut out),
            "kubectl" => self.kubectl(args, &mut out, run),
            _ => {
                out.push(format!("+ {}", ws.join(" ")));
                0
            }
        };
        match target {
            Some(path) if !path.starts_with("/dev/") => {
                let text = out.join("\n");
                self.files.entry(path).or_default().push_str(&text);
            }
            _ => run.lines.extend(out),
        }
        code
    }

    fn git(&mut self, args: &[String], out: &mut Vec<String>) -> i32 {
        let sub = args.first().map(String::as_str).unwrap_or("");
        let positional: Vec<&String> = args
            .iter()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .filter(|a| {
                // values of flags that take one
                let i = args.iter().position(|x| x == *a).unwrap_or(0);
                !matches!(
                    args.get(i.wrapping_sub(1)).map(String::as_str),
                    Some("--branch" | "--depth" | "-b")
                )
            })
            .collect();
        match sub {
            "clone" => {
                let Some(url) = positional.first() else {
                    out.push("fatal: You must specify a repository to clone.".into());
                    return 129;
                };
                let host = url
                    .split("://")
                    .nth(1)
                    .unwrap_or(url)
                    .split(['/', ':'])
                    .next()
                    .unwrap_or("");
                if host.is_empty() || host.contains("does-not-exist") || host.contains("invalid") {
                    out.push(format!(
                        "Cloning into '{}'...",
                        positional.get(1).map_or("source", |s| s.as_str())
                    ));
                    out.push(format!(
                        "fatal: unable to access '{url}': Could not resolve host: {host}"
                    ));
                    return 128;
                }
                let rev = flag_value(args, "--branch").unwrap_or_else(|| "main".into());
                out.push(format!(
                    "Cloning into '{}'...",
                    positional.get(1).map_or("source", |s| s.as_str())
                ));
                if !known_revision(&rev) {
                    out.push(format!("warning: Could not find remote branch {rev} to clone."));
                    out.push(format!("fatal: Remote branch {rev} not found in upstream origin"));
                    return 128;
                }
                self.repo = Some((url.to_string(), rev));
                0
            }
            "fetch" => {
                let rev = positional.last().map(|s| s.to_string()).unwrap_or_default();
                if !rev.is_empty() && rev != "origin" && !known_revision(&rev) {
                    out.push(format!("fatal: couldn't find remote ref {rev}"));
                    return 128;
                }
                if let Some(r) = &mut self.repo
                    && !rev.is_empty()
                    && rev != "origin"
                {
                    r.1 = rev.clone();
                }
                out.push(format!(" * branch            {rev}       -> FETCH_HEAD"));
                0
            }
            "checkout" => {
                let rev = positional.first().map(|s| s.to_string()).unwrap_or_default();
                let rev = if rev == "FETCH_HEAD" {
                    self.repo.as_ref().map(|r| r.1.clone()).unwrap_or(rev)
                } else {
                    rev
                };
                if !known_revision(&rev) {
                    out.push(format!(
                        "error: pathspec '{rev}' did not match any file(s) known to git"
                    ));
                    return 1;
                }
                let url = self.repo.as_ref().map(|r| r.0.clone()).unwrap_or_default();
                self.repo = Some((url.clone(), rev.clone()));
                let c = commit_of(&url, &rev);
                out.push(format!("HEAD is now at {} build: {rev}", &c[..7]));
                0
            }
            "rev-parse" => match &self.repo {
                Some((url, rev)) => {
                    out.push(commit_of(url, rev));
                    0
                }
                None => {
                    out.push("fatal: not a git repository (or any of the parent directories): .git".into());
                    128
                }
            },
            _ => {
                out.push(format!("+ git {}", args.join(" ")));
                0
            }
        }
    }

    fn kaniko(&mut self, args: &[String], out: &mut Vec<String>) -> i32 {
        let Some(dest) = flag_value(args, "--destination") else {
            out.push("Error: one of --destination or --no-push is required".into());
            return 1;
        };
        let registry = dest.split('/').next().unwrap_or("");
        out.push("INFO[0000] Retrieving image manifest".into());
        out.push(format!(
            "INFO[0001] Using dockerignore file: {}/.dockerignore",
            flag_value(args, "--context").unwrap_or_else(|| "dir:///workspace".into())
        ));
        if !self.env.docker_config {
            out.push(format!(
                "error checking push permissions -- make sure you entered the correct tag name, and that you are authenticated correctly, and try again: checking push permission for \"{dest}\": POST https://{registry}/v2/: UNAUTHORIZED: authentication required"
            ));
            return 1;
        }
        let digest = format!("sha256:{}", hex(&args.join(" "), 64));
        out.push(format!(
            "INFO[0004] Built image from {}",
            flag_value(args, "--dockerfile").unwrap_or_else(|| "Dockerfile".into())
        ));
        out.push(format!("INFO[0006] Pushing image to {dest}"));
        out.push(format!("INFO[0009] Pushed {dest}@{digest}"));
        if let Some(file) = flag_value(args, "--digest-file") {
            self.files.insert(file, digest);
        }
        0
    }

    fn kubectl(&mut self, args: &[String], out: &mut Vec<String>, run: &mut StepRun) -> i32 {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["set", "image", target, rest @ ..] => {
                let name = target
                    .strip_prefix("deployment/")
                    .or_else(|| target.strip_prefix("deployments/"));
                let Some(name) = name else {
                    out.push(format!(
                        "error: kdeck-sim's kubectl sets images of deployments only, not {target}"
                    ));
                    return 1;
                };
                let Some(containers) = self.env.deployments.get(name) else {
                    out.push(format!(
                        "Error from server (NotFound): deployments.apps \"{name}\" not found"
                    ));
                    return 1;
                };
                for pair in rest.iter().filter(|w| w.contains('=') && !w.starts_with('-')) {
                    let (c, image) = pair.split_once('=').unwrap_or_default();
                    if !containers.iter().any(|x| x == c) {
                        out.push(format!("error: unable to find container named \"{c}\""));
                        return 1;
                    }
                    run.effects.push(Effect::SetImage {
                        deployment: name.to_string(),
                        container: c.to_string(),
                        image: image.to_string(),
                    });
                }
                out.push(format!("deployment.apps/{name} image updated"));
                0
            }
            ["rollout", "status", target, ..] => {
                let name = target.split('/').nth(1).unwrap_or(target);
                out.push(format!("deployment \"{name}\" successfully rolled out"));
                0
            }
            _ => {
                out.push(format!("+ kubectl {}", args.join(" ")));
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(script: &str) -> Value {
        json!({"name": "s", "image": "alpine", "script": script})
    }

    #[test]
    fn echo_exit_and_results() {
        let mut sh = Shell::default();
        let r = sh.run_step(&step(
            "#!/bin/sh\nset -e\necho \"hello  world\"\nprintf '%s' done > /tekton/results/out\necho after\nexit 3\necho never",
        ));
        assert_eq!(r.lines, ["hello  world", "after"]);
        assert_eq!(r.exit, 3);
        assert_eq!(sh.files["/tekton/results/out"], "done");
        let r = sh.run_step(&step("make test"));
        assert_eq!((r.lines, r.exit), (vec!["+ make test".to_string()], 0));
        let r = sh.run_step(&step("go test ./...; exit 1"));
        assert_eq!((r.lines, r.exit), (vec!["+ go test ./...".to_string()], 1));
        let r = sh.run_step(&step("false || echo recovered && echo on"));
        assert_eq!((r.lines, r.exit), (vec!["recovered".to_string(), "on".to_string()], 0));
    }

    #[test]
    fn git_knows_revisions() {
        let mut sh = Shell::default();
        let ok = sh.run_step(&step(
            "git clone --depth 1 https://git.example.com/shop/web.git /workspace/source\ncd /workspace/source && git fetch origin v1.2.0 && git checkout FETCH_HEAD\ngit rev-parse HEAD | tr -d '\\n' > /tekton/results/commit",
        ));
        assert_eq!(ok.exit, 0, "{:?}", ok.lines);
        assert_eq!(sh.files["/tekton/results/commit"].len(), 40);
        let bad = Shell::default().run_step(&step(
            "git clone https://git.example.com/shop/web.git src && git fetch origin nope && git checkout FETCH_HEAD",
        ));
        assert_eq!(bad.exit, 128);
        assert_eq!(
            bad.lines.last().map(String::as_str),
            Some("fatal: couldn't find remote ref nope")
        );
        assert!(known_revision("feature/login") && known_revision("0a1b2c3") && !known_revision("nope"));
    }

    #[test]
    fn kaniko_needs_a_login_and_writes_the_digest() {
        let s = json!({"name": "build", "image": "gcr.io/kaniko-project/executor",
                       "command": ["/kaniko/executor"], "args": ["--destination=r.example.com/web:abc", "--digest-file=/tekton/results/IMAGE_DIGEST"]});
        let mut sh = Shell::default();
        let r = sh.run_step(&s);
        assert_eq!(r.exit, 1);
        assert!(r.lines.last().is_some_and(|l| l.contains("UNAUTHORIZED")));
        let mut sh = Shell::new(Env {
            docker_config: true,
            ..Env::default()
        });
        assert_eq!(sh.run_step(&s).exit, 0);
        assert!(sh.files["/tekton/results/IMAGE_DIGEST"].starts_with("sha256:"));
    }

    #[test]
    fn kubectl_set_image_is_an_effect() {
        let mut sh = Shell::new(Env {
            deployments: BTreeMap::from([("web".to_string(), vec!["web".to_string()])]),
            ..Env::default()
        });
        let r = sh.run_step(&step("kubectl set image deployment/web web=r/web@sha256:1"));
        assert_eq!(r.lines, ["deployment.apps/web image updated"]);
        assert_eq!(r.effects.len(), 1);
        let r = sh.run_step(&step("kubectl set image deployment/api api=x"));
        assert_eq!(r.exit, 1);
    }
}
