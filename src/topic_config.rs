//! Every topic config Kafka 4.x knows, in one table, and what they resolve
//! to for a given topic.
//!
//! A topic config's value comes from the first of (KIP-226's precedence):
//! 1. the topic itself (`kafkaesque.topic_configs`; source DYNAMIC_TOPIC_CONFIG),
//! 2. a dynamic broker config for this node, then one for every broker
//!    (`kafkaesque.dynamic_configs`; DYNAMIC_BROKER_CONFIG,
//!    DYNAMIC_DEFAULT_BROKER_CONFIG),
//! 3. a broker flag set on the command line (STATIC_BROKER_CONFIG),
//! 4. Kafka's default (DEFAULT_CONFIG).
//!
//! Steps 2-3 look at the topic config's broker *synonyms*: `retention.ms`
//! falls back to `log.retention.ms`, then `log.retention.minutes`, then
//! `log.retention.hours` (converted to milliseconds), exactly as Kafka's
//! `ServerTopicConfigSynonyms` says.
//!
//! [`TopicSettings`] is the resolved, typed view that the produce path and
//! the log cleaner enforce; `docs/topic-configs.md` says which configs take
//! effect and how.

use crate::broker::Broker;
use crate::config::Config;
use crate::protocol::records::RecordBatch;
use crate::protocol::ErrorCode;
use crate::storage::topics::TopicMeta;
use std::collections::BTreeMap;

/// DescribeConfigs' `config_type` (KIP-569).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum ConfigType {
    Boolean = 1,
    String = 2,
    Int = 3,
    Short = 4,
    Long = 5,
    Double = 6,
    List = 7,
    Password = 9,
}

/// DescribeConfigs' `config_source`: where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum ConfigSource {
    DynamicTopic = 1,
    DynamicBroker = 2,
    DynamicDefaultBroker = 3,
    StaticBroker = 4,
    Default = 5,
    Group = 8,
}

/// What values a config accepts beyond parsing as its type.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    Any,
    AtLeast(i64),
    Between(i64, i64),
    /// A double between 0 and 1.
    Ratio,
    /// One of these strings (case-sensitive, as Kafka's `ValidString`).
    OneOf(&'static [&'static str]),
    /// A comma-separated list whose items are all among these.
    ListOf(&'static [&'static str]),
    /// gzip's levels: 1-9, or -1 for zlib's default.
    GzipLevel,
    /// `*` or `partition:broker` pairs (`ThrottledReplicaListValidator`).
    ThrottledReplicas,
}

/// A broker config a topic config falls back to, and how many milliseconds
/// one of its units is (1 unless it counts minutes or hours).
#[derive(Debug, Clone, Copy)]
pub struct Synonym {
    pub name: &'static str,
    pub unit: i64,
}

const fn syn(name: &'static str) -> Synonym {
    Synonym { name, unit: 1 }
}

/// One config: its name, type, default (None = null), documentation,
/// broker synonyms in precedence order, and accepted values.
#[derive(Debug, Clone, Copy)]
pub struct ConfigDef {
    pub name: &'static str,
    pub config_type: ConfigType,
    pub default: Option<&'static str>,
    pub documentation: &'static str,
    pub synonyms: &'static [Synonym],
    pub check: Check,
}

const fn def(
    name: &'static str,
    config_type: ConfigType,
    default: Option<&'static str>,
    synonyms: &'static [Synonym],
    check: Check,
    documentation: &'static str,
) -> ConfigDef {
    ConfigDef {
        name,
        config_type,
        default,
        documentation,
        synonyms,
        check,
    }
}

use Check::*;
use ConfigType as T;

/// A record without a timestamp.
const NO_TIMESTAMP: i64 = -1;

const LONG_MAX: &str = "9223372036854775807";

pub const CLEANUP_POLICY: &str = "cleanup.policy";
pub const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
pub const MESSAGE_TIMESTAMP_TYPE: &str = "message.timestamp.type";
pub const RETENTION_MS: &str = "retention.ms";
pub const RETENTION_BYTES: &str = "retention.bytes";

/// Every topic config of Kafka 4.x (`LogConfig`), sorted by name.
pub const TOPIC_CONFIGS: &[ConfigDef] = &[
    def(CLEANUP_POLICY, T::List, Some("delete"), &[syn("log.cleanup.policy")], ListOf(&["compact", "delete"]),
        "A string that is either \"delete\" or \"compact\" or both. \"delete\" discards old records when their retention time or size limit is reached; \"compact\" keeps only the newest record for each key. Kafkaesque enforces both with its log cleaner."),
    def("compression.gzip.level", T::Int, Some("-1"), &[syn("compression.gzip.level")], GzipLevel,
        "The compression level to use if compression.type is set to gzip."),
    def("compression.lz4.level", T::Int, Some("9"), &[syn("compression.lz4.level")], Between(1, 17),
        "The compression level to use if compression.type is set to lz4."),
    def("compression.type", T::String, Some("producer"), &[syn("compression.type")], OneOf(&["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        "The final compression type for a topic. Kafkaesque stores records uncompressed in PostgreSQL and serves them uncompressed, so this is accepted and stored only."),
    def("compression.zstd.level", T::Int, Some("3"), &[syn("compression.zstd.level")], Between(-131072, 22),
        "The compression level to use if compression.type is set to zstd."),
    def("delete.retention.ms", T::Long, Some("86400000"), &[syn("log.cleaner.delete.retention.ms")], AtLeast(0),
        "The amount of time to retain tombstones (records with a null value) of a compacted topic, counted from the record's timestamp."),
    def("file.delete.delay.ms", T::Long, Some("60000"), &[syn("log.segment.delete.delay.ms")], AtLeast(0),
        "The time to wait before deleting a file from the filesystem. No effect: there are no files."),
    def("flush.messages", T::Long, Some(LONG_MAX), &[syn("log.flush.interval.messages")], AtLeast(1),
        "The number of records after which to force an fsync. No effect: every acknowledged record is committed to PostgreSQL."),
    def("flush.ms", T::Long, Some(LONG_MAX), &[syn("log.flush.interval.ms"), syn("log.flush.scheduler.interval.ms")], AtLeast(0),
        "The time after which to force an fsync. No effect: every acknowledged record is committed to PostgreSQL."),
    def("follower.replication.throttled.replicas", T::List, Some(""), &[], ThrottledReplicas,
        "Replicas whose log replication is throttled on the follower side. Stored only: there is one replica."),
    def("index.interval.bytes", T::Int, Some("4096"), &[syn("log.index.interval.bytes")], AtLeast(0),
        "How often Kafka adds an offset index entry. No effect: PostgreSQL indexes every record."),
    def("leader.replication.throttled.replicas", T::List, Some(""), &[], ThrottledReplicas,
        "Replicas whose log replication is throttled on the leader side. Stored only: there is one replica."),
    def("local.retention.bytes", T::Long, Some("-2"), &[syn("log.local.retention.bytes")], AtLeast(-2),
        "The maximum size of local log segments before deletion under tiered storage; -2 means retention.bytes. Stored only."),
    def("local.retention.ms", T::Long, Some("-2"), &[syn("log.local.retention.ms")], AtLeast(-2),
        "How long to keep local log segments under tiered storage; -2 means retention.ms. Stored only."),
    def("max.compaction.lag.ms", T::Long, Some(LONG_MAX), &[syn("log.cleaner.max.compaction.lag.ms")], AtLeast(1),
        "The maximum time a record stays ineligible for compaction. Kafkaesque compacts on every cleaner pass, so records never wait longer than log.retention.check.interval.ms."),
    def(MAX_MESSAGE_BYTES, T::Int, Some("1048588"), &[syn("message.max.bytes")], AtLeast(0),
        "The largest record batch size allowed. Larger batches are rejected with MESSAGE_TOO_LARGE."),
    def("message.timestamp.after.max.ms", T::Long, Some("3600000"), &[syn("log.message.timestamp.after.max.ms")], AtLeast(0),
        "How far in the future a record's CreateTime timestamp may be. Batches beyond it are rejected with INVALID_TIMESTAMP."),
    def("message.timestamp.before.max.ms", T::Long, Some(LONG_MAX), &[syn("log.message.timestamp.before.max.ms")], AtLeast(0),
        "How far in the past a record's CreateTime timestamp may be. Batches beyond it are rejected with INVALID_TIMESTAMP."),
    def(MESSAGE_TIMESTAMP_TYPE, T::String, Some("CreateTime"), &[syn("log.message.timestamp.type")], OneOf(&["CreateTime", "LogAppendTime"]),
        "Whether a record's timestamp is the producer's (CreateTime) or the time the broker appended it (LogAppendTime)."),
    def("min.cleanable.dirty.ratio", T::Double, Some("0.5"), &[syn("log.cleaner.min.cleanable.ratio")], Ratio,
        "How dirty a log must be before Kafka compacts it. Kafkaesque compacts on every cleaner pass regardless."),
    def("min.compaction.lag.ms", T::Long, Some("0"), &[syn("log.cleaner.min.compaction.lag.ms")], AtLeast(0),
        "The minimum time a record remains uncompacted after it is written, counted from its timestamp."),
    def("min.insync.replicas", T::Int, Some("1"), &[syn("min.insync.replicas")], AtLeast(1),
        "The minimum number of replicas that must acknowledge a write with acks=all. There is one replica, which is always in sync."),
    def("preallocate", T::Boolean, Some("false"), &[syn("log.preallocate")], Any,
        "Whether to preallocate segment files. No effect: there are no files."),
    def("remote.log.copy.disable", T::Boolean, Some("false"), &[], Any,
        "Whether to stop copying segments to tiered storage. Stored only."),
    def("remote.log.delete.on.disable", T::Boolean, Some("false"), &[], Any,
        "Whether to delete tiered data when tiered storage is disabled. Stored only."),
    def("remote.storage.enable", T::Boolean, Some("false"), &[], Any,
        "Whether tiered storage is enabled for the topic. Stored only: PostgreSQL is the only tier."),
    def(RETENTION_BYTES, T::Long, Some("-1"), &[syn("log.retention.bytes")], Any,
        "The largest size a partition may grow to before the oldest records are deleted (cleanup.policy=delete); -1 means no limit."),
    def(RETENTION_MS, T::Long, Some("604800000"), &[syn("log.retention.ms"), Synonym { name: "log.retention.minutes", unit: 60_000 }, Synonym { name: "log.retention.hours", unit: 3_600_000 }], AtLeast(-1),
        "How long to keep a record, counted from its timestamp, before deleting it (cleanup.policy=delete); -1 means forever."),
    // Kafka 3.x's minimum (a v0 record's overhead). Kafka 4.0 raised it to
    // 1 MiB (KIP-1030), but librdkafka's suite still creates topics with
    // 20000, and with no segments here a small value harms nothing.
    def("segment.bytes", T::Int, Some("1073741824"), &[syn("log.segment.bytes")], AtLeast(14),
        "The segment file size. No effect: there are no segments, so retention is exact to the record."),
    def("segment.index.bytes", T::Int, Some("10485760"), &[syn("log.index.size.max.bytes")], AtLeast(4),
        "The size of the offset index. No effect."),
    def("segment.jitter.ms", T::Long, Some("0"), &[Synonym { name: "log.roll.jitter.ms", unit: 1 }, Synonym { name: "log.roll.jitter.hours", unit: 3_600_000 }], AtLeast(0),
        "Random jitter subtracted from segment.ms. No effect."),
    def("segment.ms", T::Long, Some("604800000"), &[syn("log.roll.ms"), Synonym { name: "log.roll.hours", unit: 3_600_000 }], AtLeast(1),
        "The time after which a segment is rolled. No effect: there are no segments."),
    def("unclean.leader.election.enable", T::Boolean, Some("false"), &[syn("unclean.leader.election.enable")], Any,
        "Whether an out-of-sync replica may become leader. No effect: there is one replica."),
];

/// The table entry of a topic config.
pub fn topic_config(name: &str) -> Option<&'static ConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

/// Checks `value` for `def`; the error is Kafka's `ConfigException`
/// message, e.g. "Invalid value x for configuration retention.ms: Not a
/// number of type LONG".
pub fn validate(def: &ConfigDef, value: &str) -> Result<(), String> {
    check_value(def, value.trim()).map_err(|why| {
        format!(
            "Invalid value {value} for configuration {}: {why}",
            def.name
        )
    })
}

fn check_value(def: &ConfigDef, value: &str) -> Result<(), String> {
    let number = |value: &str| -> Result<i64, String> {
        let (min, max) = match def.config_type {
            T::Int => (i64::from(i32::MIN), i64::from(i32::MAX)),
            T::Short => (i64::from(i16::MIN), i64::from(i16::MAX)),
            _ => (i64::MIN, i64::MAX),
        };
        value
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("Not a number of type {}", type_name(def.config_type)))
    };
    match def.config_type {
        T::Boolean => {
            if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
                return Err("Expected value to be either true or false".into());
            }
        }
        T::Int | T::Short | T::Long => {
            let n = number(value)?;
            match def.check {
                AtLeast(min) if n < min => return Err(format!("Value must be at least {min}")),
                Between(min, _) if n < min => return Err(format!("Value must be at least {min}")),
                Between(_, max) if n > max => {
                    return Err(format!("Value must be no more than {max}"))
                }
                GzipLevel if n != -1 && !(1..=9).contains(&n) => {
                    return Err("Value must be between 1 and 9, or -1".into())
                }
                _ => {}
            }
        }
        T::Double => {
            let x: f64 = value
                .parse()
                .map_err(|_| "Not a number of type DOUBLE".to_string())?;
            if matches!(def.check, Ratio) && !(0.0..=1.0).contains(&x) {
                return Err(if x < 0.0 {
                    "Value must be at least 0".into()
                } else {
                    "Value must be no more than 1".into()
                });
            }
        }
        T::String | T::Password => {
            if let OneOf(allowed) = def.check {
                if !allowed.contains(&value) {
                    return Err(format!("String must be one of: {}", allowed.join(", ")));
                }
            }
        }
        T::List => match def.check {
            ListOf(allowed) => {
                if let Some(bad) = list_items(value).find(|item| !allowed.contains(item)) {
                    return Err(format!(
                        "String must be one of: {} (got {bad})",
                        allowed.join(", ")
                    ));
                }
            }
            ThrottledReplicas => {
                let valid = value == "*"
                    || list_items(value).all(|item| {
                        item.split_once(':').is_some_and(|(p, b)| {
                            p.trim().parse::<u32>().is_ok() && b.trim().parse::<u32>().is_ok()
                        })
                    });
                if !valid {
                    return Err("must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...".into());
                }
            }
            _ => {}
        },
    }
    Ok(())
}

/// The items of a list config, trimmed, empty ones skipped.
pub fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn type_name(t: ConfigType) -> &'static str {
    match t {
        T::Boolean => "BOOLEAN",
        T::String => "STRING",
        T::Int => "INT",
        T::Short => "SHORT",
        T::Long => "LONG",
        T::Double => "DOUBLE",
        T::List => "LIST",
        T::Password => "PASSWORD",
    }
}

/// Checks a whole set of topic configs (CreateTopics, AlterConfigs, the
/// result of IncrementalAlterConfigs): names known, values valid.
pub fn validate_topic_configs(configs: &BTreeMap<String, String>) -> Result<(), String> {
    for (name, value) in configs {
        let def = topic_config(name).ok_or_else(|| format!("Unknown topic config name: {name}"))?;
        validate(def, value)?;
    }
    Ok(())
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub value: Option<String>,
    pub source: ConfigSource,
    /// Every place a value was found, highest precedence first, ending with
    /// the default (DescribeConfigs' synonyms).
    pub synonyms: Vec<(String, Option<String>, ConfigSource)>,
}

/// Broker-level values that topic configs fall back to: dynamic ones (this
/// node's, then the cluster-wide default) and the command-line flags.
pub struct BrokerLevel<'a> {
    pub node: Option<&'a BTreeMap<String, String>>,
    pub cluster: Option<&'a BTreeMap<String, String>>,
    pub config: &'a Config,
}

impl BrokerLevel<'_> {
    /// The value of broker config `name` and its source, if anything set it.
    fn lookup(&self, name: &str) -> Option<(String, ConfigSource)> {
        if let Some(v) = self.node.and_then(|m| m.get(name)) {
            return Some((v.clone(), ConfigSource::DynamicBroker));
        }
        if let Some(v) = self.cluster.and_then(|m| m.get(name)) {
            return Some((v.clone(), ConfigSource::DynamicDefaultBroker));
        }
        self.config
            .static_broker_config(name)
            .map(|v| (v, ConfigSource::StaticBroker))
    }
}

/// Resolves topic config `def` for a topic whose own configs are
/// `topic_configs` (KIP-226 precedence; see the module docs).
pub fn resolve(
    def: &ConfigDef,
    topic_configs: &BTreeMap<String, String>,
    broker: &BrokerLevel<'_>,
) -> Resolved {
    let mut synonyms = Vec::new();
    if let Some(v) = topic_configs.get(def.name) {
        synonyms.push((
            def.name.to_string(),
            Some(v.clone()),
            ConfigSource::DynamicTopic,
        ));
    }
    for synonym in def.synonyms {
        if let Some((v, source)) = broker.lookup(synonym.name) {
            synonyms.push((synonym.name.to_string(), Some(v), source));
        }
    }
    // The default is reported under the last (coarsest) synonym, in its
    // units: retention.ms defaults to log.retention.hours=168.
    let default_name = def.synonyms.last().map_or(def.name, |s| s.name);
    let unit = def.synonyms.last().map_or(1, |s| s.unit);
    let default_value = def.default.map(|d| match d.parse::<i64>() {
        Ok(n) if unit > 1 => (n / unit).to_string(),
        _ => d.to_string(),
    });
    synonyms.push((
        default_name.to_string(),
        default_value,
        ConfigSource::Default,
    ));

    let (first_name, first_value, source) = synonyms[0].clone();
    let value = match source {
        ConfigSource::DynamicTopic => first_value,
        ConfigSource::Default => def.default.map(str::to_string),
        // A broker synonym counting minutes or hours, converted to ms.
        _ => {
            let unit = def
                .synonyms
                .iter()
                .find(|s| s.name == first_name)
                .map_or(1, |s| s.unit);
            match first_value.as_deref().map(|v| v.trim().parse::<i64>()) {
                Some(Ok(n)) if unit > 1 && n >= 0 => Some(n.saturating_mul(unit).to_string()),
                _ => first_value,
            }
        }
    };
    Resolved {
        value,
        source,
        synonyms,
    }
}

/// The topic configs that decide what the broker does, resolved and typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSettings {
    pub max_message_bytes: i64,
    pub log_append_time: bool,
    pub timestamp_before_max_ms: i64,
    pub timestamp_after_max_ms: i64,
    /// cleanup.policy contains "compact".
    pub compact: bool,
    /// cleanup.policy contains "delete".
    pub delete: bool,
    /// -1 (or any negative) = keep forever.
    pub retention_ms: i64,
    /// -1 (or any negative) = no size limit.
    pub retention_bytes: i64,
    pub delete_retention_ms: i64,
    pub min_compaction_lag_ms: i64,
}

impl TopicSettings {
    /// Resolves the enforced configs of `topic` on `broker`.
    pub fn of(broker: &Broker, topic: &TopicMeta) -> TopicSettings {
        broker.dynamic_configs.with_broker_level(broker, |level| {
            TopicSettings::resolve(&topic.configs, level)
        })
    }

    pub fn resolve(topic_configs: &BTreeMap<String, String>, level: &BrokerLevel<'_>) -> Self {
        let text = |name: &str| -> String {
            topic_config(name)
                .and_then(|def| resolve(def, topic_configs, level).value)
                .unwrap_or_default()
        };
        let number =
            |name: &str, fallback: i64| -> i64 { text(name).trim().parse().unwrap_or(fallback) };
        let policy = text(CLEANUP_POLICY);
        let compact = list_items(&policy).any(|p| p == "compact");
        let delete = list_items(&policy).any(|p| p == "delete");
        TopicSettings {
            max_message_bytes: number(MAX_MESSAGE_BYTES, 1_048_588),
            log_append_time: text(MESSAGE_TIMESTAMP_TYPE).trim() == "LogAppendTime",
            timestamp_before_max_ms: number("message.timestamp.before.max.ms", i64::MAX),
            timestamp_after_max_ms: number("message.timestamp.after.max.ms", 3_600_000),
            compact,
            delete,
            retention_ms: number(RETENTION_MS, 604_800_000),
            retention_bytes: number(RETENTION_BYTES, -1),
            delete_retention_ms: number("delete.retention.ms", 86_400_000),
            min_compaction_lag_ms: number("min.compaction.lag.ms", 0),
        }
    }

    /// KIP-937 (`LogValidator.validateTimestamp`): a record's CreateTime
    /// timestamp more than `message.timestamp.before.max.ms` in the past or
    /// `message.timestamp.after.max.ms` in the future is refused. A missing
    /// timestamp (-1) and LogAppendTime topics are not checked.
    pub fn timestamp_allowed(&self, timestamp: i64, now_ms: i64) -> bool {
        if self.log_append_time || timestamp == NO_TIMESTAMP {
            return true;
        }
        let too_old = now_ms.saturating_sub(timestamp) > self.timestamp_before_max_ms;
        let too_new = timestamp.saturating_sub(now_ms) > self.timestamp_after_max_ms;
        !too_old && !too_new
    }
}

/// Why Produce refused a partition's batch: the error code, the message,
/// and (KIP-467, Produce v8+) which records were at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub code: ErrorCode,
    pub message: Option<String>,
    /// (index of the record in the batch, why).
    pub record_errors: Vec<(i32, String)>,
}

impl From<ErrorCode> for Rejected {
    fn from(code: ErrorCode) -> Self {
        Rejected {
            code,
            message: None,
            record_errors: Vec::new(),
        }
    }
}

/// The per-record checks Kafka's `LogValidator` makes from topic configs:
/// a compacted topic needs a key on every record (INVALID_RECORD), and a
/// CreateTime timestamp must lie within message.timestamp.before/after.max.ms
/// of now (INVALID_TIMESTAMP). Every failing record is reported.
pub fn check_records(
    settings: &TopicSettings,
    batch: &RecordBatch,
    now_ms: i64,
    topic: &str,
    partition: i32,
) -> Result<(), Rejected> {
    if settings.compact {
        let keyless: Vec<(i32, String)> = batch
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.key.is_none())
            .map(|(i, _)| {
                (
                    i as i32,
                    format!("Compacted topic cannot accept message without key in topic partition {topic}-{partition}."),
                )
            })
            .collect();
        if !keyless.is_empty() {
            return Err(Rejected {
                code: ErrorCode::InvalidRecord,
                message: Some(format!(
                    "One or more records have been rejected due to {} record errors in total: {}",
                    keyless.len(),
                    keyless[0].1
                )),
                record_errors: keyless,
            });
        }
    }
    if !settings.log_append_time {
        let earliest = now_ms.saturating_sub(settings.timestamp_before_max_ms);
        let latest = now_ms.saturating_add(settings.timestamp_after_max_ms);
        let out_of_range: Vec<(i32, String)> = batch
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (i, batch.base_timestamp.wrapping_add(r.timestamp_delta)))
            .filter(|&(_, ts)| !settings.timestamp_allowed(ts, now_ms))
            .map(|(i, ts)| {
                (
                    i as i32,
                    format!("Timestamp {ts} of message with offset {i} is out of range. The timestamp should be within [{earliest}, {latest}]"),
                )
            })
            .collect();
        if !out_of_range.is_empty() {
            return Err(Rejected {
                code: ErrorCode::InvalidTimestamp,
                message: Some(
                    "One or more records have been rejected due to invalid timestamp".into(),
                ),
                record_errors: out_of_range,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argh::FromArgs;

    fn config(args: &[&str]) -> Config {
        let flags = crate::config::Flags::from_args(&["kafkaesque"], args).unwrap();
        crate::config::Loaded::load(&flags, Vec::new(), &[])
            .unwrap()
            .config
    }

    #[test]
    fn the_table_is_sorted_and_every_default_is_valid() {
        for pair in TOPIC_CONFIGS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for def in TOPIC_CONFIGS {
            if let Some(d) = def.default {
                if def.config_type != T::List || !d.is_empty() {
                    validate(def, d).unwrap();
                }
            }
        }
    }

    #[test]
    fn invalid_values_get_kafkas_messages() {
        let retention = topic_config("retention.ms").unwrap();
        assert_eq!(
            validate(retention, "soon").unwrap_err(),
            "Invalid value soon for configuration retention.ms: Not a number of type LONG"
        );
        assert_eq!(
            validate(retention, "-5").unwrap_err(),
            "Invalid value -5 for configuration retention.ms: Value must be at least -1"
        );
        let policy = topic_config("cleanup.policy").unwrap();
        validate(policy, "compact, delete").unwrap();
        assert!(validate(policy, "compact,shred").is_err());
        let ts = topic_config("message.timestamp.type").unwrap();
        assert!(validate(ts, "Whenever").is_err());
        let ratio = topic_config("min.cleanable.dirty.ratio").unwrap();
        assert!(validate(ratio, "1.5").is_err());
        let throttled = topic_config("leader.replication.throttled.replicas").unwrap();
        validate(throttled, "0:1,1:1").unwrap();
        validate(throttled, "*").unwrap();
        assert!(validate(throttled, "all").is_err());
        assert_eq!(
            validate_topic_configs(&[("nope".into(), "1".into())].into()).unwrap_err(),
            "Unknown topic config name: nope"
        );
    }

    #[test]
    fn retention_resolves_through_its_broker_synonyms() {
        let def = topic_config("retention.ms").unwrap();
        let plain = config(&[]);
        let level = BrokerLevel {
            node: None,
            cluster: None,
            config: &plain,
        };
        let r = resolve(def, &BTreeMap::new(), &level);
        assert_eq!(r.value.as_deref(), Some("604800000"));
        assert_eq!(r.source, ConfigSource::Default);
        assert_eq!(
            r.synonyms,
            vec![(
                "log.retention.hours".into(),
                Some("168".into()),
                ConfigSource::Default
            )]
        );

        let hours = config(&["--log-retention-hours", "24"]);
        let level = BrokerLevel {
            node: None,
            cluster: None,
            config: &hours,
        };
        let r = resolve(def, &BTreeMap::new(), &level);
        assert_eq!(r.value.as_deref(), Some("86400000"));
        assert_eq!(r.source, ConfigSource::StaticBroker);

        let dynamic: BTreeMap<String, String> = [("log.retention.ms".into(), "5000".into())].into();
        let level = BrokerLevel {
            node: Some(&dynamic),
            cluster: None,
            config: &hours,
        };
        let topic: BTreeMap<String, String> = [("retention.ms".into(), "100".into())].into();
        let r = resolve(def, &topic, &level);
        assert_eq!(r.value.as_deref(), Some("100"));
        assert_eq!(r.source, ConfigSource::DynamicTopic);
        assert_eq!(r.synonyms.len(), 4);
        let settings = TopicSettings::resolve(&BTreeMap::new(), &level);
        assert_eq!(settings.retention_ms, 5000);
        assert!(settings.delete && !settings.compact);
    }

    #[test]
    fn timestamps_outside_the_window_are_refused() {
        let plain = config(&[]);
        let level = BrokerLevel {
            node: None,
            cluster: None,
            config: &plain,
        };
        let topic: BTreeMap<String, String> =
            [("message.timestamp.before.max.ms".into(), "1000".into())].into();
        let s = TopicSettings::resolve(&topic, &level);
        let now = 10_000_000;
        assert!(s.timestamp_allowed(now - 1000, now));
        assert!(!s.timestamp_allowed(now - 1001, now));
        assert!(s.timestamp_allowed(now + 3_600_000, now));
        assert!(!s.timestamp_allowed(now + 3_600_001, now));
    }
}
