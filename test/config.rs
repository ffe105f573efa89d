//! Starting the broker the way Kafka users do: Kafka's own shipped
//! `server.properties` (3.9 and 4.x, KRaft) with only the database added,
//! the environment of a compose file written for the `apache/kafka` image,
//! and the precedence and errors a person meets on the way.

mod common;

use common::spawned::{consume_from_start, produce, run, Spawned};
use common::{free_port, TestDb};
use rdkafka::consumer::Consumer;
use std::path::PathBuf;
use std::time::Duration;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A file of `text` in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("kq-{tag}-{}.properties", std::process::id()));
        std::fs::write(&path, text).expect("write the properties file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Produces `values` to partition 0 of `topic` (auto-created) and reads
/// them back; returns the topic's partition count.
fn produce_and_consume(addr: &str, topic: &str, values: &[&str]) -> usize {
    let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    produce(addr, topic, &values);
    let (read, consumer) = consume_from_start(addr, topic, values.len());
    assert_eq!(read, values);
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    metadata.topics()[0].partitions().len()
}

/// The start-up log line listing what was ignored.
fn ignored_line(log: &str) -> &str {
    log.lines()
        .find(|l| l.contains("Kafka settings that have no effect here"))
        .unwrap_or_else(|| panic!("no line listing ignored settings in:\n{log}"))
}

#[test]
fn kafkas_shipped_server_properties_start_the_broker() {
    let cases = [
        (
            "kafka-3.9-server.properties",
            "ignoring 13 Kafka settings that have no effect here: controller.quorum.voters, inter.broker.listener.name, log.dirs, log.segment.bytes, num.io.threads, num.network.threads, num.recovery.threads.per.data.dir, offsets.topic.replication.factor, process.roles, socket.receive.buffer.bytes, socket.send.buffer.bytes, transaction.state.log.min.isr, transaction.state.log.replication.factor",
        ),
        (
            "kafka-4.x-server.properties",
            "ignoring 15 Kafka settings that have no effect here: controller.quorum.bootstrap.servers, inter.broker.listener.name, log.dirs, log.segment.bytes, num.io.threads, num.network.threads, num.recovery.threads.per.data.dir, offsets.topic.replication.factor, process.roles, share.coordinator.state.topic.min.isr, share.coordinator.state.topic.replication.factor, socket.receive.buffer.bytes, socket.send.buffer.bytes, transaction.state.log.min.isr, transaction.state.log.replication.factor",
        ),
    ];
    for (name, ignored) in cases {
        let db = TestDb::create();
        let file = TempFile::new(
            name,
            &format!("{}\nkafkaesque.database.url={}\n", fixture(name), db.url()),
        );
        // Exactly the file: it asks for 0.0.0.0:9092, advertised as
        // localhost:9092.
        let printed = run(&["--config", file.path(), "--print-config"], &[]);
        let stdout = String::from_utf8_lossy(&printed.stdout);
        assert!(
            printed.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&printed.stderr)
        );
        let listeners = stdout
            .lines()
            .find(|l| l.starts_with("listeners="))
            .unwrap();
        assert!(
            listeners.starts_with("listeners=PLAINTEXT://:9092,CONTROLLER://:9093 "),
            "{listeners}"
        );
        assert!(
            listeners.ends_with(&format!("of {}", file.path())),
            "{listeners}"
        );

        // Port 9092 may be taken on a test machine: flags move the listener
        // (and show that flags override the file).
        let addr = format!("127.0.0.1:{}", free_port());
        let mut broker = Spawned::start(
            &[
                "--config",
                file.path(),
                "--init-schema",
                "--listener",
                &addr,
                "--advertised-listener",
                &addr,
            ],
            &[],
            &addr,
        );
        assert_eq!(produce_and_consume(&addr, "shipped", &["one", "two"]), 1);
        let log = broker.log();
        assert!(
            ignored_line(&log).contains(ignored),
            "{name}: {}",
            ignored_line(&log)
        );
        assert_eq!(ignored_line(&log).matches("ignoring").count(), 1);
        assert!(!log.contains("WARN"), "{name}: {log}");
        assert!(broker.terminate().success());
    }
}

#[test]
fn a_compose_file_for_the_apache_kafka_image_needs_only_the_database_url() {
    // The environment of Kafka's docker/examples single-node plaintext
    // compose file, with one client listener (advertised; the image derives
    // the listener from it), plus the database and a partition count.
    let db = TestDb::create();
    let port = free_port().to_string();
    let advertised = format!("PLAINTEXT://127.0.0.1:{port}");
    let url = db.url();
    let env = [
        ("KAFKA_NODE_ID", "1"),
        (
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        ),
        ("KAFKA_ADVERTISED_LISTENERS", advertised.as_str()),
        ("KAFKA_PROCESS_ROLES", "broker,controller"),
        ("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@broker:29093"),
        ("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT"),
        ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
        ("CLUSTER_ID", "4L6g3nShT-eMCtK--X86sw"),
        ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1"),
        ("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0"),
        ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1"),
        ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1"),
        (
            "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
            "1",
        ),
        ("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1"),
        ("KAFKA_LOG_DIRS", "/tmp/kraft-combined-logs"),
        ("KAFKA_HEAP_OPTS", "-Xmx512M"),
        ("KAFKA_NUM_PARTITIONS", "3"),
        ("KAFKA_KAFKAESQUE_DATABASE_URL", url.as_str()),
        ("KAFKA_KAFKAESQUE_INIT_SCHEMA", "true"),
    ];
    let addr = format!("127.0.0.1:{port}");
    let mut broker = Spawned::start(&[], &env, &addr);
    assert_eq!(produce_and_consume(&addr, "from-env", &["a"]), 3);
    let log = broker.log();
    assert!(ignored_line(&log).contains(": controller.quorum.voters, inter.broker.listener.name, log.dirs, offsets.topic.replication.factor, process.roles, share.coordinator"), "{log}");
    assert!(!log.contains("WARN"), "{log}");
    assert!(broker.terminate().success());
}

#[test]
fn precedence_and_errors_as_a_person_meets_them() {
    let file = TempFile::new(
        "precedence",
        "# a comment\nnum.partitions = 2\nlog.retention.hours: 5\nkafkaesque.database.url=postgres://kq:filesecret@db/kq\n",
    );
    let print = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["--config", file.path(), "--print-config"];
        all.extend_from_slice(args);
        let out = run(&all, env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let line = |printed: &str, name: &str| -> String {
        let line = printed
            .lines()
            .find(|l| l.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in:\n{printed}"));
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let env = [
        ("KAFKA_NUM_PARTITIONS", "3"),
        ("DATABASE_URL", "postgres://kq:envsecret@db/kq"),
    ];
    let printed = print(&["--num-partitions", "4"], &env);
    assert_eq!(
        line(&printed, "num.partitions"),
        "num.partitions=4 # --num-partitions"
    );
    assert_eq!(
        line(&printed, "log.retention.hours"),
        format!("log.retention.hours=5 # line 3 of {}", file.path())
    );
    assert_eq!(
        line(&printed, "kafkaesque.database.url"),
        "kafkaesque.database.url=postgres://kq:[hidden]@db/kq # DATABASE_URL"
    );
    assert!(!printed.contains("secret"), "{printed}");
    let printed = print(&[], &env);
    assert_eq!(
        line(&printed, "num.partitions"),
        "num.partitions=3 # KAFKA_NUM_PARTITIONS"
    );
    let printed = print(&[], &[]);
    assert_eq!(
        line(&printed, "num.partitions"),
        format!("num.partitions=2 # line 2 of {}", file.path())
    );
    assert_eq!(
        line(&printed, "kafkaesque.pool.size"),
        "kafkaesque.pool.size=8 # default"
    );

    // Errors: one line on stderr, naming where the bad value is.
    let typo = TempFile::new("typo", "num.partitions=2\nlog.retention.hour=5\n");
    let out = run(&["--config", typo.path()], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        stderr.trim_end(),
        format!("kafkaesque: line 2 of {}: \"log.retention.hour\" is no Kafka broker setting (did you mean log.retention.hours?) (kafkaesque's own settings are kafkaesque.*; see --help)", typo.path())
    );
    let out = run(&["--print-config"], &[("KAFKA_NUM_PARTITIONS", "0")]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "kafkaesque: KAFKA_NUM_PARTITIONS: Invalid value 0 for configuration num.partitions: Value must be at least 1"
    );
}
