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

/// Gives a keyring base the ID its key had when rolecall last read it (a note in the cache
/// directory, not the keyring: no secret, and no keyring to reach). True when the base is a
/// keyring's and one was known.
pub fn recall(base: &mut Base) -> bool {
    let Base::Keyring { entry, key_id, .. } = base else {
        return false;
    };
    *key_id = last_seen_key_id(entry);
    key_id.is_some()
}

/// Reads a keyring base's key into it, and notes its ID for `recall`.
pub fn load(base: &mut Base) -> Result<()> {
    if let Base::Keyring {
        profile,
        entry,
        key_id,
        credentials: credentials @ None,
    } = base
    {
        let key = key_of(profile, entry)?;
        if key_id.as_deref() != Some(key.access_key_id.as_str()) {
            remember_key_id(entry, Some(&key.access_key_id));
        }
        *key_id = Some(key.access_key_id.clone());
        *credentials = Some(key);
    }
    Ok(())
}

/// Where the last seen key ID of keyring entry `entry` is noted, and the key that note is for.
fn note_of(entry: &str) -> (String, String) {
    let key = format!("keyring key ID|{entry}");
    (crate::cache::entry_name("keyring", entry, &key), key)
}

fn last_seen_key_id(entry: &str) -> Option<String> {
    let dir = crate::cache::directory()?;
    let (name, key) = note_of(entry);
    crate::cache::read_note(&dir, &name, &key)
}

/// Notes the ID of the key `entry` now holds (none: it holds none), so the cache entries of the
/// key it held before are not used again. Called whenever rolecall changes an entry.
pub fn remember_key_id(entry: &str, access_key_id: Option<&str>) {
    let Some(dir) = crate::cache::directory() else {
        return;
    };
    let (name, key) = note_of(entry);
    match access_key_id {
        Some(id) => {
            // A note that cannot be written only costs the next assume a keyring read.
            let _ = crate::cache::write_note(&dir, &name, &key, id);
        }
        None => crate::cache::remove(&dir, &name),
    }
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
