//! Metrics: one small registry every module can feed, rendered in
//! Prometheus' text format by [`crate::metrics_endpoint`].
//!
//! A metric family is a `const` [`Family`] (name, help, kind) declared next
//! to the code that feeds it; a series is a family plus label values. Two
//! ways to feed one, and nothing else:
//!
//! - **Events** are counted where they happen: `broker.metrics.add(&FAMILY,
//!   &[("topic", name)], n)` for counters, [`Metrics::observe`] for
//!   histograms. Requests are counted in one place,
//!   [`crate::handlers::dispatch`].
//! - **State** that already lives somewhere (open connections, the pool's
//!   queue, watermarks) is read when someone scrapes, in [`snapshot`], so a
//!   gauge can never drift from the truth. A module with state to show adds
//!   one line there.
//!
//! Series live in a `Mutex<BTreeMap>`: an update is a map lookup and an
//! add under an uncontended lock, a few hundred nanoseconds, next to a
//! request that waits for PostgreSQL. The map is sorted, so a scrape is
//! stable and diffable.

use crate::broker::Broker;
use crate::protocol::messages::fetch::FetchResponseTopic;
use crate::protocol::ApiKey;
use crate::storage::TopicId;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// What kind of values a family holds (Prometheus' metric types).
#[derive(Debug)]
pub enum Kind {
    /// Only goes up (events since start).
    Counter,
    /// Goes up and down (a level right now).
    Gauge,
    /// Observations counted into buckets with these upper bounds.
    Histogram(&'static [f64]),
}

/// A metric family: one name, one meaning, any number of label sets.
#[derive(Debug)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
}

impl Family {
    pub const fn counter(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind: Kind::Counter,
        }
    }

    pub const fn gauge(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind: Kind::Gauge,
        }
    }

    pub const fn histogram(
        name: &'static str,
        help: &'static str,
        buckets: &'static [f64],
    ) -> Family {
        Family {
            name,
            help,
            kind: Kind::Histogram(buckets),
        }
    }
}

/// Bucket bounds, in seconds, for anything that waits on PostgreSQL: a
/// commit takes a millisecond or two, a long-polling fetch up to its
/// `max_wait_ms` (500 ms by default in librdkafka, up to 30 s elsewhere).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

pub const REQUESTS: Family = Family::counter(
    "kafkaesque_requests_total",
    "Requests received, by API and version.",
);
pub const REQUEST_ERRORS: Family = Family::counter(
    "kafkaesque_request_errors_total",
    "Requests the broker could not serve: unsupported (API or version) or malformed ones, \
     which close the connection, and ones PostgreSQL failed (answered with a retriable error).",
);
pub const REQUEST_SECONDS: Family = Family::histogram(
    "kafkaesque_request_duration_seconds",
    "Time from a request's arrival to its response being ready, by API; \
     includes a fetch's long-poll wait.",
    LATENCY_BUCKETS,
);
pub const PRODUCED_RECORDS: Family = Family::counter(
    "kafkaesque_produced_records_total",
    "Records appended (committed to PostgreSQL), by topic.",
);
pub const PRODUCED_BYTES: Family = Family::counter(
    "kafkaesque_produced_bytes_total",
    "Bytes of record batches appended, as the producer sent them (compressed), by topic.",
);
pub const FETCHED_RECORDS: Family = Family::counter(
    "kafkaesque_fetched_records_total",
    "Records returned to fetches (consumers), counted per record batch sent, by topic.",
);
pub const FETCHED_BYTES: Family = Family::counter(
    "kafkaesque_fetched_bytes_total",
    "Bytes of record batches returned to fetches, by topic.",
);
pub const READ_AHEAD: Family = Family::counter(
    "kafkaesque_fetch_read_ahead_total",
    "Partition reads queued ahead of a consumer's next Fetch (see src/read_ahead.rs), by \
     whether that Fetch used them.",
);
pub const CONNECTIONS: Family =
    Family::gauge("kafkaesque_connections", "Client connections open now.");
pub const POOL_QUEUE: Family = Family::gauge(
    "kafkaesque_pool_queue_depth",
    "Jobs waiting for a PostgreSQL pool connection now.",
);
pub const POOL_SIZE: Family = Family::gauge(
    "kafkaesque_pool_connections",
    "PostgreSQL connections in the pool (--pool-size).",
);
pub const POOL_WAIT_SECONDS: Family = Family::histogram(
    "kafkaesque_pool_wait_seconds",
    "Time a job waited in the queue before a pool connection took it.",
    LATENCY_BUCKETS,
);
pub const LONG_POLLS: Family = Family::gauge(
    "kafkaesque_fetch_long_polls",
    "Fetches waiting for new records now (holding no database connection).",
);
pub const LOG_END_OFFSET: Family = Family::gauge(
    "kafkaesque_log_end_offset",
    "Offset the next record of a partition will get (high watermark), by topic and partition; \
     partitions this broker has served since it started.",
);
pub const LOG_START_OFFSET: Family = Family::gauge(
    "kafkaesque_log_start_offset",
    "First offset still readable in a partition (moves with retention and DeleteRecords).",
);
pub const CONSUMER_GROUPS: Family = Family::gauge(
    "kafkaesque_consumer_groups",
    "Consumer groups this broker coordinates, by state (Empty, PreparingRebalance, \
     CompletingRebalance, Stable).",
);
pub const CLEANER_REMOVED_RECORDS: Family = Family::counter(
    "kafkaesque_cleaner_removed_records_total",
    "Records the log cleaner removed, by topic and policy (delete: retention moved the log \
     start past them; compact: a newer record with the same key replaced them).",
);
pub const BUILD_INFO: Family = Family::gauge(
    "kafkaesque_build_info",
    "Always 1; the labels say which build is running.",
);

/// A series' label values, in the order the feeding code gives them.
pub type Labels = Vec<(&'static str, String)>;

enum Value {
    Counter(u64),
    Gauge(i64),
    Histogram {
        /// Observations per bucket (not cumulative; the last one is +Inf).
        buckets: Vec<u64>,
        sum: f64,
        count: u64,
    },
}

/// The series of one family, by label values.
type Series = BTreeMap<Labels, Value>;

/// Every series of every family fed so far.
#[derive(Default)]
pub struct Metrics {
    families: Mutex<BTreeMap<&'static str, (&'static Family, Series)>>,
}

impl Metrics {
    /// Adds `by` to a counter.
    pub fn add(&self, family: &'static Family, labels: &[(&'static str, &str)], by: u64) {
        self.update(family, labels, |value| {
            if let Value::Counter(n) = value {
                *n = n.saturating_add(by);
            }
        });
    }

    /// Sets a gauge.
    pub fn set(&self, family: &'static Family, labels: &[(&'static str, &str)], to: i64) {
        self.update(family, labels, |value| {
            if let Value::Gauge(n) = value {
                *n = to;
            }
        });
    }

    /// Replaces every series of a gauge family at once, so label sets that
    /// are gone (a deleted topic, a state no group is in) disappear.
    pub fn replace(
        &self,
        family: &'static Family,
        series: impl IntoIterator<Item = (Labels, i64)>,
    ) {
        let fresh = series
            .into_iter()
            .map(|(labels, v)| (labels, Value::Gauge(v)))
            .collect();
        if let Ok(mut families) = self.families.lock() {
            families.insert(family.name, (family, fresh));
        }
    }

    /// Counts one observation into a histogram.
    pub fn observe(
        &self,
        family: &'static Family,
        labels: &[(&'static str, &str)],
        took: Duration,
    ) {
        let seconds = took.as_secs_f64();
        self.update(family, labels, |value| {
            if let (
                Value::Histogram {
                    buckets,
                    sum,
                    count,
                },
                Kind::Histogram(bounds),
            ) = (value, &family.kind)
            {
                let bucket = bounds
                    .iter()
                    .position(|bound| seconds <= *bound)
                    .unwrap_or(bounds.len());
                buckets[bucket] += 1;
                *sum += seconds;
                *count += 1;
            }
        });
    }

    fn update(
        &self,
        family: &'static Family,
        labels: &[(&'static str, &str)],
        change: impl FnOnce(&mut Value),
    ) {
        let Ok(mut families) = self.families.lock() else {
            return;
        };
        let (_, series) = families
            .entry(family.name)
            .or_insert_with(|| (family, BTreeMap::new()));
        let key: Labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let value = series.entry(key).or_insert_with(|| match family.kind {
            Kind::Counter => Value::Counter(0),
            Kind::Gauge => Value::Gauge(0),
            Kind::Histogram(bounds) => Value::Histogram {
                buckets: vec![0; bounds.len() + 1],
                sum: 0.0,
                count: 0,
            },
        });
        change(value);
    }

    /// Everything in Prometheus' text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let Ok(families) = self.families.lock() else {
            return out;
        };
        for (family, series) in families.values() {
            let kind = match family.kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram(_) => "histogram",
            };
            let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
            let _ = writeln!(out, "# TYPE {} {kind}", family.name);
            for (labels, value) in series {
                match (value, &family.kind) {
                    (Value::Counter(n), _) => {
                        let _ = writeln!(out, "{}{} {n}", family.name, label_text(labels, None));
                    }
                    (Value::Gauge(n), _) => {
                        let _ = writeln!(out, "{}{} {n}", family.name, label_text(labels, None));
                    }
                    (
                        Value::Histogram {
                            buckets,
                            sum,
                            count,
                        },
                        Kind::Histogram(bounds),
                    ) => {
                        let mut cumulative = 0;
                        for (i, n) in buckets.iter().enumerate() {
                            cumulative += n;
                            let le = bounds.get(i).map_or("+Inf".to_string(), f64::to_string);
                            let _ = writeln!(
                                out,
                                "{}_bucket{} {cumulative}",
                                family.name,
                                label_text(labels, Some(&le))
                            );
                        }
                        let plain = label_text(labels, None);
                        let _ = writeln!(out, "{}_sum{plain} {sum}", family.name);
                        let _ = writeln!(out, "{}_count{plain} {count}", family.name);
                    }
                    (Value::Histogram { .. }, _) => {}
                }
            }
        }
        out
    }
}

/// `{a="x",b="y"}` (with `le` last for a histogram bucket), or nothing.
fn label_text(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// Label values escape `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text a scrape returns: the state gauges read now, then every family.
pub fn snapshot(broker: &Broker) -> String {
    let m = &broker.metrics;
    m.set(&CONNECTIONS, &[], count(broker.connection_count()));
    m.set(&POOL_QUEUE, &[], count(broker.pool.queue_depth()));
    m.set(&POOL_SIZE, &[], count(broker.config.pool_size));
    m.set(&LONG_POLLS, &[], count(broker.notifier.waiting()));
    m.set(
        &BUILD_INFO,
        &[("version", crate::VERSION), ("commit", crate::GIT_COMMIT)],
        1,
    );
    let mut ends = Vec::new();
    let mut starts = Vec::new();
    for ((topic_id, partition), row) in broker.watermarks.all() {
        // A partition of a topic deleted a moment ago has no name any more.
        let Some(topic) = broker.topics.get_by_id(&topic_id) else {
            continue;
        };
        let labels = vec![
            ("topic", topic.name.clone()),
            ("partition", partition.to_string()),
        ];
        ends.push((labels.clone(), row.next_offset));
        starts.push((labels, row.log_start_offset));
    }
    m.replace(&LOG_END_OFFSET, ends);
    m.replace(&LOG_START_OFFSET, starts);
    let mut by_state: BTreeMap<String, i64> = BTreeMap::new();
    for group in broker.groups.list() {
        *by_state.entry(format!("{:?}", group.state)).or_default() += 1;
    }
    m.replace(
        &CONSUMER_GROUPS,
        by_state
            .into_iter()
            .map(|(state, n)| (vec![("state", state)], n)),
    );
    m.render()
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Counts a request and how long it took ([`crate::handlers::dispatch`]).
pub fn request_served(metrics: &Metrics, api: ApiKey, version: i16, took: Duration) {
    let api = format!("{api:?}");
    let version = version.to_string();
    metrics.add(&REQUESTS, &[("api", &api), ("version", &version)], 1);
    metrics.observe(&REQUEST_SECONDS, &[("api", &api)], took);
}

/// Counts a request the broker could not serve; `api` is the key's name, or
/// its number when we do not know it.
pub fn request_failed(metrics: &Metrics, api: &str, version: i16, error: &str) {
    let version = version.to_string();
    metrics.add(
        &REQUEST_ERRORS,
        &[("api", api), ("version", &version), ("error", error)],
        1,
    );
}

/// Counts an appended batch (the produce handler).
pub fn produced(metrics: &Metrics, topic: &str, records: usize, bytes: usize) {
    metrics.add(&PRODUCED_RECORDS, &[("topic", topic)], records as u64);
    metrics.add(&PRODUCED_BYTES, &[("topic", topic)], bytes as u64);
}

/// Counts a read ahead the next Fetch used (the fetch handler).
pub fn read_ahead_used(broker: &Broker) {
    broker.metrics.add(&READ_AHEAD, &[("result", "used")], 1);
}

/// Counts reads ahead the next Fetch did not ask for, dropped unused.
pub fn read_ahead_unused(broker: &Broker, reads: usize) {
    if reads > 0 {
        broker
            .metrics
            .add(&READ_AHEAD, &[("result", "unused")], reads as u64);
    }
}

/// Counts what a fetch response carries, per topic (the fetch handler).
/// Fetch v13+ names topics by id only.
pub fn fetched(broker: &Broker, topics: &[FetchResponseTopic]) {
    for topic in topics {
        let (records, bytes) = topic
            .partitions
            .iter()
            .filter_map(|p| p.records.as_deref())
            .fold((0, 0), |(records, bytes), batches| {
                (
                    records + count_records(batches),
                    bytes + batches.len() as u64,
                )
            });
        if bytes == 0 {
            continue;
        }
        let by_id = broker
            .topics
            .get_by_id(&TopicId::from_bytes(topic.topic_id));
        let name = if topic.topic.is_empty() {
            by_id.as_ref().map_or("", |t| t.name.as_str())
        } else {
            topic.topic.as_str()
        };
        broker
            .metrics
            .add(&FETCHED_RECORDS, &[("topic", name)], records);
        broker
            .metrics
            .add(&FETCHED_BYTES, &[("topic", name)], bytes);
    }
}

/// Records in a run of v2 record batches as stored and sent: each batch is
/// `baseOffset: i64, batchLength: i32, ...` with its record count at byte
/// 57 (see [`crate::protocol::records`]); reading the headers is enough,
/// nothing is decompressed. A partial batch at the end (clients drop it)
/// is not counted.
pub fn count_records(batches: &[u8]) -> u64 {
    const LENGTH_AT: usize = 8;
    const RECORD_COUNT_AT: usize = 57;
    let mut records = 0u64;
    let mut at = 0usize;
    while let Some(header) = batches.get(at..at + RECORD_COUNT_AT + 4) {
        let length = i32::from_be_bytes([
            header[LENGTH_AT],
            header[LENGTH_AT + 1],
            header[LENGTH_AT + 2],
            header[LENGTH_AT + 3],
        ]);
        let count = i32::from_be_bytes([
            header[RECORD_COUNT_AT],
            header[RECORD_COUNT_AT + 1],
            header[RECORD_COUNT_AT + 2],
            header[RECORD_COUNT_AT + 3],
        ]);
        let end = usize::try_from(length)
            .ok()
            .filter(|&length| length > 0)
            .map(|length| at + LENGTH_AT + 4 + length);
        match end {
            Some(end) if end <= batches.len() => {
                records += u64::try_from(count).unwrap_or(0);
                at = end;
            }
            _ => break,
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::records::BatchBuilder;

    const TEST_COUNTER: Family = Family::counter("t_total", "A test counter.");
    const TEST_HISTOGRAM: Family = Family::histogram("t_seconds", "A test histogram.", &[0.1, 1.0]);

    #[test]
    fn renders_counters_gauges_and_cumulative_histograms() {
        let m = Metrics::default();
        m.add(&TEST_COUNTER, &[("topic", "a\"b")], 2);
        m.add(&TEST_COUNTER, &[("topic", "a\"b")], 3);
        m.set(&CONNECTIONS, &[], 7);
        m.observe(
            &TEST_HISTOGRAM,
            &[("api", "Fetch")],
            Duration::from_millis(50),
        );
        m.observe(
            &TEST_HISTOGRAM,
            &[("api", "Fetch")],
            Duration::from_millis(500),
        );
        m.observe(&TEST_HISTOGRAM, &[("api", "Fetch")], Duration::from_secs(5));
        let text = m.render();
        assert!(
            text.contains("# TYPE t_total counter\nt_total{topic=\"a\\\"b\"} 5\n"),
            "{text}"
        );
        assert!(text.contains("kafkaesque_connections 7\n"), "{text}");
        assert!(
            text.contains("t_seconds_bucket{api=\"Fetch\",le=\"0.1\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_bucket{api=\"Fetch\",le=\"1\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_bucket{api=\"Fetch\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_sum{api=\"Fetch\"} 5.55\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_count{api=\"Fetch\"} 3\n"),
            "{text}"
        );
    }

    #[test]
    fn replace_drops_series_that_are_gone() {
        let m = Metrics::default();
        m.replace(&LOG_END_OFFSET, vec![(vec![("topic", "a".to_string())], 1)]);
        m.replace(&LOG_END_OFFSET, vec![(vec![("topic", "b".to_string())], 2)]);
        let text = m.render();
        assert!(!text.contains("topic=\"a\""), "{text}");
        assert!(
            text.contains("kafkaesque_log_end_offset{topic=\"b\"} 2\n"),
            "{text}"
        );
    }

    #[test]
    fn counts_records_from_batch_headers() {
        let mut bytes = Vec::new();
        for n in [3, 1] {
            let mut batch = BatchBuilder::start(&mut bytes, 0, 0, 0, -1, -1, -1, 0);
            for i in 0..n {
                batch.push(&mut bytes, i, 0, None, Some(b"v"), &[]);
            }
            batch.finish(&mut bytes);
        }
        assert_eq!(count_records(&bytes), 4);
        // A partial batch at the end is not counted.
        assert_eq!(count_records(&bytes[..bytes.len() - 10]), 3);
        assert_eq!(count_records(&[]), 0);
    }
}
