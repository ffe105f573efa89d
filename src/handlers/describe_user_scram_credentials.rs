//! DescribeUserScramCredentials (KIP-554): for each user, the SCRAM
//! mechanisms it has a credential for and their iteration counts, as
//! Kafka's `ScramImage.describe` answers: no users (null or empty) means
//! every user; a user named twice gets DUPLICATE_RESOURCE, one without
//! credentials RESOURCE_NOT_FOUND.

use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::describe_user_scram_credentials::{
    CredentialInfo, DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
    DescribeUserScramCredentialsResult,
};
use crate::protocol::ErrorCode;
use crate::storage;
use std::collections::{BTreeMap, HashMap};

pub fn handle(
    ctx: &Ctx<'_>,
    request: DescribeUserScramCredentialsRequest,
) -> DescribeUserScramCredentialsResponse {
    // The users asked for, each once, in request order, with whether it
    // was named more than once.
    let asked: Option<Vec<(String, bool)>> = request.users.filter(|u| !u.is_empty()).map(|users| {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut asked: Vec<(String, bool)> = Vec::new();
        for user in users {
            match seen.get(&user) {
                Some(&at) => asked[at].1 = true,
                None => {
                    seen.insert(user.clone(), asked.len());
                    asked.push((user, false));
                }
            }
        }
        asked
    });
    let names: Option<Vec<String>> = asked
        .as_ref()
        .map(|a| a.iter().map(|(user, _)| user.clone()).collect());
    let rows = match ctx
        .broker
        .pool
        .run(move |db| storage::scram::describe(db, names.as_deref()))
    {
        Ok(rows) => rows,
        Err(err) => {
            log_storage_error(ctx, "describing SCRAM credentials", &err);
            return DescribeUserScramCredentialsResponse {
                throttle_time_ms: 0,
                error_code: storage_error_code(&err).code(),
                error_message: Some(err.to_string()),
                results: Vec::new(),
            };
        }
    };
    let mut credentials: BTreeMap<String, Vec<CredentialInfo>> = BTreeMap::new();
    for (user, mechanism, iterations) in rows {
        credentials.entry(user).or_default().push(CredentialInfo {
            mechanism,
            iterations,
        });
    }
    let asked = asked.unwrap_or_else(|| {
        credentials
            .keys()
            .map(|user| (user.clone(), false))
            .collect()
    });
    let results = asked
        .into_iter()
        .map(|(user, duplicated)| {
            let (error, infos) = if duplicated {
                (
                    Some((
                        ErrorCode::DuplicateResource,
                        "Cannot describe SCRAM credentials for the same user twice in a single request: ",
                    )),
                    Vec::new(),
                )
            } else {
                match credentials.remove(&user) {
                    Some(infos) => (None, infos),
                    None => (
                        Some((
                            ErrorCode::ResourceNotFound,
                            "Attempt to describe a user credential that does not exist: ",
                        )),
                        Vec::new(),
                    ),
                }
            };
            DescribeUserScramCredentialsResult {
                error_code: error.map_or(0, |(code, _)| code.code()),
                error_message: error.map(|(_, message)| format!("{message}{user}")),
                user,
                credential_infos: infos,
            }
        })
        .collect();
    DescribeUserScramCredentialsResponse {
        throttle_time_ms: 0,
        error_code: 0,
        error_message: None,
        results,
    }
}
