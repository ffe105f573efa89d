//! Configs of the three resources DescribeConfigs and (Incremental)
//! AlterConfigs address: topics ([`crate::topic_config`]), brokers and
//! consumer groups (KIP-848 group configs), and the dynamic values set on
//! brokers and groups at run time.
//!
//! Dynamic broker configs work as in Kafka (KIP-226): set for one node
//! (resource name = its node id) or for every broker (empty resource name),
//! they take precedence over the command-line flags, and the topic configs
//! that have them as synonyms (`log.retention.ms`, `message.max.bytes`, ...)
//! follow at once. Every dynamic value lives in `kafkaesque.dynamic_configs`
//! and, for reading on hot paths, in [`DynamicConfigs`].

use crate::broker::Broker;
use crate::config::Config;
use crate::topic_config::{
    self, resolve, BrokerLevel, Check, ConfigDef, ConfigSource, ConfigType as T, Resolved, Synonym,
    TOPIC_CONFIGS,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

/// DescribeConfigs' `resource_type` values this broker serves.
pub const RESOURCE_TOPIC: i8 = 2;
pub const RESOURCE_BROKER: i8 = 4;
pub const RESOURCE_GROUP: i8 = 32;

const fn broker(
    name: &'static str,
    config_type: T,
    default: Option<&'static str>,
    check: Check,
    documentation: &'static str,
) -> ConfigDef {
    ConfigDef {
        name,
        config_type,
        default,
        documentation,
        synonyms: &[],
        check,
    }
}

/// Broker configs that can only be set on the command line (Kafka calls
/// them read-only: not dynamically updatable).
const READ_ONLY_BROKER_CONFIGS: &[&str] = &[
    "advertised.listeners",
    "auto.create.topics.enable",
    "broker.id",
    "default.replication.factor",
    "listeners",
    "log.dirs",
    "log.retention.check.interval.ms",
    "node.id",
    "num.partitions",
    "socket.request.max.bytes",
];

/// The broker configs this broker reports, sorted by name. Those backed by
/// a flag show its value; the `log.*` ones and `message.max.bytes` are the
/// defaults of the topic configs that name them as synonyms.
pub const BROKER_CONFIGS: &[ConfigDef] = &[
    broker("advertised.listeners", T::String, None, Check::Any, "The address clients are told to connect to (--advertised-listener)."),
    broker("auto.create.topics.enable", T::Boolean, Some("true"), Check::Any, "Create a topic when a client asks for metadata of an unknown one (--auto-create-topics)."),
    broker("background.threads", T::Int, Some("10"), Check::AtLeast(1), "The number of threads for background tasks. Stored only."),
    broker("broker.id", T::Int, Some("-1"), Check::Any, "This broker's id; the same as node.id."),
    broker("compression.type", T::String, Some("producer"), Check::OneOf(&["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]), "Default compression.type of topics. Stored only."),
    broker("default.replication.factor", T::Int, Some("1"), Check::AtLeast(1), "The replication factor of auto-created topics. Every partition has one replica: this node."),
    broker("log.cleaner.delete.retention.ms", T::Long, Some("86400000"), Check::AtLeast(0), "Default delete.retention.ms of topics (--log-cleaner-delete-retention-ms)."),
    broker("log.cleaner.enable", T::Boolean, Some("true"), Check::Any, "Whether the log cleaner runs. It always does."),
    broker("log.cleaner.max.compaction.lag.ms", T::Long, Some("9223372036854775807"), Check::AtLeast(1), "Default max.compaction.lag.ms of topics."),
    broker("log.cleaner.min.cleanable.ratio", T::Double, Some("0.5"), Check::Ratio, "Default min.cleanable.dirty.ratio of topics."),
    broker("log.cleaner.min.compaction.lag.ms", T::Long, Some("0"), Check::AtLeast(0), "Default min.compaction.lag.ms of topics (--log-cleaner-min-compaction-lag-ms)."),
    broker("log.cleanup.policy", T::List, Some("delete"), Check::ListOf(&["compact", "delete"]), "Default cleanup.policy of topics (--log-cleanup-policy)."),
    broker("log.dirs", T::String, Some(LOG_DIR), Check::Any, "Where the log lives: the kafkaesque schema in PostgreSQL."),
    broker("log.flush.interval.messages", T::Long, Some("9223372036854775807"), Check::AtLeast(1), "Default flush.messages of topics."),
    broker("log.flush.interval.ms", T::Long, None, Check::Any, "Default flush.ms of topics."),
    broker("log.index.interval.bytes", T::Int, Some("4096"), Check::AtLeast(0), "Default index.interval.bytes of topics."),
    broker("log.message.timestamp.after.max.ms", T::Long, Some("3600000"), Check::AtLeast(0), "Default message.timestamp.after.max.ms of topics (--log-message-timestamp-after-max-ms)."),
    broker("log.message.timestamp.before.max.ms", T::Long, Some("9223372036854775807"), Check::AtLeast(0), "Default message.timestamp.before.max.ms of topics (--log-message-timestamp-before-max-ms)."),
    broker("log.message.timestamp.type", T::String, Some("CreateTime"), Check::OneOf(&["CreateTime", "LogAppendTime"]), "Default message.timestamp.type of topics (--log-message-timestamp-type)."),
    broker("log.preallocate", T::Boolean, Some("false"), Check::Any, "Default preallocate of topics."),
    broker("log.retention.bytes", T::Long, Some("-1"), Check::Any, "Default retention.bytes of topics (--log-retention-bytes)."),
    broker("log.retention.check.interval.ms", T::Long, Some("300000"), Check::AtLeast(1), "How often the log cleaner runs (--log-retention-check-interval-ms)."),
    broker("log.retention.hours", T::Int, Some("168"), Check::Any, "Default retention of topics in hours (--log-retention-hours)."),
    broker("log.retention.minutes", T::Int, None, Check::Any, "Default retention of topics in minutes; overrides log.retention.hours (--log-retention-minutes)."),
    broker("log.retention.ms", T::Long, None, Check::Any, "Default retention.ms of topics; overrides log.retention.minutes (--log-retention-ms)."),
    broker("log.roll.hours", T::Int, Some("168"), Check::AtLeast(1), "Default segment.ms of topics, in hours."),
    broker("log.roll.ms", T::Long, None, Check::Any, "Default segment.ms of topics."),
    broker("log.segment.bytes", T::Int, Some("1073741824"), Check::AtLeast(14), "Default segment.bytes of topics."),
    broker("log.segment.delete.delay.ms", T::Long, Some("60000"), Check::AtLeast(0), "Default file.delete.delay.ms of topics."),
    broker("max.connections", T::Int, Some("2147483647"), Check::AtLeast(0), "The most client connections served at once (--max-connections)."),
    broker("message.max.bytes", T::Int, Some("1048588"), Check::AtLeast(0), "Default max.message.bytes of topics (--message-max-bytes)."),
    broker("min.insync.replicas", T::Int, Some("1"), Check::AtLeast(1), "Default min.insync.replicas of topics."),
    broker("node.id", T::Int, Some("-1"), Check::Any, "This broker's id (--node-id)."),
    broker("num.partitions", T::Int, Some("1"), Check::AtLeast(1), "The partition count of auto-created topics (--num-partitions)."),
    broker("offsets.topic.replication.factor", T::Short, Some("3"), Check::AtLeast(1), "Replication of the offsets topic. Offsets live in PostgreSQL."),
    broker("sasl.kerberos.min.time.before.relogin", T::Long, Some("60000"), Check::Any, "Login thread sleep time between refresh attempts. Stored only."),
    broker("socket.request.max.bytes", T::Int, Some("104857600"), Check::AtLeast(1), "The largest request accepted (--max-request-bytes)."),
    broker("transaction.state.log.replication.factor", T::Short, Some("3"), Check::AtLeast(1), "Replication of the transaction state topic. Transaction state lives in PostgreSQL."),
    broker("unclean.leader.election.enable", T::Boolean, Some("false"), Check::Any, "Default unclean.leader.election.enable of topics."),
];

/// The log directory DescribeLogDirs and `log.dirs` report: the log lives
/// in PostgreSQL, in the kafkaesque schema.
pub const LOG_DIR: &str = "/postgresql/kafkaesque";

const fn group(
    name: &'static str,
    default: &'static str,
    synonyms: &'static [Synonym],
    check: Check,
    documentation: &'static str,
) -> ConfigDef {
    ConfigDef {
        name,
        config_type: if matches!(check, Check::OneOf(_)) {
            T::String
        } else {
            T::Int
        },
        default: Some(default),
        documentation,
        synonyms,
        check,
    }
}

/// Group configs of Kafka 4.x (`GroupConfig`), sorted by name. Stored and
/// reported; the group coordinator may read them.
pub const GROUP_CONFIGS: &[ConfigDef] = &[
    group(
        "consumer.heartbeat.interval.ms",
        "5000",
        &[Synonym {
            name: "group.consumer.heartbeat.interval.ms",
            unit: 1,
        }],
        Check::Between(5000, 15000),
        "The heartbeat interval given to the members of a consumer group.",
    ),
    group(
        "consumer.session.timeout.ms",
        "45000",
        &[Synonym {
            name: "group.consumer.session.timeout.ms",
            unit: 1,
        }],
        Check::Between(45000, 60000),
        "The timeout to detect client failures in a consumer group.",
    ),
    group(
        "share.auto.offset.reset",
        "latest",
        &[],
        Check::OneOf(&["latest", "earliest"]),
        "Where a share group starts consuming when it has no offset.",
    ),
    group(
        "share.heartbeat.interval.ms",
        "5000",
        &[Synonym {
            name: "group.share.heartbeat.interval.ms",
            unit: 1,
        }],
        Check::Between(5000, 15000),
        "The heartbeat interval given to the members of a share group.",
    ),
    group(
        "share.isolation.level",
        "read_uncommitted",
        &[],
        Check::OneOf(&["read_committed", "read_uncommitted"]),
        "Which records a share group reads.",
    ),
    group(
        "share.record.lock.duration.ms",
        "30000",
        &[Synonym {
            name: "group.share.record.lock.duration.ms",
            unit: 1,
        }],
        Check::Between(15000, 60000),
        "How long a share group member holds a record.",
    ),
    group(
        "share.session.timeout.ms",
        "45000",
        &[Synonym {
            name: "group.share.session.timeout.ms",
            unit: 1,
        }],
        Check::Between(45000, 60000),
        "The timeout to detect client failures in a share group.",
    ),
    group(
        "streams.heartbeat.interval.ms",
        "5000",
        &[Synonym {
            name: "group.streams.heartbeat.interval.ms",
            unit: 1,
        }],
        Check::Between(5000, 15000),
        "The heartbeat interval given to the members of a streams group.",
    ),
    group(
        "streams.num.standby.replicas",
        "0",
        &[Synonym {
            name: "group.streams.num.standby.replicas",
            unit: 1,
        }],
        Check::Between(0, 2),
        "The number of standby replicas of each task in a streams group.",
    ),
    group(
        "streams.session.timeout.ms",
        "45000",
        &[Synonym {
            name: "group.streams.session.timeout.ms",
            unit: 1,
        }],
        Check::Between(45000, 60000),
        "The timeout to detect client failures in a streams group.",
    ),
];

/// The config table of a resource type.
pub fn definitions(resource_type: i8) -> Option<&'static [ConfigDef]> {
    match resource_type {
        RESOURCE_TOPIC => Some(TOPIC_CONFIGS),
        RESOURCE_BROKER => Some(BROKER_CONFIGS),
        RESOURCE_GROUP => Some(GROUP_CONFIGS),
        _ => None,
    }
}

/// Whether a broker config can be changed at run time.
pub fn is_read_only(resource_type: i8, name: &str) -> bool {
    resource_type == RESOURCE_BROKER && READ_ONLY_BROKER_CONFIGS.contains(&name)
}

/// Checks the settings behind broker configs at start-up, with the same
/// rules (and messages) as a dynamic change of them. An error names the
/// setting, so that the caller can say where its value came from.
pub fn check_flags(config: &Config) -> Result<(), (&'static str, String)> {
    for def in BROKER_CONFIGS {
        if let Some(value) = config.static_broker_config(def.name) {
            topic_config::validate(def, &value).map_err(|why| (def.name, why))?;
        }
    }
    Ok(())
}

/// The dynamic configs of brokers and groups, as PostgreSQL has them:
/// (resource type, resource name) → config name → value. Written through
/// (PostgreSQL first, then here), so it can always be rebuilt.
#[derive(Default)]
pub struct DynamicConfigs {
    inner: RwLock<HashMap<(i8, String), BTreeMap<String, String>>>,
}

impl DynamicConfigs {
    /// Builds the cache from `(resource type, resource name, name, value)`
    /// rows.
    pub fn from_rows(rows: Vec<(i8, String, String, String)>) -> DynamicConfigs {
        let mut map: HashMap<(i8, String), BTreeMap<String, String>> = HashMap::new();
        for (rtype, rname, name, value) in rows {
            map.entry((rtype, rname)).or_default().insert(name, value);
        }
        DynamicConfigs {
            inner: RwLock::new(map),
        }
    }

    pub fn get(&self, resource_type: i8, resource_name: &str) -> BTreeMap<String, String> {
        self.inner
            .read()
            .ok()
            .and_then(|m| m.get(&(resource_type, resource_name.to_string())).cloned())
            .unwrap_or_default()
    }

    pub fn replace(
        &self,
        resource_type: i8,
        resource_name: &str,
        configs: BTreeMap<String, String>,
    ) {
        if let Ok(mut m) = self.inner.write() {
            if configs.is_empty() {
                m.remove(&(resource_type, resource_name.to_string()));
            } else {
                m.insert((resource_type, resource_name.to_string()), configs);
            }
        }
    }

    /// Runs `f` with the broker-level values topic configs fall back to.
    pub fn with_broker_level<R>(
        &self,
        broker: &Broker,
        f: impl FnOnce(&BrokerLevel<'_>) -> R,
    ) -> R {
        let guard = self.inner.read().ok();
        let node_key = (RESOURCE_BROKER, broker.node_id().to_string());
        let cluster_key = (RESOURCE_BROKER, String::new());
        let level = BrokerLevel {
            node: guard.as_ref().and_then(|m| m.get(&node_key)),
            cluster: guard.as_ref().and_then(|m| m.get(&cluster_key)),
            config: &broker.config,
        };
        f(&level)
    }
}

/// One config of a resource as DescribeConfigs (and CreateTopics v5+)
/// report it.
#[derive(Debug, Clone)]
pub struct Described {
    pub def: &'static ConfigDef,
    pub resolved: Resolved,
    pub read_only: bool,
}

/// Every config of a resource, resolved. `own` is what is set on the
/// resource itself: a topic's configs, or a broker's or group's dynamic
/// ones.
pub fn describe(
    broker: &Broker,
    resource_type: i8,
    resource_name: &str,
    own: &BTreeMap<String, String>,
) -> Vec<Described> {
    let Some(defs) = definitions(resource_type) else {
        return Vec::new();
    };
    broker.dynamic_configs.with_broker_level(broker, |level| {
        defs.iter()
            .map(|def| {
                let resolved = match resource_type {
                    RESOURCE_TOPIC => resolve(def, own, level),
                    RESOURCE_BROKER => resolve_broker(def, resource_name, level),
                    _ => resolve_group(def, own, level),
                };
                Described {
                    def,
                    resolved,
                    read_only: is_read_only(resource_type, def.name),
                }
            })
            .collect()
    })
}

/// A broker config: this node's dynamic value, the cluster-wide dynamic
/// value, the flag, the default. `resource_name` "" describes the
/// cluster-wide defaults alone.
fn resolve_broker(def: &ConfigDef, resource_name: &str, level: &BrokerLevel<'_>) -> Resolved {
    let mut synonyms = Vec::new();
    let dynamic = [
        (
            level.node.filter(|_| !resource_name.is_empty()),
            ConfigSource::DynamicBroker,
        ),
        (level.cluster, ConfigSource::DynamicDefaultBroker),
    ];
    for (map, source) in dynamic {
        if let Some(v) = map.and_then(|m| m.get(def.name)) {
            synonyms.push((def.name.to_string(), Some(v.clone()), source));
        }
    }
    if let Some(v) = level.config.static_broker_config(def.name) {
        synonyms.push((def.name.to_string(), Some(v), ConfigSource::StaticBroker));
    }
    synonyms.push((
        def.name.to_string(),
        def.default.map(str::to_string),
        ConfigSource::Default,
    ));
    let (_, value, source) = synonyms[0].clone();
    Resolved {
        value,
        source,
        synonyms,
    }
}

/// A group config: the group's own value, else the broker default.
fn resolve_group(
    def: &ConfigDef,
    own: &BTreeMap<String, String>,
    level: &BrokerLevel<'_>,
) -> Resolved {
    let mut resolved = resolve(def, &BTreeMap::new(), level);
    if let Some(v) = own.get(def.name) {
        resolved.synonyms.insert(
            0,
            (def.name.to_string(), Some(v.clone()), ConfigSource::Group),
        );
        resolved.value = Some(v.clone());
        resolved.source = ConfigSource::Group;
    }
    resolved
}

/// Validates the full set of configs a broker or group resource would have.
pub fn validate_dynamic(
    resource_type: i8,
    configs: &BTreeMap<String, String>,
) -> Result<(), String> {
    let defs = definitions(resource_type).unwrap_or(&[]);
    let kind = if resource_type == RESOURCE_GROUP {
        "group"
    } else {
        "broker"
    };
    for (name, value) in configs {
        let def = defs
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| format!("Unknown {kind} config name: {name}"))?;
        if is_read_only(resource_type, name) {
            return Err(format!(
                "Cannot update these configs dynamically: Set({name})"
            ));
        }
        topic_config::validate(def, value)?;
    }
    Ok(())
}
