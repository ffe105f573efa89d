//! The core produce/consume path, driven by a real client (librdkafka, via
//! the `rdkafka` crate) against the real binary on a fresh database.

mod common;

use common::*;
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer as _};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

/// One record as a test writes it and expects to read it back.
#[derive(Debug, Clone, PartialEq)]
struct Rec {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    timestamp: i64,
}

/// Records covering the shapes a client can send: keys and values present,
/// null, and empty; headers with values, null values, duplicate keys; big
/// compressible values and small incompressible ones.
fn assorted_records(base_ts: i64) -> Vec<Rec> {
    let mut recs = vec![
        Rec {
            key: Some(b"k0".to_vec()),
            value: Some(b"hello".to_vec()),
            headers: vec![],
            timestamp: base_ts,
        },
        Rec {
            key: None,
            value: Some(b"null key".to_vec()),
            headers: vec![],
            timestamp: base_ts + 1,
        },
        Rec {
            key: Some(b"tombstone".to_vec()),
            value: None,
            headers: vec![],
            timestamp: base_ts + 2,
        },
        Rec {
            key: Some(Vec::new()),
            value: Some(Vec::new()),
            headers: vec![],
            timestamp: base_ts + 3,
        },
        Rec {
            key: Some(b"with headers".to_vec()),
            value: Some(vec![0, 1, 2, 255, 254]),
            headers: vec![
                ("h1".into(), Some(b"v1".to_vec())),
                ("null".into(), None),
                ("empty".into(), Some(Vec::new())),
                ("h1".into(), Some(b"again".to_vec())),
            ],
            timestamp: base_ts + 4,
        },
        Rec {
            key: None,
            value: None,
            headers: vec![("only".into(), Some(b"headers".to_vec()))],
            timestamp: base_ts - 60_000,
        },
    ];
    for i in 0..50u32 {
        recs.push(Rec {
            key: Some(format!("key-{i}").into_bytes()),
            value: Some(format!("value {i} ").repeat(40).into_bytes()),
            headers: vec![("i".into(), Some(i.to_be_bytes().to_vec()))],
            timestamp: base_ts + 10 + i64::from(i),
        });
    }
    recs
}

fn send(producer: &Producer, topic: &str, partition: i32, rec: &Rec) {
    let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
        .partition(partition)
        .timestamp(rec.timestamp);
    if let Some(key) = &rec.key {
        record = record.key(key.as_slice());
    }
    if let Some(value) = &rec.value {
        record = record.payload(value.as_slice());
    }
    if !rec.headers.is_empty() {
        let mut headers = OwnedHeaders::new();
        for (key, value) in &rec.headers {
            headers = headers.insert(Header {
                key,
                value: value.as_deref(),
            });
        }
        record = record.headers(headers);
    }
    producer.send(record).expect("enqueue record");
}

fn as_rec(m: &rdkafka::message::OwnedMessage) -> Rec {
    let headers = m
        .headers()
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default();
    Rec {
        key: m.key().map(<[u8]>::to_vec),
        value: m.payload().map(<[u8]>::to_vec),
        headers,
        timestamp: m
            .timestamp()
            .to_millis()
            .expect("record carries a timestamp"),
    }
}

/// Produces the assorted records with `codec`, reads them back and compares
/// every byte, header, timestamp and offset.
fn round_trip(codec: &str) {
    let broker = Broker::start();
    let topic = topic_name(&format!("codec_{codec}"));
    create_topic(&broker, &topic, 1);
    let sent = assorted_records(now_ms() - 10_000);
    let producer = producer(&broker, codec);
    for rec in &sent {
        send(&producer, &topic, 0, rec);
    }
    flush_all(&producer);
    let acked = producer.context().acked.lock().unwrap().clone();
    let mut acked_offsets: Vec<i64> = acked.iter().map(|a| a.1).collect();
    acked_offsets.sort_unstable();
    assert_eq!(acked_offsets, (0..sent.len() as i64).collect::<Vec<_>>());

    let consumer = assigned_consumer(&broker, &topic, 1);
    let got = consume(&consumer, sent.len(), TIMEOUT);
    let offsets: Vec<i64> = got.iter().map(|m| m.offset()).collect();
    assert_eq!(
        offsets,
        (0..sent.len() as i64).collect::<Vec<_>>(),
        "offsets"
    );
    let got: Vec<Rec> = got.iter().map(as_rec).collect();
    assert_eq!(got.len(), sent.len());
    for (i, (got, sent)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(got, sent, "record at offset {i}");
    }
    // Nothing more arrives.
    assert!(consume(&consumer, 1, Duration::from_millis(500)).is_empty());
}

#[test]
fn round_trip_uncompressed() {
    round_trip("none");
}

#[test]
fn round_trip_gzip() {
    round_trip("gzip");
}

#[test]
fn round_trip_snappy() {
    round_trip("snappy");
}

#[test]
fn round_trip_lz4() {
    round_trip("lz4");
}

#[test]
fn round_trip_zstd() {
    round_trip("zstd");
}

#[test]
fn offsets_are_dense_per_partition_and_watermarks_follow() {
    let broker = Broker::start();
    let topic = topic_name("watermarks");
    create_topic(&broker, &topic, 3);
    let consumer: BaseConsumer = consumer_config(&broker).create().unwrap();
    for p in 0..3 {
        assert_eq!(
            consumer.fetch_watermarks(&topic, p, TIMEOUT).unwrap(),
            (0, 0),
            "empty partition {p}"
        );
    }
    let producer = producer(&broker, "lz4");
    let counts = [7, 0, 12];
    for (p, &n) in counts.iter().enumerate() {
        for i in 0..n {
            let value = format!("p{p} r{i}");
            producer
                .send(
                    BaseRecord::<(), _>::to(&topic)
                        .partition(p as i32)
                        .payload(&value),
                )
                .unwrap();
        }
    }
    flush_all(&producer);
    for (p, &n) in counts.iter().enumerate() {
        assert_eq!(
            consumer
                .fetch_watermarks(&topic, p as i32, TIMEOUT)
                .unwrap(),
            (0, n),
            "partition {p}"
        );
        let mut offsets: Vec<i64> = producer
            .context()
            .acked
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.0 == p as i32)
            .map(|a| a.1)
            .collect();
        offsets.sort_unstable();
        assert_eq!(offsets, (0..n).collect::<Vec<_>>(), "partition {p}");
    }
    // Consuming partition 2 from offset 5 starts exactly there.
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 2, Offset::Offset(5))
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let got = consume(&consumer, 7, TIMEOUT);
    let got: Vec<(i64, Vec<u8>)> = got
        .iter()
        .map(|m| (m.offset(), m.payload().unwrap().to_vec()))
        .collect();
    let want: Vec<(i64, Vec<u8>)> = (5..12)
        .map(|i| (i, format!("p2 r{i}").into_bytes()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn list_offsets_by_timestamp() {
    let broker = Broker::start();
    let topic = topic_name("by_time");
    create_topic(&broker, &topic, 1);
    let base = now_ms() - 100_000;
    let producer = producer(&broker, "none");
    for i in 0..5 {
        let value = format!("at {i}");
        producer
            .send(
                BaseRecord::<(), _>::to(&topic)
                    .partition(0)
                    .payload(&value)
                    .timestamp(base + i * 1000),
            )
            .unwrap();
    }
    flush_all(&producer);
    let consumer: BaseConsumer = consumer_config(&broker).create().unwrap();
    // The first offset whose timestamp is >= the one asked for.
    for (ts, want) in [
        (base - 1, Offset::Offset(0)),
        (base, Offset::Offset(0)),
        (base + 1, Offset::Offset(1)),
        (base + 2500, Offset::Offset(3)),
        (base + 4000, Offset::Offset(4)),
        (base + 4001, Offset::End),
    ] {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Offset(ts))
            .unwrap();
        let found = consumer.offsets_for_times(tpl, TIMEOUT).unwrap();
        let elem = found.find_partition(&topic, 0).unwrap();
        assert_eq!(elem.error(), Ok(()), "timestamp {ts}");
        assert_eq!(elem.offset(), want, "timestamp base+{}", ts - base);
    }
}

#[test]
fn metadata_auto_creates_topics_with_num_partitions() {
    let broker = Broker::start_with(&["--num-partitions", "3"]);
    let topic = topic_name("auto");
    // Producers ask for auto-creation (allow.auto.create.topics=true).
    let producer = producer(&broker, "none");
    let deadline = std::time::Instant::now() + TIMEOUT;
    let partitions = loop {
        let metadata = producer
            .client()
            .fetch_metadata(Some(&topic), TIMEOUT)
            .expect("metadata");
        let t = &metadata.topics()[0];
        if t.error().is_none() && !t.partitions().is_empty() {
            break t.partitions().len();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "topic not created: {:?}",
            t.error()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(partitions, 3);
    // Producing to an unknown topic also creates it.
    let other = topic_name("auto_produce");
    producer
        .send(BaseRecord::<(), _>::to(&other).payload("x"))
        .unwrap();
    flush_all(&producer);
    let consumer = assigned_consumer(&broker, &other, 3);
    assert_eq!(consume(&consumer, 1, TIMEOUT).len(), 1);
}

#[test]
fn auto_create_can_be_disabled() {
    let broker = Broker::start_with(&["--auto-create-topics", "false"]);
    let topic = topic_name("no_auto");
    let producer = producer(&broker, "none");
    let metadata = producer
        .client()
        .fetch_metadata(Some(&topic), TIMEOUT)
        .expect("metadata");
    assert_eq!(
        metadata.topics()[0].error().map(RDKafkaErrorCode::from),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition)
    );
}

#[test]
fn delete_topic_removes_data_and_name_can_be_reused() {
    let broker = Broker::start();
    let topic = topic_name("deleted");
    create_topic(&broker, &topic, 2);
    let producer = producer(&broker, "none");
    for p in 0..2 {
        for _ in 0..3 {
            producer
                .send(BaseRecord::<(), _>::to(&topic).partition(p).payload("old"))
                .unwrap();
        }
    }
    flush_all(&producer);
    let mut sql = broker.db.connect();
    let rows = |sql: &mut postgres::Client| -> i64 {
        sql.query_one(
            "SELECT count(*) FROM kafkaesque.records WHERE topic = $1",
            &[&topic],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(rows(&mut sql), 6);

    let admin = admin(&broker);
    let results = block_on(admin.delete_topics(&[&topic], &AdminOptions::new())).unwrap();
    assert_eq!(results, vec![Ok(topic.clone())]);
    assert_eq!(rows(&mut sql), 0, "records of a deleted topic are gone");
    let stored: i64 = sql
        .query_one(
            "SELECT count(*) FROM kafkaesque.record r \
             WHERE NOT EXISTS (SELECT 1 FROM kafkaesque.topics t WHERE t.topic_id = r.topic_id)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(stored, 0, "no orphaned rows in kafkaesque.record");

    // Deleting it again: it is unknown.
    let again = block_on(admin.delete_topics(&[&topic], &AdminOptions::new())).unwrap();
    assert_eq!(
        again,
        vec![Err((
            topic.clone(),
            RDKafkaErrorCode::UnknownTopicOrPartition
        ))]
    );

    // Recreated, it starts empty at offset 0.
    create_topic(&broker, &topic, 1);
    let consumer: BaseConsumer = consumer_config(&broker).create().unwrap();
    assert_eq!(
        consumer.fetch_watermarks(&topic, 0, TIMEOUT).unwrap(),
        (0, 0)
    );
    let fresh = common::producer(&broker, "none");
    fresh
        .send(BaseRecord::<(), _>::to(&topic).partition(0).payload("new"))
        .unwrap();
    flush_all(&fresh);
    assert_eq!(fresh.context().acked.lock().unwrap()[0].1, 0);
    let consumer = assigned_consumer(&broker, &topic, 1);
    let got = consume(&consumer, 2, Duration::from_secs(3));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload(), Some(&b"new"[..]));
}

#[test]
fn create_topics_errors() {
    let broker = Broker::start();
    let admin = admin(&broker);
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let topic = topic_name("dup");
    create_topic(&broker, &topic, 1);

    let dup = NewTopic::new(&topic, 1, TopicReplication::Fixed(1));
    let bad_name = NewTopic::new("no spaces allowed", 1, TopicReplication::Fixed(1));
    let dots = NewTopic::new("..", 1, TopicReplication::Fixed(1));
    let long = "x".repeat(250);
    let too_long = NewTopic::new(&long, 1, TopicReplication::Fixed(1));
    let results = block_on(admin.create_topics([&dup, &bad_name, &dots, &too_long], &opts))
        .expect("CreateTopics request");
    assert_eq!(
        results,
        vec![
            Err((topic.clone(), RDKafkaErrorCode::TopicAlreadyExists)),
            Err(("no spaces allowed".into(), RDKafkaErrorCode::InvalidTopic)),
            Err(("..".into(), RDKafkaErrorCode::InvalidTopic)),
            Err((long.clone(), RDKafkaErrorCode::InvalidTopic)),
        ]
    );

    // validate_only says yes without creating anything.
    let checked = topic_name("validate_only");
    let new = NewTopic::new(&checked, 2, TopicReplication::Fixed(1));
    let results =
        block_on(admin.create_topics([&new], &AdminOptions::new().validate_only(true))).unwrap();
    assert_eq!(results, vec![Ok(checked.clone())]);
    let consumer: BaseConsumer = consumer_config(&broker).create().unwrap();
    let metadata = consumer.fetch_metadata(Some(&checked), TIMEOUT).unwrap();
    assert_eq!(
        metadata.topics()[0].error().map(RDKafkaErrorCode::from),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition),
        "validate_only created the topic"
    );
}

#[test]
fn records_are_readable_with_sql() {
    let broker = Broker::start();
    let topic = topic_name("orders");
    create_topic(&broker, &topic, 1);
    let producer = producer(&broker, "zstd");
    for i in 0..4 {
        let key = format!("order-{i}");
        let value = format!("{{\"amount\": {i}}}");
        producer
            .send(
                BaseRecord::to(&topic)
                    .partition(0)
                    .key(&key)
                    .payload(&value)
                    .headers(OwnedHeaders::new().insert(Header {
                        key: "source",
                        value: Some("test"),
                    })),
            )
            .unwrap();
    }
    flush_all(&producer);
    let mut sql = broker.db.connect();
    let rows = sql
        .query(
            "SELECT key, value, \"offset\", header_keys FROM kafkaesque.records \
             WHERE topic = $1 ORDER BY \"offset\"",
            &[&topic],
        )
        .unwrap();
    let got: Vec<(Vec<u8>, Vec<u8>, i64, Vec<String>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let want: Vec<(Vec<u8>, Vec<u8>, i64, Vec<String>)> = (0..4)
        .map(|i| {
            (
                format!("order-{i}").into_bytes(),
                format!("{{\"amount\": {i}}}").into_bytes(),
                i,
                vec!["source".to_string()],
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn fetch_long_poll_is_woken_by_produce() {
    let broker = Broker::start();
    let topic = topic_name("long_poll");
    create_topic(&broker, &topic, 1);
    let mut config = consumer_config(&broker);
    config.set("fetch.wait.max.ms", "5000");
    let consumer: BaseConsumer = config.create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    // Let the consumer settle into a waiting fetch.
    assert!(consume(&consumer, 1, Duration::from_secs(1)).is_empty());
    let producer = producer(&broker, "none");
    let started = std::time::Instant::now();
    producer
        .send(
            BaseRecord::<(), _>::to(&topic)
                .partition(0)
                .payload("wake up"),
        )
        .unwrap();
    flush_all(&producer);
    let got = consume(&consumer, 1, TIMEOUT);
    assert_eq!(got.len(), 1);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "a waiting fetch took {:?} to see a new record (fetch.wait.max.ms=5000)",
        started.elapsed()
    );
}
