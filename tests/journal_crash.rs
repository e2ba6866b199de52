//! The journal survives SIGKILL: a child process writes commands in a loop
//! and acknowledges each one on stdout once `begin` (or `finish`) returned;
//! the parent kills it at random moments, reopens the store and checks that
//! everything acknowledged is there, and that outcomes landed with their writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Proc, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kdeck::command::{Command, Journal, Status};
use kdeck::model::{Cluster, ClusterAuth, ImportSource, TlsSettings};
use kdeck::store::{Batch, Store, StoreError};

const CHILD_DIR: &str = "KDECK_CRASH_CHILD_DIR";
const TEST_NAME: &str = "acknowledged_commands_survive_sigkill";
const KILLS: usize = 25;

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
    }
}

/// The child: open the store (the killed one before it may hold the lock
/// for a moment), then write forever.
fn child(dir: &str) -> ! {
    let start = Instant::now();
    let store = loop {
        match Store::open(std::path::Path::new(dir)) {
            Ok(s) => break s,
            Err(StoreError::Locked { .. }) if start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("child cannot open the store: {e}"),
        }
    };
    let journal = Journal::new(store);
    let mut out = std::io::stdout().lock();
    writeln!(out, "open").unwrap();
    out.flush().unwrap();
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

/// A small deterministic generator, seeded from the clock and printed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
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
                Ok(l) if l == "open" => break,
                Ok(l) => early.push(l),
                Err(e) => {
                    let _ = child.kill();
                    panic!("round {round}: child did not open the store ({e}); it printed {early:?}");
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.next(40_000)));
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
    let journal = Journal::new(store.clone());
    let entries = journal.list().unwrap();
    assert!(entries.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
    for id in &acked {
        let e = journal
            .get(*id)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged command {id} is lost"));
        assert!(matches!(e.status, Status::Pending | Status::Applied));
    }
    for id in &done {
        let e = journal.get(*id).unwrap().unwrap();
        assert_eq!(e.status, Status::Applied, "finished command {id}");
    }
    // Outcome and writes land together: an applied entry has its cluster, a
    // pending one does not.
    for e in &entries {
        let has = store.get::<Cluster>(&format!("c{}", e.id)).unwrap().is_some();
        assert_eq!(
            has,
            e.status == Status::Applied,
            "entry {} is {:?} and its write is {}",
            e.id,
            e.status,
            has
        );
    }
    eprintln!(
        "{KILLS} kills: {} acknowledged, {} finished, {} entries, {} left pending",
        acked.len(),
        done.len(),
        entries.len(),
        entries.iter().filter(|e| e.status == Status::Pending).count()
    );
}
