//! `kdeck logs`: an app's logs (all its pods, merged with a prefix), or named
//! pods', printed as they arrive. What could not be read goes to stderr in
//! words; the exit code says whether the answer is whole (0), partial (3)
//! or nothing could be read (1).

use std::io::Write;

use clap::Args;

use super::output::Format;
use super::{CliError, runtime};
use kdeck_fleet::logs::{LineKind, LogLine, LogRequest, LogSource, LogStream};
use kdeck_model::{AppRef, Cluster, SpaceRef};
use kdeck_store::Store;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// CLUSTER/SPACE/APP for an app's pods, or CLUSTER/SPACE with --pod
    #[arg(value_name = "TARGET")]
    target: String,
    /// A pod of the space, by name (repeatable)
    #[arg(long = "pod", value_name = "POD")]
    pods: Vec<String>,
    /// Only this container of each pod
    #[arg(short = 'c', long, value_name = "NAME")]
    container: Option<String>,
    /// Keep printing new lines; an app's new pods join as they start
    #[arg(short = 'f', long)]
    follow: bool,
    /// Start with the last N lines of each container
    #[arg(long, value_name = "N")]
    tail: Option<i64>,
    /// Print the time the container wrote each line
    #[arg(long)]
    timestamps: bool,
    /// The previous, terminated instance of each container
    #[arg(short = 'p', long)]
    previous: bool,
    /// No `[pod/container]` prefix, even when lines of several come merged
    #[arg(long)]
    no_prefix: bool,
}

fn target(args: &LogsArgs) -> Result<(SpaceRef, LogSource), CliError> {
    let slashes = args.target.matches('/').count();
    if slashes == 2 {
        if !args.pods.is_empty() {
            return Err(CliError::usage(format!(
                "logs {}: give an app (CLUSTER/SPACE/APP) or --pod with a space (CLUSTER/SPACE), not both",
                args.target
            )));
        }
        let app = AppRef::parse("TARGET", &args.target).map_err(|e| CliError::usage(e.to_string()))?;
        return Ok((app.space, LogSource::App(app.name)));
    }
    let space = SpaceRef::parse("TARGET", &args.target).map_err(|e| CliError::usage(e.to_string()))?;
    if args.pods.is_empty() {
        return Err(CliError::usage(format!(
            "logs {}: name the app (CLUSTER/SPACE/APP) or pass --pod POD",
            args.target
        )));
    }
    Ok((space, LogSource::Pods(args.pods.clone())))
}

pub fn logs(store: &Store, args: &LogsArgs, format: Format) -> Result<(), CliError> {
    if format == Format::Yaml {
        return Err(CliError::usage(
            "logs prints text, or JSON lines with -o json; YAML is not offered for streams",
        ));
    }
    if let Some(n) = args.tail
        && n < 0
    {
        return Err(CliError::usage(format!("--tail {n}: must be 0 or more lines")));
    }
    let (space, source) = target(args)?;
    let cluster = store.get::<Cluster>(&space.cluster)?.ok_or_else(|| {
        CliError::usage(format!(
            "{space}: no cluster named {:?}; `kdeck clusters list` shows them",
            space.cluster
        ))
    })?;
    let one_source = matches!(&source, LogSource::Pods(p) if p.len() == 1);
    let req = LogRequest {
        namespace: space.namespace.clone(),
        source,
        container: args.container.clone(),
        follow: args.follow,
        tail: args.tail,
        previous: args.previous,
    };
    let rt = runtime()?;
    let (out, errors) = rt.block_on(async {
        let client = kdeck_fleet::Gateway::new()
            .client(&cluster)
            .await
            .map_err(|p| CliError::failed(p.message))?;
        let mut stream = LogStream::open(client, &cluster, req);
        let stdout = std::io::stdout();
        let (mut out, mut errors) = (0u64, 0u64);
        while let Some(line) = stream.next().await {
            match line.kind {
                LineKind::Out => {
                    out += 1;
                    // A prefix when lines of several containers come merged.
                    let several = !one_source || (args.container.is_none() && line.source.contains('/'));
                    let text = render(&line, format, args.timestamps, several && !args.no_prefix);
                    if writeln!(stdout.lock(), "{text}").is_err() {
                        // The reader went away (a closed pipe): stop quietly.
                        return Ok((out, errors));
                    }
                }
                LineKind::Error => {
                    errors += 1;
                    eprintln!("kdeck: {}", line.text);
                }
                LineKind::Notice => eprintln!("kdeck: {}", line.text),
            }
        }
        Ok::<_, CliError>((out, errors))
    })?;
    match (out, errors) {
        (_, 0) => Ok(()),
        (0, _) => Err(CliError::failed("no logs could be read (see above)")),
        _ => Err(CliError {
            code: 3,
            message: "the answer is partial: some logs could not be read (see above)".into(),
        }),
    }
}

fn render(line: &LogLine, format: Format, timestamps: bool, prefix: bool) -> String {
    if format == Format::Json {
        return serde_json::to_string(line).unwrap_or_default();
    }
    let mut s = String::with_capacity(line.text.len() + 48);
    if prefix && !line.source.is_empty() {
        s.push('[');
        s.push_str(&line.source);
        s.push_str("] ");
    }
    if timestamps && let Some(t) = &line.time {
        s.push_str(t);
        s.push(' ');
    }
    s.push_str(&line.text);
    s
}
