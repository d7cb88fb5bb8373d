//! Threads for SQLite work that may take long: collection pages (a count, includes, a
//! deep offset) and batches. SPEC §5: one slow request never stalls the others. SQLite's
//! quick work (authentication, one resource, a single write) runs right on the HTTP
//! worker, where a thread hop would cost more than the query; work that may take
//! milliseconds or seconds runs here instead, so the worker goes on answering.
//!
//! Which work is slow is learned, not guessed: [`Learned`] remembers how much CPU time
//! the database work of the last requests of each kind (route, account, include, sort,
//! filter names) took. A kind that
//! took longer than [`SLOW`] goes to these threads next time; a quick one stays on the
//! worker, which for a 25-row page is worth a fifth of its throughput (the hop and the
//! lower priority). A new kind starts on the worker, so a slow one stalls it at most once.
//!
//! The threads run at a lower scheduling priority (nice 10). On two cores, four slow
//! lists beside two busy workers would otherwise take two thirds of the CPU; at nice 10
//! the kernel gives the workers about nine tenths of it whenever both want it, so quick
//! requests stay quick and slow ones use what is left.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

/// The CPU time this thread has used (zero where the clock is not available).
pub fn thread_cpu_time() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec for the call to fill.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0 {
            return Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
        }
    }
    Duration::ZERO
}

/// Database CPU time past which a kind of request is sent to the threads. Not lower: a
/// 500 KB include page (a few milliseconds) sent there waited behind the workers at its
/// lower priority, and its p99 tripled, while a quick request that waits behind it on
/// the worker loses no more than this.
pub const SLOW: Duration = Duration::from_millis(20);

/// How many kinds are remembered; past that the memory starts over.
const KINDS_KEPT: usize = 10_000;

/// The database time of recent requests, by kind (a hash the caller computes).
#[derive(Default)]
pub struct Learned {
    micros: Mutex<HashMap<u64, f64>>,
}

impl Learned {
    /// Whether requests of this kind were slow lately.
    pub fn is_slow(&self, kind: u64) -> bool {
        self.micros
            .lock()
            .ok()
            .and_then(|m| m.get(&kind).copied())
            .is_some_and(|micros| micros > SLOW.as_micros() as f64)
    }

    /// Remembers one request's database time (a moving average: a kind that became
    /// quick goes back to the worker after a few requests).
    pub fn record(&self, kind: u64, took: Duration) {
        let sample = took.as_micros() as f64;
        if let Ok(mut m) = self.micros.lock() {
            if m.len() >= KINDS_KEPT && !m.contains_key(&kind) {
                m.clear();
            }
            let average = m.entry(kind).or_insert(sample);
            *average = *average * 0.7 + sample * 0.3;
        }
    }
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of low-priority threads taking jobs in order.
pub struct HeavyPool {
    jobs: Mutex<Sender<Job>>,
}

/// The niceness of the threads: lower priority than the HTTP workers (nice 0).
const NICENESS: i32 = 10;

impl HeavyPool {
    pub fn new(threads: usize) -> HeavyPool {
        let (jobs, queue) = channel::<Job>();
        let queue = std::sync::Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("roster-heavy-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panic drops the job's answer (the caller gets `None`)
                            // and leaves the thread serving.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => return, // the pool was dropped
                        }
                    }
                });
            if let Err(e) = spawned {
                log::error!("cannot start a database thread: {e}");
            }
        }
        HeavyPool {
            jobs: Mutex::new(jobs),
        }
    }

    /// Runs `work` on one of the threads; the answer arrives when it is done. `None`
    /// when the pool is gone (the server is stopping) or the work panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        self.jobs.lock().ok()?.send(job).ok()?;
        answered.await.ok()
    }
}

/// Lowers the calling thread's priority (Linux applies `setpriority` with `who = 0`
/// to the calling thread only). Raising it back would need a privilege, so the threads
/// stay low for their whole life.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system call on the calling thread; no memory is shared.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, NICENESS) };
        if rc != 0 {
            log::warn!("cannot lower the priority of a database thread");
        }
    }
}
