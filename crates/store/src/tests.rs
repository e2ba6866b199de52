use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::journal::{Recorded, Status};

/// A command as the command layer would journal one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Command {
    RemoveCluster { name: String, yes: bool },
}

impl Recorded for Command {
    fn target(&self) -> String {
        match self {
            Command::RemoveCluster { name, .. } => format!("cluster {name}"),
        }
    }
}

type Journal = crate::journal::Journal<Command>;
use kdeck_model::{
    AppRef, Binding, Catalog, Cluster, ClusterAuth, Domain, ImportSource, Role, RoleGrant, Route, Solution,
    SolutionSource, Space, SpaceOrigin, SpaceRef, SubjectKind, TlsSettings,
};

fn cluster(name: &str) -> Cluster {
    Cluster {
        name: name.into(),
        server: format!("https://{name}.example.com"),
        context: name.into(),
        namespace: None,
        tls: TlsSettings::default(),
        proxy_url: None,
        auth: ClusterAuth {
            user: "u".into(),
            token: Some("t".into()),
            ..Default::default()
        },
        source: ImportSource {
            file: "/k".into(),
            imported_at: "2026-01-01T00:00:00Z".into(),
        },
        read_only: false,
        prod: None,
        labels: Default::default(),
    }
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn every_entity_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let sp = SpaceRef::new("eu1", "shop");
    let app = kdeck_model::sample::full_app();
    let route = Route {
        app: app.app.clone(),
        host: "shop.example.com".into(),
        path: "/".into(),
        port: Some(8080),
        ingress: Default::default(),
        tls_secret: None,
    };
    let domain = Domain {
        cluster: "eu1".into(),
        suffix: "apps.example.com".into(),
        tls_secret: None,
        ingress_class: None,
    };
    let binding = Binding {
        consumer: app.app.clone(),
        provider: AppRef::new(SpaceRef::new("us1", "data"), "pg"),
        connector: "primary".into(),
        env_prefix: None,
    };
    let solution = Solution {
        name: "pg".into(),
        description: String::new(),
        source: SolutionSource::HelmChart {
            catalog: "c".into(),
            chart: "postgresql".into(),
            version: "1".into(),
            values: Default::default(),
        },
    };
    let catalog = Catalog {
        name: "c".into(),
        url: "https://charts.example.com".into(),
        fetched_at: None,
        charts: Vec::new(),
    };
    let grant = RoleGrant {
        space: sp.clone(),
        subject_kind: SubjectKind::Group,
        subject: "devs".into(),
        role: Role::Developer,
    };
    let space = Space {
        space: sp.clone(),
        origin: SpaceOrigin::Attached,
        added_at: "2026-01-01T00:00:00Z".into(),
    };

    store.put(&cluster("eu1")).unwrap();
    store.put(&space).unwrap();
    store.put(&app).unwrap();
    store.put(&route).unwrap();
    store.put(&domain).unwrap();
    store.put(&binding).unwrap();
    store.put(&solution).unwrap();
    store.put(&catalog).unwrap();
    store.put(&grant).unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.get::<Cluster>("eu1").unwrap(), Some(cluster("eu1")));
    assert_eq!(store.get::<Space>("eu1/shop").unwrap(), Some(space));
    assert_eq!(store.get::<kdeck_model::App>("eu1/shop/web").unwrap(), Some(app));
    assert_eq!(store.list::<Route>().unwrap(), vec![route]);
    assert_eq!(store.list::<Domain>().unwrap(), vec![domain]);
    assert_eq!(store.list::<Binding>().unwrap(), vec![binding]);
    assert_eq!(store.list::<Solution>().unwrap(), vec![solution]);
    assert_eq!(store.list::<Catalog>().unwrap(), vec![catalog]);
    assert_eq!(store.list::<RoleGrant>().unwrap(), vec![grant]);
    assert_eq!(store.get::<Cluster>("nope").unwrap(), None);
}

#[test]
fn list_is_in_key_order_and_prefix_scans() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for n in ["c", "a", "b", "ab"] {
        store.put(&cluster(n)).unwrap();
    }
    let names: Vec<String> = store.list::<Cluster>().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["a", "ab", "b", "c"]);
    let a: Vec<String> = store
        .list_prefix::<Cluster>("a")
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(a, ["a", "ab"]);
    assert!(store.delete::<Cluster>("ab").unwrap());
    assert!(!store.delete::<Cluster>("ab").unwrap());
    assert_eq!(store.list::<Cluster>().unwrap().len(), 3);
}

#[test]
fn a_batch_writes_several_trees_together() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put(&cluster("old")).unwrap();
    let sp = Space {
        space: SpaceRef::new("new", "ns"),
        origin: SpaceOrigin::Created,
        added_at: "t".into(),
    };
    let mut b = Batch::new();
    b.put(&cluster("new")).unwrap().put(&sp).unwrap();
    b.delete::<Cluster>("old");
    assert!(!b.is_empty());
    store.write(b).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let names: Vec<String> = store.list::<Cluster>().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["new"]);
    assert_eq!(store.list::<Space>().unwrap(), vec![sp]);
    store.write(Batch::new()).unwrap();
}

#[test]
fn a_corrupt_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .with_db(|db| {
            db.open_tree("clusters")
                .unwrap()
                .insert("broken", &b"{not json"[..])
                .unwrap()
        })
        .unwrap();
    let e = store.get::<Cluster>("broken").unwrap_err();
    let text = e.to_string();
    assert!(text.contains("clusters") && text.contains("\"broken\""), "{text}");
    assert!(store.list::<Cluster>().is_err());
}

#[test]
fn store_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/kdeck");
    let store = Store::open(&data).unwrap();
    store.put(&cluster("eu1")).unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("store")), 0o700);
    assert_eq!(mode(&data.join("kdeck.lock")), 0o600);
    let mut files = 0;
    for e in fs::read_dir(data.join("store")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            files += 1;
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    assert!(files >= 2, "sled wrote its files");
    assert_eq!(store.data_dir(), data);
}

#[test]
fn a_second_open_goes_through_the_owner_and_takes_over_when_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let second = Store::open(dir.path()).unwrap();
    assert!(first.is_owner() && !second.is_owner());
    assert_eq!(second.owner_pid().unwrap(), std::process::id());
    let (_, before) = first.generation().unwrap();
    second.put(&cluster("from-second")).unwrap();
    assert!(first.get::<Cluster>("from-second").unwrap().is_some());
    assert!(
        first.generation().unwrap().1 > before,
        "a client's write is a new generation"
    );
    // Clones share the owner; dropping the last one hands the store on.
    let clone = first.clone();
    drop(first);
    assert!(second.get::<Cluster>("from-second").unwrap().is_some());
    assert!(!second.is_owner());
    drop(clone);
    second.put(&cluster("after")).unwrap();
    assert!(second.is_owner(), "the next request took the store over");
    assert_eq!(second.list::<Cluster>().unwrap().len(), 2);
    assert_eq!(mode(&dir.path().join("kdeck.sock")), 0o600);
}

#[test]
fn a_lock_file_that_is_a_link_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(&victim, data.join("kdeck.lock")).unwrap();
    let e = Store::open(&data).unwrap_err().to_string();
    assert!(e.contains("symbolic link") && e.contains("kdeck.lock"), "{e}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn a_data_dir_others_may_write_or_own_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let e = Store::open(&open).unwrap_err().to_string();
    assert!(e.contains("chmod 700") && e.contains("anyone"), "{e}");
    assert!(!open.join("store").exists(), "nothing was written into it");
    fs::set_permissions(&open, fs::Permissions::from_mode(0o770)).unwrap();
    let e = Store::open(&open).unwrap_err().to_string();
    assert!(e.contains("chmod 700") && e.contains("its group"), "{e}");
    // Only readable by others: kdeck closes it and goes on.
    fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
    Store::open(&open).unwrap();
    assert_eq!(mode(&open), 0o700);
    // Someone else's dir: as root, one is made by chown; else "/" is one.
    let theirs = if rustix::process::getuid().is_root() {
        let d = dir.path().join("theirs");
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&d, Some(65534), Some(65534)).unwrap();
        d
    } else {
        PathBuf::from("/")
    };
    let e = Store::open(&theirs).unwrap_err().to_string();
    assert!(e.contains("belongs to uid") && e.contains("chown"), "{e}");
}

#[test]
fn new_blob_files_are_private_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // A value this large goes to a blob file of its own.
    let mut c = cluster("big");
    c.server = "x".repeat(4 << 20);
    store.put(&c).unwrap();
    let mut seen = 0;
    let mut stack = vec![dir.path().join("store")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                seen += 1;
                assert_eq!(mode(&p), 0o600, "{}", p.display());
            }
        }
    }
    assert!(
        dir.path().join("store/blobs").read_dir().unwrap().count() >= 1,
        "a blob was written"
    );
    assert!(seen >= 3);
}

#[test]
fn a_new_store_has_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(MIGRATIONS.len() as u32, SCHEMA_VERSION);
}

static STEPS: AtomicU32 = AtomicU32::new(0);

fn step_rename(db: &sled::Db) -> Result<(), StoreError> {
    STEPS.fetch_add(1, Ordering::SeqCst);
    // v1 -> v2: clusters get an upper-case marker in a new tree.
    let t = db.open_tree("clusters")?;
    let out = db.open_tree("cluster_marks")?;
    for kv in t.iter() {
        let (k, _) = kv?;
        out.insert(k, &b"migrated"[..])?;
    }
    Ok(())
}

fn step_fail(_: &sled::Db) -> Result<(), StoreError> {
    Err(StoreError::Corrupt {
        tree: "x".into(),
        key: "y".into(),
        reason: "cannot migrate".into(),
    })
}

#[test]
fn migrations_run_in_order_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.put(&cluster("eu1")).unwrap();
    }
    let steps: &[Migration] = &[|_| Ok(()), step_rename];
    let before = STEPS.load(Ordering::SeqCst);
    {
        let store = Store::open_with_migrations(dir.path(), steps).unwrap();
        assert_eq!(store.schema_version().unwrap(), 2);
        assert_eq!(
            store.get_raw("cluster_marks", b"eu1").unwrap().as_deref(),
            Some(&b"migrated"[..])
        );
    }
    assert_eq!(STEPS.load(Ordering::SeqCst), before + 1);
    // Opening again runs nothing.
    Store::open_with_migrations(dir.path(), steps).unwrap();
    assert_eq!(STEPS.load(Ordering::SeqCst), before + 1);
    // An older kdeck refuses the newer store, naming both versions.
    let e = Store::open(dir.path()).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(
            e,
            StoreError::NewerSchema {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("newer kdeck") && text.contains("--data-dir"), "{text}");
}

#[test]
fn a_failed_migration_keeps_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path()).unwrap();
    let steps: &[Migration] = &[|_| Ok(()), step_fail];
    let e = Store::open_with_migrations(dir.path(), steps).unwrap_err();
    assert!(e.to_string().contains("from schema 1"), "{e}");
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), 1);
}

#[test]
fn journal_ids_increase_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = |n: &str| Command::RemoveCluster {
        name: n.into(),
        yes: false,
    };
    let mut ids = Vec::new();
    for round in 0..3 {
        let store = Store::open(dir.path()).unwrap();
        let j = Journal::new(store);
        for i in 0..5 {
            let e = j
                .begin(cmd(&format!("c{round}-{i}")), "me@host", format!("t{round}{i}"))
                .unwrap();
            assert_eq!(e.status, Status::Pending);
            ids.push(e.id);
        }
    }
    assert_eq!(ids, (1..=15).collect::<Vec<u64>>());
    let store = Store::open(dir.path()).unwrap();
    let j = Journal::new(store);
    let all = j.list().unwrap();
    let targets: Vec<String> = all.iter().map(|e| e.target.clone()).collect();
    assert_eq!(targets.first().map(String::as_str), Some("cluster c0-0"));
    assert_eq!(targets.last().map(String::as_str), Some("cluster c2-4"));
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
}

#[test]
fn journal_outcome_and_writes_land_together() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let j = Journal::new(store.clone());
    let mut e = j
        .begin(
            Command::RemoveCluster {
                name: "x".into(),
                yes: true,
            },
            "a@b",
            "t0".into(),
        )
        .unwrap();
    assert_eq!(j.get(e.id).unwrap().unwrap().status, Status::Pending);
    e.status = Status::Applied;
    e.finished_at = Some("t1".into());
    let mut b = Batch::new();
    b.put(&cluster("written-with-outcome")).unwrap();
    j.finish(&e, b).unwrap();
    let back = j.get(e.id).unwrap().unwrap();
    assert_eq!(back, e);
    assert!(store.get::<Cluster>("written-with-outcome").unwrap().is_some());
    assert_eq!(j.get(999).unwrap(), None);
}

#[test]
fn concurrent_writers_in_one_process_get_distinct_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let j = Journal::new(store.clone());
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| {
                        j.begin(
                            Command::RemoveCluster {
                                name: format!("t{t}-{i}"),
                                yes: false,
                            },
                            "a",
                            "t".into(),
                        )
                        .unwrap()
                        .id
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<u64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=100).collect::<Vec<u64>>());
}

/// Flips one bit in every 4 KiB of sled's main file, past its header.
fn damage(data: &Path) {
    let f = data.join("store/db");
    let mut bytes = fs::read(&f).unwrap();
    let mut i = 600;
    while i < bytes.len() {
        bytes[i] ^= 0x10;
        i += 4096;
    }
    fs::write(&f, bytes).unwrap();
}

#[test]
fn a_damaged_store_is_restored_from_its_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = Store::open(&data).unwrap();
        for i in 0..20 {
            store.put(&cluster(&format!("c{i}"))).unwrap();
        }
        let j = Journal::new(store.clone());
        let e = j
            .begin(
                Command::RemoveCluster {
                    name: "c0".into(),
                    yes: true,
                },
                "a@b",
                "t".into(),
            )
            .unwrap();
        let mut done = e.clone();
        done.status = Status::Applied;
        j.finish(&done, Batch::new()).unwrap();
    }
    let backup = data.join("backup.json");
    assert_eq!(mode(&backup), 0o600);
    let clean = Store::check(&data).unwrap();
    assert!(clean.readable);
    assert!(clean.trees.iter().all(|t| t.lost_on_restore == Some(0)), "{clean:?}");
    damage(&data);
    let e = Store::open(&data).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, StoreError::Damaged { .. }) && text.contains("kdeck store restore") && text.contains("backup from"),
        "{text}"
    );
    let report = Store::check(&data).unwrap();
    assert!(!report.readable && report.damage.is_some());
    assert_eq!(
        report.trees.iter().find(|t| t.tree == "clusters").unwrap().in_backup,
        20
    );
    let (b, aside) = Store::restore(&data).unwrap();
    assert_eq!(b.count("clusters"), 20);
    assert!(aside.exists(), "the damaged store is kept");
    let store = Store::open(&data).unwrap();
    assert_eq!(store.list::<Cluster>().unwrap().len(), 20);
    let j = Journal::new(store);
    assert_eq!(j.list().unwrap().len(), 1);
    assert_eq!(j.list().unwrap()[0].status, Status::Applied);
}

#[test]
fn a_conditional_write_lands_only_over_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let client = Store::open(dir.path()).unwrap();
    store.put(&cluster("a")).unwrap();
    let read = client.get_raw("clusters", b"a").unwrap().unwrap();
    // Someone else changes it after the read: the write based on it is refused.
    let mut changed = cluster("a");
    changed.server = "https://moved.example.com".into();
    store.put(&changed).unwrap();
    let mut b = Batch::new();
    b.put(&cluster("b")).unwrap();
    assert!(!client.write_if("clusters", b"a", Some(&read), b).unwrap());
    assert!(
        client.get::<Cluster>("b").unwrap().is_none(),
        "nothing of the batch landed"
    );
    // Over what is there now, it lands.
    let now = client.get_raw("clusters", b"a").unwrap().unwrap();
    let mut b = Batch::new();
    b.put(&cluster("b")).unwrap();
    assert!(client.write_if("clusters", b"a", Some(&now), b).unwrap());
    assert!(store.get::<Cluster>("b").unwrap().is_some());
}
