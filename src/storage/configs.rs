//! Configs set at run time: a topic's (`topic_configs`) and those of
//! brokers and groups (`dynamic_configs`). Each change replaces a
//! resource's whole set in one transaction.

use super::{Db, StorageError, TopicId};
use std::collections::BTreeMap;

/// Replaces every config of a topic. Returns false if the topic is gone.
pub fn replace_topic_configs(
    db: &mut Db,
    topic_id: TopicId,
    configs: &BTreeMap<String, String>,
) -> Result<bool, StorageError> {
    let mut tx = db.client.transaction()?;
    // Locks the topic row, so a concurrent DeleteTopics waits for us or we
    // see that it won.
    let exists = tx
        .query_opt(
            "SELECT 1 FROM kafkaesque.topics WHERE topic_id = $1 FOR UPDATE",
            &[&topic_id],
        )?
        .is_some();
    if !exists {
        return Ok(false);
    }
    tx.execute(
        "DELETE FROM kafkaesque.topic_configs WHERE topic_id = $1",
        &[&topic_id],
    )?;
    for (name, value) in configs {
        tx.execute(
            "INSERT INTO kafkaesque.topic_configs (topic_id, name, value) VALUES ($1, $2, $3)",
            &[&topic_id, name, value],
        )?;
    }
    tx.commit()?;
    Ok(true)
}

/// Every dynamic broker and group config, as (resource type, resource name,
/// config name, value).
pub fn load_dynamic(db: &mut Db) -> Result<Vec<(i8, String, String, String)>, StorageError> {
    Ok(db
        .client
        .query(
            "SELECT resource_type, resource_name, name, value FROM kafkaesque.dynamic_configs",
            &[],
        )?
        .iter()
        .map(|r| (r.get::<_, i16>(0) as i8, r.get(1), r.get(2), r.get(3)))
        .collect())
}

/// Replaces every dynamic config of one broker or group resource.
pub fn replace_dynamic(
    db: &mut Db,
    resource_type: i8,
    resource_name: &str,
    configs: &BTreeMap<String, String>,
) -> Result<(), StorageError> {
    let rtype = i16::from(resource_type);
    let mut tx = db.client.transaction()?;
    tx.execute(
        "DELETE FROM kafkaesque.dynamic_configs WHERE resource_type = $1 AND resource_name = $2",
        &[&rtype, &resource_name],
    )?;
    for (name, value) in configs {
        tx.execute(
            "INSERT INTO kafkaesque.dynamic_configs (resource_type, resource_name, name, value)
             VALUES ($1, $2, $3, $4)",
            &[&rtype, &resource_name, name, value],
        )?;
    }
    tx.commit()?;
    Ok(())
}
