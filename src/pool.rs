//! The fixed pool of PostgreSQL connections.
//!
//! Each connection is owned by one worker thread that takes jobs from a
//! shared `crossbeam` channel. Client connections never own a database
//! connection: they send a job and wait for its answer, so a thousand idle
//! (or long-polling) clients cost no database sessions at all.
//!
//! Appends get a lane of their own, served by [`APPEND_WORKERS`] more
//! workers with their own connections, and with it group commit: while a
//! transaction commits, every append that arrives waits in the lane, and
//! the next free worker takes all of them at once, so many producers share
//! one fsync ([`crate::storage::log::append_group`]). Appends to one
//! partition have to take turns on its row lock anyway; the lane turns
//! that queue into batches instead of a convoy of one-append transactions.
//!
//! A worker whose connection broke (PostgreSQL restarted, network blip)
//! reconnects before its next job; jobs that arrive while PostgreSQL is down
//! fail fast with [`StorageError::Unavailable`], which handlers turn into
//! retriable Kafka errors.

use crate::metrics::{Metrics, POOL_WAIT_SECONDS};
use crate::storage::log::AppendJob;
use crate::storage::{Db, StorageError};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Any database work; gets the worker's connection, or the reason there
/// is none.
type Task = Box<dyn FnOnce(Result<&mut Db, StorageError>) + Send>;

/// A job and when it was queued (for [`POOL_WAIT_SECONDS`]).
struct Queued<T> {
    job: T,
    at: Instant,
}

/// Most appends one transaction takes from the queue. Bounds the latency a
/// single commit adds and the memory one transaction holds.
const MAX_GROUP_COMMIT: usize = 256;

/// Workers serving the append lane. While one waits for its COMMIT (the
/// fsync), the other gathers the appends that arrived meanwhile and sends
/// them, so PostgreSQL's WAL flush and the broker's encoding overlap instead
/// of taking turns. Two transactions touching the same partition still
/// serialise on its row lock, which keeps offsets dense and in commit order.
const APPEND_WORKERS: usize = 2;

/// How long a caller waits for its job before giving up with a retriable
/// error. Clients' own request timeouts default to 30 s.
const JOB_TIMEOUT: Duration = Duration::from_secs(25);

pub struct Pool {
    tasks: Option<Sender<Queued<Task>>>,
    appends: Option<Sender<Queued<AppendJob>>>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `size` task workers and the append workers. Each connects to
    /// `url` as it starts, and again (on its next job) after any connection
    /// failure. How long jobs wait for a worker goes to `metrics`.
    pub fn start(url: &str, size: usize, metrics: Arc<Metrics>) -> Pool {
        let (task_tx, task_rx) = unbounded::<Queued<Task>>();
        let (append_tx, append_rx) = unbounded::<Queued<AppendJob>>();
        let mut workers: Vec<JoinHandle<()>> = (0..size.max(1))
            .map(|i| {
                let rx = task_rx.clone();
                let url = url.to_string();
                let metrics = Arc::clone(&metrics);
                std::thread::Builder::new()
                    .name(format!("pg-worker-{i}"))
                    .spawn(move || task_loop(&url, &rx, &metrics))
                    .expect("spawning a pool worker thread at startup")
            })
            .collect();
        workers.extend((0..APPEND_WORKERS).map(|i| {
            let rx = append_rx.clone();
            let url = url.to_string();
            let metrics = Arc::clone(&metrics);
            std::thread::Builder::new()
                .name(format!("pg-appender-{i}"))
                .spawn(move || append_loop(&url, &rx, &metrics))
                .expect("spawning an append worker thread at startup")
        }));
        Pool {
            tasks: Some(task_tx),
            appends: Some(append_tx),
            workers,
        }
    }

    /// Runs `f` on a pooled connection and waits for its result.
    pub fn run<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, StorageError> + Send + 'static,
    {
        wait(&self.queue(f)?)
    }

    /// Queues `f` for a pooled connection without waiting; [`wait`] on the
    /// returned channel gives its result. Several started jobs run on
    /// different workers at once.
    pub fn queue<T, F>(&self, f: F) -> Result<Receiver<Result<T, StorageError>>, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, StorageError> + Send + 'static,
    {
        let (reply_tx, reply_rx) = bounded(1);
        let task = Box::new(move |db: Result<&mut Db, StorageError>| {
            let result = db.and_then(f);
            let _ = reply_tx.send(result);
        });
        submit(self.tasks.as_ref(), task)?;
        Ok(reply_rx)
    }

    /// Queues an append for group commit; its job's channel gets the answer
    /// once it is committed.
    pub fn append(&self, job: AppendJob) -> Result<(), StorageError> {
        submit(self.appends.as_ref(), job)
    }

    /// Jobs waiting for a worker (for logs and metrics).
    pub fn queue_depth(&self) -> usize {
        self.tasks.as_ref().map_or(0, Sender::len) + self.appends.as_ref().map_or(0, Sender::len)
    }

    /// Lets the workers finish the queued jobs, then closes the connections.
    pub fn shutdown(&mut self) {
        self.tasks = None;
        self.appends = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Waits for a job's reply.
pub fn wait<T>(reply: &Receiver<Result<T, StorageError>>) -> Result<T, StorageError> {
    match reply.recv_timeout(JOB_TIMEOUT) {
        Ok(result) => result,
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(StorageError::Unavailable(
            "timed out waiting for the database".into(),
        )),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(StorageError::Unavailable(
            "the database worker stopped".into(),
        )),
    }
}

/// A worker's connection, reconnected on demand with a short backoff so a
/// PostgreSQL outage does not turn into a connection storm.
struct Connection {
    url: String,
    db: Option<Db>,
    last_failure: Option<(Instant, StorageError)>,
}

const RECONNECT_BACKOFF: Duration = Duration::from_millis(500);

impl Connection {
    /// Runs a job on this connection. A bug that panics inside a job must
    /// not take the worker down with it: the job's caller sees its reply
    /// channel close (a retriable error), and the connection, possibly
    /// mid-transaction, is dropped and made anew.
    fn guard(&mut self, job: impl FnOnce(Result<&mut Db, StorageError>)) {
        let db = self.get();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(db)));
        if outcome.is_err() {
            log::error!("a database job panicked; its connection is reset");
            self.db = None;
        }
    }

    /// Connects before the first job arrives: a connection (with its TLS
    /// handshake) costs tens of milliseconds, which the first request a
    /// worker serves should not pay. A failure here is only remembered;
    /// the first job tries again.
    fn warm_up(&mut self) {
        let _ = self.get();
    }

    fn get(&mut self) -> Result<&mut Db, StorageError> {
        if self.db.as_ref().is_some_and(Db::is_closed) {
            log::warn!("database connection lost; reconnecting");
            self.db = None;
        }
        if self.db.is_none() {
            if let Some((at, err)) = &self.last_failure {
                if at.elapsed() < RECONNECT_BACKOFF {
                    return Err(err.clone());
                }
            }
            match Db::connect(&self.url) {
                Ok(db) => {
                    if self.last_failure.take().is_some() {
                        log::info!("database connection re-established");
                    }
                    self.db = Some(db);
                }
                Err(err) => {
                    self.last_failure = Some((Instant::now(), err.clone()));
                    return Err(err);
                }
            }
        }
        self.db
            .as_mut()
            .ok_or_else(|| StorageError::Unavailable("no database connection".into()))
    }
}

fn submit<T>(lane: Option<&Sender<Queued<T>>>, job: T) -> Result<(), StorageError> {
    let lane =
        lane.ok_or_else(|| StorageError::Unavailable("the broker is shutting down".into()))?;
    lane.send(Queued {
        job,
        at: Instant::now(),
    })
    .map_err(|_| StorageError::Unavailable("the database pool has stopped".into()))
}

fn connection(url: &str) -> Connection {
    Connection {
        url: url.to_string(),
        db: None,
        last_failure: None,
    }
}

/// Takes a job off its queue, recording how long it waited.
fn waited<T>(metrics: &Metrics, queued: Queued<T>) -> T {
    metrics.observe(&POOL_WAIT_SECONDS, &[], queued.at.elapsed());
    queued.job
}

fn task_loop(url: &str, tasks: &Receiver<Queued<Task>>, metrics: &Metrics) {
    let mut conn = connection(url);
    conn.warm_up();
    while let Ok(queued) = tasks.recv() {
        let task = waited(metrics, queued);
        conn.guard(task);
    }
}

fn append_loop(url: &str, appends: &Receiver<Queued<AppendJob>>, metrics: &Metrics) {
    let mut conn = connection(url);
    conn.warm_up();
    while let Ok(first) = appends.recv() {
        let mut group = vec![waited(metrics, first)];
        while group.len() < MAX_GROUP_COMMIT {
            match appends.try_recv() {
                Ok(more) => group.push(waited(metrics, more)),
                Err(_) => break,
            }
        }
        conn.guard(|db| crate::storage::log::append_group(db, group));
    }
}
