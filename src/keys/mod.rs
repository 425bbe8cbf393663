//! Long-term access keys kept in the OS keyring instead of ~/.aws/credentials: the keyring
//! itself (`vault`), the credentials-file edits that leave the `credential_process` line other
//! tools reach them through (`file`; the line itself is `profile::keyring_line`), and rotation
//! through IAM (`rotate`).

pub mod file;
pub mod rotate;
pub mod vault;

use crate::error::{printable, Failure, Result};
use crate::profile::Base;
use crate::session::Credentials;

/// The key of keyring profile `entry`, which `profile`'s chain starts from.
pub fn key_of(profile: &str, entry: &str) -> Result<Credentials> {
    match vault::Vault::open()?.key(entry)? {
        Some(key) => Ok(key.credentials()),
        None => Err(Failure::usage(format!(
            "profile `{}` gets its key from the {} entry `{}`, which is not there; add it: \
             `rolecall keys add {}`",
            printable(profile),
            vault::backend_name(),
            printable(entry),
            printable(entry)
        ))),
    }
}

/// Reads a keyring base's key into it, so its identity (for cache keys) is the key's.
pub fn load(base: &mut Base) -> Result<()> {
    if let Base::Keyring {
        profile,
        entry,
        credentials: credentials @ None,
    } = base
    {
        *credentials = Some(key_of(profile, entry)?);
    }
    Ok(())
}

/// A long-term access key ID: `AKIA` and upper-case letters and digits, 16 to 128 in all.
pub fn check_access_key_id(id: &str) -> Result<()> {
    let shaped = (16..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if shaped && id.starts_with("AKIA") {
        return Ok(());
    }
    if shaped && id.starts_with("ASIA") {
        return Err(Failure::usage(
            "that access key ID (ASIA…) belongs to temporary credentials, which expire and need \
             a session token; the keyring is for an IAM user's long-term key (AKIA…)",
        ));
    }
    Err(Failure::usage(
        "that is not an access key ID: one is AKIA followed by upper-case letters and digits, \
         20 characters in all",
    ))
}

/// A secret access key: 16 to 128 characters of base64's alphabet (40 in practice). Never
/// quoted back.
pub fn check_secret(secret: &str) -> Result<()> {
    let shaped = (16..=128).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/+=".contains(&b));
    if shaped {
        Ok(())
    } else {
        Err(Failure::usage(
            "that is not a secret access key: one is 40 characters of letters, digits, / and +",
        ))
    }
}
