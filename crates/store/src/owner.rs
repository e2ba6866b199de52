//! One store, many kdecks. The first kdeck to take the data dir's lock opens
//! sled and serves the others over a Unix socket in the data dir (0600, the
//! peer's uid checked); every other kdeck sends it its store operations.
//! When the owner exits, the requests it took finish first; when it dies,
//! the next request from any kdeck takes the lock and the store over.

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::db::Db;
use super::wire::{Request, Response, read_frame, write_frame};
use super::{StoreError, io_err};

pub const LOCK_FILE: &str = "kdeck.lock";
pub const SOCKET: &str = "kdeck.sock";

/// How long a request waits for the owner's answer before saying it does not answer.
const ANSWER_LIMIT: Duration = Duration::from_secs(20);
/// How long a kdeck waits to reach an owner (one that is starting, or the next one).
pub const REACH_LIMIT: Duration = Duration::from_secs(15);
/// How long an exiting owner waits for the requests it took.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// How often the owner copies a changed store to the backup file.
const BACKUP_EVERY: Duration = Duration::from_secs(3);

/// The longest path a Unix socket address holds (sun_path less its NUL).
const SOCKET_PATH_MAX: usize = 107;

/// The data dir's lock, held by the owner.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Takes the lock if no kdeck has it: `None` when another one does. The lock
/// file is opened without following a link, so that nobody can point it at
/// a file of the user's.
pub fn try_lock(dir: &Path) -> Result<Option<DirLock>, StoreError> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                StoreError::DataDir {
                    dir: dir.to_path_buf(),
                    reason: format!("{} is a symbolic link; remove it", path.display()),
                }
            } else {
                io_err(&path)(e)
            }
        })?;
    let meta = file.metadata().map_err(io_err(&path))?;
    if !meta.is_file() || meta.uid() != rustix::process::getuid().as_raw() {
        return Err(StoreError::DataDir {
            dir: dir.to_path_buf(),
            reason: format!("{} is not a file of yours; remove it", path.display()),
        });
    }
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => return Ok(None),
        Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
    }
    let write_pid = |f: &mut File| -> std::io::Result<()> {
        f.set_len(0)?;
        f.seek(SeekFrom::Start(0))?;
        write!(f, "{}", std::process::id())?;
        f.flush()
    };
    write_pid(&mut file).map_err(io_err(&path))?;
    Ok(Some(DirLock { _file: file }))
}

/// The pid written in the lock file by its holder, if it reads.
pub fn lock_holder(dir: &Path) -> Option<u32> {
    let path = dir.join(LOCK_FILE);
    let meta = fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > 32 {
        return None;
    }
    fs::read_to_string(&path).ok()?.trim().parse().ok()
}

/// The socket's path, or why it cannot be one.
pub fn socket_path(dir: &Path) -> Result<PathBuf, StoreError> {
    let path = dir.join(SOCKET);
    if path.as_os_str().len() > SOCKET_PATH_MAX {
        return Err(StoreError::DataDir {
            dir: dir.to_path_buf(),
            reason: format!(
                "its path is too long for the socket other kdecks reach the store by ({} bytes, at most {}); use a shorter --data-dir",
                path.as_os_str().len(),
                SOCKET_PATH_MAX - SOCKET.len() - 1
            ),
        });
    }
    Ok(path)
}

/// What the owner's server and its connections share.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    idle: Condvar,
}

#[derive(Default)]
struct GateState {
    stopping: bool,
    in_flight: usize,
}

impl Gate {
    /// Counts a request in, unless the server is stopping.
    fn enter(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.stopping {
            return false;
        }
        s.in_flight += 1;
        true
    }
    fn leave(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.in_flight = s.in_flight.saturating_sub(1);
        self.idle.notify_all();
    }
    /// Takes no more requests, and waits for those taken.
    fn stop_and_drain(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.stopping = true;
        let deadline = Instant::now() + DRAIN_LIMIT;
        while s.in_flight > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            s = self.idle.wait_timeout(s, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

struct Conn {
    stream: UnixStream,
    thread: JoinHandle<()>,
}

/// The owner's listener and the connections it took.
struct Server {
    path: PathBuf,
    gate: Arc<Gate>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<Conn>>>,
}

impl Server {
    fn start(path: PathBuf, db: Arc<Db>) -> Result<Self, StoreError> {
        // A socket left by an owner that died: the lock says it is gone.
        match fs::symlink_metadata(&path) {
            Ok(_) => fs::remove_file(&path).map_err(io_err(&path))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        let listener = UnixListener::bind(&path).map_err(io_err(&path))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(io_err(&path))?;
        let gate = Arc::new(Gate::default());
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<Conn>>> = Arc::default();
        let accept = {
            let (gate, stop, conns) = (gate.clone(), stop.clone(), conns.clone());
            std::thread::Builder::new()
                .name("kdeck-store".into())
                .spawn(move || accept_loop(listener, db, gate, stop, conns))
                .map_err(io_err(&path))?
        };
        Ok(Self {
            path,
            gate,
            stop,
            accept: Some(accept),
            conns,
        })
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.gate.stop_and_drain();
        // Wake the accept loop so that it sees the stop.
        let _ = UnixStream::connect(&self.path);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|p| p.into_inner()));
        for c in &conns {
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
        }
        for c in conns {
            let _ = c.thread.join();
        }
        let _ = fs::remove_file(&self.path);
    }
}

fn accept_loop(
    listener: UnixListener,
    db: Arc<Db>,
    gate: Arc<Gate>,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<Conn>>>,
) {
    let me = rustix::process::getuid();
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        // Only this user's processes may use the store.
        match rustix::net::sockopt::socket_peercred(&stream) {
            Ok(cred) if cred.uid == me => {}
            _ => continue,
        }
        let Ok(kept) = stream.try_clone() else { continue };
        let (db, gate) = (db.clone(), gate.clone());
        let Ok(thread) = std::thread::Builder::new()
            .name("kdeck-store-conn".into())
            .spawn(move || serve(stream, &db, &gate))
        else {
            continue;
        };
        let mut list = conns.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|c| !c.thread.is_finished());
        list.push(Conn { stream: kept, thread });
    }
}

fn serve(mut stream: UnixStream, db: &Db, gate: &Gate) {
    while let Ok(req) = read_frame::<Request>(&mut stream) {
        // A stopping owner answers nothing more: the asker goes to the next one.
        if !gate.enter() {
            return;
        }
        let resp = db
            .exec(&req)
            .unwrap_or_else(|e| Response::Error { reason: e.to_string() });
        let sent = write_frame(&mut stream, &resp);
        gate.leave();
        if sent.is_err() {
            return;
        }
    }
}

/// The kdeck that owns the store: the database, the server and the lock.
/// Dropping it stops the server after the requests it took, closes the
/// database, then lets the lock go, in that order.
pub struct Owner {
    server: Option<Server>,
    backups: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
    pub(super) db: Arc<Db>,
    _lock: DirLock,
}

impl std::fmt::Debug for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Owner")
    }
}

impl Owner {
    pub fn new(lock: DirLock, db: Db, socket: PathBuf) -> Result<Self, StoreError> {
        let db = Arc::new(db);
        let server = Server::start(socket, db.clone())?;
        // A store that opened is copied at once, then a few seconds after changes.
        let _ = db.backup_if_changed();
        let stop = Arc::new(AtomicBool::new(false));
        let backups = {
            let (db, flag) = (db.clone(), stop.clone());
            std::thread::Builder::new()
                .name("kdeck-backup".into())
                .spawn(move || {
                    while !flag.load(Ordering::SeqCst) {
                        std::thread::park_timeout(BACKUP_EVERY);
                        let _ = db.backup_if_changed();
                    }
                })
                .ok()
                .map(|t| (stop, t))
        };
        Ok(Self {
            server: Some(server),
            backups,
            db,
            _lock: lock,
        })
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(mut s) = self.server.take() {
            s.shutdown();
        }
        if let Some((stop, t)) = self.backups.take() {
            stop.store(true, Ordering::SeqCst);
            t.thread().unpark();
            let _ = t.join();
        }
        let _ = self.db.db.flush();
        let _ = self.db.backup_if_changed();
    }
}

/// Why a request to the owner did not get an answer.
pub enum Unanswered {
    /// No owner listens, or it went away: take the lock, or find the next one.
    Gone,
    /// An owner took the request and said nothing for [`ANSWER_LIMIT`].
    Silent,
}

/// A kdeck that reaches the store through its owner.
#[derive(Debug)]
pub struct Client {
    path: PathBuf,
    stream: Mutex<Option<UnixStream>>,
}

impl Client {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            stream: Mutex::new(None),
        }
    }

    pub fn call(&self, req: &Request) -> Result<Response, Unanswered> {
        let mut guard = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let s = UnixStream::connect(&self.path).map_err(|_| Unanswered::Gone)?;
            let _ = s.set_read_timeout(Some(ANSWER_LIMIT));
            *guard = Some(s);
        }
        let Some(stream) = guard.as_mut() else {
            return Err(Unanswered::Gone);
        };
        let answer = write_frame(stream, req).and_then(|()| read_frame::<Response>(stream));
        match answer {
            Ok(r) => Ok(r),
            Err(e) => {
                *guard = None;
                match e.kind() {
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Err(Unanswered::Silent),
                    _ => Err(Unanswered::Gone),
                }
            }
        }
    }
}
