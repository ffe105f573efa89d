//! AlterUserScramCredentials (KIP-554): deletes and upserts SCRAM
//! credentials, with the per-user rules of Kafka's
//! `ScramControlManager.alterCredentials`: a user may be altered once per
//! request (else DUPLICATE_RESOURCE), its name must not be empty, its
//! mechanism known, its iterations within Kafka's bounds, and a deletion
//! needs a credential to delete (else RESOURCE_NOT_FOUND). The accepted
//! alterations are applied in one transaction. Results come as Kafka
//! orders them: deletions, upsertions, then failures.

use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::alter_user_scram_credentials::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
    AlterUserScramCredentialsResult, ScramCredentialUpsertion,
};
use crate::protocol::ErrorCode;
use crate::scram::{self, MAX_ITERATIONS, MIN_ITERATIONS};
use crate::storage::{self, scram::ScramCredential};
use std::collections::{BTreeMap, HashSet};

/// A refusal: the error and its message (`None` for UNKNOWN_SERVER_ERROR,
/// whose message Kafka never sends).
type Failure = (ErrorCode, Option<String>);

const TWICE: &str = "A user credential cannot be altered twice in the same request";

pub fn handle(
    ctx: &Ctx<'_>,
    request: AlterUserScramCredentialsRequest,
) -> AlterUserScramCredentialsResponse {
    let users: Vec<String> = request.deletions.iter().map(|d| d.name.clone()).collect();
    let existing: HashSet<(String, i8)> = if users.is_empty() {
        HashSet::new()
    } else {
        match ctx
            .broker
            .pool
            .run(move |db| storage::scram::existing(db, &users))
        {
            Ok(existing) => existing.into_iter().collect(),
            Err(err) => {
                log_storage_error(ctx, "reading SCRAM credentials", &err);
                let failure = (storage_error_code(&err), Some(err.to_string()));
                return everyone_failed(&request, failure);
            }
        }
    };

    let mut deletions: BTreeMap<String, i8> = BTreeMap::new();
    let mut upsertions: BTreeMap<String, &ScramCredentialUpsertion> = BTreeMap::new();
    let mut failures: BTreeMap<String, Failure> = BTreeMap::new();
    for deletion in &request.deletions {
        let name = &deletion.name;
        if failures.contains_key(name) {
            continue;
        }
        if deletions.remove(name).is_some() {
            failures.insert(name.clone(), duplicate());
        } else if let Err(failure) = check_deletion(name, deletion.mechanism, &existing) {
            failures.insert(name.clone(), failure);
        } else {
            deletions.insert(name.clone(), deletion.mechanism);
        }
    }
    for upsertion in &request.upsertions {
        let name = &upsertion.name;
        if failures.contains_key(name) {
            continue;
        }
        if deletions.remove(name).is_some() || upsertions.remove(name).is_some() {
            failures.insert(name.clone(), duplicate());
        } else if let Err(failure) = check_upsertion(upsertion) {
            failures.insert(name.clone(), failure);
        } else {
            upsertions.insert(name.clone(), upsertion);
        }
    }

    let mut credentials: Vec<ScramCredential> = Vec::new();
    for (name, upsertion) in upsertions {
        match scram::server_keys(upsertion.mechanism, &upsertion.salted_password) {
            Some(keys) => credentials.push(ScramCredential {
                user: name,
                mechanism: upsertion.mechanism,
                iterations: upsertion.iterations,
                salt: upsertion.salt.clone(),
                stored_key: keys.stored_key,
                server_key: keys.server_key,
            }),
            None => {
                failures.insert(name, (ErrorCode::UnknownServerError, None));
            }
        }
    }
    let deletions: Vec<(String, i8)> = deletions.into_iter().collect();

    let mut results: Vec<AlterUserScramCredentialsResult> = Vec::new();
    if !deletions.is_empty() || !credentials.is_empty() {
        let to_delete = deletions.clone();
        let upserted: Vec<String> = credentials.iter().map(|c| c.user.clone()).collect();
        match ctx
            .broker
            .pool
            .run(move |db| storage::scram::alter(db, &to_delete, &credentials))
        {
            Ok(deleted) => {
                for ((name, _), was_there) in deletions.into_iter().zip(deleted) {
                    if was_there {
                        results.push(success(name));
                    } else {
                        // Deleted by someone else since we looked.
                        failures.insert(name, not_found());
                    }
                }
                results.extend(upserted.into_iter().map(success));
                log::info!("{} altered SCRAM credentials", ctx.peer);
            }
            Err(err) => {
                log_storage_error(ctx, "altering SCRAM credentials", &err);
                let failure = (storage_error_code(&err), Some(err.to_string()));
                for name in deletions.into_iter().map(|(n, _)| n).chain(upserted) {
                    failures.insert(name, failure.clone());
                }
            }
        }
    }
    results.extend(failures.into_iter().map(|(user, (code, message))| {
        AlterUserScramCredentialsResult {
            user,
            error_code: code.code(),
            error_message: message,
        }
    }));
    AlterUserScramCredentialsResponse {
        throttle_time_ms: 0,
        results,
    }
}

fn check_name_and_mechanism(name: &str, mechanism: i8) -> Result<(), Failure> {
    if name.is_empty() {
        return Err((
            ErrorCode::UnacceptableCredential,
            Some("Username must not be empty".into()),
        ));
    }
    if !scram::is_known(mechanism) {
        return Err((
            ErrorCode::UnsupportedSaslMechanism,
            Some("Unknown SCRAM mechanism".into()),
        ));
    }
    Ok(())
}

fn check_deletion(
    name: &str,
    mechanism: i8,
    existing: &HashSet<(String, i8)>,
) -> Result<(), Failure> {
    check_name_and_mechanism(name, mechanism)?;
    if !existing.contains(&(name.to_string(), mechanism)) {
        return Err(not_found());
    }
    Ok(())
}

fn check_upsertion(upsertion: &ScramCredentialUpsertion) -> Result<(), Failure> {
    check_name_and_mechanism(&upsertion.name, upsertion.mechanism)?;
    if upsertion.iterations < MIN_ITERATIONS {
        return Err((
            ErrorCode::UnacceptableCredential,
            Some("Too few iterations".into()),
        ));
    }
    if upsertion.iterations > MAX_ITERATIONS {
        return Err((
            ErrorCode::UnacceptableCredential,
            Some("Too many iterations".into()),
        ));
    }
    Ok(())
}

fn duplicate() -> Failure {
    (ErrorCode::DuplicateResource, Some(TWICE.into()))
}

fn not_found() -> Failure {
    (
        ErrorCode::ResourceNotFound,
        Some("Attempt to delete a user credential that does not exist".into()),
    )
}

fn success(user: String) -> AlterUserScramCredentialsResult {
    AlterUserScramCredentialsResult {
        user,
        error_code: 0,
        error_message: None,
    }
}

/// Every user of the request failed the same way.
fn everyone_failed(
    request: &AlterUserScramCredentialsRequest,
    (code, message): Failure,
) -> AlterUserScramCredentialsResponse {
    let users: BTreeMap<&str, ()> = request
        .deletions
        .iter()
        .map(|d| (d.name.as_str(), ()))
        .chain(request.upsertions.iter().map(|u| (u.name.as_str(), ())))
        .collect();
    AlterUserScramCredentialsResponse {
        throttle_time_ms: 0,
        results: users
            .into_keys()
            .map(|user| AlterUserScramCredentialsResult {
                user: user.to_string(),
                error_code: code.code(),
                error_message: message.clone(),
            })
            .collect(),
    }
}
