//! The fixed pool of PostgreSQL connections.
//!
//! Each connection is owned by one worker thread that takes jobs from a
//! shared `crossbeam` channel. Client connections never own a database
//! connection: they send a job and wait for its answer, so a thousand idle
//! (or long-polling) clients cost no database sessions at all.
//!
//! Appends get one extra trick, group commit: a worker that picks up an
//! append also takes every other append already waiting in the queue and
//! commits them all in one PostgreSQL transaction, so many producers share
//! one fsync ([`crate::storage::log::append_group`]).
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

/// A unit of work for a pool worker.
enum Job {
    /// Any database work; gets the worker's connection, or the reason there
    /// is none.
    Task(Box<dyn FnOnce(Result<&mut Db, StorageError>) + Send>),
    /// A produce append, eligible for group commit.
    Append(AppendJob),
}

/// A job and when it was queued (for [`POOL_WAIT_SECONDS`]).
struct Queued {
    job: Job,
    at: Instant,
}

/// Most appends one transaction takes from the queue. Bounds the latency a
/// single commit adds and the memory one transaction holds.
const MAX_GROUP_COMMIT: usize = 256;

/// How long a caller waits for its job before giving up with a retriable
/// error. Clients' own request timeouts default to 30 s.
const JOB_TIMEOUT: Duration = Duration::from_secs(25);

pub struct Pool {
    jobs: Option<Sender<Queued>>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `size` workers. Each connects to `url` lazily (on its first
    /// job) and again after any connection failure. How long jobs wait
    /// for a worker goes to `metrics`.
    pub fn start(url: &str, size: usize, metrics: Arc<Metrics>) -> Pool {
        let (tx, rx) = unbounded::<Queued>();
        let workers = (0..size.max(1))
            .map(|i| {
                let rx = rx.clone();
                let url = url.to_string();
                let metrics = Arc::clone(&metrics);
                std::thread::Builder::new()
                    .name(format!("pg-worker-{i}"))
                    .spawn(move || worker_loop(&url, &rx, &metrics))
                    .expect("spawning a pool worker thread at startup")
            })
            .collect();
        Pool {
            jobs: Some(tx),
            workers,
        }
    }

    /// Runs `f` on a pooled connection and waits for its result.
    pub fn run<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, StorageError> + Send + 'static,
    {
        let (reply_tx, reply_rx) = bounded(1);
        let task = Box::new(move |db: Result<&mut Db, StorageError>| {
            let result = db.and_then(f);
            let _ = reply_tx.send(result);
        });
        self.submit(Job::Task(task))?;
        wait(&reply_rx)
    }

    /// Queues an append for group commit and waits until it is committed.
    pub fn append(&self, job: AppendJob) -> Result<(), StorageError> {
        self.submit(Job::Append(job))
    }

    /// Jobs waiting for a worker (for logs and metrics).
    pub fn queue_depth(&self) -> usize {
        self.jobs.as_ref().map_or(0, Sender::len)
    }

    fn submit(&self, job: Job) -> Result<(), StorageError> {
        let jobs = self
            .jobs
            .as_ref()
            .ok_or_else(|| StorageError::Unavailable("the broker is shutting down".into()))?;
        jobs.send(Queued {
            job,
            at: Instant::now(),
        })
        .map_err(|_| StorageError::Unavailable("the database pool has stopped".into()))
    }

    /// Lets the workers finish the queued jobs, then closes the connections.
    pub fn shutdown(&mut self) {
        self.jobs = None;
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

fn worker_loop(url: &str, jobs: &Receiver<Queued>, metrics: &Metrics) {
    let mut conn = Connection {
        url: url.to_string(),
        db: None,
        last_failure: None,
    };
    let waited = |queued: Queued| {
        metrics.observe(&POOL_WAIT_SECONDS, &[], queued.at.elapsed());
        queued.job
    };
    while let Ok(queued) = jobs.recv() {
        match waited(queued) {
            Job::Task(task) => task(conn.get()),
            Job::Append(first) => {
                let mut group = vec![first];
                let mut deferred = Vec::new();
                while group.len() < MAX_GROUP_COMMIT {
                    match jobs.try_recv().map(waited) {
                        Ok(Job::Append(more)) => group.push(more),
                        Ok(Job::Task(task)) => deferred.push(task),
                        Err(_) => break,
                    }
                }
                crate::storage::log::append_group(conn.get(), group);
                for task in deferred {
                    task(conn.get());
                }
            }
        }
    }
}
