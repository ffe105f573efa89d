//! ACL bindings (`kafkaesque.acls`), one row per binding; the row's fields
//! are its primary key, so creating an ACL twice keeps one, as Kafka does.
//! Which bindings a filter matches is decided by [`crate::acl`], on rows
//! read here; PostgreSQL only narrows by resource type.

use super::{Db, StorageError};
use crate::acl::{AclBinding, AclFilter, ANY};
use postgres::Row;

const COLUMNS: &str =
    "resource_type, resource_name, pattern_type, principal, host, operation, permission_type";

fn binding(row: &Row) -> AclBinding {
    AclBinding {
        resource_type: row.get::<_, i16>(0) as i8,
        resource_name: row.get(1),
        pattern_type: row.get::<_, i16>(2) as i8,
        principal: row.get(3),
        host: row.get(4),
        operation: row.get::<_, i16>(5) as i8,
        permission_type: row.get::<_, i16>(6) as i8,
    }
}

/// The bindings as seven parallel arrays, for `unnest`.
type Columns = (
    Vec<i16>,
    Vec<String>,
    Vec<i16>,
    Vec<String>,
    Vec<String>,
    Vec<i16>,
    Vec<i16>,
);

fn columns(acls: &[&AclBinding]) -> Columns {
    let mut c = Columns::default();
    for acl in acls {
        c.0.push(i16::from(acl.resource_type));
        c.1.push(acl.resource_name.clone());
        c.2.push(i16::from(acl.pattern_type));
        c.3.push(acl.principal.clone());
        c.4.push(acl.host.clone());
        c.5.push(i16::from(acl.operation));
        c.6.push(i16::from(acl.permission_type));
    }
    c
}

/// Creates the bindings that do not exist yet, in one transaction. If that
/// would be more than `max_new` new rows, creates none and returns false.
pub fn create(db: &mut Db, acls: &[AclBinding], max_new: usize) -> Result<bool, StorageError> {
    let c = columns(&acls.iter().collect::<Vec<_>>());
    let mut tx = db.client.transaction()?;
    let created = tx.execute(
        "INSERT INTO kafkaesque.acls (resource_type, resource_name, pattern_type, principal,
                                      host, operation, permission_type)
         SELECT * FROM unnest($1::smallint[], $2::text[], $3::smallint[], $4::text[],
                              $5::text[], $6::smallint[], $7::smallint[])
         ON CONFLICT DO NOTHING",
        &[&c.0, &c.1, &c.2, &c.3, &c.4, &c.5, &c.6],
    )?;
    if created > max_new as u64 {
        tx.rollback()?;
        return Ok(false);
    }
    tx.commit()?;
    Ok(true)
}

/// Every binding `filter` matches, sorted by pattern then entry.
pub fn matching(db: &mut Db, filter: &AclFilter) -> Result<Vec<AclBinding>, StorageError> {
    let rows = db.client.query(
        &format!(
            "SELECT {COLUMNS} FROM kafkaesque.acls
             WHERE $1::smallint = {ANY} OR resource_type = $1
             ORDER BY {COLUMNS}"
        ),
        &[&i16::from(filter.resource_type)],
    )?;
    Ok(rows
        .iter()
        .map(binding)
        .filter(|acl| filter.matches(acl))
        .collect())
}

/// What [`delete_matching`] did.
pub enum Deleted {
    /// For each filter, the bindings it matched; all of them are deleted.
    /// A binding matched by two filters is listed under both.
    Matches(Vec<Vec<AclBinding>>),
    /// The filters matched more than the limit; nothing was deleted.
    TooMany,
}

/// Deletes every binding any of `filters` matches, in one transaction that
/// locks the rows it reads, so what is reported is what was deleted.
pub fn delete_matching(
    db: &mut Db,
    filters: &[AclFilter],
    max_deleted: usize,
) -> Result<Deleted, StorageError> {
    let mut tx = db.client.transaction()?;
    let rows = tx.query(
        &format!("SELECT {COLUMNS} FROM kafkaesque.acls ORDER BY {COLUMNS} FOR UPDATE"),
        &[],
    )?;
    let stored: Vec<AclBinding> = rows.iter().map(binding).collect();
    let matches: Vec<Vec<AclBinding>> = filters
        .iter()
        .map(|f| {
            stored
                .iter()
                .filter(|acl| f.matches(acl))
                .cloned()
                .collect()
        })
        .collect();
    let doomed: Vec<&AclBinding> = stored
        .iter()
        .filter(|acl| filters.iter().any(|f| f.matches(acl)))
        .collect();
    if doomed.len() > max_deleted {
        tx.rollback()?;
        return Ok(Deleted::TooMany);
    }
    if !doomed.is_empty() {
        let c = columns(&doomed);
        tx.execute(
            "DELETE FROM kafkaesque.acls a
             USING unnest($1::smallint[], $2::text[], $3::smallint[], $4::text[],
                          $5::text[], $6::smallint[], $7::smallint[])
                   AS d(resource_type, resource_name, pattern_type, principal, host,
                        operation, permission_type)
             WHERE (a.resource_type, a.resource_name, a.pattern_type, a.principal, a.host,
                    a.operation, a.permission_type)
                 = (d.resource_type, d.resource_name, d.pattern_type, d.principal, d.host,
                    d.operation, d.permission_type)",
            &[&c.0, &c.1, &c.2, &c.3, &c.4, &c.5, &c.6],
        )?;
    }
    tx.commit()?;
    Ok(Deleted::Matches(matches))
}
