//! HMAC-SHA256, the one primitive every signed request shares: Slack's
//! `X-Slack-Signature`, X's webhook signature and CRC answer, Meta's
//! `X-Hub-Signature-256`. Each signer owns its own framing (prefix, encoding,
//! what is signed); this owns the MAC and the constant-time comparison.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

type Hmac = hmac::Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> Hmac {
    // HMAC accepts keys of any length, so this cannot fail; an empty key is still a key.
    let mut mac = match Hmac::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => Hmac::new(&Default::default()),
    };
    for part in parts {
        mac.update(part);
    }
    mac
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    mac(key, parts).finalize().into_bytes().to_vec()
}

/// Whether `tag` is the HMAC-SHA256 of `parts` under `key`, compared in constant time.
pub fn verify_sha256(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    mac(key, parts).verify_slice(tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_sanity_vector() {
        // platforms.md §4.1: key `secret`, message `test`.
        let tag = sha256(b"secret", &[b"te", b"st"]);
        assert_eq!(
            hex::encode(&tag),
            "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
        );
        assert!(verify_sha256(b"secret", &[b"test"], &tag));
        assert!(!verify_sha256(b"secret", &[b"tesT"], &tag));
        assert!(!verify_sha256(b"secret", &[b"test"], &tag[..31]));
    }
}
