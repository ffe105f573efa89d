//! Consumer groups against the real broker binary, driven by librdkafka
//! (the `rdkafka` crate): groups form and share partitions, members that
//! leave or die are replaced, static members come back without a
//! rebalance, cooperative-sticky moves only what it must, committed offsets
//! survive a restart, and the group admin calls behave like Kafka's.
//!
//! Each test starts its own broker on a free port against a fresh
//! PostgreSQL database (127.0.0.1:5432, user postgres) that it drops at the
//! end (the shared harness in `test/common`).

mod common;

use common::{block_on, Broker};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const PARTITIONS: i32 = 4;

// ----- Harness ---------------------------------------------------------------

/// A broker on a fresh database (the shared harness in `test/common`), with
/// the partition count these tests assume.
fn start_broker() -> Broker {
    Broker::start_with(&[
        "--num-partitions",
        &PARTITIONS.to_string(),
        "--log-level",
        "warn",
    ])
}

/// One `bigint` from the broker's database.
fn query_i64(broker: &Broker, sql: &str) -> i64 {
    broker
        .db
        .connect()
        .query_one(sql, &[])
        .expect("query")
        .get(0)
}

/// Records every rebalance a consumer goes through.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(String, BTreeSet<i32>)>>,
}

impl ClientContext for Recorder {}

impl ConsumerContext for Recorder {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let (kind, list) = match rebalance {
            Rebalance::Assign(list) => ("assign", Some(*list)),
            Rebalance::Revoke(list) => ("revoke", Some(*list)),
            Rebalance::Error(_) => ("error", None),
        };
        let partitions = list
            .map(|l| l.elements().iter().map(|e| e.partition()).collect())
            .unwrap_or_default();
        if let Ok(mut events) = self.events.lock() {
            events.push((kind.to_string(), partitions));
        }
    }
}

impl Recorder {
    fn events(&self) -> Vec<(String, BTreeSet<i32>)> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

type Member = BaseConsumer<Recorder>;

fn consumer(broker: &Broker, group: &str, extra: &[(&str, &str)]) -> Member {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", broker.addr())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    config
        .create_with_context(Recorder::default())
        .expect("creating a consumer")
}

fn producer(broker: &Broker) -> BaseProducer {
    ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .set("linger.ms", "0")
        .create()
        .expect("creating a producer")
}

/// Creates the topic (by auto-creation) and writes `per_partition`
/// messages to each partition; the payload is "partition:index".
fn produce(broker: &Broker, topic: &str, per_partition: usize) {
    let producer = producer(broker);
    for partition in 0..PARTITIONS {
        for i in 0..per_partition {
            let payload = format!("{partition}:{i}");
            let mut record = BaseRecord::<(), String>::to(topic)
                .partition(partition)
                .payload(&payload);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((_, returned)) => {
                        record = returned;
                        producer.poll(Duration::from_millis(50));
                    }
                }
            }
        }
    }
    producer
        .flush(Duration::from_secs(30))
        .expect("every message is acknowledged");
}

fn assigned(member: &Member) -> BTreeSet<i32> {
    member
        .assignment()
        .map(|a| a.elements().iter().map(|e| e.partition()).collect())
        .unwrap_or_default()
}

/// Polls every member until `done` holds for their assignments, or fails
/// after `limit`. Returns the payloads of the messages polled meanwhile.
fn poll_until(
    members: &[&Member],
    limit: Duration,
    what: &str,
    done: impl Fn(&[BTreeSet<i32>]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut payloads = Vec::new();
    loop {
        for member in members {
            if let Some(Ok(message)) = member.poll(Duration::from_millis(50)) {
                payloads.push(
                    String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned(),
                );
            }
        }
        let assignments: Vec<BTreeSet<i32>> = members.iter().map(|m| assigned(m)).collect();
        if done(&assignments) {
            return payloads;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting until {what}; assignments: {assignments:?}"
        );
    }
}

/// Every partition assigned to exactly one member, and every member busy.
fn balanced(assignments: &[BTreeSet<i32>]) -> bool {
    let total: usize = assignments.iter().map(BTreeSet::len).sum();
    let union: BTreeSet<i32> = assignments.iter().flatten().copied().collect();
    total == PARTITIONS as usize
        && union.len() == PARTITIONS as usize
        && assignments.iter().all(|a| !a.is_empty())
}

fn committed(member: &Member, topic: &str) -> Vec<(i32, Offset, String)> {
    let mut wanted = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        wanted.add_partition(topic, partition);
    }
    member
        .committed_offsets(wanted, Duration::from_secs(10))
        .expect("OffsetFetch")
        .elements()
        .iter()
        .map(|e| (e.partition(), e.offset(), e.metadata().to_string()))
        .collect()
}

// ----- Tests -----------------------------------------------------------------

/// Three consumers share four partitions; when one leaves, the other two
/// take over its partitions and, resuming from the committed offsets,
/// every message is consumed.
#[test]
fn members_share_partitions_and_take_over_from_one_that_leaves() {
    let broker = start_broker();
    let topic = "takeover";
    produce(&broker, topic, 25);

    let members: Vec<Member> = (0..3)
        .map(|_| consumer(&broker, "takeover-group", &[]))
        .collect();
    for m in &members {
        m.subscribe(&[topic]).expect("subscribe");
    }
    // Every message any member receives, by payload.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let refs: Vec<&Member> = members.iter().collect();
    seen.extend(poll_until(
        &refs,
        Duration::from_secs(30),
        "three members share the partitions",
        balanced,
    ));

    // Everyone consumes and commits what it has for a while.
    let consume = |members: &[&Member], rounds: usize, seen: &mut BTreeSet<String>| {
        for _ in 0..rounds {
            for m in members {
                if let Some(Ok(message)) = m.poll(Duration::from_millis(20)) {
                    let payload =
                        String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
                    seen.insert(payload);
                    let _ = m.commit_message(&message, CommitMode::Sync);
                }
            }
        }
    };
    consume(&refs, 20, &mut seen);

    let mut members = members;
    let leaving = members.pop().expect("three members");
    let leaving_partitions = assigned(&leaving);
    drop(leaving); // closes the consumer: LeaveGroup
    let refs: Vec<&Member> = members.iter().collect();
    seen.extend(poll_until(
        &refs,
        Duration::from_secs(30),
        "two members own every partition",
        balanced,
    ));
    let now_owned: BTreeSet<i32> = refs.iter().flat_map(|m| assigned(m)).collect();
    assert!(leaving_partitions.is_subset(&now_owned));

    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < (PARTITIONS as usize) * 25 && Instant::now() < deadline {
        consume(&refs, 10, &mut seen);
    }
    assert_eq!(
        seen.len(),
        PARTITIONS as usize * 25,
        "every message consumed"
    );
}

/// Offsets (with their metadata) committed before a broker restart are
/// there after it, and in PostgreSQL.
#[test]
fn committed_offsets_survive_a_broker_restart() {
    let mut broker = start_broker();
    let topic = "durable";
    produce(&broker, topic, 3);

    let member = consumer(&broker, "durable-group", &[]);
    let mut offsets = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        offsets
            .add_partition_offset(topic, partition, Offset::Offset(i64::from(partition) + 1))
            .expect("offset");
    }
    offsets
        .find_partition(topic, 2)
        .expect("partition 2")
        .set_metadata("checkpoint \u{1F4BE} with a\0nul");
    member
        .commit(&offsets, CommitMode::Sync)
        .expect("OffsetCommit");
    drop(member);

    broker.terminate();
    broker.restart();
    let member = consumer(&broker, "durable-group", &[]);
    let after = committed(&member, topic);
    for (partition, offset, metadata) in after {
        assert_eq!(
            offset,
            Offset::Offset(i64::from(partition) + 1),
            "partition {partition}"
        );
        if partition == 2 {
            assert_eq!(metadata, "checkpoint \u{1F4BE} with a\0nul");
        }
    }
    assert_eq!(
        query_i64(&broker,
            "SELECT sum(committed_offset)::bigint FROM kafkaesque.committed_offsets WHERE group_id = 'durable-group'"
        ),
        1 + 2 + 3 + 4
    );

    // A partition that was never committed answers -1 (no offset).
    let other = consumer(&broker, "never-committed", &[]);
    assert!(committed(&other, topic)
        .iter()
        .all(|(_, o, _)| *o == Offset::Invalid));
}

/// A member that dies without leaving is expired by its session timeout,
/// and the survivor takes over its partitions.
#[test]
fn a_killed_member_is_expired_by_its_session_timeout() {
    let broker = start_broker();
    let topic = "expiry";
    produce(&broker, topic, 1);

    let survivor = consumer(&broker, "expiry-group", &[]);
    survivor.subscribe(&[topic]).expect("subscribe");
    poll_until(
        &[&survivor],
        Duration::from_secs(30),
        "the first member owns everything",
        |a| a[0].len() == PARTITIONS as usize,
    );

    let mut victim = Command::new(std::env::current_exe().expect("test binary"))
        .args(["member_process", "--exact", "--ignored", "--nocapture"])
        .env("KQ_MEMBER_BROKER", broker.addr())
        .env("KQ_MEMBER_GROUP", "expiry-group")
        .env("KQ_MEMBER_TOPIC", topic)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the member process");
    poll_until(
        &[&survivor],
        Duration::from_secs(30),
        "the second member takes a share",
        |a| !a[0].is_empty() && a[0].len() < PARTITIONS as usize,
    );

    victim.kill().expect("killing the member process"); // SIGKILL: no LeaveGroup
    let _ = victim.wait();
    let killed_at = Instant::now();
    poll_until(
        &[&survivor],
        Duration::from_secs(30),
        "the survivor owns everything again",
        |a| a[0].len() == PARTITIONS as usize,
    );
    assert!(
        killed_at.elapsed() >= Duration::from_secs(3),
        "the partitions moved before the session timeout could expire"
    );
}

/// Not a test: the group member that
/// [`a_killed_member_is_expired_by_its_session_timeout`] runs in a child
/// process and kills.
#[test]
#[ignore = "run by a_killed_member_is_expired_by_its_session_timeout"]
fn member_process() {
    let (Ok(address), Ok(group), Ok(topic)) = (
        std::env::var("KQ_MEMBER_BROKER"),
        std::env::var("KQ_MEMBER_GROUP"),
        std::env::var("KQ_MEMBER_TOPIC"),
    ) else {
        return;
    };
    let member: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", address)
        .set("group.id", group)
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .create()
        .expect("creating a consumer");
    member.subscribe(&[&topic]).expect("subscribe");
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let _ = member.poll(Duration::from_millis(100));
    }
}

/// KIP-345: a static member that restarts within its session timeout gets
/// its partitions back without the group rebalancing.
#[test]
fn a_static_member_rejoins_without_a_rebalance() {
    let broker = start_broker();
    let topic = "static";
    produce(&broker, topic, 1);

    let settings = |instance: &'static str| {
        vec![
            ("group.instance.id", instance),
            ("session.timeout.ms", "30000"),
        ]
    };
    let steady = consumer(&broker, "static-group", &settings("steady"));
    let restarting = consumer(&broker, "static-group", &settings("restarting"));
    steady.subscribe(&[topic]).expect("subscribe");
    restarting.subscribe(&[topic]).expect("subscribe");
    poll_until(
        &[&steady, &restarting],
        Duration::from_secs(30),
        "both static members are assigned",
        balanced,
    );
    let before = assigned(&restarting);
    let steady_events = steady.context().events().len();

    drop(restarting); // a static member does not send LeaveGroup
    let restarted = consumer(&broker, "static-group", &settings("restarting"));
    restarted.subscribe(&[topic]).expect("subscribe");
    poll_until(
        &[&steady, &restarted],
        Duration::from_secs(30),
        "the restarted member is assigned",
        |a| !a[1].is_empty(),
    );
    assert_eq!(
        assigned(&restarted),
        before,
        "the same partitions come back"
    );
    // Give a rebalance, if one were coming, time to reach the other member.
    let settle = Instant::now() + Duration::from_secs(2);
    while Instant::now() < settle {
        let _ = steady.poll(Duration::from_millis(50));
        let _ = restarted.poll(Duration::from_millis(50));
    }
    assert_eq!(
        steady.context().events().len(),
        steady_events,
        "the other member saw no rebalance: {:?}",
        steady.context().events()
    );
}

/// KIP-429: with cooperative-sticky, a second member joining takes half of
/// the partitions and the first member keeps the rest throughout: it only
/// ever revokes what moves.
#[test]
fn cooperative_sticky_moves_only_what_it_must() {
    let broker = start_broker();
    let topic = "cooperative";
    produce(&broker, topic, 1);

    let settings = [("partition.assignment.strategy", "cooperative-sticky")];
    let first = consumer(&broker, "cooperative-group", &settings);
    first.subscribe(&[topic]).expect("subscribe");
    poll_until(
        &[&first],
        Duration::from_secs(30),
        "the first member owns everything",
        |a| a[0].len() == PARTITIONS as usize,
    );

    let second = consumer(&broker, "cooperative-group", &settings);
    second.subscribe(&[topic]).expect("subscribe");
    poll_until(
        &[&first, &second],
        Duration::from_secs(30),
        "the partitions are shared",
        balanced,
    );

    let events = first.context().events();
    let revoked: Vec<&BTreeSet<i32>> = events
        .iter()
        .filter(|(kind, _)| kind == "revoke")
        .map(|(_, p)| p)
        .collect();
    assert!(
        !revoked.is_empty(),
        "the first member gave partitions away: {events:?}"
    );
    assert!(
        revoked.iter().all(|p| p.len() < PARTITIONS as usize),
        "an incremental rebalance never revokes everything: {events:?}"
    );
    assert!(matches!(
        first.rebalance_protocol(),
        rdkafka::consumer::RebalanceProtocol::Cooperative
    ));
}

/// ListGroups/DescribeGroups show a live group with its members; a group
/// with members cannot be deleted; an empty one can, with its offsets.
#[test]
fn list_describe_and_delete_groups() {
    let broker = start_broker();
    let topic = "admin";
    produce(&broker, topic, 1);

    let member = consumer(
        &broker,
        "admin-group",
        &[("client.id", "admin-test-client")],
    );
    member.subscribe(&[topic]).expect("subscribe");
    poll_until(
        &[&member],
        Duration::from_secs(30),
        "the member is assigned",
        |a| a[0].len() == PARTITIONS as usize,
    );
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset(topic, 0, Offset::Offset(1))
        .expect("offset");
    member
        .commit(&offsets, CommitMode::Sync)
        .expect("OffsetCommit");

    let list = member
        .fetch_group_list(Some("admin-group"), Duration::from_secs(10))
        .expect("ListGroups + DescribeGroups");
    let group = list.groups().first().expect("the group is listed");
    assert_eq!(group.state(), "Stable");
    assert_eq!(group.protocol_type(), "consumer");
    assert_eq!(group.protocol(), "range");
    assert_eq!(group.members().len(), 1);
    assert_eq!(group.members()[0].client_id(), "admin-test-client");
    assert!(group.members()[0]
        .assignment()
        .is_some_and(|a| !a.is_empty()));

    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .create()
        .expect("creating an admin client");
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let results = block_on(admin.delete_groups(&["admin-group", "no-such-group"], &options))
        .expect("DeleteGroups");
    assert_eq!(
        results[0],
        Err(("admin-group".to_string(), RDKafkaErrorCode::NonEmptyGroup))
    );
    assert_eq!(
        results[1],
        Err((
            "no-such-group".to_string(),
            RDKafkaErrorCode::GroupIdNotFound
        ))
    );

    drop(member); // leaves: the group is Empty once the broker has the LeaveGroup
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let results =
            block_on(admin.delete_groups(&["admin-group"], &options)).expect("DeleteGroups");
        if results[0] == Ok("admin-group".to_string()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the group never became deletable: {results:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        query_i64(
            &broker,
            "SELECT count(*) FROM kafkaesque.committed_offsets WHERE group_id = 'admin-group'"
        ),
        0
    );
    let observer = consumer(&broker, "observer", &[]);
    let list = observer
        .fetch_group_list(None, Duration::from_secs(10))
        .expect("ListGroups");
    assert!(list.groups().iter().all(|g| g.name() != "admin-group"));
}

// ----- Raw requests, for the error cases clients hide ------------------------

mod raw {
    use kafka_protocol::messages::{RequestHeader, ResponseHeader};
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// Sends one request (`flexible`: header v2, else v1) and decodes the
    /// response.
    pub fn call<Req: Encodable, Resp: Decodable>(
        address: &str,
        key: i16,
        version: i16,
        flexible: bool,
        request: &Req,
    ) -> Resp {
        let mut header = RequestHeader::default();
        header.request_api_key = key;
        header.request_api_version = version;
        header.correlation_id = 42;
        header.client_id = Some(StrBytes::from_static_str("raw-test"));
        let mut frame = Vec::new();
        header
            .encode(&mut frame, if flexible { 2 } else { 1 })
            .expect("encoding the header");
        request
            .encode(&mut frame, version)
            .expect("encoding the request");
        let mut stream = TcpStream::connect(address).expect("connecting");
        stream
            .write_all(&(frame.len() as i32).to_be_bytes())
            .and_then(|()| stream.write_all(&frame))
            .expect("sending");
        let mut size = [0u8; 4];
        stream.read_exact(&mut size).expect("response size");
        let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
        stream.read_exact(&mut body).expect("response body");
        let mut buf = bytes::Bytes::from(body);
        let header = ResponseHeader::decode(&mut buf, if flexible { 1 } else { 0 })
            .expect("response header");
        assert_eq!(header.correlation_id, 42);
        Resp::decode(&mut buf, version).expect("response body decodes")
    }
}

/// OffsetCommit, OffsetFetch, OffsetDelete and JoinGroup answer Kafka's
/// errors for what a well-behaved client never sends.
#[test]
fn group_apis_refuse_bad_input_like_kafka() {
    use kafka_protocol::messages::offset_commit_request::{
        OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::offset_delete_request::{
        OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
    };
    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::StrBytes;

    let broker = start_broker();
    let address = broker.addr();
    produce(&broker, "edge", 1);
    let s = |text: &str| StrBytes::from_string(text.to_string());

    // A simple (non-member) commit: good, unknown and oversized partitions.
    let partition = |index: i32, metadata: String| {
        let mut p = OffsetCommitRequestPartition::default();
        p.partition_index = index;
        p.committed_offset = 1;
        p.committed_metadata = Some(StrBytes::from_string(metadata));
        p
    };
    let mut edge = OffsetCommitRequestTopic::default();
    edge.name = s("edge").into();
    edge.partitions = vec![
        partition(0, "fine".into()),
        partition(9, String::new()),
        partition(1, "x".repeat(4097)),
    ];
    let mut missing = OffsetCommitRequestTopic::default();
    missing.name = s("no-such-topic").into();
    missing.partitions = vec![partition(0, String::new())];
    let mut commit = OffsetCommitRequest::default();
    commit.group_id = s("raw-group").into();
    commit.generation_id_or_member_epoch = -1;
    commit.topics = vec![edge, missing];
    let answer: OffsetCommitResponse = raw::call(&address, 8, 8, true, &commit);
    let codes: Vec<Vec<i16>> = answer
        .topics
        .iter()
        .map(|t| t.partitions.iter().map(|p| p.error_code).collect())
        .collect();
    assert_eq!(codes, vec![vec![0, 3, 12], vec![3]]);

    // A member's commit to a group that does not exist.
    let mut ghost = commit.clone();
    ghost.group_id = s("ghost").into();
    ghost.generation_id_or_member_epoch = 3;
    ghost.member_id = s("someone");
    let v9: OffsetCommitResponse = raw::call(&address, 8, 9, true, &ghost);
    assert_eq!(
        v9.topics[0].partitions[0].error_code, 69,
        "GROUP_ID_NOT_FOUND from v9"
    );
    let v8: OffsetCommitResponse = raw::call(&address, 8, 8, true, &ghost);
    assert_eq!(
        v8.topics[0].partitions[0].error_code, 22,
        "ILLEGAL_GENERATION before v9"
    );

    // OffsetFetch v8, two groups, every topic: only what was committed.
    let group = |id: &str| {
        let mut g = OffsetFetchRequestGroup::default();
        g.group_id = s(id).into();
        g.topics = None;
        g
    };
    let mut fetch = OffsetFetchRequest::default();
    fetch.groups = vec![group("raw-group"), group("ghost")];
    let fetched: OffsetFetchResponse = raw::call(&address, 9, 8, true, &fetch);
    assert_eq!(fetched.groups.len(), 2);
    let raw_group = &fetched.groups[0];
    assert_eq!(raw_group.topics.len(), 1);
    assert_eq!(raw_group.topics[0].partitions.len(), 1);
    assert_eq!(raw_group.topics[0].partitions[0].committed_offset, 1);
    assert_eq!(
        raw_group.topics[0].partitions[0].metadata.as_deref(),
        Some("fine")
    );
    assert!(fetched.groups[1].topics.is_empty());

    // OffsetDelete: refused while a live member subscribes to the topic.
    let live = consumer(&broker, "live-group", &[]);
    live.subscribe(&["edge"]).expect("subscribe");
    poll_until(
        &[&live],
        Duration::from_secs(30),
        "the live member is assigned",
        |a| a[0].len() == PARTITIONS as usize,
    );
    let delete = |group: &str| {
        let mut p = OffsetDeleteRequestPartition::default();
        p.partition_index = 0;
        let mut t = OffsetDeleteRequestTopic::default();
        t.name = s("edge").into();
        t.partitions = vec![p];
        let mut request = OffsetDeleteRequest::default();
        request.group_id = s(group).into();
        request.topics = vec![t];
        raw::call::<_, OffsetDeleteResponse>(&address, 47, 0, false, &request)
    };
    let subscribed = delete("live-group");
    assert_eq!(subscribed.error_code, 0);
    assert_eq!(
        subscribed.topics[0].partitions[0].error_code, 86,
        "GROUP_SUBSCRIBED_TO_TOPIC"
    );
    let deleted = delete("raw-group");
    assert_eq!(deleted.topics[0].partitions[0].error_code, 0);
    assert_eq!(
        query_i64(
            &broker,
            "SELECT count(*) FROM kafkaesque.committed_offsets WHERE group_id = 'raw-group'"
        ),
        0
    );
    assert_eq!(delete("ghost").error_code, 69, "GROUP_ID_NOT_FOUND");

    // JoinGroup: an empty group id, a session timeout below the minimum,
    // and (v4+) MEMBER_ID_REQUIRED on a first join.
    let join = |group: &str, session_timeout_ms: i32| {
        let mut protocol = join_group_request::JoinGroupRequestProtocol::default();
        protocol.name = s("range");
        protocol.metadata = bytes::Bytes::from_static(&[0, 0, 0, 0, 0, 0]);
        let mut request = JoinGroupRequest::default();
        request.group_id = s(group).into();
        request.session_timeout_ms = session_timeout_ms;
        request.rebalance_timeout_ms = 10_000;
        request.protocol_type = s("consumer");
        request.protocols = vec![protocol];
        raw::call::<_, JoinGroupResponse>(&address, 11, 5, false, &request)
    };
    assert_eq!(join("", 10_000).error_code, 24, "INVALID_GROUP_ID");
    assert_eq!(
        join("raw-join", 1_000).error_code,
        26,
        "INVALID_SESSION_TIMEOUT"
    );
    let first = join("raw-join", 10_000);
    assert_eq!(first.error_code, 79, "MEMBER_ID_REQUIRED");
    assert!(first.member_id.starts_with("raw-test-"));
}

/// A DeleteGroups sent once the last member's session has run out finds
/// the group Empty, as on Kafka (whose timers fire on time), not up to a
/// ticker round later. librdkafka's admin test 0081 deletes its static
/// members' groups exactly one session timeout after closing them.
#[test]
fn a_group_is_deletable_as_soon_as_its_last_session_expires() {
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::StrBytes;

    let broker = Broker::start_with(&[
        "--log-level",
        "warn",
        "--group-min-session-timeout-ms",
        "500",
    ]);
    let address = broker.addr();
    let s = |text: &str| StrBytes::from_string(text.to_string());
    let session = Duration::from_millis(500);
    for round in 0..5 {
        let group = format!("expiring-{round}");
        // A static member (KIP-345) joins without MEMBER_ID_REQUIRED.
        let mut protocol = join_group_request::JoinGroupRequestProtocol::default();
        protocol.name = s("range");
        protocol.metadata = bytes::Bytes::from_static(&[0, 0, 0, 0, 0, 0]);
        let mut join = JoinGroupRequest::default();
        join.group_id = s(&group).into();
        join.group_instance_id = Some(s("instance-1"));
        join.session_timeout_ms = session.as_millis() as i32;
        join.rebalance_timeout_ms = 10_000;
        join.protocol_type = s("consumer");
        join.protocols = vec![protocol];
        let joined = raw::call::<_, JoinGroupResponse>(&address, 11, 5, false, &join);
        assert_eq!(joined.error_code, 0, "join");
        let mut sync = SyncGroupRequest::default();
        sync.group_id = s(&group).into();
        sync.generation_id = joined.generation_id;
        sync.member_id = joined.member_id.clone();
        sync.group_instance_id = Some(s("instance-1"));
        let synced = raw::call::<_, SyncGroupResponse>(&address, 14, 3, false, &sync);
        assert_eq!(synced.error_code, 0, "sync");
        // The session was last renewed before the sync answer came back.
        std::thread::sleep(session);
        let mut delete = DeleteGroupsRequest::default();
        delete.groups_names = vec![s(&group).into()];
        let deleted = raw::call::<_, DeleteGroupsResponse>(&address, 42, 2, true, &delete);
        assert_eq!(
            deleted.results[0].error_code, 0,
            "round {round}: the group is not empty one session timeout after its last sign of life"
        );
    }
}
