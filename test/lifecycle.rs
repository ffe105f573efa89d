//! The broker as a process: start-up errors a person can act on, graceful
//! shutdown, and no acknowledged record lost to a `kill -9`.

mod common;

use common::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, Producer as _};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Runs the binary with `args` to completion (bounded); returns whether it
/// succeeded and its stderr.
fn run_to_exit(args: &[&str]) -> (bool, String) {
    let mut child = broker_command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kafkaesque");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut stderr)
                .expect("read stderr");
            return (status.success(), stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kafkaesque {args:?} was expected to exit, but it kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn missing_schema_is_one_clear_line() {
    let db = TestDb::create();
    let url = db.url();
    let listener = format!("127.0.0.1:{}", free_port());
    let (ok, stderr) = run_to_exit(&["--listener", &listener, "--database-url", &url]);
    assert!(!ok, "started without a schema");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("--init-schema") && l.contains("psql"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "want exactly one line saying how to apply the schema (--init-schema / psql):\n{stderr}"
    );
    assert!(
        lines.iter().all(|l| l.contains("schema.sql")),
        "the line names the file: {lines:?}"
    );
    // Nothing was created behind the person's back.
    let exists: bool = db
        .connect()
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'kafkaesque')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!exists, "schema created without --init-schema");
}

/// A database holding schema version 1, with a topic in it.
fn version_1_database() -> TestDb {
    let db = TestDb::create();
    let mut sql = db.connect();
    sql.batch_execute(include_str!("fixtures/schema-v1.sql"))
        .expect("applying the version-1 schema");
    sql.batch_execute(
        "WITH t AS (INSERT INTO kafkaesque.topics (name, partition_count)
                    VALUES ('kept', 1) RETURNING topic_id)
         INSERT INTO kafkaesque.partitions (topic_id, partition) SELECT topic_id, 0 FROM t",
    )
    .expect("a topic in the version-1 schema");
    db
}

/// Starts the broker with `args`, waits until it listens on `listener`,
/// stops it; returns its stderr.
fn start_then_stop(args: &[&str], listener: &str) -> String {
    let log_path = std::env::temp_dir().join(format!(
        "kafkaesque-start-{}.log",
        listener.replace([':', '.'], "_")
    ));
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = broker_command()
        .args(args)
        .args(["--listener", listener])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn kafkaesque");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(listener).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "kafkaesque exited ({status}):\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "kafkaesque did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    stderr
}

fn schema_version(db: &TestDb) -> i32 {
    db.connect()
        .query_one("SELECT version FROM kafkaesque.schema_version", &[])
        .unwrap()
        .get(0)
}

/// A version-1 database: the broker refuses it with one line saying what
/// to do; applying today's schema.sql (twice: it is idempotent) upgrades it
/// in place, keeping what was there; then the broker starts.
#[test]
fn a_version_1_schema_is_upgraded_by_applying_schema_sql_again() {
    let db = version_1_database();
    let url = db.url();
    let listener = format!("127.0.0.1:{}", free_port());
    let (ok, stderr) = run_to_exit(&["--listener", &listener, "--database-url", &url]);
    assert!(!ok, "started on a version-1 schema");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("is version 1, this broker needs 2"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("--init-schema")
            && lines[0].contains("psql")
            && lines[0].contains("-f schema.sql"),
        "{}",
        lines[0]
    );
    assert_eq!(schema_version(&db), 1, "the refusal changed the schema");

    let mut sql = db.connect();
    for _ in 0..2 {
        let mut tx = sql.transaction().unwrap();
        tx.batch_execute(include_str!("../schema.sql"))
            .expect("applying schema.sql over version 1");
        tx.commit().unwrap();
    }
    assert_eq!(schema_version(&db), 2);
    let tables: i64 = sql
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'kafkaesque'
             AND table_name IN ('acls', 'scram_credentials')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 2);
    let kept: i64 = sql
        .query_one(
            "SELECT count(*) FROM kafkaesque.topics WHERE name = 'kept'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(kept, 1, "the upgrade lost a topic");

    let listener = format!("127.0.0.1:{}", free_port());
    let stderr = start_then_stop(&["--database-url", &url], &listener);
    assert!(stderr.contains("schema v2"), "{stderr}");
}

/// `--init-schema` upgrades a version-1 database in place too.
#[test]
fn init_schema_upgrades_a_version_1_schema() {
    let db = version_1_database();
    let url = db.url();
    let listener = format!("127.0.0.1:{}", free_port());
    let stderr = start_then_stop(&["--init-schema", "--database-url", &url], &listener);
    assert!(stderr.contains("applied schema version 2"), "{stderr}");
    assert_eq!(schema_version(&db), 2);
    let acls: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM kafkaesque.acls", &[])
        .unwrap()
        .get(0);
    assert_eq!(acls, 0);
}

#[test]
fn port_in_use_is_a_clear_line() {
    let db = TestDb::create();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let url = db.url();
    let (ok, stderr) = run_to_exit(&["--init-schema", "--listener", &addr, "--database-url", &url]);
    assert!(!ok, "started on a port that is taken");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(&addr) && l.contains("--listener")),
        "no line names the address and --listener:\n{stderr}"
    );
}

#[test]
fn unreachable_database_is_a_clear_line() {
    let listener = format!("127.0.0.1:{}", free_port());
    let (ok, stderr) = run_to_exit(&[
        "--listener",
        &listener,
        "--database-url",
        "postgres://postgres@127.0.0.1:1/nowhere",
    ]);
    assert!(!ok);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("PostgreSQL") && l.contains("127.0.0.1:1")),
        "no line says PostgreSQL is unreachable:\n{stderr}"
    );
}

#[test]
fn sigterm_shuts_down_cleanly_with_clients_connected() {
    let mut broker = Broker::start();
    let topic = topic_name("sigterm");
    create_topic(&broker, &topic, 1);
    // An idle raw connection and a consumer in a long poll.
    let _idle = RawClient::connect(&broker);
    let mut config = consumer_config(&broker);
    config.set("fetch.wait.max.ms", "10000");
    let consumer: BaseConsumer = config.create().unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, rdkafka::Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let _ = consume(&consumer, 1, Duration::from_millis(500));

    let started = Instant::now();
    let status = broker.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert!(
        broker.log().contains("shut down cleanly"),
        "{}",
        broker.log()
    );
    // It starts again on the same database and still has the topic.
    broker.restart();
    let metadata = consumer
        .fetch_metadata(Some(&topic), Duration::from_secs(10))
        .unwrap();
    assert!(metadata.topics()[0].error().is_none());
}

/// The core promise: a record is acknowledged only after COMMIT, so a
/// `kill -9` at any moment loses nothing that was acknowledged, and
/// offsets stay dense across the restart.
#[test]
fn kill_9_loses_no_acknowledged_record() {
    let mut broker = Broker::start();
    let topic = topic_name("durable");
    const PARTITIONS: i32 = 2;
    create_topic(&broker, &topic, PARTITIONS);
    let mut config = producer_config(&broker, "lz4");
    config
        .set("linger.ms", "1")
        .set("retry.backoff.ms", "100")
        .set("reconnect.backoff.ms", "50")
        .set("reconnect.backoff.max.ms", "200")
        .set("message.timeout.ms", "60000");
    let producer: Producer = config
        .create_with_context(DeliveryLog::default())
        .expect("producer");
    let send_batch = |from: usize, to: usize| {
        for i in from..to {
            let key = format!("key-{i}");
            let value = format!("value-{i}");
            let record = BaseRecord::to(&topic)
                .partition(i as i32 % PARTITIONS)
                .key(&key)
                .payload(&value);
            producer.send(record).expect("enqueue");
        }
    };
    let acked_count = || producer.context().acked.lock().unwrap().len();

    // A first load, fully acknowledged.
    send_batch(0, 1000);
    flush_all(&producer);
    // A second load in flight: kill -9 the broker once part of it is
    // acknowledged.
    send_batch(1000, 21_000);
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked_count() < 5000 {
        producer.poll(Duration::from_millis(1));
        assert!(
            Instant::now() < deadline,
            "producer stalled before the kill"
        );
    }
    broker.kill();
    let acked_before_kill = acked_count();
    // Restart on the same database; the producer reconnects and retries
    // whatever was not acknowledged (duplicates are allowed: it is not
    // idempotent; losses are not).
    broker.restart();
    send_batch(21_000, 21_500);
    flush_all(&producer);

    let acked = producer.context().acked.lock().unwrap().clone();
    assert_eq!(
        acked.len(),
        21_500,
        "every record is acknowledged in the end"
    );
    eprintln!("{acked_before_kill} of 21000 acknowledged when the broker was killed");

    // What PostgreSQL holds, per partition: offsets dense from 0.
    let mut sql = broker.db.connect();
    let mut stored: BTreeMap<(i32, i64), Vec<u8>> = BTreeMap::new();
    for row in sql
        .query(
            "SELECT partition, \"offset\", key FROM kafkaesque.records WHERE topic = $1",
            &[&topic],
        )
        .unwrap()
    {
        stored.insert((row.get(0), row.get(1)), row.get(2));
    }
    let consumer: BaseConsumer = consumer_config(&broker).create().unwrap();
    for p in 0..PARTITIONS {
        let offsets: Vec<i64> = stored.keys().filter(|k| k.0 == p).map(|k| k.1).collect();
        let n = offsets.len() as i64;
        assert_eq!(
            offsets,
            (0..n).collect::<Vec<_>>(),
            "partition {p} is dense"
        );
        assert_eq!(
            consumer
                .fetch_watermarks(&topic, p, Duration::from_secs(10))
                .unwrap(),
            (0, n),
            "watermarks of partition {p}"
        );
    }
    // Every acknowledged record is at the offset it was acknowledged with.
    for (partition, offset, key) in &acked {
        assert_eq!(
            stored.get(&(*partition, *offset)),
            key.as_ref(),
            "acknowledged record at {partition}/{offset}"
        );
    }
    // And a real consumer reads the same log.
    let consumer = assigned_consumer(&broker, &topic, PARTITIONS);
    let read = consume(&consumer, stored.len(), Duration::from_secs(30));
    assert_eq!(read.len(), stored.len());
    for m in &read {
        use rdkafka::Message;
        assert_eq!(
            stored.get(&(m.partition(), m.offset())).map(Vec::as_slice),
            m.key(),
            "consumed {}/{}",
            m.partition(),
            m.offset()
        );
    }
}
