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
