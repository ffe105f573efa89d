//! The `kafkaesque` binary started with exactly the arguments and
//! environment a test gives it (no harness flags), for tests of how it is
//! configured and run: `--config` files, `KAFKA_*` variables,
//! `kafkaesque dev`.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::Message;
use std::fs::{self, File};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The binary with the test's own environment, minus every variable that
/// would configure it (`KAFKA_*`, `DATABASE_URL`), plus `env`.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = super::broker_command();
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("KAFKA_") || name == "DATABASE_URL" {
            command.env_remove(name.as_ref());
        }
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
}

/// Runs the binary to its end (for `--print-config` and start-up errors).
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    command(args, env).output().expect("run kafkaesque")
}

/// A running broker process; killed when dropped.
pub struct Spawned {
    child: Option<Child>,
    pub addr: String,
    log_path: PathBuf,
}

impl Spawned {
    /// Starts the binary and waits until `addr` accepts connections.
    pub fn start(args: &[&str], env: &[(&str, &str)], addr: &str) -> Spawned {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join("kafkaesque-tests");
        let _ = fs::create_dir_all(&dir);
        let log_path = dir.join(format!(
            "spawned-{}-{}.log",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let log = File::create(&log_path).expect("create the log file");
        let child = command(args, env)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn kafkaesque");
        let mut spawned = Spawned {
            child: Some(child),
            addr: addr.to_string(),
            log_path,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = spawned
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok())
                .flatten()
            {
                panic!(
                    "kafkaesque exited during start-up ({status}):\n{}",
                    spawned.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "kafkaesque did not listen on {addr} within 60 s:\n{}",
                spawned.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
        spawned
    }

    /// Its stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGTERM, then wait (bounded) for it to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        super::terminate(self.child.take().expect("not running"))
    }

    /// `kill -9`: no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            eprintln!(
                "--- kafkaesque's stderr ({}) ---\n{}",
                self.log_path.display(),
                self.log()
            );
        } else {
            let _ = fs::remove_file(&self.log_path);
        }
    }
}

/// librdkafka settings for a broker at `addr`.
pub fn client(addr: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", addr)
        .set("broker.address.family", "v4")
        .set("socket.timeout.ms", "10000")
        .set("message.timeout.ms", "20000");
    config
}

/// Produces `values` to partition 0 of `topic` with acks=all; panics unless
/// every one is acknowledged.
pub fn produce(addr: &str, topic: &str, values: &[String]) {
    let producer: BaseProducer = client(addr).set("acks", "all").create().expect("producer");
    for value in values {
        producer
            .send(
                BaseRecord::<(), str>::to(topic)
                    .payload(value.as_str())
                    .partition(0),
            )
            .expect("queue a record");
    }
    producer
        .flush(Duration::from_secs(30))
        .expect("every record acknowledged");
}

/// Reads partition 0 of `topic` from its start until `n` values (or 30 s),
/// with a consumer that is left open for the caller's further questions.
pub fn consume_from_start(addr: &str, topic: &str, n: usize) -> (Vec<String>, BaseConsumer) {
    let consumer: BaseConsumer = client(addr)
        .set("group.id", "kq-spawned-test")
        .create()
        .expect("consumer");
    let mut assignment = rdkafka::TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, 0, rdkafka::Offset::Beginning)
        .expect("add partition");
    consumer.assign(&assignment).expect("assign");
    let values = super::consume(&consumer, n, Duration::from_secs(30))
        .iter()
        .map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned())
        .collect();
    (values, consumer)
}
