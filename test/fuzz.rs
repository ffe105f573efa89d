//! Fuzzing on stable Rust: a small mutation fuzzer for the two decoders a
//! peer feeds directly, the request decoder (header + every request codec
//! at every version) and the record-batch decoder (with its decompressors).
//!
//! The corpus is built from valid requests encoded by the independent
//! `kafka-protocol` crate and from valid record batches in every codec; each
//! input is a corpus entry mutated a few times (bit flips, interesting
//! integers, truncation, insertion, duplication, deletion, random varints)
//! or plain random bytes. Record batches are also mutated *inside* their
//! CRC and compression, so the fuzzer reaches the record decoder instead of
//! stopping at the checksum.
//!
//! An input fails the run if decoding panics, or if any single allocation
//! it makes exceeds a bound (a decoder that trusts a length from the wire).
//!
//! Default: 8 s per target. Longer: `KQ_LONG=1` (300 s per target) or
//! `KQ_FUZZ_SECS=N`.

use kafka_protocol::messages as kp;
use kafka_protocol::protocol::{Encodable, StrBytes};
use kafkaesque::protocol::compression::Compression;
use kafkaesque::protocol::header::RequestHeader;
use kafkaesque::protocol::messages::Request;
use kafkaesque::protocol::records::{decode_batches, Record, RecordBatch};
use kafkaesque::protocol::{ApiKey, DecodeError, Reader};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// Allocation watch: the largest single allocation made by this thread.

struct Watch;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

#[global_allocator]
static WATCH: Watch = Watch;

/// Runs `f` and returns the largest single allocation it made.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.with(|l| l.set(0));
    f();
    LARGEST.with(Cell::get)
}

// ---------------------------------------------------------------------------
// Randomness and mutation.

struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let seed = std::env::var("KQ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        println!("fuzz seed {seed} (rerun with KQ_SEED={seed})");
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Integers that tend to break decoders, as big-endian bytes.
const INTERESTING: &[i64] = &[
    0,
    1,
    -1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    -0x8000,
    0xffff,
    0x7fff_ffff,
    -0x8000_0000,
    0xffff_ffff,
    i64::MAX,
    i64::MIN,
];

/// Applies 1–4 random mutations to `input`.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 => {
                // An interesting integer of width 1, 2, 4 or 8 at a random spot.
                let width = [1, 2, 4, 8][rng.below(4)];
                let value = INTERESTING[rng.below(INTERESTING.len())].to_be_bytes();
                if len >= width {
                    let at = rng.below(len - width + 1);
                    input[at..at + width].copy_from_slice(&value[8 - width..]);
                }
            }
            3 => input.truncate(rng.below(len + 1)),
            4 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let extra = rng.bytes(n);
                input.splice(at..at, extra);
            }
            5 if len > 0 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(64)).min(len);
                input.drain(from..to);
            }
            6 if len > 0 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(64)).min(len);
                let copy = input[from..to].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, copy);
            }
            7 => {
                // An over-long or huge varint.
                let at = rng.below(len + 1);
                let varint: Vec<u8> = match rng.below(3) {
                    0 => vec![0xff; 1 + rng.below(12)],
                    1 => vec![0xff, 0xff, 0xff, 0xff, 0x0f],
                    _ => vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
                };
                input.splice(at..at, varint);
            }
            _ if len > 0 => {
                let i = rng.below(len);
                input[i] = input[i].wrapping_add(rng.below(5) as u8).wrapping_sub(2);
            }
            _ => input.push(rng.next() as u8),
        }
    }
}

fn budget() -> Duration {
    let secs = std::env::var("KQ_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(
            if std::env::var("KQ_LONG").is_ok_and(|v| !v.is_empty() && v != "0") {
                300
            } else {
                8
            },
        );
    Duration::from_secs(secs)
}

/// The fuzz loop shared by both targets: `decode` must neither panic nor
/// make one allocation over `max_allocation` bytes.
fn fuzz(
    target: &str,
    corpus: &[Vec<u8>],
    max_allocation: usize,
    mut mutate_one: impl FnMut(&mut Rng, &[u8]) -> Vec<u8>,
    decode: impl Fn(&[u8]),
) {
    assert!(!corpus.is_empty());
    let mut rng = Rng::seeded();
    let started = Instant::now();
    let deadline = started + budget();
    let (mut executions, mut crashes, mut largest) = (0u64, Vec::new(), 0usize);
    // Every corpus entry as is, first: valid inputs must decode.
    let inputs = corpus
        .iter()
        .cloned()
        .map(Some)
        .chain(std::iter::repeat_with(|| None));
    for seeded in inputs {
        if Instant::now() >= deadline && executions >= corpus.len() as u64 {
            break;
        }
        let input = seeded.unwrap_or_else(|| {
            if rng.below(20) == 0 {
                let n = rng.below(256);
                rng.bytes(n)
            } else {
                let base = &corpus[rng.below(corpus.len())];
                mutate_one(&mut rng, base)
            }
        });
        executions += 1;
        let mut panicked = false;
        let allocated = largest_allocation(|| {
            panicked = catch_unwind(AssertUnwindSafe(|| decode(&input))).is_err();
        });
        largest = largest.max(allocated);
        if panicked || allocated > max_allocation {
            if crashes.len() < 5 {
                let hex: String = input.iter().take(256).map(|b| format!("{b:02x}")).collect();
                crashes.push(format!(
                    "{} (largest allocation {allocated} B) on input of {} bytes: {hex}",
                    if panicked { "panic" } else { "huge allocation" },
                    input.len()
                ));
            } else {
                crashes.push(String::new());
            }
        }
    }
    println!(
        "fuzz {target}: {executions} executions in {:.1} s, corpus {}, largest single allocation {} KiB, crashes {}",
        started.elapsed().as_secs_f64(),
        corpus.len(),
        largest / 1024,
        crashes.len()
    );
    assert!(
        crashes.is_empty(),
        "fuzz {target}: {} crashing inputs; first ones:\n{}",
        crashes.len(),
        crashes
            .iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ---------------------------------------------------------------------------
// Target 1: the request decoder.

/// Decodes a request body with the broker's own decoder for (key,
/// version). Produce requests also have their record batches decoded, as
/// the broker does.
fn decode_body(key: ApiKey, version: i16, bytes: &[u8]) -> Result<(), DecodeError> {
    let request = Request::read(key, &mut Reader::new(bytes), version)?;
    if let Request::Produce(request) = request {
        for topic in &request.topic_data {
            for partition in &topic.partition_data {
                if let Some(records) = &partition.records {
                    let _ = decode_batches(records, RECORDS_LIMIT);
                }
            }
        }
    }
    Ok(())
}

/// Every advertised API and its versions.
fn codec_versions() -> Vec<(ApiKey, std::ops::RangeInclusive<i16>)> {
    kafkaesque::protocol::api_key::SUPPORTED_APIS
        .iter()
        .map(|s| (s.key, s.min_version..=s.max_version))
        .collect()
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_owned())
}

/// Valid request bodies from the `kafka-protocol` encoder: a default
/// (mostly empty) request for every codec and version, plus fuller ones for
/// the APIs that carry the most structure.
fn request_seeds(key: ApiKey, version: i16) -> Vec<Vec<u8>> {
    fn enc<T: Encodable>(message: T, version: i16) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        message.encode(&mut buf, version).ok().map(|()| buf)
    }
    let topic = || kp::TopicName(s("fuzzed-topic"));
    let seeds = match key {
        ApiKey::Produce => vec![
            enc(kp::ProduceRequest::default(), version),
            enc(
                kp::ProduceRequest::default()
                    .with_acks(-1)
                    .with_timeout_ms(30_000)
                    .with_topic_data(vec![kp::produce_request::TopicProduceData::default()
                        .with_name(topic())
                        .with_partition_data(vec![
                            kp::produce_request::PartitionProduceData::default()
                                .with_index(0)
                                .with_records(Some(batch_seeds()[0].clone().into())),
                            kp::produce_request::PartitionProduceData::default()
                                .with_index(1)
                                .with_records(Some(batch_seeds()[2].clone().into())),
                        ])]),
                version,
            ),
        ],
        ApiKey::Fetch => vec![
            enc(kp::FetchRequest::default(), version),
            enc(
                kp::FetchRequest::default()
                    .with_max_wait_ms(500)
                    .with_max_bytes(1 << 20)
                    .with_topics(vec![kp::fetch_request::FetchTopic::default()
                        .with_topic(topic())
                        .with_partitions(vec![kp::fetch_request::FetchPartition::default()
                            .with_partition(0)
                            .with_fetch_offset(42)
                            .with_partition_max_bytes(1 << 20)])])
                    .with_forgotten_topics_data(vec![kp::fetch_request::ForgottenTopic::default()
                        .with_topic(topic())
                        .with_partitions(vec![1, 2])]),
                version,
            ),
        ],
        ApiKey::Metadata => vec![
            enc(kp::MetadataRequest::default(), version),
            enc(
                kp::MetadataRequest::default().with_topics(Some(vec![
                    kp::metadata_request::MetadataRequestTopic::default().with_name(Some(topic())),
                ])),
                version,
            ),
        ],
        ApiKey::CreateTopics => vec![
            enc(kp::CreateTopicsRequest::default(), version),
            enc(
                kp::CreateTopicsRequest::default().with_topics(vec![
                    kp::create_topics_request::CreatableTopic::default()
                        .with_name(topic())
                        .with_num_partitions(3)
                        .with_replication_factor(1)
                        .with_configs(vec![
                            kp::create_topics_request::CreatableTopicConfig::default()
                                .with_name(s("retention.ms"))
                                .with_value(Some(s("1000"))),
                        ]),
                ]),
                version,
            ),
        ],
        ApiKey::ListOffsets => vec![enc(kp::ListOffsetsRequest::default(), version)],
        ApiKey::OffsetCommit => vec![enc(kp::OffsetCommitRequest::default(), version)],
        ApiKey::OffsetFetch => vec![enc(kp::OffsetFetchRequest::default(), version)],
        ApiKey::FindCoordinator => vec![enc(kp::FindCoordinatorRequest::default(), version)],
        ApiKey::JoinGroup => vec![enc(
            kp::JoinGroupRequest::default().with_protocols(vec![
                kp::join_group_request::JoinGroupRequestProtocol::default()
                    .with_name(s("range"))
                    .with_metadata(vec![0, 1, 2, 3].into()),
            ]),
            version,
        )],
        ApiKey::Heartbeat => vec![enc(kp::HeartbeatRequest::default(), version)],
        ApiKey::LeaveGroup => vec![enc(kp::LeaveGroupRequest::default(), version)],
        ApiKey::SyncGroup => vec![enc(kp::SyncGroupRequest::default(), version)],
        ApiKey::DescribeGroups => vec![enc(kp::DescribeGroupsRequest::default(), version)],
        ApiKey::ListGroups => vec![enc(kp::ListGroupsRequest::default(), version)],
        ApiKey::ApiVersions => vec![enc(
            kp::ApiVersionsRequest::default()
                .with_client_software_name(s("fuzz"))
                .with_client_software_version(s("1.0")),
            version,
        )],
        ApiKey::DeleteTopics => vec![enc(kp::DeleteTopicsRequest::default(), version)],
        ApiKey::InitProducerId => vec![enc(kp::InitProducerIdRequest::default(), version)],
        ApiKey::OffsetForLeaderEpoch => {
            vec![enc(kp::OffsetForLeaderEpochRequest::default(), version)]
        }
        ApiKey::DeleteGroups => vec![enc(kp::DeleteGroupsRequest::default(), version)],
        ApiKey::OffsetDelete => vec![enc(kp::OffsetDeleteRequest::default(), version)],
        ApiKey::DescribeCluster => vec![enc(kp::DescribeClusterRequest::default(), version)],
        ApiKey::AddPartitionsToTxn => vec![enc(kp::AddPartitionsToTxnRequest::default(), version)],
        ApiKey::AddOffsetsToTxn => vec![enc(kp::AddOffsetsToTxnRequest::default(), version)],
        ApiKey::EndTxn => vec![enc(kp::EndTxnRequest::default(), version)],
        ApiKey::TxnOffsetCommit => vec![enc(kp::TxnOffsetCommitRequest::default(), version)],
        ApiKey::DescribeProducers => vec![enc(kp::DescribeProducersRequest::default(), version)],
        ApiKey::DescribeTransactions => {
            vec![enc(kp::DescribeTransactionsRequest::default(), version)]
        }
        ApiKey::ListTransactions => vec![enc(kp::ListTransactionsRequest::default(), version)],
        ApiKey::DescribeConfigs => vec![enc(kp::DescribeConfigsRequest::default(), version)],
        ApiKey::AlterConfigs => vec![enc(kp::AlterConfigsRequest::default(), version)],
        ApiKey::IncrementalAlterConfigs => {
            vec![enc(kp::IncrementalAlterConfigsRequest::default(), version)]
        }
        ApiKey::CreatePartitions => vec![enc(kp::CreatePartitionsRequest::default(), version)],
        ApiKey::DeleteRecords => vec![enc(kp::DeleteRecordsRequest::default(), version)],
        ApiKey::DescribeLogDirs => vec![enc(kp::DescribeLogDirsRequest::default(), version)],
        ApiKey::ElectLeaders => vec![enc(kp::ElectLeadersRequest::default(), version)],
        ApiKey::ListPartitionReassignments => vec![enc(
            kp::ListPartitionReassignmentsRequest::default(),
            version,
        )],
        ApiKey::DescribeClientQuotas => {
            vec![enc(kp::DescribeClientQuotasRequest::default(), version)]
        }
        ApiKey::DescribeTopicPartitions => {
            vec![enc(kp::DescribeTopicPartitionsRequest::default(), version)]
        }
        // ACL requests with an UNKNOWN (0) code do not parse, as in Kafka:
        // the seeds carry real codes.
        ApiKey::CreateAcls => vec![
            enc(kp::CreateAclsRequest::default(), version),
            enc(
                kp::CreateAclsRequest::default().with_creations(vec![
                    kp::create_acls_request::AclCreation::default()
                        .with_resource_type(2)
                        .with_resource_name(s("orders"))
                        .with_resource_pattern_type(4)
                        .with_principal(s("User:alice"))
                        .with_host(s("*"))
                        .with_operation(3)
                        .with_permission_type(3),
                ]),
                version,
            ),
        ],
        ApiKey::DescribeAcls => vec![enc(
            kp::DescribeAclsRequest::default()
                .with_resource_type_filter(2)
                .with_resource_name_filter(Some(s("orders")))
                .with_pattern_type_filter(2)
                .with_operation(1)
                .with_permission_type(1),
            version,
        )],
        ApiKey::DeleteAcls => vec![enc(
            kp::DeleteAclsRequest::default().with_filters(vec![
                kp::delete_acls_request::DeleteAclsFilter::default()
                    .with_resource_type_filter(1)
                    .with_pattern_type_filter(1)
                    .with_principal_filter(Some(s("User:alice")))
                    .with_operation(1)
                    .with_permission_type(1),
            ]),
            version,
        )],
        ApiKey::DescribeUserScramCredentials => vec![
            enc(kp::DescribeUserScramCredentialsRequest::default(), version),
            enc(
                kp::DescribeUserScramCredentialsRequest::default().with_users(Some(vec![
                    kp::describe_user_scram_credentials_request::UserName::default()
                        .with_name(s("alice")),
                ])),
                version,
            ),
        ],
        ApiKey::AlterUserScramCredentials => vec![enc(
            kp::AlterUserScramCredentialsRequest::default()
                .with_deletions(vec![
                    kp::alter_user_scram_credentials_request::ScramCredentialDeletion::default()
                        .with_name(s("bob"))
                        .with_mechanism(2),
                ])
                .with_upsertions(vec![
                    kp::alter_user_scram_credentials_request::ScramCredentialUpsertion::default()
                        .with_name(s("alice"))
                        .with_mechanism(1)
                        .with_iterations(4096)
                        .with_salt(bytes::Bytes::from_static(b"salt"))
                        .with_salted_password(bytes::Bytes::from_static(&[7; 32])),
                ]),
            version,
        )],
        _ => Vec::new(),
    };
    seeds.into_iter().flatten().collect()
}

/// A whole request frame body (header + request) for an advertised API.
fn frame(key: ApiKey, version: i16, body: &[u8]) -> Vec<u8> {
    let header = kp::RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(s("fuzz")));
    let mut out = Vec::new();
    header
        .encode(&mut out, key.request_header_version(version))
        .expect("encode a request header");
    out.extend_from_slice(body);
    out
}

/// What the broker does with a frame before any I/O: read the header, then
/// the body with the codec the header names.
fn decode_frame(bytes: &[u8]) {
    let mut r = Reader::new(bytes);
    let Ok(header) = RequestHeader::read(&mut r) else {
        return;
    };
    if let Some(key) = ApiKey::from_i16(header.api_key).filter(|k| k.supports(header.api_version)) {
        let _ = decode_body(key, header.api_version, r.rest());
    }
}

/// Inputs are tagged with a first byte: 0 = a whole frame, else a body for
/// codec number `tag - 1` at the version in the second byte.
#[test]
fn fuzz_request_decoder() {
    let codecs = codec_versions();
    let mut corpus = Vec::new();
    for (index, (key, versions)) in codecs.iter().enumerate() {
        for version in versions.clone() {
            let seeds = request_seeds(*key, version);
            assert!(!seeds.is_empty(), "no seed for {key:?} v{version}");
            for body in seeds {
                assert!(
                    decode_body(*key, version, &body).is_ok(),
                    "{key:?} v{version}: a valid request does not decode"
                );
                if key.supports(version) {
                    let mut whole = vec![0];
                    whole.extend(frame(*key, version, &body));
                    corpus.push(whole);
                }
                let mut tagged = vec![index as u8 + 1, version as u8];
                tagged.extend(body);
                corpus.push(tagged);
            }
        }
    }
    fuzz(
        "request decoder",
        &corpus,
        8 << 20,
        |rng, base| {
            let mut input = base.to_vec();
            // Mutate after the tag (mostly), so the codec choice survives.
            let keep = if base[0] == 0 { 1 } else { 2 };
            let mut rest = input.split_off(keep.min(input.len()));
            mutate(rng, &mut rest);
            input.extend(rest);
            input
        },
        |input| match input.split_first() {
            Some((0, frame)) => decode_frame(frame),
            Some((tag, rest)) => {
                if let (Some((key, _)), Some((version, body))) =
                    (codecs.get(*tag as usize - 1), rest.split_first())
                {
                    let _ = decode_body(*key, *version as i8 as i16, body);
                }
            }
            None => {}
        },
    );
}

// ---------------------------------------------------------------------------
// Target 2: the record-batch decoder.

/// The decompression limit while fuzzing: small, so a bomb that breaks it
/// shows up as a huge allocation.
const RECORDS_LIMIT: usize = 256 << 10;

fn sample_batch(codec: Compression, records: usize) -> RecordBatch {
    RecordBatch {
        base_offset: 0,
        partition_leader_epoch: -1,
        attributes: codec.attribute_bits(),
        last_offset_delta: records as i32 - 1,
        base_timestamp: 1_700_000_000_000,
        max_timestamp: 1_700_000_000_000 + records as i64,
        producer_id: 7,
        producer_epoch: 0,
        base_sequence: 0,
        records: (0..records)
            .map(|i| Record {
                attributes: 0,
                timestamp_delta: i as i64,
                offset_delta: i as i32,
                key: (i % 2 == 0).then(|| format!("key-{i}").into_bytes()),
                value: Some(format!("value-{i}-{}", "x".repeat(i * 3)).into_bytes()),
                headers: if i % 3 == 0 {
                    vec![kafkaesque::protocol::records::Header {
                        key: "h".into(),
                        value: Some(b"v".to_vec()),
                    }]
                } else {
                    Vec::new()
                },
            })
            .collect(),
    }
}

fn batch_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for codec in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        for records in [1, 5] {
            let mut out = Vec::new();
            sample_batch(codec, records)
                .encode(&mut out)
                .expect("encode a sample batch");
            seeds.push(out);
        }
    }
    // Two batches back to back.
    let two = [seeds[0].clone(), seeds[1].clone()].concat();
    seeds.push(two);
    seeds
}

/// Byte offsets inside a batch (see `records.rs`).
const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;
const RECORDS_AT: usize = 61;

/// Recomputes the CRC and length of the batch at the front of `batch`, so
/// a mutation is judged by the decoder behind the checksum.
fn fix_up(batch: &mut [u8]) {
    if batch.len() >= RECORDS_AT {
        let length = (batch.len() - 12) as i32;
        batch[8..12].copy_from_slice(&length.to_be_bytes());
        let crc = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
        batch[CRC_AT..ATTRIBUTES_AT].copy_from_slice(&crc.to_be_bytes());
    }
}

#[test]
fn fuzz_record_batch_decoder() {
    let corpus = batch_seeds();
    for seed in &corpus {
        assert!(
            decode_batches(seed, RECORDS_LIMIT).is_ok(),
            "a valid batch does not decode"
        );
    }
    // Bombs: a tiny compressed payload that inflates far past the limit.
    let zeros = vec![0u8; 2 * RECORDS_LIMIT];
    let mut corpus = corpus;
    for codec in [
        Compression::Gzip,
        Compression::Lz4,
        Compression::Zstd,
        Compression::Snappy,
    ] {
        let mut bomb = corpus[0][..RECORDS_AT].to_vec();
        let attributes = codec.attribute_bits().to_be_bytes();
        bomb[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes);
        bomb.extend(codec.compress(&zeros).expect("compress zeros"));
        fix_up(&mut bomb);
        assert!(
            decode_batches(&bomb, RECORDS_LIMIT).is_err(),
            "{codec:?} bomb accepted"
        );
        corpus.push(bomb);
    }
    fuzz(
        "record-batch decoder",
        &corpus,
        // The decompressed bytes, the decoder's read buffers, and the
        // record list (bounded by the bytes it is decoded from).
        32 << 20,
        |rng, base| {
            let mut input = base.to_vec();
            match rng.below(3) {
                // Raw mutation: most die at the CRC, as they should.
                0 => mutate(rng, &mut input),
                // Mutation behind a valid CRC.
                1 => {
                    mutate(rng, &mut input);
                    fix_up(&mut input);
                }
                // Mutate the uncompressed records, then re-compress them
                // with a random codec behind a valid header.
                _ => {
                    if let Ok(batches) = decode_batches(base, RECORDS_LIMIT) {
                        let mut plain = batches[0].clone();
                        plain.attributes &= !0x07;
                        let mut encoded = Vec::new();
                        if plain.encode(&mut encoded).is_ok() && encoded.len() >= RECORDS_AT {
                            let mut records = encoded[RECORDS_AT..].to_vec();
                            mutate(rng, &mut records);
                            let codec = [
                                Compression::None,
                                Compression::Gzip,
                                Compression::Snappy,
                                Compression::Lz4,
                                Compression::Zstd,
                            ][rng.below(5)];
                            if let Ok(payload) = codec.compress(&records) {
                                input = encoded[..RECORDS_AT].to_vec();
                                input[ATTRIBUTES_AT..ATTRIBUTES_AT + 2]
                                    .copy_from_slice(&codec.attribute_bits().to_be_bytes());
                                input.extend(payload);
                                fix_up(&mut input);
                            }
                        }
                    }
                }
            }
            input
        },
        |input| {
            let _ = decode_batches(input, RECORDS_LIMIT);
        },
    );
}
