//! The benchmark: the release broker, driven by librdkafka, measured against
//! what the same PostgreSQL does for a plain client in the same run.
//!
//! ```text
//! cargo bench --bench kafkaesque
//! ```
//!
//! It creates a fresh database, starts `target/release/kafkaesque` on a free
//! port, runs every case, prints a table, writes it to
//! `target/bench/results.csv`, then stops the broker and drops the database.
//!
//! Absolute numbers on a shared machine drift from run to run, so every
//! Kafkaesque figure is reported as a ratio to a baseline measured in the
//! same run on the same PostgreSQL:
//! - produce throughput ÷ one binary `COPY` of the very rows the broker
//!   stored, into a scratch table of the same shape as `kafkaesque.record`;
//! - consume throughput ÷ one `SELECT` of those rows;
//! - produce latency p99 ÷ the median of a one-row `INSERT` + `COMMIT`;
//! - fetch from a large partition ÷ the same fetch from a 100,000-record one;
//! - produce throughput beside 1,000 idle connections ÷ the same case without.
//!
//! Knobs (environment variables):
//! - `KQ_BENCH_SECS`: seconds each timed produce case runs (default 3);
//! - `KQ_BENCH_LARGE`: records in the large partition (default 10,000,000,
//!   inserted by SQL in about half a minute);
//! - `KQ_BENCH_PG`: the PostgreSQL server (default
//!   `postgres://postgres@127.0.0.1:5432`, trust auth).

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Client, NoTls};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};
use std::fmt::Write as _;
use std::fs;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::pin::pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Records in the small partition of the fetch cases.
const SMALL_PARTITION: i64 = 100_000;
/// Records each fetch case reads.
const FETCH_RECORDS: usize = 10_000;
/// Idle connections of the memory case.
const IDLE_CONNECTIONS: usize = 1_000;
/// Produce runs with and without idle connections (each, alternating).
const IDLE_ROUNDS: usize = 2;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let settings = Settings::from_env();
    let mut bench = Bench::start(&settings);
    let mut results = Results::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_all(&mut bench, &settings, &mut results)
    }));
    results.print(&settings);
    if let Err(e) = results.write_csv() {
        eprintln!("could not write the CSV: {e}");
    }
    bench.stop();
    if outcome.is_err() {
        eprintln!(
            "the benchmark failed part-way; the broker log was {}",
            bench.log_path.display()
        );
        std::process::exit(1);
    }
}

struct Settings {
    secs: Duration,
    large: i64,
    pg: String,
}

impl Settings {
    fn from_env() -> Settings {
        let num = |name: &str, default: i64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or(default)
        };
        Settings {
            secs: Duration::from_secs(num("KQ_BENCH_SECS", 3).max(1) as u64),
            large: num("KQ_BENCH_LARGE", 10_000_000).max(SMALL_PARTITION),
            pg: std::env::var("KQ_BENCH_PG")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()),
        }
    }
}

fn run_all(bench: &mut Bench, settings: &Settings, results: &mut Results) {
    // The fetch partitions are filled by SQL before any case runs, then the
    // broker restarts so that it reads their log ends from the database.
    eprintln!(
        "filling the fetch partitions ({SMALL_PARTITION} and {} records)…",
        settings.large
    );
    create_topic(&bench.addr(), "fetch-small", 1);
    create_topic(&bench.addr(), "fetch-large", 1);
    let started = Instant::now();
    fill_partition(&mut bench.sql(), "fetch-small", SMALL_PARTITION);
    fill_partition(&mut bench.sql(), "fetch-large", settings.large);
    bench
        .sql()
        .batch_execute("ANALYZE kafkaesque.record")
        .expect("ANALYZE");
    eprintln!("  filled in {:.1} s", started.elapsed().as_secs_f64());
    bench.restart();

    // Produce throughput.
    let mut produced = Vec::new();
    for size in [100, 1024] {
        for compression in ["none", "lz4"] {
            for producers in [1, 4] {
                let topic = format!("produce-{size}-{compression}-{producers}");
                create_topic(&bench.addr(), &topic, 4);
                let run = produce(
                    &bench.addr(),
                    &topic,
                    size,
                    compression,
                    producers,
                    settings.secs,
                );
                eprintln!("  {topic}: {:.0} records/s", run.per_sec());
                produced.push((size, compression, producers, topic, run));
            }
        }
    }
    // The COPY baseline: the rows the 4-producer uncompressed case stored.
    let mut copy_rate = std::collections::HashMap::new();
    for size in [100, 1024] {
        let topic = format!("produce-{size}-none-4");
        let rate = copy_baseline(&mut bench.sql(), &topic);
        eprintln!("  COPY of {topic}'s rows: {rate:.0} records/s");
        copy_rate.insert(size, rate);
    }
    for (size, compression, producers, _, run) in &produced {
        let name = format!(
            "produce {size} B, {compression}, {producers} producer{}",
            if *producers > 1 { "s" } else { "" }
        );
        let target = (*size == 100 && *compression == "none" && *producers == 4).then_some("≥ 0.7");
        results.add(
            &name,
            run.per_sec(),
            "records/s",
            "binary COPY",
            copy_rate[size],
            target,
            ratio_up(run.per_sec(), copy_rate[size]),
        );
    }

    // Consume from the beginning: the 4-producer 100-byte topic.
    let topic = "produce-100-none-4";
    let records = produced
        .iter()
        .find(|p| p.3 == topic)
        .map_or(0, |p| p.4.records);
    let select = select_baseline(&mut bench.sql(), topic);
    let one = consume_assigned(&bench.addr(), topic, 4, records);
    results.add(
        "consume, 1 consumer (assign)",
        one,
        "records/s",
        "one SELECT",
        select,
        Some("≥ 0.7"),
        ratio_up(one, select),
    );
    let group = consume_group(&bench.addr(), topic, 4, records);
    results.add(
        "consume, 4-member group (incl. join)",
        group,
        "records/s",
        "one SELECT",
        select,
        None,
        ratio_up(group, select),
    );

    // Latency at a steady 1,000 records/s.
    create_topic(&bench.addr(), "latency", 1);
    let insert = insert_commit_baseline(&mut bench.sql(), 1_000);
    let latency = produce_latency(&bench.addr(), "latency", Duration::from_secs(5));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let insert_median = ms(percentile(&insert, 0.5));
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        let value = ms(percentile(&latency, q));
        results.add(
            &format!("produce latency {name} @ 1,000/s"),
            value,
            "ms",
            "INSERT+COMMIT median",
            insert_median,
            (name == "p99").then_some("≤ 3"),
            value / insert_median,
        );
    }
    // The service time of one produce with nothing queued ahead of it:
    // send, wait for the acknowledgement, repeat.
    // Through librdkafka, and from a raw socket (the broker's own share).
    let one_by_one = [
        ("", produce_one_at_a_time(&bench.addr(), "latency", 500)),
        (
            ", raw socket client",
            produce_raw_one_at_a_time(&bench.addr(), "latency", 500),
        ),
    ];
    for (client, times) in &one_by_one {
        for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
            let value = ms(percentile(times, q));
            results.add(
                &format!("produce latency {name}, one at a time{client}"),
                value,
                "ms",
                "INSERT+COMMIT median",
                insert_median,
                None,
                value / insert_median,
            );
        }
    }
    results.add(
        "(baseline) INSERT+COMMIT p99",
        ms(percentile(&insert, 0.99)),
        "ms",
        "INSERT+COMMIT median",
        insert_median,
        None,
        ms(percentile(&insert, 0.99)) / insert_median,
    );

    // Fetch cost against the size of the log.
    let large = settings.large;
    for (position, small_from, large_from) in [
        ("start", 0, 0),
        (
            "tail",
            SMALL_PARTITION - FETCH_RECORDS as i64,
            large - FETCH_RECORDS as i64,
        ),
    ] {
        let small_ms = fetch_time(&bench.addr(), "fetch-small", small_from);
        let large_ms = fetch_time(&bench.addr(), "fetch-large", large_from);
        results.add(
            &format!("fetch {FETCH_RECORDS} from {position}, {large} records"),
            large_ms,
            "ms",
            "same, 100,000 records",
            small_ms,
            Some("≤ 1.2"),
            large_ms / small_ms,
        );
    }

    // 1,000 idle connections: memory, and the throughput of active clients.
    // What the broker holds after serving everything above is reported as
    // it is; the idle connections are then measured on a fresh broker, so
    // their own cost is not mixed with buffers kept from earlier cases.
    let rss_served = bench.rss_mib();
    bench.restart();
    let rss_fresh = bench.rss_mib();
    results.add(
        "broker RSS after all the cases above",
        rss_served,
        "MiB",
        "RSS of a fresh broker",
        rss_fresh,
        None,
        rss_served / rss_fresh,
    );
    let idle = open_idle_connections(&bench.addr(), IDLE_CONNECTIONS);
    thread::sleep(Duration::from_millis(500));
    let rss_idle = bench.rss_mib();
    results.add(
        &format!("broker RSS with {IDLE_CONNECTIONS} idle connections"),
        rss_idle,
        "MiB",
        "RSS of a fresh broker",
        rss_fresh,
        Some("< 100 MiB"),
        rss_idle / rss_fresh,
    );
    // With and without them, alternating on the same broker, so that
    // whatever else changes during the run (PostgreSQL vacuuming what the
    // earlier cases wrote, a warming broker) weighs on both sides alike.
    // Measured once each, with the idle connections first, the comparison
    // once showed 0.35; alternating runs showed no difference.
    drop(idle);
    let run_produce = |topic: &str| {
        create_topic(&bench.addr(), topic, 4);
        produce(&bench.addr(), topic, 100, "none", 4, settings.secs).per_sec()
    };
    let (mut alone, mut beside) = (0.0, 0.0);
    for round in 0..IDLE_ROUNDS {
        alone += run_produce(&format!("produce-without-idle-{round}")) / IDLE_ROUNDS as f64;
        let idle = open_idle_connections(&bench.addr(), IDLE_CONNECTIONS);
        thread::sleep(Duration::from_millis(500));
        beside += run_produce(&format!("produce-beside-idle-{round}")) / IDLE_ROUNDS as f64;
        drop(idle);
        thread::sleep(Duration::from_millis(500));
    }
    results.add(
        "produce 100 B, 4 producers, beside idle conns",
        beside,
        "records/s",
        "same case without them, runs alternating",
        alone,
        Some("≈ 1"),
        ratio_up(beside, alone),
    );
}

fn ratio_up(value: f64, baseline: f64) -> f64 {
    if baseline > 0.0 {
        value / baseline
    } else {
        f64::NAN
    }
}

// ---------------------------------------------------------------------------
// The broker process and its database

struct Bench {
    pg: String,
    db_name: String,
    port: u16,
    child: Option<Child>,
    log_path: PathBuf,
}

impl Bench {
    fn start(settings: &Settings) -> Bench {
        let db_name = format!("bench_{}_{}", std::process::id(), now_ms() % 1_000_000);
        admin_sql(&settings.pg)
            .batch_execute(&format!("CREATE DATABASE {db_name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {db_name}: {e}"));
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        let _ = fs::create_dir_all(&dir);
        let mut bench = Bench {
            pg: settings.pg.clone(),
            log_path: dir.join(format!("{db_name}.log")),
            db_name,
            port: free_port(),
            child: None,
        };
        bench.spawn();
        bench
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn url(&self) -> String {
        format!("{}/{}", self.pg, self.db_name)
    }

    /// A plain SQL connection to the benchmark's database.
    fn sql(&self) -> Client {
        Client::connect(&self.url(), NoTls)
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.url()))
    }

    fn spawn(&mut self) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open broker log");
        // Cargo builds the binary (release profile for `cargo bench`) and
        // tells benches where it is.
        // sslmode=disable: the baselines' plain client does not encrypt
        // either. (libpq's default, prefer, encrypts when the server offers
        // TLS, as a stock Debian PostgreSQL does even on 127.0.0.1.)
        let url = format!("{}?sslmode=disable", self.url());
        let mut child = Command::new(env!("CARGO_BIN_EXE_kafkaesque"))
            .args(["--init-schema", "--listener", &self.addr()])
            .args(["--database-url", &url])
            .args(["--num-partitions", "4"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn kafkaesque");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(self.addr()).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "kafkaesque exited at start-up ({status}); see {}",
                    self.log_path.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "kafkaesque did not start within 30 s"
            );
            thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn rss_mib(&self) -> f64 {
        let pid = self.child.as_ref().map_or(0, Child::id);
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }

    fn stop(&mut self) {
        self.kill();
        let mut admin = admin_sql(&self.pg);
        if let Err(e) = admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.db_name
        )) {
            eprintln!("could not drop {}: {e}", self.db_name);
        }
    }
}

fn admin_sql(pg: &str) -> Client {
    let url = format!("{pg}/postgres");
    Client::connect(&url, NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot reach PostgreSQL at {url} ({e}). Start it with:\n    \
             pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn topic_id(db: &mut Client, topic: &str) -> uuid::Uuid {
    db.query_one(
        "SELECT topic_id FROM kafkaesque.topics WHERE name = $1",
        &[&topic],
    )
    .unwrap_or_else(|e| panic!("topic id of {topic}: {e}"))
    .get(0)
}

/// Writes `count` 100-byte records into partition 0 of `topic` with one
/// `INSERT … SELECT generate_series`, and moves its log end past them.
fn fill_partition(db: &mut Client, topic: &str, count: i64) {
    let id = topic_id(db, topic);
    let value = vec![b'x'; 100];
    db.execute(
        "INSERT INTO kafkaesque.record (topic_id, partition, \"offset\", timestamp, value)
         SELECT $1, 0, g, $2::bigint + g / 1000, $3 FROM generate_series(0, $4::bigint - 1) g",
        &[&id, &now_ms(), &value, &count],
    )
    .expect("fill partition");
    db.execute(
        "UPDATE kafkaesque.partitions SET next_offset = $2 WHERE topic_id = $1 AND partition = 0",
        &[&id, &count],
    )
    .expect("move log end");
}

// ---------------------------------------------------------------------------
// Clients

fn client_config(addr: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", addr)
        .set("broker.address.family", "v4")
        .set("socket.timeout.ms", "30000");
    config
}

fn create_topic(addr: &str, name: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> =
        client_config(addr).create().expect("admin client");
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in block_on(admin.create_topics([&topic], &opts)).expect("CreateTopics") {
        result.unwrap_or_else(|(t, code)| panic!("creating {t}: {code:?}"));
    }
}

/// Counts acknowledged and failed deliveries.
#[derive(Default)]
struct Acks {
    acked: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.acked.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

struct ProduceRun {
    records: u64,
    elapsed: Duration,
}

impl ProduceRun {
    fn per_sec(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// `producers` producers (acks=all), producer i writing to partition i,
/// each sending as fast as its queue allows for `duration`, then flushing.
/// Counts acknowledged records over the time until the last flush ends.
fn produce(
    addr: &str,
    topic: &str,
    size: usize,
    compression: &str,
    producers: i32,
    duration: Duration,
) -> ProduceRun {
    let start = Instant::now();
    let threads: Vec<_> = (0..producers)
        .map(|partition| {
            let (addr, topic) = (addr.to_string(), topic.to_string());
            let compression = compression.to_string();
            thread::spawn(move || {
                let producer: BaseProducer<Acks> = client_config(&addr)
                    .set("acks", "all")
                    .set("compression.codec", &compression)
                    .set("linger.ms", "5")
                    .set("queue.buffering.max.messages", "200000")
                    .set("message.timeout.ms", "60000")
                    .create_with_context(Acks::default())
                    .expect("producer");
                let payload = vec![b'p'; size];
                let deadline = Instant::now() + duration;
                let mut sent = 0u64;
                while Instant::now() < deadline {
                    let record = BaseRecord::<(), _>::to(&topic)
                        .partition(partition)
                        .payload(&payload);
                    match producer.send(record) {
                        Ok(()) => {
                            sent += 1;
                            if sent.is_multiple_of(1024) {
                                producer.poll(Duration::ZERO);
                            }
                        }
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                            producer.poll(Duration::from_millis(5));
                        }
                        Err((e, _)) => panic!("produce: {e}"),
                    }
                }
                producer.flush(Duration::from_secs(60)).expect("flush");
                let acks = producer.context();
                assert_eq!(acks.failed.load(Ordering::Relaxed), 0, "failed deliveries");
                (acks.acked.load(Ordering::Relaxed), start.elapsed())
            })
        })
        .collect();
    let mut run = ProduceRun {
        records: 0,
        elapsed: Duration::ZERO,
    };
    for t in threads {
        let (acked, elapsed) = t.join().expect("producer thread");
        run.records += acked;
        run.elapsed = run.elapsed.max(elapsed);
    }
    run
}

fn consumer(addr: &str, group: &str) -> BaseConsumer {
    client_config(addr)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100")
        .create()
        .expect("consumer")
}

/// One consumer assigned every partition from the beginning: records/s
/// until it has all `records`.
fn consume_assigned(addr: &str, topic: &str, partitions: i32, records: u64) -> f64 {
    let consumer = consumer(addr, "bench-assign");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    let start = Instant::now();
    consumer.assign(&tpl).expect("assign");
    let got = poll_until(&consumer, records, &AtomicU64::new(0), start);
    got as f64 / start.elapsed().as_secs_f64()
}

/// Polls until `shared` (this consumer's count added to the others') reaches
/// `total`, or 120 s pass. Returns this consumer's count.
fn poll_until(consumer: &BaseConsumer, total: u64, shared: &AtomicU64, start: Instant) -> u64 {
    let mut mine = 0;
    while shared.load(Ordering::Relaxed) < total && start.elapsed() < Duration::from_secs(120) {
        match consumer.poll(Duration::from_millis(50)) {
            Some(Ok(_)) => {
                mine += 1;
                shared.fetch_add(1, Ordering::Relaxed);
            }
            Some(Err(e)) => panic!("consume: {e}"),
            None => {}
        }
    }
    let got = shared.load(Ordering::Relaxed);
    assert!(got >= total, "consumed {got} of {total} within 120 s");
    mine
}

/// A 4-member group subscribed to `topic`: records/s from the first
/// subscribe until the members together have all `records`.
fn consume_group(addr: &str, topic: &str, members: usize, records: u64) -> f64 {
    let shared = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..members)
        .map(|_| {
            let (addr, topic, shared) = (addr.to_string(), topic.to_string(), Arc::clone(&shared));
            thread::spawn(move || {
                let consumer = consumer(&addr, "bench-group");
                consumer.subscribe(&[&topic]).expect("subscribe");
                poll_until(&consumer, records, &shared, start)
            })
        })
        .collect();
    let got: u64 = threads.into_iter().map(|t| t.join().expect("member")).sum();
    got as f64 / start.elapsed().as_secs_f64()
}

/// Delivery latency of each record, measured from send to acknowledgement.
#[derive(Default)]
struct Latencies(Mutex<Vec<Duration>>);

impl ClientContext for Latencies {}

impl ProducerContext for Latencies {
    type DeliveryOpaque = Box<Instant>;
    fn delivery(&self, result: &DeliveryResult<'_>, sent: Box<Instant>) {
        // A failed delivery has no latency; the count of samples shows it.
        if let (Ok(_), Ok(mut all)) = (result, self.0.lock()) {
            all.push(sent.elapsed());
        }
    }
}

/// One record every millisecond (linger.ms=0, acks=all) for `duration`.
fn produce_latency(addr: &str, topic: &str, duration: Duration) -> Vec<Duration> {
    let producer: BaseProducer<Latencies> = client_config(addr)
        .set("acks", "all")
        .set("linger.ms", "0")
        .create_with_context(Latencies::default())
        .expect("producer");
    let payload = vec![b'l'; 100];
    // Warm up: connection and metadata.
    producer
        .send(
            BaseRecord::<(), _, _>::with_opaque_to(topic, Box::new(Instant::now()))
                .partition(0)
                .payload(&payload),
        )
        .expect("send");
    producer.flush(Duration::from_secs(10)).expect("flush");
    producer.context().0.lock().expect("lock").clear();
    let start = Instant::now();
    let total = (duration.as_millis() as u32).max(1);
    for i in 0..total {
        let due = start + Duration::from_millis(i as u64);
        while Instant::now() < due {
            producer.poll(due.saturating_duration_since(Instant::now()));
        }
        let record = BaseRecord::<(), _, _>::with_opaque_to(topic, Box::new(Instant::now()))
            .partition(0)
            .payload(&payload);
        producer.send(record).map_err(|(e, _)| e).expect("send");
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
    let mut all = std::mem::take(&mut *producer.context().0.lock().expect("lock"));
    all.sort();
    all
}

/// `n` records, each sent only after the previous one was acknowledged:
/// sorted round-trip times.
fn produce_one_at_a_time(addr: &str, topic: &str, n: usize) -> Vec<Duration> {
    let producer: BaseProducer<Acks> = client_config(addr)
        .set("acks", "all")
        .set("linger.ms", "0")
        .create_with_context(Acks::default())
        .expect("producer");
    let payload = vec![b'o'; 100];
    let mut all: Vec<Duration> = (0..=n)
        .map(|_| {
            let start = Instant::now();
            let record = BaseRecord::<(), _>::to(topic)
                .partition(0)
                .payload(&payload);
            let acked = producer.context().acked.load(Ordering::Relaxed);
            producer.send(record).map_err(|(e, _)| e).expect("send");
            // Not flush(): it polls in 100 ms steps.
            while producer.context().acked.load(Ordering::Relaxed) == acked {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "no ack within 10 s"
                );
                producer.poll(Duration::from_millis(1));
            }
            start.elapsed()
        })
        .collect();
    all.remove(0); // the first one also connected and fetched metadata
    all.sort();
    all
}

/// The broker's own share of that round trip: `n` Produce v9 requests of
/// one 100-byte record (acks=all), written to a plain socket by this
/// process, each after the previous answer arrived, with no client library
/// in between: sorted round-trip times.
fn produce_raw_one_at_a_time(addr: &str, topic: &str, n: usize) -> Vec<Duration> {
    use kafka_protocol::messages::produce_request::{
        PartitionProduceData, ProduceRequest, TopicProduceData,
    };
    use kafka_protocol::messages::{
        ApiKey, ProduceResponse, RequestHeader, ResponseHeader, TopicName,
    };
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };

    let mut stream = TcpStream::connect(addr).expect("raw connection");
    stream.set_nodelay(true).expect("nodelay");
    let frame = |correlation_id: i32| {
        let record = Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: 0,
            sequence: -1,
            timestamp: now_ms(),
            key: None,
            value: Some(bytes::Bytes::from(vec![b'r'; 100])),
            headers: Default::default(),
        };
        let mut records = bytes::BytesMut::new();
        RecordBatchEncoder::encode(
            &mut records,
            &[record],
            &RecordEncodeOptions {
                version: 2,
                compression: Compression::None,
            },
        )
        .expect("encode batch");
        let request = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(10_000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(0)
                    .with_records(Some(records.freeze()))])]);
        let header = RequestHeader::default()
            .with_request_api_key(ApiKey::Produce as i16)
            .with_request_api_version(9)
            .with_correlation_id(correlation_id);
        let mut body = bytes::BytesMut::new();
        header.encode(&mut body, 2).expect("encode header");
        request.encode(&mut body, 9).expect("encode produce");
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&body);
        frame
    };
    let mut all: Vec<Duration> = (0..=n as i32)
        .map(|correlation_id| {
            let request = frame(correlation_id);
            let start = Instant::now();
            stream.write_all(&request).expect("send produce");
            let mut size = [0u8; 4];
            stream.read_exact(&mut size).expect("produce response");
            let mut body = vec![0u8; u32::from_be_bytes(size) as usize];
            stream.read_exact(&mut body).expect("produce response");
            let elapsed = start.elapsed();
            let mut body = bytes::Bytes::from(body);
            ResponseHeader::decode(&mut body, 1).expect("response header");
            let response = ProduceResponse::decode(&mut body, 9).expect("produce response");
            let partition = &response.responses[0].partition_responses[0];
            assert_eq!(partition.error_code, 0, "raw produce failed");
            elapsed
        })
        .collect();
    all.remove(0);
    all.sort();
    all
}

/// Time to consume `FETCH_RECORDS` records of partition 0 from `from`, in
/// ms: the median of seven fresh consumers.
fn fetch_time(addr: &str, topic: &str, from: i64) -> f64 {
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let consumer = consumer(addr, "bench-fetch");
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, 0, Offset::Offset(from))
                .expect("partition");
            let start = Instant::now();
            consumer.assign(&tpl).expect("assign");
            poll_until(&consumer, FETCH_RECORDS as u64, &AtomicU64::new(0), start);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}

/// Opens `n` connections and sends one ApiVersions (v0) request on each.
fn open_idle_connections(addr: &str, n: usize) -> Vec<TcpStream> {
    // size, api key 18, version 0, correlation id 1, client id "idle".
    let mut request = Vec::new();
    request.extend_from_slice(&14i32.to_be_bytes());
    request.extend_from_slice(&18i16.to_be_bytes());
    request.extend_from_slice(&0i16.to_be_bytes());
    request.extend_from_slice(&1i32.to_be_bytes());
    request.extend_from_slice(&4i16.to_be_bytes());
    request.extend_from_slice(b"idle");
    (0..n)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).expect("idle connection");
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .expect("timeout");
            stream.write_all(&request).expect("ApiVersions");
            let mut size = [0u8; 4];
            stream.read_exact(&mut size).expect("ApiVersions response");
            let mut body = vec![0u8; u32::from_be_bytes(size) as usize];
            stream.read_exact(&mut body).expect("ApiVersions response");
            stream
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Baselines: a plain client on the same PostgreSQL

const RECORD_COLUMNS: &str = "topic_id, partition, \"offset\", timestamp, key, value, \
     header_keys, header_values, batch_attributes, producer_id, producer_epoch, sequence";

type RecordRow = (
    uuid::Uuid,
    i32,
    i64,
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<String>>,
    Option<Vec<Option<Vec<u8>>>>,
    i16,
    i64,
    i16,
    i32,
);

/// Binary COPY of the rows `topic` holds into a fresh table of the same
/// shape (with its primary key), one transaction: records/s.
fn copy_baseline(db: &mut Client, topic: &str) -> f64 {
    let id = topic_id(db, topic);
    let rows: Vec<RecordRow> = db
        .query(
            &format!("SELECT {RECORD_COLUMNS} FROM kafkaesque.record WHERE topic_id = $1"),
            &[&id],
        )
        .expect("read rows back")
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                r.get(7),
                r.get(8),
                r.get(9),
                r.get(10),
                r.get(11),
            )
        })
        .collect();
    db.batch_execute(
        "DROP TABLE IF EXISTS public.bench_copy;
         CREATE TABLE public.bench_copy (LIKE kafkaesque.record INCLUDING ALL)",
    )
    .expect("scratch table");
    let types = [
        Type::UUID,
        Type::INT4,
        Type::INT8,
        Type::INT8,
        Type::BYTEA,
        Type::BYTEA,
        Type::TEXT_ARRAY,
        Type::BYTEA_ARRAY,
        Type::INT2,
        Type::INT8,
        Type::INT2,
        Type::INT4,
    ];
    let start = Instant::now();
    let mut tx = db.transaction().expect("begin");
    let sink = tx
        .copy_in(&format!(
            "COPY public.bench_copy ({RECORD_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .expect("COPY");
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    for r in &rows {
        writer
            .write(&[
                &r.0, &r.1, &r.2, &r.3, &r.4, &r.5, &r.6, &r.7, &r.8, &r.9, &r.10, &r.11,
            ])
            .expect("COPY row");
    }
    writer.finish().expect("COPY finish");
    tx.commit().expect("commit");
    let rate = rows.len() as f64 / start.elapsed().as_secs_f64();
    db.batch_execute("DROP TABLE public.bench_copy")
        .expect("drop scratch");
    rate
}

/// One SELECT of the columns Fetch reads, for every row of `topic`:
/// records/s.
fn select_baseline(db: &mut Client, topic: &str) -> f64 {
    let id = topic_id(db, topic);
    let start = Instant::now();
    let rows = db
        .query(
            "SELECT \"offset\", timestamp, key, value, header_keys, header_values,
                    batch_attributes, producer_id, producer_epoch, sequence
               FROM kafkaesque.record WHERE topic_id = $1 ORDER BY partition, \"offset\"",
            &[&id],
        )
        .expect("SELECT");
    let bytes: usize = rows
        .iter()
        .map(|r| r.get::<_, Option<&[u8]>>(3).map_or(0, <[u8]>::len))
        .sum();
    assert!(bytes > 0 || rows.is_empty());
    rows.len() as f64 / start.elapsed().as_secs_f64()
}

/// `n` one-row INSERTs of a 100-byte record, each its own transaction,
/// into a scratch table shaped like `kafkaesque.record`: sorted latencies.
fn insert_commit_baseline(db: &mut Client, n: i64) -> Vec<Duration> {
    db.batch_execute(
        "DROP TABLE IF EXISTS public.bench_insert;
         CREATE TABLE public.bench_insert (LIKE kafkaesque.record INCLUDING ALL)",
    )
    .expect("scratch table");
    let stmt = db
        .prepare(
            "INSERT INTO public.bench_insert (topic_id, partition, \"offset\", timestamp, value)
             VALUES ($1, 0, $2, $3, $4)",
        )
        .expect("prepare");
    let id = uuid::Uuid::nil();
    let value = vec![b'i'; 100];
    let mut all: Vec<Duration> = (0..n)
        .map(|offset| {
            let start = Instant::now();
            db.execute(&stmt, &[&id, &offset, &now_ms(), &value])
                .expect("INSERT");
            start.elapsed()
        })
        .collect();
    db.batch_execute("DROP TABLE public.bench_insert")
        .expect("drop scratch");
    all.sort();
    all
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs a future on this thread: rdkafka's AdminClient completes its
/// futures from its own thread, so this only sleeps until woken.
fn block_on<F: Future>(future: F) -> F::Output {
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
// The table

struct Row {
    case: String,
    value: f64,
    unit: &'static str,
    baseline: &'static str,
    baseline_value: f64,
    target: Option<&'static str>,
    ratio: f64,
}

#[derive(Default)]
struct Results(Vec<Row>);

impl Results {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        case: &str,
        value: f64,
        unit: &'static str,
        baseline: &'static str,
        baseline_value: f64,
        target: Option<&'static str>,
        ratio: f64,
    ) {
        eprintln!("  {case}: {value:.2} {unit} (ratio {ratio:.2})");
        self.0.push(Row {
            case: case.to_string(),
            value,
            unit,
            baseline,
            baseline_value,
            target,
            ratio,
        });
    }

    fn print(&self, settings: &Settings) {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n| case | Kafkaesque | baseline (same run) | ratio | target |\n|---|---:|---|---:|---|"
        );
        for r in &self.0 {
            let _ = writeln!(
                out,
                "| {} | {} {} | {}: {} | {:.2} | {} |",
                r.case,
                fmt(r.value),
                r.unit,
                r.baseline,
                fmt(r.baseline_value),
                r.ratio,
                r.target.unwrap_or("")
            );
        }
        let _ = writeln!(
            out,
            "\n(timed produce cases: {} s each; large partition: {} records)",
            settings.secs.as_secs(),
            settings.large
        );
        println!("{out}");
    }

    fn write_csv(&self) -> std::io::Result<()> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench/results.csv");
        let mut csv = String::from("case,value,unit,baseline,baseline_value,ratio,target\n");
        for r in &self.0 {
            let _ = writeln!(
                csv,
                "\"{}\",{:.3},{},\"{}\",{:.3},{:.3},\"{}\"",
                r.case,
                r.value,
                r.unit,
                r.baseline,
                r.baseline_value,
                r.ratio,
                r.target.unwrap_or("")
            );
        }
        fs::write(&path, csv)?;
        eprintln!("wrote {}", path.display());
        Ok(())
    }
}

fn fmt(v: f64) -> String {
    if v >= 1000.0 {
        // Thousands separators, no decimals.
        let s = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{v:.2}")
    }
}
