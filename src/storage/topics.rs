//! Topics, partitions and topic configs.

use super::{Db, StorageError, TopicId};
use std::collections::BTreeMap;

/// What the broker knows about a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMeta {
    pub id: TopicId,
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i16,
    /// Configs set explicitly for this topic; anything absent has the
    /// broker default.
    pub configs: BTreeMap<String, String>,
}

/// Watermarks of one partition as PostgreSQL has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionRow {
    pub next_offset: i64,
    pub log_start_offset: i64,
    pub leader_epoch: i32,
}

const SELECT_TOPICS: &str = "SELECT t.topic_id, t.name, t.partition_count, t.replication_factor,
            coalesce(array_agg(c.name) FILTER (WHERE c.name IS NOT NULL), '{}'),
            coalesce(array_agg(c.value) FILTER (WHERE c.name IS NOT NULL), '{}')
       FROM kafkaesque.topics t
       LEFT JOIN kafkaesque.topic_configs c USING (topic_id)";

fn topic_from_row(row: &postgres::Row) -> TopicMeta {
    let names: Vec<String> = row.get(4);
    let values: Vec<Option<String>> = row.get(5);
    TopicMeta {
        id: row.get(0),
        name: row.get(1),
        partitions: row.get(2),
        replication_factor: row.get(3),
        configs: names
            .into_iter()
            .zip(values)
            .filter_map(|(n, v)| v.map(|v| (n, v)))
            .collect(),
    }
}

/// Every topic, for the metadata cache at start-up.
pub fn load_all(db: &mut Db) -> Result<Vec<TopicMeta>, StorageError> {
    let sql = format!("{SELECT_TOPICS} GROUP BY t.topic_id ORDER BY t.name");
    Ok(db
        .client
        .query(&sql, &[])?
        .iter()
        .map(topic_from_row)
        .collect())
}

/// One topic by name.
pub fn by_name(db: &mut Db, name: &str) -> Result<Option<TopicMeta>, StorageError> {
    let sql = format!("{SELECT_TOPICS} WHERE t.name = $1 GROUP BY t.topic_id");
    Ok(db
        .client
        .query_opt(&sql, &[&name])?
        .as_ref()
        .map(topic_from_row))
}

/// Creates a topic with its partitions and configs in one transaction.
/// Returns `None` if a topic with that name already exists.
pub fn create(
    db: &mut Db,
    name: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &BTreeMap<String, String>,
) -> Result<Option<TopicMeta>, StorageError> {
    let mut tx = db.client.transaction()?;
    let row = tx.query_opt(
        "INSERT INTO kafkaesque.topics (name, partition_count, replication_factor)
         VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING topic_id",
        &[&name, &partitions, &replication_factor],
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    let id: TopicId = row.get(0);
    tx.execute(
        "INSERT INTO kafkaesque.partitions (topic_id, partition)
         SELECT $1, p FROM generate_series(0, $2 - 1) AS p",
        &[&id, &partitions],
    )?;
    for (key, value) in configs {
        tx.execute(
            "INSERT INTO kafkaesque.topic_configs (topic_id, name, value) VALUES ($1, $2, $3)",
            &[&id, key, value],
        )?;
    }
    tx.commit()?;
    Ok(Some(TopicMeta {
        id,
        name: name.to_string(),
        partitions,
        replication_factor,
        configs: configs.clone(),
    }))
}

/// Deletes a topic and all of its records. Returns false if it was gone.
pub fn delete(db: &mut Db, id: TopicId) -> Result<bool, StorageError> {
    let mut tx = db.client.transaction()?;
    // Kafka forgets the committed offsets of deleted partitions, so a topic
    // created again under the same name starts with none.
    tx.execute(
        "DELETE FROM kafkaesque.committed_offsets
          WHERE topic = (SELECT name FROM kafkaesque.topics WHERE topic_id = $1)",
        &[&id],
    )?;
    let deleted = tx.execute("DELETE FROM kafkaesque.topics WHERE topic_id = $1", &[&id])?;
    tx.execute("DELETE FROM kafkaesque.record WHERE topic_id = $1", &[&id])?;
    tx.execute(
        "DELETE FROM kafkaesque.producer_state WHERE topic_id = $1",
        &[&id],
    )?;
    tx.commit()?;
    Ok(deleted > 0)
}

/// The committed watermarks of every partition of a topic, in partition order.
pub fn partition_rows(db: &mut Db, id: TopicId) -> Result<Vec<(i32, PartitionRow)>, StorageError> {
    let stmt = db.statement(
        "SELECT partition, next_offset, log_start_offset, leader_epoch
           FROM kafkaesque.partitions WHERE topic_id = $1 ORDER BY partition",
    )?;
    Ok(db
        .client
        .query(&stmt, &[&id])?
        .iter()
        .map(|r| {
            (
                r.get(0),
                PartitionRow {
                    next_offset: r.get(1),
                    log_start_offset: r.get(2),
                    leader_epoch: r.get(3),
                },
            )
        })
        .collect())
}

/// Grows a topic to `count` partitions (CreatePartitions). Returns the
/// partition count it had, or `None` if the topic is gone; nothing changes
/// unless that count is below `count`.
pub fn add_partitions(db: &mut Db, id: TopicId, count: i32) -> Result<Option<i32>, StorageError> {
    let mut tx = db.client.transaction()?;
    let Some(row) = tx.query_opt(
        "SELECT partition_count FROM kafkaesque.topics WHERE topic_id = $1 FOR UPDATE",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let current: i32 = row.get(0);
    if current < count {
        tx.execute(
            "UPDATE kafkaesque.topics SET partition_count = $2 WHERE topic_id = $1",
            &[&id, &count],
        )?;
        tx.execute(
            "INSERT INTO kafkaesque.partitions (topic_id, partition)
             SELECT $1, p FROM generate_series($2, $3 - 1) AS p",
            &[&id, &current, &count],
        )?;
    }
    tx.commit()?;
    Ok(Some(current))
}
