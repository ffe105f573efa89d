//! AlterUserScramCredentials (key 51), version 0: delete and upsert users'
//! SCRAM credentials (KIP-554). Flexible from v0. The client sends the
//! salted password (PBKDF2 of the password, done client-side); the broker
//! keeps only what SCRAM's server side needs (see [`crate::scram`]).

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterUserScramCredentialsRequest {
    pub deletions: Vec<ScramCredentialDeletion>,
    pub upsertions: Vec<ScramCredentialUpsertion>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScramCredentialDeletion {
    pub name: String,
    /// 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512.
    pub mechanism: i8,
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct ScramCredentialUpsertion {
    pub name: String,
    /// 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512.
    pub mechanism: i8,
    pub iterations: i32,
    pub salt: Vec<u8>,
    /// Hi(password, salt, iterations) of RFC 5802: a password equivalent,
    /// never stored or logged.
    pub salted_password: Vec<u8>,
}

/// Leaves the secrets out of logs.
impl std::fmt::Debug for ScramCredentialUpsertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredentialUpsertion")
            .field("name", &self.name)
            .field("mechanism", &self.mechanism)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl AlterUserScramCredentialsRequest {
    pub fn read(r: &mut Reader<'_>, _version: i16) -> Result<Self> {
        let deletions = r.array(true, |r| {
            let deletion = ScramCredentialDeletion {
                name: r.string(true)?,
                mechanism: r.i8()?,
            };
            r.skip_tagged_fields(true)?;
            Ok(deletion)
        })?;
        let upsertions = r.array(true, |r| {
            let upsertion = ScramCredentialUpsertion {
                name: r.string(true)?,
                mechanism: r.i8()?,
                iterations: r.i32()?,
                salt: r.bytes(true)?.to_vec(),
                salted_password: r.bytes(true)?.to_vec(),
            };
            r.skip_tagged_fields(true)?;
            Ok(upsertion)
        })?;
        r.skip_tagged_fields(true)?;
        Ok(AlterUserScramCredentialsRequest {
            deletions,
            upsertions,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterUserScramCredentialsResponse {
    pub throttle_time_ms: i32,
    /// One per user named in the request.
    pub results: Vec<AlterUserScramCredentialsResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterUserScramCredentialsResult {
    pub user: String,
    pub error_code: i16,
    pub error_message: Option<String>,
}

impl AlterUserScramCredentialsResponse {
    pub fn write(&self, w: &mut Writer, _version: i16) {
        w.i32(self.throttle_time_ms);
        w.array(true, &self.results, |w, result| {
            w.string(true, &result.user);
            w.i16(result.error_code);
            w.nullable_string(true, result.error_message.as_deref());
            w.empty_tagged_fields(true);
        });
        w.empty_tagged_fields(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::alter_user_scram_credentials_request as kreq;
    use kafka_protocol::messages::alter_user_scram_credentials_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=0;

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        let expected = AlterUserScramCredentialsRequest {
            deletions: vec![ScramCredentialDeletion {
                name: "bob".into(),
                mechanism: 2,
            }],
            upsertions: vec![ScramCredentialUpsertion {
                name: "alice".into(),
                mechanism: 1,
                iterations: 8192,
                salt: b"salt\0".to_vec(),
                salted_password: vec![7; 32],
            }],
        };
        let oracle = oracle!(kreq::AlterUserScramCredentialsRequest {
            deletions: expected
                .deletions
                .iter()
                .map(|d| oracle!(kreq::ScramCredentialDeletion {
                    name: s(&d.name),
                    mechanism: d.mechanism,
                }))
                .collect(),
            upsertions: expected
                .upsertions
                .iter()
                .map(|u| oracle!(kreq::ScramCredentialUpsertion {
                    name: s(&u.name),
                    mechanism: u.mechanism,
                    iterations: u.iterations,
                    salt: Bytes::from(u.salt.clone()),
                    salted_password: Bytes::from(u.salted_password.clone()),
                }))
                .collect(),
        });
        for version in VERSIONS {
            let buf = encode(&oracle, version);
            assert_eq!(
                read_all(&buf, version, AlterUserScramCredentialsRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, AlterUserScramCredentialsRequest::read);
        }
    }

    #[test]
    fn the_salted_password_is_not_in_debug_output() {
        let upsertion = ScramCredentialUpsertion {
            name: "alice".into(),
            salted_password: b"hunter2".to_vec(),
            ..ScramCredentialUpsertion::default()
        };
        let shown = format!("{upsertion:?}");
        assert!(shown.contains("alice"), "{shown}");
        assert!(
            !shown.contains("salted_password") && !shown.contains("104"),
            "{shown}"
        );
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = AlterUserScramCredentialsResponse {
            throttle_time_ms: 0,
            results: vec![
                AlterUserScramCredentialsResult {
                    user: "alice".into(),
                    error_code: 0,
                    error_message: None,
                },
                AlterUserScramCredentialsResult {
                    user: "bob".into(),
                    error_code: 91,
                    error_message: Some(
                        "Attempt to delete a user credential that does not exist".into(),
                    ),
                },
            ],
        };
        let oracle = oracle!(kres::AlterUserScramCredentialsResponse {
            results: res
                .results
                .iter()
                .map(|r| oracle!(kres::AlterUserScramCredentialsResult {
                    user: s(&r.user),
                    error_code: r.error_code,
                    error_message: r.error_message.as_deref().map(s),
                }))
                .collect(),
        });
        for version in VERSIONS {
            let bytes = write(&res, version, AlterUserScramCredentialsResponse::write);
            let decoded: kres::AlterUserScramCredentialsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}
