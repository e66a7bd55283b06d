//! Whether the loops a process runs beside the HTTP server (the alert evaluator, the quote
//! poller, the notification dispatcher, ingest workers) are still running, for `/ready`.
//!
//! A loop is started with [`Loops::spawn`]: its task holds a guard that marks it dead when the
//! task ends for any reason (it returned, it panicked, it was aborted). `/ready` then answers
//! 503 naming it, so an orchestrator stops routing to a replica whose alerts no longer fire,
//! while `/health` (the process is up) stays 200. The loops stop only at shutdown, when the
//! server has stopped answering anyway.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

/// One loop: its name and whether it still runs.
type Entry = (&'static str, Arc<AtomicBool>);

/// The watched loops of one process.
#[derive(Debug, Clone, Default)]
pub struct Loops {
    entries: Arc<Mutex<Vec<Entry>>>,
}

impl Loops {
    /// Spawns `task` as the loop `name` (several may share a name, e.g. ingest workers).
    pub fn spawn<F>(&self, name: &'static str, task: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let alive = Arc::new(AtomicBool::new(true));
        self.lock().push((name, alive.clone()));
        let guard = AliveGuard(alive);
        tokio::spawn(async move {
            // Dropped with the task's future however it ends, a panic included.
            let _alive = guard;
            task.await;
        })
    }

    /// The names of the loops that have stopped, each once, in the order they were started.
    pub fn dead(&self) -> Vec<&'static str> {
        let mut dead: Vec<&'static str> = Vec::new();
        for (name, alive) in self.lock().iter() {
            if !alive.load(Ordering::Acquire) && !dead.contains(name) {
                dead.push(name);
            }
        }
        dead
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Marks its loop dead when dropped.
#[derive(Debug)]
struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
