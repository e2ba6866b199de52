//! Terminal hygiene: raw mode and the alternate screen are entered once and
//! restored on every way out — a normal quit, an error, a panic, SIGTERM or
//! SIGHUP (a dropped SSH session). Terminal events are read on a thread of
//! their own and sent to the event loop.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{self, Event};
use crossterm::{cursor, execute, terminal};
use tokio::sync::mpsc;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back as it was. Safe to call more than once, and from
/// a panic hook.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = execute!(
            out,
            crossterm::event::DisableMouseCapture,
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
        let _ = terminal::disable_raw_mode();
        let _ = out.flush();
    }
}

/// Restores the terminal before the default panic message is printed, so the
/// message is readable and the shell is usable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Holds the terminal in raw mode on the alternate screen while it lives.
pub struct Guard;

impl Guard {
    pub fn enter() -> std::io::Result<Guard> {
        terminal::enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut out = std::io::stdout();
        if let Err(e) = execute!(out, terminal::EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        Ok(Guard)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Reads terminal events on a thread and sends them on, until `stop` is set
/// or the receiver is gone. While paused (an editor has the terminal) it
/// reads nothing, so no keystroke meant for the editor is taken.
pub struct Reader {
    stop: Arc<AtomicBool>,
    pause: Arc<AtomicBool>,
    parked: Arc<AtomicBool>,
}

impl Reader {
    pub fn spawn(tx: mpsc::UnboundedSender<Event>) -> Reader {
        let r = Reader {
            stop: Arc::new(AtomicBool::new(false)),
            pause: Arc::new(AtomicBool::new(false)),
            parked: Arc::new(AtomicBool::new(false)),
        };
        let (stop, pause, parked) = (r.stop.clone(), r.pause.clone(), r.parked.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if pause.load(Ordering::SeqCst) {
                    parked.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                parked.store(false, Ordering::SeqCst);
                match event::poll(Duration::from_millis(50)) {
                    Ok(true) => match event::read() {
                        Ok(ev) => {
                            if tx.send(ev).is_err() {
                                return;
                            }
                        }
                        Err(_) => return,
                    },
                    Ok(false) => {}
                    Err(_) => return,
                }
            }
        });
        r
    }

    /// Stops reading; returns once the thread is parked (at most one poll).
    pub fn pause(&self) {
        self.pause.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        while !self.parked.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn resume(&self) {
        self.pause.store(false, Ordering::SeqCst);
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Hands the terminal to another program (an editor): the screen and modes
/// as the shell had them.
pub fn suspend() {
    restore();
}

/// Takes the terminal back after [`suspend`].
pub fn resume() -> std::io::Result<()> {
    Guard::enter().map(std::mem::forget)
}
