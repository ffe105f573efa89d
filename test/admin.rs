//! Topic administration and topic configs, driven by real clients: the
//! rdkafka (librdkafka) AdminClient, producer and consumer, plus raw
//! protocol requests (encoded with the `kafka-protocol` crate) for what
//! rdkafka does not expose (IncrementalAlterConfigs, synonyms, error
//! messages, DescribeLogDirs).
//!
//! Each test starts the real broker binary on a free port against a fresh
//! PostgreSQL database, which it drops afterwards (`test/common`).

mod common;

use common::{block_on, Broker};
use kafka_protocol::messages::{self as kp, RequestHeader, ResponseHeader, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, ConfigSource, NewPartitions, NewTopic,
    ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::AsyncRuntime;
use rdkafka::{Offset, Timestamp, TopicPartitionList};
use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// Harness: the shared broker harness, plus the clients these tests use.

/// A broker on a fresh database (the shared harness in `test/common`) whose
/// log cleaner runs every 300 ms, so retention and compaction show quickly.
fn start_broker() -> Broker {
    Broker::start_with(&[
        "--log-retention-check-interval-ms",
        "300",
        "--log-level",
        "warn",
    ])
}

/// The clients these tests use, configured for them.
trait AdminTestClients {
    fn admin(&self) -> AdminClient<DefaultClientContext>;
    fn producer(&self) -> Producer;
    fn consumer(&self) -> BaseConsumer;
}

impl AdminTestClients for Broker {
    fn admin(&self) -> AdminClient<DefaultClientContext> {
        ClientConfig::new()
            .set("bootstrap.servers", self.addr())
            .create()
            .expect("admin client")
    }

    fn producer(&self) -> Producer {
        ClientConfig::new()
            .set("bootstrap.servers", self.addr())
            .set("message.timeout.ms", "10000")
            .set("topic.metadata.refresh.interval.ms", "500")
            .set("linger.ms", "0")
            .create()
            .expect("producer")
    }

    fn consumer(&self) -> BaseConsumer {
        ClientConfig::new()
            .set("bootstrap.servers", self.addr())
            .set("group.id", "admin-tests")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer")
    }
}

/// rdkafka's FutureProducer needs an async runtime for its timers; without
/// the tokio feature, threads do.
struct ThreadRuntime;

type Producer = FutureProducer<DefaultClientContext, ThreadRuntime>;

struct Delay {
    until: Instant,
    armed: bool,
}

impl Future for Delay {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        if now >= self.until {
            return Poll::Ready(());
        }
        if !self.armed {
            self.armed = true;
            let (waker, wait) = (cx.waker().clone(), self.until - now);
            std::thread::spawn(move || {
                std::thread::sleep(wait);
                waker.wake();
            });
        }
        Poll::Pending
    }
}

impl AsyncRuntime for ThreadRuntime {
    type Delay = Delay;

    fn spawn<T>(task: T)
    where
        T: Future<Output = ()> + Send + 'static,
    {
        std::thread::spawn(move || block_on(task));
    }

    fn delay_for(duration: Duration) -> Delay {
        Delay {
            until: Instant::now() + duration,
            armed: false,
        }
    }
}

fn opts() -> AdminOptions {
    AdminOptions::new().request_timeout(Some(Duration::from_secs(10)))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn create_topic(b: &Broker, name: &str, partitions: i32, configs: &[(&str, &str)]) {
    let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    for (k, v) in configs {
        topic = topic.set(k, v);
    }
    let results = block_on(b.admin().create_topics(&[topic], &opts())).unwrap();
    assert_eq!(results, vec![Ok(name.to_string())]);
}

/// Produces one record; the delivery's (partition, offset) or its error.
fn produce(
    p: &Producer,
    topic: &str,
    partition: i32,
    key: Option<&str>,
    value: Option<&str>,
    timestamp: Option<i64>,
) -> Result<(i32, i64), RDKafkaErrorCode> {
    let mut record: FutureRecord<'_, str, str> = FutureRecord::to(topic).partition(partition);
    if let Some(k) = key {
        record = record.key(k);
    }
    if let Some(v) = value {
        record = record.payload(v);
    }
    if let Some(ts) = timestamp {
        record = record.timestamp(ts);
    }
    let delivery = match p.send_result(record) {
        Ok(delivery) => delivery,
        Err((KafkaError::MessageProduction(code), _)) => return Err(code),
        Err((e, _)) => panic!("cannot enqueue: {e}"),
    };
    match block_on(delivery).expect("delivery future") {
        Ok(d) => Ok((d.partition, d.offset)),
        Err((KafkaError::MessageProduction(code), _)) => Err(code),
        Err((e, _)) => panic!("unexpected delivery error {e}"),
    }
}

/// A consumed record: offset, key, value, timestamp.
type Consumed = (i64, Option<String>, Option<String>, Timestamp);

/// Reads one partition from `from` to its end.
fn consume_to_end(b: &Broker, topic: &str, partition: i32, from: Offset) -> Vec<Consumed> {
    let consumer = b.consumer();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, from).unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => out.push((
                m.offset(),
                m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                m.payload().map(|v| String::from_utf8_lossy(v).into_owned()),
                m.timestamp(),
            )),
            Some(Err(KafkaError::PartitionEOF(_))) => return out,
            Some(Err(e)) => panic!("consume error: {e}"),
            None => {}
        }
    }
    panic!("did not reach the end of {topic}-{partition}; got {out:?}");
}

fn low_watermark(b: &Broker, topic: &str, partition: i32) -> i64 {
    b.consumer()
        .fetch_watermarks(topic, partition, Duration::from_secs(5))
        .unwrap()
        .0
}

/// Waits until the log start offset of a partition is `expected`.
fn wait_for_low_watermark(b: &Broker, topic: &str, partition: i32, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let low = low_watermark(b, topic, partition);
        if low == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "low watermark of {topic} stayed {low}, expected {expected}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn describe(
    b: &Broker,
    resource: ResourceSpecifier<'_>,
) -> std::collections::HashMap<String, (Option<String>, ConfigSource)> {
    let mut results = block_on(b.admin().describe_configs(&[resource], &opts())).unwrap();
    let resource = results.remove(0).expect("describe succeeded");
    resource
        .entries
        .into_iter()
        .map(|e| (e.name, (e.value, e.source)))
        .collect()
}

// ---------------------------------------------------------------------------
// Raw protocol requests, for what rdkafka does not expose.

fn call<R: Request>(b: &Broker, version: i16, request: &R) -> R::Response {
    let mut body = Vec::new();
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("admin-test")))
        .encode(&mut body, R::header_version(version))
        .unwrap();
    request.encode(&mut body, version).unwrap();
    let mut stream = TcpStream::connect(b.addr()).unwrap();
    stream
        .write_all(&(body.len() as i32).to_be_bytes())
        .unwrap();
    stream.write_all(&body).unwrap();
    let mut size = [0; 4];
    stream.read_exact(&mut size).unwrap();
    let mut response = vec![0; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut response).unwrap();
    let mut buf = bytes::Bytes::from(response);
    let header = ResponseHeader::decode(&mut buf, R::Response::header_version(version)).unwrap();
    assert_eq!(header.correlation_id, 7);
    R::Response::decode(&mut buf, version).unwrap()
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn incremental(
    b: &Broker,
    resource_type: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
) -> (i16, Option<String>) {
    let mut resource = kp::incremental_alter_configs_request::AlterConfigsResource::default();
    resource.resource_type = resource_type;
    resource.resource_name = s(name);
    resource.configs = ops
        .iter()
        .map(|(k, op, v)| {
            let mut c = kp::incremental_alter_configs_request::AlterableConfig::default();
            c.name = s(k);
            c.config_operation = *op;
            c.value = v.map(s);
            c
        })
        .collect();
    let request = kp::IncrementalAlterConfigsRequest::default().with_resources(vec![resource]);
    let response = call(b, 1, &request);
    let r = &response.responses[0];
    (
        r.error_code,
        r.error_message.as_ref().map(|m| m.to_string()),
    )
}

/// DescribeConfigs v4 with synonyms and documentation, one topic config.
fn describe_raw(
    b: &Broker,
    topic: &str,
    key: &str,
) -> kp::describe_configs_response::DescribeConfigsResourceResult {
    let mut resource = kp::describe_configs_request::DescribeConfigsResource::default();
    resource.resource_type = 2;
    resource.resource_name = s(topic);
    resource.configuration_keys = Some(vec![s(key)]);
    let request = kp::DescribeConfigsRequest::default()
        .with_resources(vec![resource])
        .with_include_synonyms(true)
        .with_include_documentation(true);
    let mut response = call(b, 4, &request);
    let mut result = response.results.remove(0);
    assert_eq!(result.error_code, 0, "{:?}", result.error_message);
    assert_eq!(result.configs.len(), 1);
    result.configs.remove(0)
}

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

// ---------------------------------------------------------------------------

#[test]
fn topic_and_broker_configs_round_trip() {
    let b = start_broker();
    create_topic(&b, "orders", 1, &[("retention.ms", "86400000")]);

    let configs = describe(&b, ResourceSpecifier::Topic("orders"));
    assert!(
        configs.len() >= 30,
        "every topic config is described: {}",
        configs.len()
    );
    assert_eq!(
        configs["retention.ms"],
        (Some("86400000".into()), ConfigSource::DynamicTopic)
    );
    assert_eq!(
        configs["cleanup.policy"],
        (Some("delete".into()), ConfigSource::Default)
    );
    assert_eq!(
        configs["max.message.bytes"],
        (Some("1048588".into()), ConfigSource::Default)
    );

    // Synonyms, type and documentation (DescribeConfigs v4).
    let entry = describe_raw(&b, "orders", "retention.ms");
    assert_eq!(entry.config_type, 5, "LONG");
    assert!(entry.documentation.is_some_and(|d| !d.is_empty()));
    let synonyms: Vec<(String, i8)> = entry
        .synonyms
        .iter()
        .map(|s| (s.name.to_string(), s.source))
        .collect();
    assert_eq!(
        synonyms,
        vec![
            ("retention.ms".into(), 1),
            ("log.retention.hours".into(), 5)
        ]
    );

    // AlterConfigs replaces the whole set: retention.ms returns to default.
    let alter =
        AlterConfig::new(ResourceSpecifier::Topic("orders")).set("max.message.bytes", "2000");
    let results = block_on(b.admin().alter_configs(&[alter], &opts())).unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    let configs = describe(&b, ResourceSpecifier::Topic("orders"));
    assert_eq!(
        configs["max.message.bytes"],
        (Some("2000".into()), ConfigSource::DynamicTopic)
    );
    assert_eq!(
        configs["retention.ms"],
        (Some("604800000".into()), ConfigSource::Default)
    );

    // The broker resource, and a dynamic broker default topics follow.
    let broker = describe(&b, ResourceSpecifier::Broker(1));
    assert_eq!(broker["node.id"].0.as_deref(), Some("1"));
    assert_eq!(
        broker["log.retention.hours"],
        (Some("168".into()), ConfigSource::Default)
    );
    let alter = AlterConfig::new(ResourceSpecifier::Broker(1)).set("log.retention.ms", "5000");
    let results = block_on(b.admin().alter_configs(&[alter], &opts())).unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    let broker = describe(&b, ResourceSpecifier::Broker(1));
    assert_eq!(
        broker["log.retention.ms"],
        (Some("5000".into()), ConfigSource::DynamicBroker)
    );
    let configs = describe(&b, ResourceSpecifier::Topic("orders"));
    assert_eq!(
        configs["retention.ms"],
        (Some("5000".into()), ConfigSource::DynamicBroker)
    );

    // Unknown topics fail per resource (which rdkafka does not report).
    let mut resource = kp::describe_configs_request::DescribeConfigsResource::default();
    resource.resource_type = 2;
    resource.resource_name = s("nope");
    let response = call(
        &b,
        4,
        &kp::DescribeConfigsRequest::default().with_resources(vec![resource]),
    );
    assert_eq!(response.results[0].error_code, 3);
    assert!(response.results[0].configs.is_empty());
}

#[test]
fn invalid_config_names_and_values_are_rejected_with_messages() {
    let b = start_broker();
    let admin = b.admin();
    for (key, value) in [
        ("retention.ms", "soon"),
        ("cleanup.policy", "shred"),
        ("no.such.config", "1"),
    ] {
        let topic = NewTopic::new("bad", 1, TopicReplication::Fixed(1)).set(key, value);
        let results = block_on(admin.create_topics(&[topic], &opts())).unwrap();
        assert_eq!(
            results,
            vec![Err(("bad".to_string(), RDKafkaErrorCode::InvalidConfig))],
            "{key}={value}"
        );
    }
    // The message says what is wrong.
    let mut topic = kp::create_topics_request::CreatableTopic::default();
    topic.name = TopicName(s("bad"));
    topic.num_partitions = 1;
    topic.replication_factor = 1;
    let mut config = kp::create_topics_request::CreatableTopicConfig::default();
    config.name = s("retention.ms");
    config.value = Some(s("soon"));
    topic.configs = vec![config];
    let response = call(
        &b,
        7,
        &kp::CreateTopicsRequest::default().with_topics(vec![topic]),
    );
    assert_eq!(response.topics[0].error_code, 40);
    assert_eq!(
        response.topics[0].error_message.as_deref(),
        Some("Invalid value soon for configuration retention.ms: Not a number of type LONG")
    );

    create_topic(&b, "good", 1, &[]);
    let (code, message) = incremental(&b, 2, "good", &[("retention.ms", SET, Some("-7"))]);
    assert_eq!(code, 40);
    assert_eq!(
        message.as_deref(),
        Some("Invalid value -7 for configuration retention.ms: Value must be at least -1")
    );
    let (code, message) = incremental(&b, 2, "good", &[("made.up", SET, Some("1"))]);
    assert_eq!(
        (code, message.as_deref()),
        (40, Some("Unknown topic config name: made.up"))
    );
    // (rdkafka does not report per-resource errors of AlterConfigs.)
    let mut resource = kp::alter_configs_request::AlterConfigsResource::default();
    resource.resource_type = 2;
    resource.resource_name = s("good");
    let mut config = kp::alter_configs_request::AlterableConfig::default();
    config.name = s("message.timestamp.type");
    config.value = Some(s("Whenever"));
    resource.configs = vec![config];
    let response = call(
        &b,
        2,
        &kp::AlterConfigsRequest::default().with_resources(vec![resource]),
    );
    assert_eq!(response.responses[0].error_code, 40);
    assert_eq!(
        response.responses[0].error_message.as_deref(),
        Some("Invalid value Whenever for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime")
    );

    // validate_only creates nothing.
    let topic = NewTopic::new("dry", 1, TopicReplication::Fixed(1)).set("retention.ms", "1000");
    let results = block_on(admin.create_topics(&[topic], &opts().validate_only(true))).unwrap();
    assert_eq!(results, vec![Ok("dry".to_string())]);
    let metadata = b
        .consumer()
        .fetch_metadata(None, Duration::from_secs(5))
        .unwrap();
    assert!(
        metadata.topics().iter().all(|t| t.name() != "dry"),
        "validate_only must not create the topic"
    );
}

#[test]
fn incremental_set_delete_append_subtract() {
    let b = start_broker();
    create_topic(&b, "changelog", 1, &[]);
    // APPEND starts from the default ("delete").
    assert_eq!(
        incremental(
            &b,
            2,
            "changelog",
            &[("cleanup.policy", APPEND, Some("compact"))]
        )
        .0,
        0
    );
    assert_eq!(
        describe_raw(&b, "changelog", "cleanup.policy")
            .value
            .as_deref(),
        Some("delete,compact")
    );
    assert_eq!(
        incremental(
            &b,
            2,
            "changelog",
            &[("cleanup.policy", SUBTRACT, Some("delete"))]
        )
        .0,
        0
    );
    assert_eq!(
        describe_raw(&b, "changelog", "cleanup.policy")
            .value
            .as_deref(),
        Some("compact")
    );
    assert_eq!(
        incremental(
            &b,
            2,
            "changelog",
            &[
                ("retention.ms", SET, Some("1000")),
                ("segment.bytes", SET, Some("52428800"))
            ]
        )
        .0,
        0
    );
    assert_eq!(
        incremental(&b, 2, "changelog", &[("retention.ms", DELETE, None)]).0,
        0
    );
    let configs = describe(&b, ResourceSpecifier::Topic("changelog"));
    assert_eq!(configs["retention.ms"].1, ConfigSource::Default);
    assert_eq!(
        configs["segment.bytes"],
        (Some("52428800".into()), ConfigSource::DynamicTopic)
    );
    assert_eq!(
        configs["cleanup.policy"],
        (Some("compact".into()), ConfigSource::DynamicTopic)
    );
    // APPEND on a config that is not a list.
    let (code, message) = incremental(&b, 2, "changelog", &[("retention.ms", APPEND, Some("1"))]);
    assert_eq!(
        (code, message.as_deref()),
        (
            40,
            Some("Config value append is not allowed for config key: retention.ms")
        )
    );
    // Broker resource, and a group resource.
    assert_eq!(
        incremental(
            &b,
            4,
            "1",
            &[("log.cleanup.policy", APPEND, Some("compact"))]
        )
        .0,
        0
    );
    assert_eq!(
        describe(&b, ResourceSpecifier::Broker(1))["log.cleanup.policy"]
            .0
            .as_deref(),
        Some("delete,compact")
    );
    assert_eq!(
        incremental(
            &b,
            32,
            "g1",
            &[("consumer.session.timeout.ms", SET, Some("50000"))]
        )
        .0,
        0
    );
    assert_eq!(
        incremental(
            &b,
            32,
            "g1",
            &[("consumer.session.timeout.ms", SET, Some("5"))]
        )
        .0,
        40
    );
    // validate_only changes nothing.
    let mut resource = kp::incremental_alter_configs_request::AlterConfigsResource::default();
    resource.resource_type = 2;
    resource.resource_name = s("changelog");
    let mut c = kp::incremental_alter_configs_request::AlterableConfig::default();
    c.name = s("retention.ms");
    c.value = Some(s("42"));
    resource.configs = vec![c];
    let request = kp::IncrementalAlterConfigsRequest::default()
        .with_resources(vec![resource])
        .with_validate_only(true);
    assert_eq!(call(&b, 1, &request).responses[0].error_code, 0);
    assert_eq!(
        describe(&b, ResourceSpecifier::Topic("changelog"))["retention.ms"].1,
        ConfigSource::Default
    );
}

#[test]
fn partitions_grow_while_producing_and_consuming() {
    let b = start_broker();
    create_topic(&b, "growing", 1, &[]);
    let p = b.producer();
    assert_eq!(produce(&p, "growing", 0, None, Some("a"), None), Ok((0, 0)));

    let admin = b.admin();
    let results =
        block_on(admin.create_partitions(&[NewPartitions::new("growing", 3)], &opts())).unwrap();
    assert_eq!(results, vec![Ok("growing".to_string())]);
    let results =
        block_on(admin.create_partitions(&[NewPartitions::new("growing", 2)], &opts())).unwrap();
    assert_eq!(
        results,
        vec![Err((
            "growing".to_string(),
            RDKafkaErrorCode::InvalidPartitions
        ))]
    );
    let results = block_on(admin.create_partitions(
        &[NewPartitions::new("growing", 9)],
        &opts().validate_only(true),
    ))
    .unwrap();
    assert_eq!(results, vec![Ok("growing".to_string())]);

    // The producer learns about the new partitions and can write to them.
    let deadline = Instant::now() + Duration::from_secs(20);
    let delivered = loop {
        match produce(&p, "growing", 2, None, Some("b"), None) {
            Ok(d) => break d,
            Err(e) if Instant::now() < deadline => {
                eprintln!("not yet: {e:?}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("partition 2 never became writable: {e:?}"),
        }
    };
    assert_eq!(delivered, (2, 0));
    let records = consume_to_end(&b, "growing", 2, Offset::Beginning);
    assert_eq!(
        records.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        vec![Some("b".to_string())]
    );
    let records = consume_to_end(&b, "growing", 0, Offset::Beginning);
    assert_eq!(records.len(), 1);
    let metadata = b
        .consumer()
        .fetch_metadata(Some("growing"), Duration::from_secs(5))
        .unwrap();
    assert_eq!(metadata.topics()[0].partitions().len(), 3);
}

#[test]
fn delete_records_then_consume_from_the_new_start() {
    let b = start_broker();
    create_topic(&b, "trimmed", 1, &[]);
    let p = b.producer();
    for i in 0..10 {
        produce(&p, "trimmed", 0, None, Some(&format!("v{i}")), None).unwrap();
    }
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset("trimmed", 0, Offset::Offset(4))
        .unwrap();
    let result = block_on(b.admin().delete_records(&offsets, &opts())).unwrap();
    let element = result.find_partition("trimmed", 0).unwrap();
    assert_eq!(element.offset(), Offset::Offset(4), "the new low watermark");
    assert_eq!(low_watermark(&b, "trimmed", 0), 4);
    let records = consume_to_end(&b, "trimmed", 0, Offset::Beginning);
    assert_eq!(records.first().map(|r| r.0), Some(4));
    assert_eq!(records.len(), 6);

    // Beyond the high watermark: OFFSET_OUT_OF_RANGE.
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset("trimmed", 0, Offset::Offset(11))
        .unwrap();
    let result = block_on(b.admin().delete_records(&offsets, &opts())).unwrap();
    let element = result.find_partition("trimmed", 0).unwrap();
    assert_eq!(
        element.error(),
        Err(KafkaError::OffsetFetch(RDKafkaErrorCode::OffsetOutOfRange))
    );

    // -1 means the high watermark: everything goes.
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset("trimmed", 0, Offset::End)
        .unwrap();
    block_on(b.admin().delete_records(&offsets, &opts())).unwrap();
    assert_eq!(low_watermark(&b, "trimmed", 0), 10);
}

#[test]
fn retention_by_time_and_by_bytes_removes_what_kafka_would() {
    let b = start_broker();
    let p = b.producer();
    // By time: three records from an hour ago, then two fresh ones.
    create_topic(&b, "by-time", 1, &[]);
    let old = now_ms() - 3_600_000;
    for i in 0..3 {
        produce(&p, "by-time", 0, None, Some(&format!("old{i}")), Some(old)).unwrap();
    }
    for i in 0..2 {
        produce(&p, "by-time", 0, None, Some(&format!("new{i}")), None).unwrap();
    }
    assert_eq!(low_watermark(&b, "by-time", 0), 0);
    assert_eq!(
        incremental(&b, 2, "by-time", &[("retention.ms", SET, Some("600000"))]).0,
        0
    );
    wait_for_low_watermark(&b, "by-time", 0, 3);
    let records = consume_to_end(&b, "by-time", 0, Offset::Beginning);
    assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), vec![3, 4]);

    // By size: ten 30-byte values count 100 bytes each; with
    // retention.bytes=350 Kafka deletes the oldest while at least 350 bytes
    // remain: six go, four (400 bytes) stay.
    create_topic(&b, "by-size", 1, &[]);
    for i in 0..10 {
        produce(&p, "by-size", 0, None, Some(&format!("{i:030}")), None).unwrap();
    }
    assert_eq!(
        incremental(&b, 2, "by-size", &[("retention.bytes", SET, Some("350"))]).0,
        0
    );
    wait_for_low_watermark(&b, "by-size", 0, 6);
    // A consumer positioned below the log start is reset (OFFSET_OUT_OF_RANGE).
    let records = consume_to_end(&b, "by-size", 0, Offset::Offset(2));
    assert_eq!(records.first().map(|r| r.0), Some(6));
}

#[test]
fn compaction_keeps_the_newest_value_per_key_and_handles_tombstones() {
    let b = start_broker();
    let p = b.producer();
    create_topic(
        &b,
        "compacted",
        1,
        &[("cleanup.policy", "compact"), ("delete.retention.ms", "0")],
    );
    create_topic(&b, "keeps-tombstones", 1, &[("cleanup.policy", "compact")]);
    // A compacted topic refuses records without a key.
    assert_eq!(
        produce(&p, "compacted", 0, None, Some("x"), None),
        Err(RDKafkaErrorCode::InvalidRecord)
    );
    let writes: [(&str, Option<&str>); 6] = [
        ("k1", Some("a")),
        ("k2", Some("b")),
        ("k1", Some("c")),
        ("k3", Some("d")),
        ("k2", None),
        ("k4", Some("e")),
    ];
    for topic in ["compacted", "keeps-tombstones"] {
        for (k, v) in writes {
            produce(&p, topic, 0, Some(k), v, Some(now_ms() - 1000)).unwrap();
        }
    }
    let expected = |tombstone: bool| {
        let mut e: Vec<Consumed> = Vec::new();
        e.push((
            2,
            Some("k1".into()),
            Some("c".into()),
            Timestamp::NotAvailable,
        ));
        e.push((
            3,
            Some("k3".into()),
            Some("d".into()),
            Timestamp::NotAvailable,
        ));
        if tombstone {
            e.push((4, Some("k2".into()), None, Timestamp::NotAvailable));
        }
        e.push((
            5,
            Some("k4".into()),
            Some("e".into()),
            Timestamp::NotAvailable,
        ));
        e
    };
    let strip = |rs: Vec<Consumed>| -> Vec<Consumed> {
        rs.into_iter()
            .map(|(o, k, v, _)| (o, k, v, Timestamp::NotAvailable))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = strip(consume_to_end(&b, "compacted", 0, Offset::Beginning));
        let c = strip(consume_to_end(&b, "keeps-tombstones", 0, Offset::Beginning));
        if a == expected(false) && c == expected(true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not compacted as expected: {a:?} / {c:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Offsets never change and the log end stays where it was.
    let consumer = b.consumer();
    assert_eq!(
        consumer
            .fetch_watermarks("compacted", 0, Duration::from_secs(5))
            .unwrap(),
        (0, 6)
    );
    assert_eq!(
        produce(&p, "compacted", 0, Some("k1"), Some("f"), None),
        Ok((0, 6))
    );
}

#[test]
fn log_append_time_timestamp_bounds_and_oversized_records() {
    let b = start_broker();
    let p = b.producer();
    create_topic(
        &b,
        "appended",
        1,
        &[("message.timestamp.type", "LogAppendTime")],
    );
    let before = now_ms();
    produce(&p, "appended", 0, None, Some("x"), Some(1_000)).unwrap();
    let records = consume_to_end(&b, "appended", 0, Offset::Beginning);
    match records[0].3 {
        Timestamp::LogAppendTime(ts) => {
            assert!(ts >= before - 1000 && ts <= now_ms() + 1000, "{ts}")
        }
        other => panic!("expected LogAppendTime, got {other:?}"),
    }

    create_topic(
        &b,
        "strict",
        1,
        &[
            ("max.message.bytes", "200"),
            ("message.timestamp.before.max.ms", "60000"),
        ],
    );
    assert_eq!(
        produce(&p, "strict", 0, None, Some(&"x".repeat(1000)), None),
        Err(RDKafkaErrorCode::MessageSizeTooLarge)
    );
    assert_eq!(
        produce(
            &p,
            "strict",
            0,
            None,
            Some("future"),
            Some(now_ms() + 2 * 3_600_000)
        ),
        Err(RDKafkaErrorCode::InvalidTimestamp)
    );
    assert_eq!(
        produce(
            &p,
            "strict",
            0,
            None,
            Some("past"),
            Some(now_ms() - 120_000)
        ),
        Err(RDKafkaErrorCode::InvalidTimestamp)
    );
    assert_eq!(
        produce(&p, "strict", 0, None, Some("fine"), None),
        Ok((0, 0))
    );
    // Raising the limit takes effect at once.
    assert_eq!(
        incremental(
            &b,
            2,
            "strict",
            &[("max.message.bytes", SET, Some("100000"))]
        )
        .0,
        0
    );
    assert_eq!(
        produce(&p, "strict", 0, None, Some(&"x".repeat(1000)), None),
        Ok((0, 1))
    );
}

#[test]
fn log_dirs_leaders_reassignments_quotas_and_topic_partitions() {
    let b = start_broker();
    create_topic(&b, "sized", 3, &[]);
    let p = b.producer();
    produce(&p, "sized", 1, Some("k"), Some("value"), None).unwrap();

    let response = call(
        &b,
        4,
        &kp::DescribeLogDirsRequest::default().with_topics(None),
    );
    assert_eq!(response.results.len(), 1);
    let dir = &response.results[0];
    assert_eq!(dir.log_dir.as_str(), "/postgresql/kafkaesque");
    let topic = dir
        .topics
        .iter()
        .find(|t| t.name.as_str() == "sized")
        .unwrap();
    let sizes: Vec<(i32, i64)> = topic
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.partition_size))
        .collect();
    assert_eq!(sizes, vec![(0, 0), (1, 76), (2, 0)]);

    let mut wanted = kp::elect_leaders_request::TopicPartitions::default();
    wanted.topic = TopicName(s("sized"));
    wanted.partitions = vec![0, 7];
    let response = call(
        &b,
        2,
        &kp::ElectLeadersRequest::default().with_topic_partitions(Some(vec![wanted])),
    );
    let codes: Vec<i16> = response.replica_election_results[0]
        .partition_result
        .iter()
        .map(|r| r.error_code)
        .collect();
    assert_eq!(codes, vec![84, 3]);

    let response = call(&b, 0, &kp::ListPartitionReassignmentsRequest::default());
    assert_eq!((response.error_code, response.topics.len()), (0, 0));

    let response = call(&b, 1, &kp::DescribeClientQuotasRequest::default());
    assert_eq!(
        (response.error_code, response.entries.map(|e| e.len())),
        (0, Some(0))
    );

    // Two partitions per answer: the cursor points at the third.
    let mut topic = kp::describe_topic_partitions_request::TopicRequest::default();
    topic.name = TopicName(s("sized"));
    let request = kp::DescribeTopicPartitionsRequest::default()
        .with_topics(vec![topic])
        .with_response_partition_limit(2);
    let response = call(&b, 0, &request);
    assert_eq!(response.topics[0].partitions.len(), 2);
    let cursor = response.next_cursor.expect("a cursor");
    assert_eq!(
        (cursor.topic_name.as_str(), cursor.partition_index),
        ("sized", 2)
    );
}
