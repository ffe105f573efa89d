//! SCRAM credentials (`kafkaesque.scram_credentials`), one row per user and
//! mechanism, holding what [`crate::scram`] keeps of a credential.

use super::{Db, StorageError};

/// One stored credential.
#[derive(Clone)]
pub struct ScramCredential {
    pub user: String,
    pub mechanism: i8,
    pub iterations: i32,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

/// (user, mechanism, iterations) of every credential of `users`, or of
/// every user when `users` is `None`; sorted by user, then mechanism.
pub fn describe(
    db: &mut Db,
    users: Option<&[String]>,
) -> Result<Vec<(String, i8, i32)>, StorageError> {
    let rows = match users {
        None => db.client.query(
            "SELECT user_name, mechanism, iterations FROM kafkaesque.scram_credentials
             ORDER BY user_name, mechanism",
            &[],
        )?,
        Some(users) => db.client.query(
            "SELECT user_name, mechanism, iterations FROM kafkaesque.scram_credentials
             WHERE user_name = ANY($1) ORDER BY user_name, mechanism",
            &[&users],
        )?,
    };
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get::<_, i16>(1) as i8, r.get(2)))
        .collect())
}

/// The (user, mechanism) pairs that have a credential, among `users`.
pub fn existing(db: &mut Db, users: &[String]) -> Result<Vec<(String, i8)>, StorageError> {
    Ok(describe(db, Some(users))?
        .into_iter()
        .map(|(user, mechanism, _)| (user, mechanism))
        .collect())
}

/// Deletes and upserts credentials in one transaction. Returns, for each
/// deletion, whether there was a credential to delete.
pub fn alter(
    db: &mut Db,
    deletions: &[(String, i8)],
    upsertions: &[ScramCredential],
) -> Result<Vec<bool>, StorageError> {
    let mut tx = db.client.transaction()?;
    let mut deleted = Vec::with_capacity(deletions.len());
    for (user, mechanism) in deletions {
        let n = tx.execute(
            "DELETE FROM kafkaesque.scram_credentials WHERE user_name = $1 AND mechanism = $2",
            &[user, &i16::from(*mechanism)],
        )?;
        deleted.push(n > 0);
    }
    for c in upsertions {
        tx.execute(
            "INSERT INTO kafkaesque.scram_credentials
                 (user_name, mechanism, salt, stored_key, server_key, iterations)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_name, mechanism) DO UPDATE
             SET salt = EXCLUDED.salt, stored_key = EXCLUDED.stored_key,
                 server_key = EXCLUDED.server_key, iterations = EXCLUDED.iterations,
                 updated_at = now()",
            &[
                &c.user,
                &i16::from(c.mechanism),
                &c.salt,
                &c.stored_key,
                &c.server_key,
                &c.iterations,
            ],
        )?;
    }
    tx.commit()?;
    Ok(deleted)
}
