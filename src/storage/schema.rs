//! The bundled `schema.sql` and the check the broker runs at start.

use super::{Db, StorageError};

/// The schema this build expects, bundled so `--init-schema` needs no file.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");

/// The version `schema.sql` writes into `kafkaesque.schema_version`.
pub const SCHEMA_VERSION: i32 = 2;

/// What the start-up check found.
#[derive(Debug, PartialEq, Eq)]
pub enum SchemaState {
    Current,
    Missing,
    Older(i32),
    Newer(i32),
}

/// Reads the schema version without changing anything.
pub fn state(db: &mut Db) -> Result<SchemaState, StorageError> {
    let exists: bool = db
        .client
        .query_one(
            "SELECT to_regclass('kafkaesque.schema_version') IS NOT NULL",
            &[],
        )?
        .get(0);
    if !exists {
        return Ok(SchemaState::Missing);
    }
    let row = db
        .client
        .query_opt("SELECT version FROM kafkaesque.schema_version", &[])?;
    Ok(match row.map(|r| r.get::<_, i32>(0)) {
        None => SchemaState::Missing,
        Some(v) if v == SCHEMA_VERSION => SchemaState::Current,
        Some(v) if v < SCHEMA_VERSION => SchemaState::Older(v),
        Some(v) => SchemaState::Newer(v),
    })
}

/// Applies the bundled schema in one transaction. Idempotent.
pub fn apply(db: &mut Db) -> Result<(), StorageError> {
    let mut tx = db.client.transaction()?;
    // Two brokers starting at once must not both run the DDL.
    tx.batch_execute("SELECT pg_advisory_xact_lock(7426199)")?;
    tx.batch_execute(SCHEMA_SQL)?;
    tx.commit()?;
    Ok(())
}

/// The cluster id generated when the schema was first applied.
pub fn cluster_id(db: &mut Db) -> Result<String, StorageError> {
    Ok(db
        .client
        .query_one("SELECT cluster_id FROM kafkaesque.cluster", &[])?
        .get(0))
}
