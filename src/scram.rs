//! SCRAM credentials (RFC 5802, RFC 7677; KIP-554): the mechanisms, the
//! limits Kafka puts on them, and what is kept of a credential.
//!
//! The client sends `SaltedPassword = Hi(password, salt, iterations)`
//! (PBKDF2, computed client-side). A SCRAM server needs only
//! `StoredKey = H(HMAC(SaltedPassword, "Client Key"))` to check a client's
//! proof and `ServerKey = HMAC(SaltedPassword, "Server Key")` to prove
//! itself; like Kafka (`ScramControlManager.finishUpsertion`) we keep those
//! two, the salt and the iteration count, and drop the salted password,
//! which would let anyone holding it log in. Nothing authenticates with
//! them until the listener speaks SASL.
//!
//! HMAC and SHA-2 come from `ring`, already compiled as rustls' crypto
//! provider.

use ring::{digest, hmac};

/// Mechanism codes (`org.apache.kafka.clients.admin.ScramMechanism`).
pub const SCRAM_SHA_256: i8 = 1;
pub const SCRAM_SHA_512: i8 = 2;

/// Iteration bounds Kafka accepts for both mechanisms: RFC 7677's minimum,
/// and `ScramControlManager.MAX_ITERATIONS`.
pub const MIN_ITERATIONS: i32 = 4096;
pub const MAX_ITERATIONS: i32 = 16384;

/// Whether `mechanism` is one Kafka knows.
pub fn is_known(mechanism: i8) -> bool {
    matches!(mechanism, SCRAM_SHA_256 | SCRAM_SHA_512)
}

/// What is stored of one credential besides its salt and iterations.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerKeys {
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

/// StoredKey and ServerKey of `salted_password` for `mechanism`; `None`
/// for an unknown mechanism or an empty salted password (Java's HMAC
/// refuses an empty key, so Kafka fails such an upsertion).
pub fn server_keys(mechanism: i8, salted_password: &[u8]) -> Option<ServerKeys> {
    let (mac, hash) = match mechanism {
        SCRAM_SHA_256 => (hmac::HMAC_SHA256, &digest::SHA256),
        SCRAM_SHA_512 => (hmac::HMAC_SHA512, &digest::SHA512),
        _ => return None,
    };
    if salted_password.is_empty() {
        return None;
    }
    let key = hmac::Key::new(mac, salted_password);
    let client_key = hmac::sign(&key, b"Client Key");
    Some(ServerKeys {
        stored_key: digest::digest(hash, client_key.as_ref()).as_ref().to_vec(),
        server_key: hmac::sign(&key, b"Server Key").as_ref().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::pbkdf2;
    use std::num::NonZeroU32;

    fn base64(text: &str) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut count = 0;
        let mut out = Vec::new();
        for c in text.bytes().filter(|&c| c != b'=') {
            let v = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
            bits = (bits << 6) | v;
            count += 6;
            if count >= 8 {
                count -= 8;
                out.push((bits >> count) as u8);
            }
        }
        out
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The SCRAM-SHA-256 exchange of RFC 7677 section 3, checked the way a
    /// server holding only what we store checks it.
    #[test]
    fn the_stored_keys_verify_the_rfc_7677_exchange() {
        let salt = base64("W22ZaJ0SNY7soEsUEjb6gQ==");
        let mut salted = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(4096).expect("non-zero"),
            &salt,
            b"pencil",
            &mut salted,
        );
        let keys = server_keys(SCRAM_SHA_256, &salted).expect("keys");
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        // The server recovers ClientKey from the proof and hashes it.
        let proof = base64("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        let signature = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &keys.stored_key),
            auth_message.as_bytes(),
        );
        let client_key: Vec<u8> = proof
            .iter()
            .zip(signature.as_ref())
            .map(|(p, s)| p ^ s)
            .collect();
        assert_eq!(
            digest::digest(&digest::SHA256, &client_key).as_ref(),
            keys.stored_key
        );
        // And proves itself with ServerKey.
        let server_signature = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &keys.server_key),
            auth_message.as_bytes(),
        );
        assert_eq!(
            server_signature.as_ref(),
            base64("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        );
    }

    /// SCRAM-SHA-512 against values computed with Python's hmac/hashlib.
    #[test]
    fn sha_512_keys_match_an_independent_implementation() {
        let salted: Vec<u8> = (0..64).collect();
        let keys = server_keys(SCRAM_SHA_512, &salted).expect("keys");
        assert_eq!(
            hex(&keys.stored_key),
            "abf12b79129219421947550f0fda721e3e1eabc1ae3f52b16335d9392d7a64ba\
             d68a3404e85a7c71eba3fd5aeb4d5df8e627d22619ce2f77765d56078638c3bf"
        );
        assert_eq!(
            hex(&keys.server_key),
            "ef30dc248639541d2240dd9d46a855d4067c2848ce96b2f1102e7cbff1c8f016\
             108798744416671f5529170c1c3b9aa79244dee888cc94a8d071564ff15ce344"
        );
    }

    #[test]
    fn unknown_mechanisms_and_empty_passwords_have_no_keys() {
        assert!(server_keys(0, b"x").is_none());
        assert!(server_keys(3, b"x").is_none());
        assert!(server_keys(SCRAM_SHA_256, b"").is_none());
        assert!(is_known(SCRAM_SHA_512) && !is_known(0));
    }
}
