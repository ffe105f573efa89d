//! Topic administration and topic configs, driven by real clients: the
//! rdkafka (librdkafka) AdminClient, producer and consumer, plus raw
//! protocol requests (encoded with the `kafka-protocol` crate) for what
//! rdkafka does not expose (IncrementalAlterConfigs, synonyms, error
//! messages, DescribeLogDirs).
//!
//! Each test starts the real broker binary on a free port against a fresh
//! PostgreSQL database, which it drops afterwards (`test/common`).

mod common;

use common::{block_on, Broker, RawClient};
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

// ---------------------------------------------------------------------------
// ACLs and SCRAM credentials. rdkafka exposes neither, so these go over the
// wire with the raw client of `test/common` (kafka-protocol encodes and
// decodes, and checks nothing is left over).

/// ACL codes (Kafka's `ResourceType`, `PatternType`, `AclOperation`,
/// `AclPermissionType`).
const ANY: i8 = 1;
const TOPIC: i8 = 2;
const GROUP: i8 = 3;
const CLUSTER: i8 = 4;
const MATCH: i8 = 2;
const LITERAL: i8 = 3;
const PREFIXED: i8 = 4;
const READ: i8 = 3;
const WRITE: i8 = 4;
const DESCRIBE: i8 = 8;
const DENY: i8 = 2;
const ALLOW: i8 = 3;

/// An ACL binding as the tests compare them: (resource type, name, pattern
/// type, principal, host, operation, permission type).
type Acl = (i8, String, i8, String, String, i8, i8);

fn acl(rt: i8, name: &str, pt: i8, principal: &str, host: &str, op: i8, perm: i8) -> Acl {
    (rt, name.into(), pt, principal.into(), host.into(), op, perm)
}

fn creation(a: &Acl) -> kp::create_acls_request::AclCreation {
    kp::create_acls_request::AclCreation::default()
        .with_resource_type(a.0)
        .with_resource_name(s(&a.1))
        .with_resource_pattern_type(a.2)
        .with_principal(s(&a.3))
        .with_host(s(&a.4))
        .with_operation(a.5)
        .with_permission_type(a.6)
}

/// CreateAcls at `version`: (error code, message) per creation.
fn create_acls(c: &mut RawClient, version: i16, acls: &[Acl]) -> Vec<(i16, Option<String>)> {
    let request =
        kp::CreateAclsRequest::default().with_creations(acls.iter().map(creation).collect());
    c.send(&request, version)
        .results
        .iter()
        .map(|r| {
            (
                r.error_code,
                r.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect()
}

/// A filter: (resource type, name, pattern type, principal, host,
/// operation, permission type); `None` strings match anything.
type Filter<'a> = (
    i8,
    Option<&'a str>,
    i8,
    Option<&'a str>,
    Option<&'a str>,
    i8,
    i8,
);

fn any_filter() -> Filter<'static> {
    (ANY, None, ANY, None, None, ANY, ANY)
}

/// DescribeAcls at `version`: every binding, sorted, after checking the
/// response groups them by pattern with each pattern once.
fn describe_acls(c: &mut RawClient, version: i16, f: Filter<'_>) -> Vec<Acl> {
    let request = kp::DescribeAclsRequest::default()
        .with_resource_type_filter(f.0)
        .with_resource_name_filter(f.1.map(s))
        .with_pattern_type_filter(f.2)
        .with_principal_filter(f.3.map(s))
        .with_host_filter(f.4.map(s))
        .with_operation(f.5)
        .with_permission_type(f.6);
    let response = c.send(&request, version);
    assert_eq!(response.error_code, 0, "{:?}", response.error_message);
    let patterns: Vec<(i8, String, i8)> = response
        .resources
        .iter()
        .map(|r| (r.resource_type, r.resource_name.to_string(), r.pattern_type))
        .collect();
    let mut unique = patterns.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        patterns.len(),
        "a pattern listed twice: {patterns:?}"
    );
    let mut acls: Vec<Acl> = response
        .resources
        .iter()
        .flat_map(|r| {
            r.acls.iter().map(move |a| {
                (
                    r.resource_type,
                    r.resource_name.to_string(),
                    r.pattern_type,
                    a.principal.to_string(),
                    a.host.to_string(),
                    a.operation,
                    a.permission_type,
                )
            })
        })
        .collect();
    acls.sort();
    acls
}

/// DeleteAcls at `version`: per filter, the error code and message and the
/// matched bindings, sorted.
fn delete_acls(
    c: &mut RawClient,
    version: i16,
    filters: &[Filter<'_>],
) -> Vec<(i16, Option<String>, Vec<Acl>)> {
    let request = kp::DeleteAclsRequest::default().with_filters(
        filters
            .iter()
            .map(|f| {
                kp::delete_acls_request::DeleteAclsFilter::default()
                    .with_resource_type_filter(f.0)
                    .with_resource_name_filter(f.1.map(s))
                    .with_pattern_type_filter(f.2)
                    .with_principal_filter(f.3.map(s))
                    .with_host_filter(f.4.map(s))
                    .with_operation(f.5)
                    .with_permission_type(f.6)
            })
            .collect(),
    );
    c.send(&request, version)
        .filter_results
        .iter()
        .map(|r| {
            let mut acls: Vec<Acl> = r
                .matching_acls
                .iter()
                .map(|a| {
                    assert_eq!((a.error_code, &a.error_message), (0, &None));
                    (
                        a.resource_type,
                        a.resource_name.to_string(),
                        a.pattern_type,
                        a.principal.to_string(),
                        a.host.to_string(),
                        a.operation,
                        a.permission_type,
                    )
                })
                .collect();
            acls.sort();
            (
                r.error_code,
                r.error_message.as_ref().map(|m| m.to_string()),
                acls,
            )
        })
        .collect()
}

/// A filter on the resource pattern only.
fn by_name(rt: i8, name: &str, pt: i8) -> Filter<'_> {
    (rt, Some(name), pt, None, None, ANY, ANY)
}

fn sorted(mut acls: Vec<Acl>) -> Vec<Acl> {
    acls.sort();
    acls
}

fn query_count(b: &Broker, sql: &str) -> i64 {
    b.db.connect().query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn acls_are_created_described_by_filter_and_deleted() {
    let b = start_broker();
    let mut c = RawClient::connect(&b);
    let literal = acl(TOPIC, "orders-eu", LITERAL, "User:alice", "*", READ, ALLOW);
    let prefix = acl(TOPIC, "orders", PREFIXED, "User:bob", "*", WRITE, ALLOW);
    let wildcard = acl(TOPIC, "*", LITERAL, "User:carol", "*", DESCRIBE, ALLOW);
    let longer_prefix = acl(TOPIC, "orders-eu-1", PREFIXED, "User:dave", "*", READ, DENY);
    let group = acl(
        GROUP,
        "orders-eu",
        LITERAL,
        "User:alice",
        "10.0.0.1",
        READ,
        ALLOW,
    );
    let all = vec![
        literal.clone(),
        prefix.clone(),
        wildcard.clone(),
        longer_prefix.clone(),
        group.clone(),
    ];
    // The same binding twice, in one request and in the next: stored once.
    let mut request = all.clone();
    request.push(literal.clone());
    assert_eq!(create_acls(&mut c, 3, &request), vec![(0, None); 6]);
    assert_eq!(
        create_acls(&mut c, 3, std::slice::from_ref(&literal)),
        vec![(0, None)]
    );
    assert_eq!(query_count(&b, "SELECT count(*) FROM kafkaesque.acls"), 5);
    assert_eq!(describe_acls(&mut c, 3, any_filter()), sorted(all.clone()));

    // LITERAL and PREFIXED filters find that exact pattern.
    assert_eq!(
        describe_acls(&mut c, 3, by_name(TOPIC, "orders-eu", LITERAL)),
        vec![literal.clone()]
    );
    assert_eq!(
        describe_acls(&mut c, 3, by_name(TOPIC, "orders", PREFIXED)),
        vec![prefix.clone()]
    );
    assert!(describe_acls(&mut c, 3, by_name(TOPIC, "orders", LITERAL)).is_empty());
    // MATCH finds what applies to the topic: its literal, the wildcard and
    // the prefixes of its name; not a longer prefix nor another type.
    assert_eq!(
        describe_acls(&mut c, 3, by_name(TOPIC, "orders-eu", MATCH)),
        sorted(vec![literal.clone(), prefix.clone(), wildcard.clone()])
    );
    assert_eq!(
        describe_acls(&mut c, 3, by_name(TOPIC, "orders-eu-1x", MATCH)),
        sorted(vec![
            prefix.clone(),
            wildcard.clone(),
            longer_prefix.clone()
        ])
    );
    // ANY compares names exactly, whatever the type and pattern.
    assert_eq!(
        describe_acls(&mut c, 3, by_name(ANY, "orders-eu", ANY)),
        sorted(vec![literal.clone(), group.clone()])
    );
    // Entry fields narrow it.
    assert_eq!(
        describe_acls(
            &mut c,
            3,
            (
                ANY,
                None,
                ANY,
                Some("User:alice"),
                Some("10.0.0.1"),
                ANY,
                ANY
            )
        ),
        vec![group.clone()]
    );
    assert_eq!(
        describe_acls(&mut c, 3, (TOPIC, None, ANY, None, None, READ, DENY)),
        vec![longer_prefix.clone()]
    );
    // An operation code Kafka does not know matches nothing.
    assert!(describe_acls(&mut c, 3, (ANY, None, ANY, None, None, 99, ANY)).is_empty());

    // Each filter reports what it matched; a binding two filters match is
    // reported under both and deleted once.
    let deleted = delete_acls(
        &mut c,
        3,
        &[
            by_name(TOPIC, "orders-eu", MATCH),
            (ANY, None, ANY, Some("User:alice"), None, ANY, ANY),
            by_name(GROUP, "nothing-here", LITERAL),
        ],
    );
    assert_eq!(
        deleted,
        vec![
            (
                0,
                None,
                sorted(vec![literal.clone(), prefix.clone(), wildcard.clone()])
            ),
            (0, None, sorted(vec![literal.clone(), group.clone()])),
            (0, None, vec![]),
        ]
    );
    assert_eq!(
        describe_acls(&mut c, 3, any_filter()),
        vec![longer_prefix.clone()]
    );
    assert_eq!(query_count(&b, "SELECT count(*) FROM kafkaesque.acls"), 1);

    // Every advertised version round-trips (v1 and v2 are the non-flexible
    // and first flexible encodings).
    for version in 1..=3 {
        let name = format!("v{version}");
        let mine = acl(TOPIC, &name, PREFIXED, "User:eve", "*", WRITE, ALLOW);
        assert_eq!(
            create_acls(&mut c, version, std::slice::from_ref(&mine)),
            vec![(0, None)]
        );
        assert_eq!(
            describe_acls(
                &mut c,
                version,
                by_name(TOPIC, &format!("{name}-topic"), MATCH)
            ),
            vec![mine.clone()]
        );
        assert_eq!(
            delete_acls(&mut c, version, &[by_name(TOPIC, &name, PREFIXED)]),
            vec![(0, None, vec![mine])]
        );
    }
    assert_eq!(describe_acls(&mut c, 1, any_filter()), vec![longer_prefix]);
}

#[test]
fn acl_requests_are_validated_like_kafka() {
    let b = start_broker();
    let mut c = RawClient::connect(&b);
    let ok = acl(TOPIC, "t", LITERAL, "User:a", "*", READ, ALLOW);
    let with = |f: &dyn Fn(&mut Acl)| {
        let mut a = ok.clone();
        f(&mut a);
        a
    };
    let invalid = |message: &str| (42, Some(message.to_string()));
    let results = create_acls(
        &mut c,
        3,
        &[
            with(&|a| a.0 = ANY),
            with(&|a| a.2 = MATCH),
            with(&|a| a.2 = ANY),
            with(&|a| a.5 = ANY),
            with(&|a| a.5 = 99),
            with(&|a| a.6 = ANY),
            with(&|a| a.1.clear()),
            with(&|a| a.3 = "alice".into()),
            with(&|a| a.0 = CLUSTER),
            with(&|a| {
                a.0 = CLUSTER;
                a.1 = "kafka-cluster".into();
            }),
            ok.clone(),
        ],
    );
    assert_eq!(
        results,
        vec![
            invalid("Invalid resourceType ANY"),
            invalid("Invalid patternType MATCH"),
            invalid("Invalid patternType ANY"),
            invalid("Invalid operation ANY"),
            invalid("Invalid operation UNKNOWN"),
            invalid("Invalid permissionType ANY"),
            invalid("Invalid empty resource name"),
            invalid("Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)"),
            invalid("The only valid name for the CLUSTER resource is kafka-cluster"),
            (0, None),
            (0, None),
        ]
    );
    assert_eq!(query_count(&b, "SELECT count(*) FROM kafkaesque.acls"), 2);

    // DeleteAcls refuses filters with unrecognised codes, one by one.
    let deleted = delete_acls(
        &mut c,
        2,
        &[
            (99, None, ANY, None, None, ANY, ANY),
            (ANY, None, ANY, None, None, ANY, 42),
            (TOPIC, Some("t"), LITERAL, None, None, ANY, ANY),
        ],
    );
    assert_eq!(
        deleted,
        vec![
            (42, Some("Unknown patternFilter.".into()), vec![]),
            (42, Some("Unknown entryFilter.".into()), vec![]),
            (0, None, vec![ok.clone()]),
        ]
    );

    // The UNKNOWN code itself does not parse: Kafka closes the connection.
    let mut bad = RawClient::connect(&b);
    bad.send_only(
        &kp::CreateAclsRequest::default().with_creations(vec![creation(&with(&|a| a.6 = 0))]),
        3,
    );
    assert!(
        bad.is_closed_by_broker(),
        "CreateAcls with UNKNOWN was answered"
    );
    let mut bad = RawClient::connect(&b);
    bad.send_only(
        &kp::DescribeAclsRequest::default()
            .with_resource_type_filter(0)
            .with_pattern_type_filter(ANY)
            .with_operation(ANY)
            .with_permission_type(ANY),
        3,
    );
    assert!(
        bad.is_closed_by_broker(),
        "DescribeAcls with UNKNOWN was answered"
    );

    // Advertised: the ACL APIs from v1 (v0 was removed in Kafka 4.0), the
    // SCRAM ones at v0.
    let versions = c.send(&kp::ApiVersionsRequest::default(), 3);
    let range = |key: i16| {
        versions
            .api_keys
            .iter()
            .find(|k| k.api_key == key)
            .map(|k| (k.min_version, k.max_version))
    };
    assert_eq!(
        [29, 30, 31, 50, 51].map(range),
        [
            Some((1, 3)),
            Some((1, 3)),
            Some((1, 3)),
            Some((0, 0)),
            Some((0, 0))
        ]
    );
}

const SHA_256: i8 = 1;
const SHA_512: i8 = 2;

/// One user as DescribeUserScramCredentials answers it: (user, error code,
/// message, [(mechanism, iterations)]).
type Described = (String, i16, Option<String>, Vec<(i8, i32)>);

/// DescribeUserScramCredentials, in answer order.
fn describe_scram(c: &mut RawClient, users: Option<&[&str]>) -> Vec<Described> {
    let request =
        kp::DescribeUserScramCredentialsRequest::default().with_users(users.map(|users| {
            users
                .iter()
                .map(|u| {
                    kp::describe_user_scram_credentials_request::UserName::default().with_name(s(u))
                })
                .collect()
        }));
    let response = c.send(&request, 0);
    assert_eq!(response.error_code, 0, "{:?}", response.error_message);
    response
        .results
        .iter()
        .map(|r| {
            (
                r.user.to_string(),
                r.error_code,
                r.error_message.as_ref().map(|m| m.to_string()),
                r.credential_infos
                    .iter()
                    .map(|i| (i.mechanism, i.iterations))
                    .collect(),
            )
        })
        .collect()
}

/// One upsertion: (user, mechanism, iterations, salt, salted password).
type Upsertion<'a> = (&'a str, i8, i32, &'a [u8], &'a [u8]);

/// AlterUserScramCredentials: per user, (error code, message), sorted by
/// user.
fn alter_scram(
    c: &mut RawClient,
    deletions: &[(&str, i8)],
    upsertions: &[Upsertion<'_>],
) -> Vec<(String, i16, Option<String>)> {
    use kp::alter_user_scram_credentials_request::{
        ScramCredentialDeletion, ScramCredentialUpsertion,
    };
    let request = kp::AlterUserScramCredentialsRequest::default()
        .with_deletions(
            deletions
                .iter()
                .map(|(user, mechanism)| {
                    ScramCredentialDeletion::default()
                        .with_name(s(user))
                        .with_mechanism(*mechanism)
                })
                .collect(),
        )
        .with_upsertions(
            upsertions
                .iter()
                .map(|(user, mechanism, iterations, salt, salted)| {
                    ScramCredentialUpsertion::default()
                        .with_name(s(user))
                        .with_mechanism(*mechanism)
                        .with_iterations(*iterations)
                        .with_salt(bytes::Bytes::copy_from_slice(salt))
                        .with_salted_password(bytes::Bytes::copy_from_slice(salted))
                })
                .collect(),
        );
    let mut results: Vec<(String, i16, Option<String>)> = c
        .send(&request, 0)
        .results
        .iter()
        .map(|r| {
            (
                r.user.to_string(),
                r.error_code,
                r.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    results.sort();
    results
}

fn ok(user: &str) -> (String, i16, Option<String>) {
    (user.into(), 0, None)
}

fn failed(user: &str, code: i16, message: &str) -> (String, i16, Option<String>) {
    (user.into(), code, Some(message.into()))
}

#[test]
fn scram_credentials_are_upserted_described_and_deleted() {
    use ring::{digest, hmac};

    let b = start_broker();
    let mut c = RawClient::connect(&b);
    let not_there = |user: &str| {
        (
            user.to_string(),
            91,
            Some(format!(
                "Attempt to describe a user credential that does not exist: {user}"
            )),
            vec![],
        )
    };
    assert_eq!(
        describe_scram(&mut c, Some(&["alice"])),
        vec![not_there("alice")]
    );
    assert!(describe_scram(&mut c, None).is_empty());

    let salted_256 = [0x5a; 32];
    let salted_512 = [0xa5; 64];
    assert_eq!(
        alter_scram(
            &mut c,
            &[],
            &[
                ("alice", SHA_256, 8192, b"salt\0a", &salted_256),
                ("bob", SHA_512, 4096, b"salt-b", &salted_512),
            ]
        ),
        vec![ok("alice"), ok("bob")]
    );
    assert_eq!(
        alter_scram(&mut c, &[], &[("alice", SHA_512, 16384, b"s", &salted_512)]),
        vec![ok("alice")]
    );

    // Stored: the salt, StoredKey and ServerKey; never the salted password.
    let row =
        b.db.connect()
            .query_one(
                "SELECT salt, stored_key, server_key, iterations FROM kafkaesque.scram_credentials
             WHERE user_name = 'alice' AND mechanism = 1",
                &[],
            )
            .unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &salted_256);
    let client_key = hmac::sign(&key, b"Client Key");
    assert_eq!(row.get::<_, Vec<u8>>(0), b"salt\0a");
    assert_eq!(
        row.get::<_, Vec<u8>>(1),
        digest::digest(&digest::SHA256, client_key.as_ref()).as_ref()
    );
    assert_eq!(
        row.get::<_, Vec<u8>>(2),
        hmac::sign(&key, b"Server Key").as_ref()
    );
    assert_eq!(row.get::<_, i32>(3), 8192);
    let columns = query_count(
        &b,
        "SELECT count(*) FROM information_schema.columns
         WHERE table_schema = 'kafkaesque' AND table_name = 'scram_credentials'
           AND column_name LIKE '%password%'",
    );
    assert_eq!(columns, 0);

    // Null and empty both describe everyone; a user named twice is a
    // duplicate; each user is answered once.
    let everyone = vec![
        (
            "alice".to_string(),
            0,
            None,
            vec![(SHA_256, 8192), (SHA_512, 16384)],
        ),
        ("bob".to_string(), 0, None, vec![(SHA_512, 4096)]),
    ];
    assert_eq!(describe_scram(&mut c, None), everyone);
    assert_eq!(describe_scram(&mut c, Some(&[])), everyone);
    assert_eq!(
        describe_scram(&mut c, Some(&["bob", "alice", "nobody", "alice"])),
        vec![
            everyone[1].clone(),
            (
                "alice".to_string(),
                92,
                Some(
                    "Cannot describe SCRAM credentials for the same user twice in a single request: alice"
                        .to_string()
                ),
                vec![]
            ),
            not_there("nobody"),
        ]
    );

    // Refusals, each for its own user, applied around them.
    assert_eq!(
        alter_scram(
            &mut c,
            &[("nobody", SHA_256), ("bob", SHA_512), ("carol", 3)],
            &[
                ("bob", SHA_256, 4096, b"s", &salted_256),
                ("few", SHA_256, 4095, b"s", &salted_256),
                ("many", SHA_512, 16385, b"s", &salted_512),
                ("", SHA_256, 4096, b"s", &salted_256),
                ("empty", SHA_256, 4096, b"s", b""),
                ("dave", SHA_256, 4096, b"s", &salted_256),
                ("dave", SHA_512, 4096, b"s", &salted_512),
                ("erin", SHA_256, 4096, b"s", &salted_256),
            ]
        ),
        vec![
            failed("", 93, "Username must not be empty"),
            failed(
                "bob",
                92,
                "A user credential cannot be altered twice in the same request"
            ),
            failed("carol", 33, "Unknown SCRAM mechanism"),
            failed(
                "dave",
                92,
                "A user credential cannot be altered twice in the same request"
            ),
            ("empty".to_string(), -1, None),
            ok("erin"),
            failed("few", 93, "Too few iterations"),
            failed("many", 93, "Too many iterations"),
            failed(
                "nobody",
                91,
                "Attempt to delete a user credential that does not exist"
            ),
        ]
    );
    // bob was named twice: neither his deletion nor his upsertion happened.
    assert_eq!(
        describe_scram(&mut c, None),
        vec![
            everyone[0].clone(),
            everyone[1].clone(),
            ("erin".to_string(), 0, None, vec![(SHA_256, 4096)]),
        ]
    );

    // Deleting one mechanism keeps the other; deleting the last one makes
    // the user unknown again.
    assert_eq!(
        alter_scram(&mut c, &[("alice", SHA_256), ("erin", SHA_256)], &[]),
        vec![ok("alice"), ok("erin")]
    );
    assert_eq!(
        describe_scram(&mut c, Some(&["alice"])),
        vec![("alice".to_string(), 0, None, vec![(SHA_512, 16384)])]
    );
    assert_eq!(
        alter_scram(&mut c, &[("alice", SHA_256)], &[]),
        vec![failed(
            "alice",
            91,
            "Attempt to delete a user credential that does not exist"
        )]
    );
    assert_eq!(
        alter_scram(&mut c, &[("alice", SHA_512)], &[]),
        vec![ok("alice")]
    );
    assert_eq!(
        describe_scram(&mut c, Some(&["alice"])),
        vec![not_there("alice")]
    );
    assert_eq!(
        query_count(&b, "SELECT count(*) FROM kafkaesque.scram_credentials"),
        1
    );
}
