//! The credential cache: one 0600 JSON file per credential set in a 0700 directory, written
//! atomically. Anything that does not look exactly like what rolecall wrote is ignored and later
//! replaced, never trusted.

use crate::session::Credentials;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

/// Cached credentials are reused while more than this many seconds remain.
pub const MINIMUM_SECONDS_LEFT: i64 = 5 * 60;
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    /// The full key the file name was hashed from: an entry renamed or swapped into another's
    /// place does not match it.
    key: String,
    credentials: Credentials,
}

pub fn directory() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("rolecall"))
}

/// A file name for a credential set: readable by a person, unique by its key.
pub fn entry_name(kind: &str, label: &str, key: &str) -> String {
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    format!("{kind}-{label}-{:016x}.json", fnv1a(key.as_bytes()))
}

/// A stable hash for file names (std's hasher may change between Rust releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x100000001b3)
    })
}

fn owned_by_me_and_private(meta: &fs::Metadata) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    meta.uid() == me && meta.mode() & 0o077 == 0
}

/// The cached credentials under `name` when they, and the directory they are in, are ours and
/// private, the entry is intact and for `key`, and it is good for more than five minutes.
pub fn read(name: &str, key: &str, now: i64) -> Option<Credentials> {
    let dir = directory()?;
    if !fs::metadata(&dir).is_ok_and(|m| m.is_dir() && owned_by_me_and_private(&m)) {
        return None;
    }
    let file = fs::File::open(dir.join(name)).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || !owned_by_me_and_private(&meta) {
        return None;
    }
    let entry: Entry = serde_json::from_reader(std::io::BufReader::new(file)).ok()?;
    let fresh = entry
        .credentials
        .seconds_left(now)
        .is_some_and(|left| left > MINIMUM_SECONDS_LEFT);
    (entry.version == FORMAT_VERSION && entry.key == key && fresh).then_some(entry.credentials)
}

/// Stores credentials under `name`. Failure to cache never fails an assume, so errors are
/// returned for the caller to ignore or report.
pub fn write(name: &str, key: &str, credentials: &Credentials) -> std::io::Result<()> {
    let dir = directory().ok_or_else(|| std::io::Error::other("no cache directory"))?;
    prepare_directory(&dir)?;
    // tempfile creates the file 0600 before anything is written into it.
    let mut temp = tempfile::NamedTempFile::new_in(&dir)?;
    let entry = Entry {
        version: FORMAT_VERSION,
        key: key.to_string(),
        credentials: credentials.clone(),
    };
    serde_json::to_writer(&mut temp, &entry)?;
    temp.as_file_mut().flush()?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o600))?;
    temp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

/// Holds an exclusive lock on one entry while it is fetched, so concurrent assumes of the same
/// credentials make one STS call (and ask for one MFA code) and then share the result. The lock
/// is released when the returned file is dropped. Waiting is bounded by `patience`: after it the
/// caller goes on without the lock (two fetches are better than a hang).
pub fn lock(name: &str, patience: std::time::Duration) -> Option<fs::File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = directory()?;
    prepare_directory(&dir).ok()?;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join(format!("{name}.lock")))
        .ok()?;
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        // SAFETY: flock on a descriptor this function owns; LOCK_NB never blocks.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Some(file);
        }
        if started.elapsed() >= patience {
            return None;
        }
        if !told {
            eprintln!(
                "rolecall: waiting for another rolecall that is fetching the same credentials"
            );
            told = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
}

/// Creates the cache directory 0700, or brings an existing one of ours back to 0700.
fn prepare_directory(dir: &std::path::Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let meta = fs::metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if meta.uid() != unsafe { libc::geteuid() } {
        return Err(std::io::Error::other(
            "cache directory belongs to someone else",
        ));
    }
    if meta.mode() & 0o777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

pub fn remove(name: &str) {
    if let Some(dir) = directory() {
        let _ = fs::remove_file(dir.join(name));
    }
}
