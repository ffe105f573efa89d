//! DescribeUserScramCredentials (key 50), version 0: which SCRAM mechanisms
//! each user has a credential for, and their iteration counts; never the
//! credentials themselves (KIP-554). Flexible from v0.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeUserScramCredentialsRequest {
    /// The users to describe; null or empty describes every user.
    pub users: Option<Vec<String>>,
}

impl DescribeUserScramCredentialsRequest {
    pub fn read(r: &mut Reader<'_>, _version: i16) -> Result<Self> {
        let users = r.nullable_array(true, |r| {
            let name = r.string(true)?;
            r.skip_tagged_fields(true)?;
            Ok(name)
        })?;
        r.skip_tagged_fields(true)?;
        Ok(DescribeUserScramCredentialsRequest { users })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeUserScramCredentialsResponse {
    pub throttle_time_ms: i32,
    /// Request-level error: only for authorization or infrastructure
    /// failures.
    pub error_code: i16,
    pub error_message: Option<String>,
    /// One per user.
    pub results: Vec<DescribeUserScramCredentialsResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeUserScramCredentialsResult {
    pub user: String,
    pub error_code: i16,
    pub error_message: Option<String>,
    pub credential_infos: Vec<CredentialInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialInfo {
    /// 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512.
    pub mechanism: i8,
    pub iterations: i32,
}

impl DescribeUserScramCredentialsResponse {
    pub fn write(&self, w: &mut Writer, _version: i16) {
        w.i32(self.throttle_time_ms);
        w.i16(self.error_code);
        w.nullable_string(true, self.error_message.as_deref());
        w.array(true, &self.results, |w, result| {
            w.string(true, &result.user);
            w.i16(result.error_code);
            w.nullable_string(true, result.error_message.as_deref());
            w.array(true, &result.credential_infos, |w, info| {
                w.i8(info.mechanism);
                w.i32(info.iterations);
                w.empty_tagged_fields(true);
            });
            w.empty_tagged_fields(true);
        });
        w.empty_tagged_fields(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::describe_user_scram_credentials_request as kreq;
    use kafka_protocol::messages::describe_user_scram_credentials_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=0;

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for users in [None, Some(vec![]), Some(vec!["alice".into(), "bob".into()])] {
            let oracle = oracle!(kreq::DescribeUserScramCredentialsRequest {
                users: users.as_ref().map(|users: &Vec<String>| {
                    users
                        .iter()
                        .map(|u| oracle!(kreq::UserName { name: s(u) }))
                        .collect()
                }),
            });
            let expected = DescribeUserScramCredentialsRequest { users };
            for version in VERSIONS {
                let buf = encode(&oracle, version);
                assert_eq!(
                    read_all(&buf, version, DescribeUserScramCredentialsRequest::read),
                    expected,
                    "v{version}"
                );
                assert_truncations_fail(&buf, version, DescribeUserScramCredentialsRequest::read);
            }
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = DescribeUserScramCredentialsResponse {
            throttle_time_ms: 0,
            error_code: 0,
            error_message: None,
            results: vec![
                DescribeUserScramCredentialsResult {
                    user: "alice".into(),
                    error_code: 0,
                    error_message: None,
                    credential_infos: vec![
                        CredentialInfo {
                            mechanism: 1,
                            iterations: 4096,
                        },
                        CredentialInfo {
                            mechanism: 2,
                            iterations: 8192,
                        },
                    ],
                },
                DescribeUserScramCredentialsResult {
                    user: "bob".into(),
                    error_code: 91,
                    error_message: Some(
                        "Attempt to describe a user credential that does not exist: bob".into(),
                    ),
                    credential_infos: vec![],
                },
            ],
        };
        let oracle = oracle!(kres::DescribeUserScramCredentialsResponse {
            error_message: None,
            results: res
                .results
                .iter()
                .map(|r| oracle!(kres::DescribeUserScramCredentialsResult {
                    user: s(&r.user),
                    error_code: r.error_code,
                    error_message: r.error_message.as_deref().map(s),
                    credential_infos: r
                        .credential_infos
                        .iter()
                        .map(|c| oracle!(kres::CredentialInfo {
                            mechanism: c.mechanism,
                            iterations: c.iterations,
                        }))
                        .collect(),
                }))
                .collect(),
        });
        for version in VERSIONS {
            let bytes = write(&res, version, DescribeUserScramCredentialsResponse::write);
            let decoded: kres::DescribeUserScramCredentialsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}
