//! A compact harness for the reliability tests: a fresh database, the real
//! `kafkaesque` binary on a free port, and the ways to hurt it (kill -9,
//! SIGTERM, restart on the same database), plus a raw-socket client for
//! requests no well-behaved client would send.
//!
//! Long variants: set `KQ_LONG=1` (see `docs/reliability.md`).

#![allow(dead_code)] // each test binary uses a different part of it

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// The database and port helpers are the shared harness's.
#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)] // used by the tests that take PostgreSQL down
pub use common::private_postgres::PrivatePostgres;
pub use common::{free_port, TestDb};

/// True when the long variants were asked for (`KQ_LONG=1`).
pub fn long_run() -> bool {
    std::env::var("KQ_LONG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The real broker binary, restartable on the same port and database.
pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    args: Vec<String>,
    pub log_path: PathBuf,
    pub db: TestDb,
}

impl Broker {
    /// Starts a broker on a fresh database with extra flags; `label` names
    /// its log file.
    pub fn start(label: &str, extra_args: &[&str]) -> Broker {
        Broker::start_with_db(label, TestDb::create(), extra_args)
    }

    /// Starts a broker on a fresh database of another PostgreSQL server
    /// (`postgres://user@host:port`), such as a [`PrivatePostgres`].
    pub fn start_on(label: &str, server: &str, extra_args: &[&str]) -> Broker {
        Broker::start_with_db(label, TestDb::create_on(server), extra_args)
    }

    fn start_with_db(label: &str, db: TestDb, extra_args: &[&str]) -> Broker {
        let dir = std::env::temp_dir().join("kafkaesque-reliability");
        let _ = fs::create_dir_all(&dir);
        let mut broker = Broker {
            child: None,
            port: free_port(),
            args: extra_args.iter().map(|s| s.to_string()).collect(),
            log_path: dir.join(format!("{label}_{}.log", db.name)),
            db,
        };
        broker.spawn();
        broker
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("broker is running").id()
    }

    /// The broker's stderr so far (appended across restarts).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    fn spawn(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("create the broker log file");
        let child = Command::new(env!("CARGO_BIN_EXE_kafkaesque"))
            .arg("--init-schema")
            .args(["--listener", &self.addr()])
            .args(["--database-url", &self.db.url()])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn the kafkaesque binary");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "kafkaesque exited during start-up ({status}):\n{}",
                    self.log()
                );
            }
            if TcpStream::connect(self.addr()).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "kafkaesque did not listen on {} within 30 s:\n{}",
                self.addr(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: the process dies between any two instructions.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM: asks for a graceful shutdown (does not wait).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts the binary again on the same port and database.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart: the broker is still running");
        self.spawn();
    }

    /// The broker's resident set size in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        self.proc_status_kib("VmRSS:")
    }

    /// The broker's peak resident set size in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        self.proc_status_kib("VmHWM:")
    }

    fn proc_status_kib(&self, field: &str) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Panics with the log tail unless the broker process is alive.
    pub fn assert_alive(&mut self) {
        if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
            let log = self.log();
            let tail: String = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            panic!("the broker died ({status}); log tail:\n{tail}");
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            eprintln!("broker log: {}", self.log_path.display());
        }
    }
}

/// Creates a topic with a raw CreateTopics v4 request (no async admin
/// client needed); panics unless the broker says it was created.
pub fn create_topic(addr: &str, name: &str, partitions: i32) {
    use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreateTopicsRequest};
    use kafka_protocol::messages::create_topics_response::CreateTopicsResponse;
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
    let request = CreateTopicsRequest::default()
        .with_topics(vec![CreatableTopic::default()
            .with_name(TopicName(StrBytes::from_string(name.to_owned())))
            .with_num_partitions(partitions)
            .with_replication_factor(1)])
        .with_timeout_ms(10_000);
    let mut body = Vec::new();
    request.encode(&mut body, 4).expect("encode CreateTopics");
    let mut conn = RawConn::connect(addr);
    let response = conn.request(19, 4, &body).expect("CreateTopics answered");
    let mut bytes = bytes::Bytes::from(response);
    let response = CreateTopicsResponse::decode(&mut bytes, 4).expect("decode CreateTopics");
    let code = response.topics[0].error_code;
    assert_eq!(code, 0, "CreateTopics {name}: error {code}");
}

/// A plain TCP connection speaking request header v1 (non-flexible).
pub struct RawConn {
    pub stream: TcpStream,
    correlation_id: i32,
}

impl RawConn {
    pub fn connect(addr: &str) -> RawConn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("set read timeout");
        RawConn {
            stream,
            correlation_id: 0,
        }
    }

    /// Sends one request (header v1 + `body`) and returns the response body
    /// after the correlation id. `Err` if the connection closed or timed out.
    pub fn request(&mut self, key: i16, version: i16, body: &[u8]) -> std::io::Result<Vec<u8>> {
        self.correlation_id += 1;
        let frame = request_frame(key, version, self.correlation_id, body);
        self.stream.write_all(&frame)?;
        let (correlation_id, body) = self.read_response()?;
        if correlation_id != self.correlation_id {
            return Err(std::io::Error::other(format!(
                "correlation id {correlation_id}, expected {}",
                self.correlation_id
            )));
        }
        Ok(body)
    }

    /// Reads one response frame: (correlation id, rest).
    pub fn read_response(&mut self) -> std::io::Result<(i32, Vec<u8>)> {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size)?;
        let size = i32::from_be_bytes(size);
        if !(4..=64 << 20).contains(&size) {
            return Err(std::io::Error::other(format!("response size {size}")));
        }
        let mut frame = vec![0u8; size as usize];
        self.stream.read_exact(&mut frame)?;
        let correlation_id = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
        Ok((correlation_id, frame[4..].to_vec()))
    }

    /// True once the broker has closed the connection (reads EOF or reset
    /// within `timeout`).
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(timeout));
        let mut buf = [0u8; 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false
                }
                Err(_) => return true,
            }
        }
    }
}

/// A size-prefixed request frame with header v1 and client id "reliability".
pub fn request_frame(key: i16, version: i16, correlation_id: i32, body: &[u8]) -> Vec<u8> {
    let client_id = b"reliability";
    let mut frame = Vec::with_capacity(body.len() + 32);
    let size = 2 + 2 + 4 + 2 + client_id.len() + body.len();
    frame.extend_from_slice(&(size as i32).to_be_bytes());
    frame.extend_from_slice(&key.to_be_bytes());
    frame.extend_from_slice(&version.to_be_bytes());
    frame.extend_from_slice(&correlation_id.to_be_bytes());
    frame.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    frame.extend_from_slice(client_id);
    frame.extend_from_slice(body);
    frame
}

/// One ApiVersions v0 round trip on a new connection; the broker is
/// serving if this returns Ok with error code 0.
pub fn api_versions_ok(addr: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    api_versions_on(&mut stream)
}

/// One ApiVersions v0 round trip on an open stream.
pub fn api_versions_on(stream: &mut TcpStream) -> Result<(), String> {
    stream
        .write_all(&request_frame(18, 0, 7, &[]))
        .map_err(|e| format!("write: {e}"))?;
    let mut size = [0u8; 4];
    stream
        .read_exact(&mut size)
        .map_err(|e| format!("read size: {e}"))?;
    let size = i32::from_be_bytes(size);
    if !(6..=1 << 20).contains(&size) {
        return Err(format!("response size {size}"));
    }
    let mut frame = vec![0u8; size as usize];
    stream
        .read_exact(&mut frame)
        .map_err(|e| format!("read body: {e}"))?;
    let correlation_id = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
    let error_code = i16::from_be_bytes([frame[4], frame[5]]);
    if correlation_id != 7 || error_code != 0 {
        return Err(format!(
            "correlation id {correlation_id}, error code {error_code}"
        ));
    }
    Ok(())
}

/// Every record the broker holds, as (partition, offset, value), ordered.
pub fn stored_records(db: &mut postgres::Client, topic: &str) -> Vec<(i32, i64, Vec<u8>)> {
    db.query(
        "SELECT partition, \"offset\", value FROM kafkaesque.records \
         WHERE topic = $1 ORDER BY partition, \"offset\"",
        &[&topic],
    )
    .expect("read kafkaesque.records")
    .into_iter()
    .map(|row| {
        (
            row.get(0),
            row.get(1),
            row.get::<_, Option<Vec<u8>>>(2).unwrap_or_default(),
        )
    })
    .collect()
}

/// The partitions' log end offsets (`kafkaesque.partitions.next_offset`).
pub fn log_end_offsets(db: &mut postgres::Client, topic: &str) -> Vec<(i32, i64)> {
    db.query(
        "SELECT p.partition, p.next_offset FROM kafkaesque.partitions p \
         JOIN kafkaesque.topics t USING (topic_id) WHERE t.name = $1 ORDER BY 1",
        &[&topic],
    )
    .expect("read kafkaesque.partitions")
    .into_iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect()
}

/// What the producers were told: every acknowledged record with its
/// partition and offset, and how many deliveries failed.
#[derive(Default)]
pub struct Ledger {
    pub acked: std::sync::Mutex<Vec<(i32, i64, Vec<u8>)>>,
    pub failed: std::sync::atomic::AtomicU64,
}

impl Ledger {
    pub fn acked_count(&self) -> usize {
        self.acked.lock().map_or(0, |a| a.len())
    }

    pub fn failed_count(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// An rdkafka producer context that writes delivery reports to a [`Ledger`].
pub struct LedgerContext(pub std::sync::Arc<Ledger>);

impl rdkafka::ClientContext for LedgerContext {}

impl rdkafka::producer::ProducerContext for LedgerContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &rdkafka::message::DeliveryResult<'_>, _: ()) {
        use rdkafka::Message;
        match result {
            Ok(message) => {
                let payload = message.payload().unwrap_or_default().to_vec();
                if let Ok(mut acked) = self.0.acked.lock() {
                    acked.push((message.partition(), message.offset(), payload));
                }
            }
            Err(_) => {
                self.0.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// What a durability check found.
#[derive(Debug)]
pub struct Audit {
    pub acknowledged: usize,
    pub stored: usize,
    /// Committed but never acknowledged (the answer was lost in a crash).
    pub stored_unacknowledged: usize,
    pub lost: usize,
}

/// The durability promise, checked against PostgreSQL: every acknowledged
/// record is stored at its acknowledged offset, each partition's offsets are
/// exactly 0..n (no holes, no reuse) with the log end at n, and no payload
/// is stored twice. Panics with the first few violations.
pub fn audit(db: &mut postgres::Client, topic: &str, ledger: &Ledger) -> Audit {
    use std::collections::{HashMap, HashSet};
    let stored = stored_records(db, topic);
    let ends: HashMap<i32, i64> = log_end_offsets(db, topic).into_iter().collect();
    let mut problems = Vec::new();

    let mut by_position: HashMap<(i32, i64), &[u8]> = HashMap::new();
    let mut next_expected: HashMap<i32, i64> = HashMap::new();
    let mut payloads: HashSet<&[u8]> = HashSet::new();
    for (partition, offset, value) in &stored {
        let expected = next_expected.entry(*partition).or_insert(0);
        if *offset != *expected {
            problems.push(format!(
                "partition {partition}: offset {offset} follows {}",
                *expected - 1
            ));
        }
        *expected = offset + 1;
        if !payloads.insert(value.as_slice()) {
            problems.push(format!(
                "payload {:?} stored twice (again at {partition}/{offset})",
                String::from_utf8_lossy(value)
            ));
        }
        by_position.insert((*partition, *offset), value.as_slice());
    }
    for (partition, count) in &next_expected {
        let end = ends.get(partition).copied().unwrap_or(-1);
        if end != *count {
            problems.push(format!(
                "partition {partition}: {count} records but log end offset {end}"
            ));
        }
    }

    let acked = ledger.acked.lock().expect("ledger lock");
    let mut lost = 0;
    let mut acked_payloads: HashSet<&[u8]> = HashSet::new();
    for (partition, offset, payload) in acked.iter() {
        acked_payloads.insert(payload.as_slice());
        match by_position.get(&(*partition, *offset)) {
            Some(value) if *value == payload.as_slice() => {}
            other => {
                lost += 1;
                problems.push(format!(
                    "acknowledged {:?} at {partition}/{offset}, stored there: {:?}",
                    String::from_utf8_lossy(payload),
                    other.map(|v| String::from_utf8_lossy(v).into_owned())
                ));
            }
        }
    }
    let stored_unacknowledged = stored
        .iter()
        .filter(|(_, _, v)| !acked_payloads.contains(v.as_slice()))
        .count();
    if !problems.is_empty() {
        let shown: Vec<_> = problems.iter().take(20).cloned().collect();
        panic!(
            "{} durability violations (first {}):\n{}",
            problems.len(),
            shown.len(),
            shown.join("\n")
        );
    }
    Audit {
        acknowledged: acked.len(),
        stored: stored.len(),
        stored_unacknowledged,
        lost,
    }
}

/// A small xorshift generator: reproducible random moments without a
/// dependency. The seed comes from `KQ_SEED` or the clock and is printed.
pub struct Rng(u64);

impl Rng {
    pub fn from_env() -> Rng {
        let seed = std::env::var("KQ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        println!("random seed {seed} (rerun with KQ_SEED={seed})");
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

/// Producers writing unique payloads at full speed, round-robin over the
/// partitions, until stopped. Every delivery report goes to the ledger.
pub struct Workload {
    pub ledger: std::sync::Arc<Ledger>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<u64>>,
}

impl Workload {
    /// Starts `producers` producers on `topic`. `settings` are extra
    /// rdkafka settings (e.g. `enable.idempotence`).
    pub fn start(
        addr: &str,
        topic: &str,
        partitions: i32,
        producers: usize,
        settings: &[(&str, &str)],
    ) -> Workload {
        use rdkafka::producer::{BaseRecord, ThreadedProducer};
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        let ledger = Arc::new(Ledger::default());
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..producers)
            .map(|p| {
                let mut config = rdkafka::ClientConfig::new();
                config
                    .set("bootstrap.servers", addr)
                    .set("acks", "all")
                    .set("linger.ms", "2")
                    .set("message.timeout.ms", "60000")
                    .set("reconnect.backoff.ms", "20")
                    .set("reconnect.backoff.max.ms", "200")
                    .set("queue.buffering.max.messages", "20000");
                for (k, v) in settings {
                    config.set(*k, *v);
                }
                let producer: ThreadedProducer<LedgerContext> = config
                    .create_with_context(LedgerContext(Arc::clone(&ledger)))
                    .expect("create producer");
                let stop = Arc::clone(&stop);
                let topic = topic.to_string();
                std::thread::spawn(move || {
                    let mut sent = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let payload = format!("{topic}-p{p}-{sent}");
                        let record = BaseRecord::<(), _>::to(&topic)
                            .partition((sent % partitions as u64) as i32)
                            .payload(&payload);
                        match producer.send(record) {
                            Ok(()) => sent += 1,
                            // Queue full (broker down or slow): wait a little.
                            Err(_) => std::thread::sleep(Duration::from_millis(5)),
                        }
                    }
                    use rdkafka::producer::Producer;
                    let _ = producer.flush(Duration::from_secs(90));
                    sent
                })
            })
            .collect();
        Workload {
            ledger,
            stop,
            threads,
        }
    }

    /// Stops producing, waits for every outstanding delivery report and
    /// returns how many records were handed to the producers.
    pub fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .map(|t| t.join().expect("producer thread"))
            .sum()
    }
}

/// Waits until `ledger` holds more than `above` acknowledgements; panics
/// after `timeout` (the clients did not recover by themselves).
pub fn wait_for_acks(ledger: &Ledger, above: usize, timeout: Duration, what: &str) {
    let deadline = Instant::now() + timeout;
    while ledger.acked_count() <= above {
        assert!(
            Instant::now() < deadline,
            "{what}: no new acknowledgement within {timeout:?} ({} so far)",
            ledger.acked_count()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
