//! `kdeck sim`, `kdeck demo` and the bare `kdeck` (the cockpit).

use super::*;

pub(super) fn sim_options(a: &SimFleetArgs) -> Result<kdeck_sim::SimOptions, CliError> {
    if a.clusters == 0 || a.clusters > 200 {
        return Err(CliError::usage(format!("--clusters {}: give 1 to 200", a.clusters)));
    }
    let fleet = kdeck_sim::FleetSize::parse(&a.fleet).map_err(|e| CliError::usage(e.to_string()))?;
    let names = kdeck_sim::cluster_names(a.clusters);
    let without_tekton = match &a.no_tekton {
        None => Vec::new(),
        Some(list) if list.is_empty() => names.clone(),
        Some(list) => {
            for n in list {
                if !names.contains(n) {
                    return Err(CliError::usage(format!(
                        "--no-tekton {n}: no such simulated cluster; the clusters are {}",
                        names.join(", ")
                    )));
                }
            }
            list.clone()
        }
    };
    Ok(kdeck_sim::SimOptions {
        clusters: a.clusters,
        fleet,
        port_base: a.port_base,
        churn_per_sec: a.churn,
        config: kdeck_sim::SimConfig::default(),
        without_tekton,
    })
}

pub(super) fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::fs::PermissionsExt;
    // Never through a link: it could point at any file of the user's.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| {
            let why = if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                "it is a symbolic link; give the path of a file".to_string()
            } else {
                kdeck_model::plain_io(&e)
            };
            CliError::usage(format!("{}: cannot write: {why}", path.display()))
        })?;
    // A file that was there keeps its mode through a truncate: make it private first.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| f.set_len(0))
        .map_err(|e| CliError::failed(format!("{}: {}", path.display(), kdeck_model::plain_io(&e))))?;
    f.write_all(text.as_bytes())
        .map_err(|e| CliError::failed(format!("{}: {}", path.display(), kdeck_model::plain_io(&e))))
}

/// SIGINT's handler, installed now (not on first poll, as
/// `tokio::signal::ctrl_c` does), so that a Ctrl-C that follows a readiness
/// line at once is caught.
fn interrupt_listener() -> Result<tokio::signal::unix::Signal, CliError> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| CliError::failed(format!("cannot listen for Ctrl-C: {}", kdeck_model::plain_io(&e))))
}

pub(super) fn sim_cmd(args: SimArgs) -> Result<(), CliError> {
    let opts = sim_options(&args.fleet)?;
    if !opts.config.users.iter().any(|u| u.name == args.user) {
        return Err(CliError::usage(format!(
            "--user {:?}: use admin, developer or auditor",
            args.user
        )));
    }
    runtime()?.block_on(async {
        // Listen before saying "running": a Ctrl-C sent right after the
        // announcement must stop the simulator cleanly, not kill it.
        let mut interrupt = interrupt_listener()?;
        let handles = start_sim(opts).await?;
        write_private(&args.kubeconfig_out, &kdeck_sim::kubeconfig(&handles, &args.user))?;
        eprintln!(
            "kdeck sim: {} cluster(s) running; kubeconfig in {}",
            handles.len(),
            args.kubeconfig_out.display()
        );
        for h in &handles {
            eprintln!("  {:<12} {}", h.name, h.url());
        }
        eprintln!(
            "try: kubectl --kubeconfig {} get ns    (Ctrl-C stops)",
            args.kubeconfig_out.display()
        );
        interrupt.recv().await;
        Ok(())
    })
}

/// Runs the cockpit on a store's clusters until the user leaves it.
pub(super) fn run_cockpit(store: &Store, global: &Global) -> Result<(), CliError> {
    let executor = Executor::new(store.clone(), local_actor(), Arc::new(SystemClock));
    let clusters = store.list::<Cluster>()?;
    let attached: Vec<kdeck_model::SpaceRef> = store
        .list::<kdeck_model::Space>()?
        .into_iter()
        .map(|s| s.space)
        .collect();
    let ended = runtime()?.block_on(kdeck_tui::app::run(cockpit_options(
        clusters, attached, global, executor,
    )))?;
    match ended {
        Some(signal) => Err(CliError::signal(signal)),
        None => Ok(()),
    }
}

/// The cockpit's start: the clusters, and the user's config dir read.
pub(super) fn cockpit_options(
    clusters: Vec<Cluster>,
    attached: Vec<kdeck_model::SpaceRef>,
    global: &Global,
    executor: Executor,
) -> kdeck_tui::app::Options {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    kdeck_tui::app::Options {
        clusters,
        attached,
        loaded: kdeck_tui::config::load(kdeck_tui::config::config_dir().as_deref(), no_color),
        read_only: global.read_only,
        clock: Arc::new(SystemClock),
        executor: Some(executor.read_only(global.read_only)),
    }
}

pub(super) fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

/// `kdeck` alone: the cockpit. With no clusters stored yet, offers to import
/// the kubeconfig contexts first.
pub(super) fn cockpit_cmd(global: &Global) -> Result<(), CliError> {
    if !interactive() {
        return Err(CliError::usage(
            "the cockpit needs a terminal; for scripts use the subcommands (`kdeck --help`)",
        ));
    }
    let store = open_store(global)?;
    if store.list::<Cluster>()?.is_empty() {
        let files = default_files();
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let existing: Vec<&String> = names.iter().filter(|f| Path::new(f).exists()).collect();
        if existing.is_empty() {
            return Err(CliError::usage(
                "no clusters yet and no kubeconfig found ($KUBECONFIG, ~/.kube/config): import one with `kdeck clusters import FILE`, or try `kdeck demo`",
            ));
        }
        eprint!(
            "kdeck: no clusters yet. Import the contexts of {}? [Y/n] ",
            existing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        );
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if matches!(answer.trim(), "n" | "N" | "no") {
            return Err(CliError::usage(
                "nothing imported; `kdeck clusters import [FILE]` stores clusters, `kdeck demo` tries simulated ones",
            ));
        }
        let executor = Executor::new(store.clone(), local_actor(), Arc::new(SystemClock));
        run_command(
            &executor,
            Command::ImportClusters {
                files: existing.iter().map(|s| s.to_string()).collect(),
                contexts: vec![],
                update: false,
            },
            Format::Table,
        )?;
    }
    run_cockpit(&store, global)
}

pub(super) fn demo_cmd(args: DemoArgs, global: &Global) -> Result<(), CliError> {
    // The demo's store is thrown away with it: it never takes the user's.
    let flag = std::env::args_os().any(|a| a.to_string_lossy().starts_with("--data-dir"));
    if flag {
        return Err(CliError::usage(
            "demo keeps its simulated clusters in a throw-away store of its own and does not take --data-dir; leave it out",
        ));
    }
    if global.data_dir.is_some() {
        eprintln!("kdeck demo: KDECK_DATA_DIR is not used; the demo has a throw-away store of its own");
    }
    let format = global.output;
    let cockpit = args.screenshots.is_some() || (!args.no_cockpit && interactive());
    let mut opts = sim_options(&args.fleet)?;
    if args.screenshots.is_some() {
        // Enough log lines to fill a screen within the few seconds it takes.
        opts.config.log_interval = std::time::Duration::from_millis(20);
    }
    let dir = tempfile_dir()?;
    // Removed however the demo ends, a panic included.
    let _cleanup = RemoveOnDrop(dir.clone());
    let kubeconfig = dir.join("kubeconfig");
    let rt = runtime()?;
    let started = rt.block_on(async {
        let handles = start_sim(opts).await?;
        write_private(&kubeconfig, &kdeck_sim::kubeconfig(&handles, "admin"))?;
        let store = Store::open(&dir.join("data")).map_err(|e| CliError::failed(e.to_string()))?;
        let executor = Executor::new(store, local_actor(), Arc::new(SystemClock));
        let entry = executor
            .run(Command::ImportClusters {
                files: vec![kubeconfig.display().to_string()],
                contexts: vec![],
                update: false,
            })
            .await?;
        if entry.status != Status::Applied {
            return Err(CliError::failed(format!(
                "demo: importing the simulated clusters failed: {:?}",
                entry.status
            )));
        }
        // The PaaS side of the demo: a domain per cluster (the simulated
        // ingresses live under it), and a database on the second cluster that
        // offers a connector to bind to.
        let names: Vec<String> = executor
            .store()
            .list::<Cluster>()?
            .into_iter()
            .map(|c| c.name)
            .collect();
        for n in &names {
            executor
                .run(Command::AddDomain {
                    cluster: n.clone(),
                    suffix: format!("apps.{n}.example.com"),
                    tls_secret: Some("wildcard-tls".into()),
                    ingress_class: Some("nginx".into()),
                })
                .await?;
        }
        // Labels to choose clusters by (tier from the name), and a catalog
        // of the demo's own on loopback, for the marketplace.
        for n in &names {
            if let Some(tier) = ["prod", "stage", "dev"].into_iter().find(|t| n.starts_with(t)) {
                executor
                    .run(Command::LabelCluster {
                        name: n.clone(),
                        changes: vec![format!("tier={tier}")],
                    })
                    .await?;
            }
        }
        let catalog = super::demo_catalog::serve()?;
        executor
            .run(Command::AddCatalog {
                name: "demo".into(),
                url: catalog.clone(),
            })
            .await?;
        if let Some(second) = names.iter().find(|n| n.starts_with("stage")) {
            let db = format!("{second}/shop-prod/pg");
            executor
                .run(Command::CreateApp(kdeck_command::apps::NewApp {
                    app: db.clone(),
                    image: "postgres:16".into(),
                    stateful: true,
                    replicas: 1,
                    ports: vec![5432],
                    env: Vec::new(),
                    routes: vec![String::new()],
                    connectors: vec!["postgres:user=app,password=secret:postgres-credentials/password".into()],
                    volumes: vec!["data:1Gi:/var/lib/postgresql/data".into()],
                    template: None,
                }))
                .await?;
            executor.run(Command::DeployApp { app: db, wait: None }).await?;
        }
        if cockpit {
            return Ok(Some((executor.store().clone(), handles)));
        }
        let clusters: Vec<ClusterRow> = executor
            .store()
            .list::<Cluster>()?
            .iter()
            .map(ClusterRow::from)
            .collect();
        // Listen before announcing: a Ctrl-C right after the line below must
        // end the demo cleanly.
        let mut interrupt = interrupt_listener()?;
        print_data(format, &clusters, || {
            let mut t = Table::new(&["NAME", "SERVER"]);
            for c in &clusters {
                t.row([c.name.as_str(), c.server.as_str()]);
            }
            t
        })?;
        eprintln!(
            "kdeck demo: {} simulated cluster(s) imported into a throw-away store in {}",
            handles.len(),
            dir.display()
        );
        eprintln!(
            "look at them with: kubectl --kubeconfig {} get deploy -A",
            kubeconfig.display()
        );
        eprintln!(
            "its catalog \"demo\" is served at {catalog} (M in the demo's cockpit; `kdeck catalogs add demo {catalog}` in your own store)"
        );
        eprintln!("Ctrl-C stops the demo and removes its store");
        interrupt.recv().await;
        Ok(None)
    });
    let result = match started {
        Ok(Some((store, handles))) if args.screenshots.is_some() => {
            let out = args.screenshots.clone().unwrap_or_default();
            let r = rt.block_on(async {
                let clusters = store.list::<Cluster>()?;
                crate::shots::write(&clusters, &out).await
            });
            drop(handles);
            for f in r? {
                output::out(&format!("{}\n", f.display()))?;
            }
            Ok(())
        }
        // The simulated clusters keep running on this runtime while the cockpit shows them.
        Ok(Some((store, handles))) => {
            let r = rt.block_on(async {
                let clusters = store.list::<Cluster>()?;
                let executor = Executor::new(store.clone(), local_actor(), Arc::new(SystemClock));
                Ok::<_, CliError>(kdeck_tui::app::run(cockpit_options(clusters, Vec::new(), global, executor)).await?)
            });
            drop(handles);
            r.and_then(|ended| ended.map_or(Ok(()), |s| Err(CliError::signal(s))))
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A private directory for the demo's store and kubeconfig.
/// Removes a directory when dropped.
pub(super) struct RemoveOnDrop(PathBuf);

pub(super) fn tempfile_dir() -> Result<PathBuf, CliError> {
    let base = std::env::temp_dir().join(format!("kdeck-demo-{}", std::process::id()));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&base)
        .map_err(|e| CliError::failed(format!("{}: {}", base.display(), kdeck_model::plain_io(&e))))?;
    Ok(base)
}

pub(super) fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
