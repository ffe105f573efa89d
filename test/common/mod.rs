//! The harness every integration test shares.
//!
//! A test asks for a [`Broker`]: that creates a fresh PostgreSQL database
//! with a unique name, starts the real `kafkaesque` binary on a free port
//! against it (`--init-schema`), and waits until the port accepts
//! connections. Dropping the `Broker` kills the process and drops the
//! database, so tests run in parallel without seeing each other.
//!
//! The broker's stderr goes to a file (see [`Broker::log_path`]); when a
//! test panics, the tail of that log is printed, which is usually the
//! fastest way to see why.
//!
//! Also here: rdkafka config builders, a std-only [`block_on`] for the
//! AdminClient's futures (rdkafka is built without tokio), a
//! consume-N-records helper with a deadline, and [`RawClient`], which speaks
//! the wire protocol over a plain `TcpStream` using the `kafka-protocol`
//! crate as an independent encoder.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod private_postgres;
pub mod spawned;

use kafka_protocol::messages::RequestHeader;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{DeliveryResult, OwnedMessage};
use rdkafka::producer::{BaseProducer, Producer as _, ProducerContext};
use rdkafka::Message;
use std::fs::{self, OpenOptions};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::pin::pin;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The PostgreSQL server the tests use (trust auth, user postgres).
pub const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// How long a broker may take to start accepting connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

fn admin_db() -> postgres::Client {
    let url = format!("{PG_SERVER}/postgres");
    postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot reach PostgreSQL at {url} ({e}).\n\
             The integration tests need it. Start it with:\n    \
             pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    })
}

/// A name no other test (in this process or another) is using.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// A fresh database, dropped (with any connections still open to it) when
/// this value is dropped.
pub struct TestDb {
    pub name: String,
    /// The server it lives on: `postgres://user@host:port`, without a
    /// database name.
    pub server: String,
}

impl TestDb {
    pub fn create() -> TestDb {
        TestDb::create_on(PG_SERVER)
    }

    /// A fresh database on another server (for example a test's own
    /// [`private_postgres::PrivatePostgres`]).
    pub fn create_on(server: &str) -> TestDb {
        let name = unique_name("kq_it");
        let url = format!("{server}/postgres");
        postgres::Client::connect(&url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {url}: {e}"))
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        TestDb {
            name,
            server: server.to_string(),
        }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// A direct SQL connection, to check what the broker stored.
    pub fn connect(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.url()))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Ok(mut db) =
            postgres::Client::connect(&format!("{}/postgres", self.server), postgres::NoTls)
        else {
            return;
        };
        let _ = db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&self.name],
        );
        if let Err(e) = db.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}

/// A port nobody is listening on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

/// A running `kafkaesque` process on its own database and port.
pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    extra_args: Vec<String>,
    log_path: PathBuf,
    // Declared last: dropped after the process is gone.
    pub db: TestDb,
}

impl Broker {
    /// A broker with default flags.
    pub fn start() -> Broker {
        Broker::start_with(&[])
    }

    /// A broker with extra flags (e.g. `["--num-partitions", "3"]`).
    pub fn start_with(extra_args: &[&str]) -> Broker {
        let db = TestDb::create();
        let log_dir = std::env::temp_dir().join("kafkaesque-tests");
        let _ = fs::create_dir_all(&log_dir);
        let log_path = log_dir.join(format!("{}.log", db.name));
        let mut broker = Broker {
            child: None,
            port: free_port(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            log_path,
            db,
        };
        // The port was free a moment ago; another process may have taken
        // it since. Then try another one.
        for _ in 0..3 {
            match broker.try_spawn() {
                Ok(()) => return broker,
                Err(log) if log.contains("cannot listen") => broker.port = free_port(),
                Err(log) => panic!("kafkaesque did not start; its stderr:\n{log}"),
            }
        }
        panic!(
            "kafkaesque found no free port; its stderr:\n{}",
            broker.log()
        );
    }

    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The file the broker's stderr goes to (appended across restarts).
    pub fn log_path(&self) -> &PathBuf {
        &self.log_path
    }

    /// The broker's stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Starts the process on `self.port`; panics if it does not come up.
    fn spawn(&mut self) {
        if let Err(log) = self.try_spawn() {
            panic!("kafkaesque did not start; its stderr:\n{log}");
        }
    }

    /// Starts the process and waits until it accepts connections. On
    /// failure, returns its stderr so far.
    fn try_spawn(&mut self) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("create broker log file");
        let mut child = broker_command()
            .arg("--init-schema")
            .args(["--listener", &self.addr()])
            .args(["--database-url", &self.db.url()])
            .args(["--pool-size", "4"])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn the kafkaesque binary");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "(exited during start-up: {status})\n{}",
                    self.log()
                ));
            }
            if TcpStream::connect(self.addr()).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "(no connection on {} within {START_TIMEOUT:?})\n{}",
                    self.addr(),
                    self.log()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
        Ok(())
    }

    /// `kill -9`: the process gets no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait (bounded) for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        terminate(self.child.take().expect("broker is not running"))
    }

    /// Starts the process again on the same port and database.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- last lines of the broker's stderr ({}) ---",
                self.log_path.display()
            );
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        } else {
            let _ = fs::remove_file(&self.log_path);
        }
    }
}

/// SIGTERM to a kafkaesque process, then wait (bounded) for it to exit.
pub fn terminate(mut child: Child) -> ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill(1)");
    assert!(status.success(), "kill -TERM failed");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kafkaesque did not exit within 30 s of SIGTERM");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The real binary, built by cargo for this test run.
pub fn broker_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kafkaesque"))
}

// ---------------------------------------------------------------------------
// rdkafka helpers

/// Client settings every test client shares.
pub fn client_config(broker: &Broker) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", broker.addr())
        .set("broker.address.family", "v4")
        .set("socket.timeout.ms", "10000");
    config
}

/// A producer that waits for every acknowledgement (acks=all), with the
/// given compression codec.
pub fn producer_config(broker: &Broker, compression: &str) -> ClientConfig {
    let mut config = client_config(broker);
    config
        .set("acks", "all")
        .set("compression.codec", compression)
        .set("linger.ms", "5")
        .set("message.timeout.ms", "20000");
    config
}

/// A producer context that records every delivery report, so a test knows
/// exactly which records the broker acknowledged and at which offsets.
#[derive(Default)]
pub struct DeliveryLog {
    /// (partition, offset, key) of each acknowledged record.
    pub acked: Mutex<Vec<(i32, i64, Option<Vec<u8>>)>>,
    /// The error of each record the broker did not acknowledge.
    pub failed: Mutex<Vec<String>>,
}

impl ClientContext for DeliveryLog {}

impl ProducerContext for DeliveryLog {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(m) => self.acked.lock().unwrap().push((
                m.partition(),
                m.offset(),
                m.key().map(<[u8]>::to_vec),
            )),
            Err((e, _)) => self.failed.lock().unwrap().push(e.to_string()),
        }
    }
}

pub type Producer = BaseProducer<DeliveryLog>;

/// A producer (acks=all, `compression`) whose delivery reports are kept in
/// `producer.context()`.
pub fn producer(broker: &Broker, compression: &str) -> Producer {
    producer_config(broker, compression)
        .create_with_context(DeliveryLog::default())
        .expect("create producer")
}

/// Flushes and checks that every record was acknowledged.
pub fn flush_all(producer: &Producer) {
    producer
        .flush(Duration::from_secs(30))
        .expect("flush within 30 s");
    let failed = producer.context().failed.lock().unwrap();
    assert!(failed.is_empty(), "deliveries failed: {failed:?}");
}

/// A consumer for `assign()` (no group): starts at the earliest offset.
pub fn consumer_config(broker: &Broker) -> ClientConfig {
    let mut config = client_config(broker);
    config
        .set("group.id", unique_name("kq_it_group"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100");
    config
}

pub fn admin(broker: &Broker) -> AdminClient<DefaultClientContext> {
    client_config(broker).create().expect("create AdminClient")
}

/// Creates a topic and checks that the broker said yes.
pub fn create_topic(broker: &Broker, name: &str, partitions: i32) {
    let admin = admin(broker);
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = block_on(admin.create_topics([&topic], &opts)).expect("CreateTopics request");
    for result in results {
        result.unwrap_or_else(|(topic, code)| panic!("creating {topic}: {code:?}"));
    }
}

/// Reads records from `consumer` until it has `n` or `timeout` passes.
/// Panics on a consumer error; returns what it has on timeout, so the
/// caller's assertion shows what was missing.
pub fn consume(consumer: &BaseConsumer, n: usize, timeout: Duration) -> Vec<OwnedMessage> {
    let deadline = Instant::now() + timeout;
    let mut messages = Vec::with_capacity(n);
    while messages.len() < n && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => messages.push(message.detach()),
            Some(Err(e)) => panic!("consumer error after {} records: {e}", messages.len()),
            None => {}
        }
    }
    messages
}

/// A consumer assigned to every listed partition from offset 0.
pub fn assigned_consumer(broker: &Broker, topic: &str, partitions: i32) -> BaseConsumer {
    let consumer: BaseConsumer = consumer_config(broker).create().expect("create consumer");
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
            .expect("add partition");
    }
    consumer.assign(&tpl).expect("assign");
    consumer
}

/// The key/value/partition/offset of a message, for readable asserts.
pub fn summary(m: &OwnedMessage) -> (i32, i64, Option<Vec<u8>>, Option<Vec<u8>>) {
    (
        m.partition(),
        m.offset(),
        m.key().map(<[u8]>::to_vec),
        m.payload().map(<[u8]>::to_vec),
    )
}

/// Runs a future to completion on this thread. rdkafka's AdminClient
/// completes its futures from its own background thread, so all this has
/// to do is sleep until woken; no async runtime needed.
pub fn block_on<F: Future>(future: F) -> F::Output {
    struct ThreadWaker(Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park_timeout(Duration::from_millis(100)),
        }
    }
}

// ---------------------------------------------------------------------------
// Raw wire-protocol client

/// A client that writes requests encoded by the `kafka-protocol` crate (an
/// implementation independent of ours) to a plain socket, at whatever
/// version the test picks: the way older clients (kafka-python, kafkajs,
/// sarama) talk.
pub struct RawClient {
    pub stream: TcpStream,
    correlation_id: i32,
}

impl RawClient {
    pub fn connect(broker: &Broker) -> RawClient {
        let stream = TcpStream::connect(broker.addr()).expect("connect to broker");
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .expect("set read timeout");
        RawClient {
            stream,
            correlation_id: 0,
        }
    }

    /// Sends `request` at `version` and decodes the response.
    pub fn send<R: Request>(&mut self, request: &R, version: i16) -> R::Response {
        let correlation_id = self.send_only(request, version);
        let frame = self.recv_frame().expect("response frame");
        let mut buf = bytes::Bytes::from(frame);
        let header = kafka_protocol::messages::ResponseHeader::decode(
            &mut buf,
            R::Response::header_version(version),
        )
        .expect("decode response header");
        assert_eq!(header.correlation_id, correlation_id, "correlation id");
        let response = R::Response::decode(&mut buf, version).expect("decode response body");
        assert!(
            buf.is_empty(),
            "{} bytes left after the response body (key {} v{version})",
            buf.len(),
            R::KEY
        );
        response
    }

    /// Sends `request` without reading a response (acks=0, or a test that
    /// reads the raw bytes itself). Returns the correlation id.
    pub fn send_only<R: Request>(&mut self, request: &R, version: i16) -> i32 {
        self.correlation_id += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("kafkaesque-raw-test")));
        let mut body = bytes::BytesMut::new();
        header
            .encode(&mut body, R::header_version(version))
            .expect("encode request header");
        request.encode(&mut body, version).expect("encode request");
        self.send_frame(&body);
        self.correlation_id
    }

    /// Writes one size-prefixed frame.
    pub fn send_frame(&mut self, body: &[u8]) {
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        self.stream.write_all(&frame).expect("write frame");
    }

    /// Reads one size-prefixed frame; `None` if the broker closed the
    /// connection.
    pub fn recv_frame(&mut self) -> Option<Vec<u8>> {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).ok()?;
        let mut frame = vec![0u8; u32::from_be_bytes(size) as usize];
        self.stream.read_exact(&mut frame).ok()?;
        Some(frame)
    }

    /// True if the broker closed this connection (reads EOF or a reset
    /// within the read timeout).
    pub fn is_closed_by_broker(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A unique topic name for this test.
pub fn topic_name(tag: &str) -> String {
    unique_name(tag)
}
