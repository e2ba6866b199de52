//! The journal survives SIGKILL: a child process writes commands in a loop
//! and acknowledges each one on stdout once `begin` (or `finish`) returned;
//! the parent kills it at random moments, reopens the store and checks that
//! everything acknowledged is there, and that outcomes landed with their writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Proc, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kdeck_command::{Command, Journal, Status};
use kdeck_model::{Cluster, ClusterAuth, ImportSource, TlsSettings};
use kdeck_store::{Batch, Store};

mod common;
use common::Lcg;

const CHILD_DIR: &str = "KDECK_CRASH_CHILD_DIR";
const TEST_NAME: &str = "acknowledged_commands_survive_sigkill";
const KILLS: usize = 25;
const IDLE: &str = "KDECK_CRASH_CHILD_IDLE";
const TEST_TWO: &str = "the_owner_killed_while_two_others_write_loses_nothing_acknowledged";

fn cluster(id: u64) -> Cluster {
    Cluster {
        name: format!("c{id}"),
        server: "https://x.example.com".into(),
        context: format!("c{id}"),
        namespace: None,
        tls: TlsSettings::default(),
        proxy_url: None,
        auth: ClusterAuth::default(),
        source: ImportSource {
            file: "f".into(),
            imported_at: "t".into(),
        },
        read_only: false,
        prod: None,
        labels: Default::default(),
    }
}

/// The child: open the store (the killed one before it may hold the lock
/// for a moment), then write forever.
fn child(dir: &str) -> ! {
    let start = Instant::now();
    let store = loop {
        match Store::open(std::path::Path::new(dir)) {
            Ok(s) => break s,
            Err(e) if start.elapsed() < Duration::from_secs(10) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("child cannot open the store: {e}"),
        }
    };
    let owner = store.is_owner();
    let journal = Journal::new(store);
    let mut out = std::io::stdout().lock();
    writeln!(out, "open {}", if owner { "owner" } else { "client" }).unwrap();
    out.flush().unwrap();
    if std::env::var_os(IDLE).is_some() {
        // The owner of the second test: it only serves the others.
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    loop {
        let cmd = Command::RemoveCluster {
            name: "x".into(),
            yes: true,
        };
        let mut e = journal.begin(cmd, "crash@test", "t".into()).unwrap();
        writeln!(out, "ack {}", e.id).unwrap();
        out.flush().unwrap();
        e.status = Status::Applied;
        let mut b = Batch::new();
        b.put(&cluster(e.id)).unwrap();
        journal.finish(&e, b).unwrap();
        writeln!(out, "done {}", e.id).unwrap();
        out.flush().unwrap();
    }
}

/// Everything acknowledged is there, everything finished applied, and each
/// outcome landed with its write (an applied entry has its cluster, a
/// pending one does not). Returns the entries.
fn check_journal(store: &Store, acked: &[u64], done: &[u64]) -> Vec<kdeck_command::JournalEntry> {
    let journal = Journal::new(store.clone());
    let entries = journal.list().unwrap();
    assert!(entries.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
    for id in acked {
        let e = journal
            .get(*id)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged command {id} is lost"));
        assert!(matches!(e.status, Status::Pending | Status::Applied));
    }
    for id in done {
        assert_eq!(
            journal.get(*id).unwrap().unwrap().status,
            Status::Applied,
            "finished command {id}"
        );
    }
    for e in &entries {
        let has = store.get::<Cluster>(&format!("c{}", e.id)).unwrap().is_some();
        assert_eq!(
            has,
            e.status == Status::Applied,
            "entry {} is {:?} and its write is {has}",
            e.id,
            e.status
        );
    }
    entries
}

#[test]
fn acknowledged_commands_survive_sigkill() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        child(&dir);
    }
    let dir = tempfile::tempdir().unwrap();
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("crash test seed {seed}");
    let mut rng = Lcg(seed);
    let exe = std::env::current_exe().unwrap();
    let mut acked = Vec::new();
    let mut done = Vec::new();
    for round in 0..KILLS {
        let mut child = Proc::new(&exe)
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest prints "test NAME ... " without a newline before the child's output.
                let l = l.rsplit(" ... ").next().unwrap_or(&l).to_string();
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        // Wait until the child has the store open, then kill it at a random moment.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut early = Vec::new();
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(l) if l.starts_with("open") => break,
                Ok(l) => early.push(l),
                Err(e) => {
                    let _ = child.kill();
                    panic!("round {round}: child did not open the store ({e}); it printed {early:?}");
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        for l in rx.try_iter() {
            if let Some(id) = l.strip_prefix("ack ") {
                acked.push(id.parse::<u64>().unwrap());
            } else if let Some(id) = l.strip_prefix("done ") {
                done.push(id.parse::<u64>().unwrap());
            }
        }
        // The store opens after every kill.
        let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("round {round}: store does not open: {e}"));
        drop(store);
    }
    assert!(
        acked.len() >= KILLS,
        "the child acknowledged only {} commands",
        acked.len()
    );

    let store = Store::open(dir.path()).unwrap();
    let entries = check_journal(&store, &acked, &done);
    eprintln!(
        "{KILLS} kills: {} acknowledged, {} finished, {} entries, {} left pending",
        acked.len(),
        done.len(),
        entries.len(),
        entries.iter().filter(|e| e.status == Status::Pending).count()
    );
}

/// A child of this test binary that runs `test` (its child branch), with
/// each line it prints sent to `tx` tagged with `who`.
fn spawn_child(
    test: &str,
    dir: &std::path::Path,
    idle: bool,
    who: usize,
    tx: std::sync::mpsc::Sender<(usize, String)>,
) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Proc::new(&exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(
            std::fs::File::create(format!("/tmp/crash-child-{who}.log"))
                .map(Stdio::from)
                .unwrap_or(Stdio::null()),
        );
    if idle {
        cmd.env(IDLE, "1");
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let l = l.rsplit(" ... ").next().unwrap_or(&l).to_string();
            if tx.send((who, l)).is_err() {
                break;
            }
        }
    });
    child
}

/// Many kdecks on one store: an idle owner serves two writers and is
/// SIGKILLed at a random moment; the writers carry on (one of them takes
/// the store over) and nothing either had acknowledged is lost; ids stay
/// dense. Then the writers are killed too, and the next round begins.
#[test]
fn the_owner_killed_while_two_others_write_loses_nothing_acknowledged() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        child(&dir);
    }
    const ROUNDS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("owner-kill test seed {seed}");
    let mut rng = Lcg(seed);
    let mut acked = Vec::new();
    let mut done = Vec::new();
    let mut after_kill = [0usize; 2];
    for round in 0..ROUNDS {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, String)>();
        let mut lines: Vec<(usize, String)> = Vec::new();
        let wait_for = |rx: &std::sync::mpsc::Receiver<(usize, String)>,
                        lines: &mut Vec<(usize, String)>,
                        who: usize,
                        what: &str| {
            if lines.iter().any(|(w, l)| *w == who && l.starts_with(what)) {
                return;
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let (w, l) = rx
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .unwrap_or_else(|_| panic!("round {round}: child {who} never said {what:?}"));
                let hit = w == who && l.starts_with(what);
                lines.push((w, l));
                if hit {
                    return;
                }
            }
        };
        let mut owner = spawn_child(TEST_TWO, dir.path(), true, 9, tx.clone());
        wait_for(&rx, &mut lines, 9, "open owner");
        let mut writers: Vec<_> = (0..2)
            .map(|w| spawn_child(TEST_TWO, dir.path(), false, w, tx.clone()))
            .collect();
        for w in 0..2 {
            wait_for(&rx, &mut lines, w, "open client");
        }
        std::thread::sleep(Duration::from_millis(20 + rng.below(80)));
        owner.kill().unwrap(); // SIGKILL
        owner.wait().unwrap();
        // Both writers carry on: each acknowledges more after the kill.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut more = [0usize; 2];
        while more.iter().any(|m| *m < 5) && Instant::now() < deadline {
            if let Ok((w, l)) = rx.recv_timeout(Duration::from_millis(100)) {
                if w < 2 && l.starts_with("done ") {
                    more[w] += 1;
                }
                lines.push((w, l));
            }
        }
        assert!(
            more.iter().all(|m| *m >= 5),
            "round {round}: the writers stalled after the owner died: {more:?}"
        );
        for w in 0..2 {
            after_kill[w] += more[w];
        }
        for mut c in writers.drain(..) {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        drop(tx);
        lines.extend(rx.iter());
        for (_, l) in &lines {
            if let Some(id) = l.strip_prefix("ack ") {
                acked.push(id.parse::<u64>().unwrap());
            } else if let Some(id) = l.strip_prefix("done ") {
                done.push(id.parse::<u64>().unwrap());
            }
        }
    }
    let store = Store::open(dir.path()).unwrap();
    let journal = Journal::new(store.clone());
    let entries = check_journal(&store, &acked, &done);
    let ids: Vec<u64> = entries.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "ids are dense and ordered"
    );
    // What the killed writers left pending is interrupted now, and listed as failed.
    let pending = entries.iter().filter(|e| e.status == Status::Pending).count();
    assert_eq!(journal.recover("later").unwrap(), pending);
    assert!(journal.list().unwrap().iter().all(|e| e.status != Status::Pending));
    eprintln!(
        "{ROUNDS} owner kills: {} acknowledged, {} finished ({:?} after the kills), {} entries, {pending} interrupted",
        acked.len(),
        done.len(),
        after_kill,
        entries.len()
    );
}
