//! Consumer groups and their committed offsets.
//!
//! PostgreSQL keeps what must outlive the broker: every group's identity
//! and last known state (`consumer_groups`, written behind by the
//! coordinator on every transition) and the committed offsets
//! (`committed_offsets`, written before OffsetCommit answers). Live
//! membership is not stored: after a restart every group is Empty and its
//! members rejoin, exactly as after a Kafka coordinator failover.

use super::{Db, StorageError};

/// A group's durable facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub group_id: String,
    /// "consumer" for consumer groups; empty for groups that only commit.
    pub protocol_type: String,
    /// The state name at the last transition ("Stable", "Empty", ...).
    pub state: String,
    pub generation: i32,
    pub protocol_name: Option<String>,
    pub leader_id: Option<String>,
    pub member_count: i32,
}

/// One committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// -1 when the committer did not know it.
    pub leader_epoch: i32,
    pub metadata: String,
}

/// Every group, to rebuild the coordinator at start-up.
pub fn load_all(db: &mut Db) -> Result<Vec<GroupRow>, StorageError> {
    Ok(db
        .client
        .query(
            "SELECT group_id, protocol_type, state, generation, protocol_name, leader_id, member_count
               FROM kafkaesque.consumer_groups ORDER BY group_id",
            &[],
        )?
        .iter()
        .map(|r| GroupRow {
            group_id: r.get(0),
            protocol_type: r.get(1),
            state: r.get(2),
            generation: r.get(3),
            protocol_name: r.get(4),
            leader_id: r.get(5),
            member_count: r.get(6),
        })
        .collect())
}

/// Records groups' latest states, in one transaction.
pub fn save(db: &mut Db, rows: &[GroupRow]) -> Result<(), StorageError> {
    let stmt = db.statement(
        "INSERT INTO kafkaesque.consumer_groups
                (group_id, protocol_type, state, generation, protocol_name, leader_id, member_count, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now())
         ON CONFLICT (group_id) DO UPDATE
            SET protocol_type = EXCLUDED.protocol_type, state = EXCLUDED.state,
                generation = EXCLUDED.generation, protocol_name = EXCLUDED.protocol_name,
                leader_id = EXCLUDED.leader_id, member_count = EXCLUDED.member_count,
                updated_at = now()",
    )?;
    let mut tx = db.client.transaction()?;
    for row in rows {
        tx.execute(
            &stmt,
            &[
                &row.group_id,
                &row.protocol_type,
                &row.state,
                &row.generation,
                &row.protocol_name,
                &row.leader_id,
                &row.member_count,
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Deletes groups and (by cascade) their committed offsets.
pub fn delete(db: &mut Db, group_ids: &[String]) -> Result<(), StorageError> {
    db.client.execute(
        "DELETE FROM kafkaesque.consumer_groups WHERE group_id = ANY($1)",
        &[&group_ids],
    )?;
    Ok(())
}

/// Stores offsets for a group in one transaction, creating the group's row
/// if this is its first commit (a group that only commits offsets).
pub fn commit(
    db: &mut Db,
    group_id: &str,
    offsets: &[CommittedOffset],
) -> Result<(), StorageError> {
    let upsert = db.statement(
        "INSERT INTO kafkaesque.committed_offsets
                (group_id, topic, partition, committed_offset, leader_epoch, metadata, committed_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (group_id, topic, partition) DO UPDATE
            SET committed_offset = EXCLUDED.committed_offset,
                leader_epoch = EXCLUDED.leader_epoch,
                metadata = EXCLUDED.metadata,
                committed_at = now()",
    )?;
    let mut tx = db.client.transaction()?;
    tx.execute(
        "INSERT INTO kafkaesque.consumer_groups (group_id) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&group_id],
    )?;
    for o in offsets {
        tx.execute(
            &upsert,
            &[
                &group_id,
                &o.topic,
                &o.partition,
                &o.offset,
                &o.leader_epoch,
                &o.metadata.as_bytes(),
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// A group's committed offsets: of the given topics, or of every topic when
/// `topics` is `None`. Ordered by topic and partition.
pub fn fetch(
    db: &mut Db,
    group_id: &str,
    topics: Option<&[String]>,
) -> Result<Vec<CommittedOffset>, StorageError> {
    let stmt = db.statement(
        "SELECT topic, partition, committed_offset, leader_epoch, metadata
           FROM kafkaesque.committed_offsets
          WHERE group_id = $1 AND ($2::text[] IS NULL OR topic = ANY($2))
          ORDER BY topic, partition",
    )?;
    Ok(db
        .client
        .query(&stmt, &[&group_id, &topics])?
        .iter()
        .map(|r| CommittedOffset {
            topic: r.get(0),
            partition: r.get(1),
            offset: r.get(2),
            leader_epoch: r.get(3),
            // Stored from a Rust string, so always UTF-8; lossy only
            // against hand-edited rows.
            metadata: String::from_utf8_lossy(r.get::<_, &[u8]>(4)).into_owned(),
        })
        .collect())
}

/// Deletes some committed offsets of a group (OffsetDelete).
pub fn delete_offsets(
    db: &mut Db,
    group_id: &str,
    partitions: &[(String, i32)],
) -> Result<(), StorageError> {
    let (topics, indexes): (Vec<&str>, Vec<i32>) =
        partitions.iter().map(|(t, p)| (t.as_str(), *p)).unzip();
    db.client.execute(
        "DELETE FROM kafkaesque.committed_offsets o
          USING unnest($2::text[], $3::int[]) AS d(topic, partition)
          WHERE o.group_id = $1 AND o.topic = d.topic AND o.partition = d.partition",
        &[&group_id, &topics, &indexes],
    )?;
    Ok(())
}
