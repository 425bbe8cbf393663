//! The credential cache: one 0600 JSON file per credential set in a 0700 directory, written
//! atomically. Anything that does not look exactly like what rolecall wrote is ignored and later
//! replaced, never trusted.

use crate::error::printable;
use crate::session::Credentials;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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

/// Where the cache is: `dirs::cache_dir()/rolecall`. Every other function is given it, so tests
/// use a directory of their own.
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
    meta.uid() == crate::os::effective_uid() && meta.mode() & 0o077 == 0
}

/// Whether a cache entry (or lock) is one rolecall could have made: a regular file of this user
/// that no one else can read or write. Anything else, a FIFO or a link planted by someone who
/// could write to the directory once, is never opened for its contents.
pub fn entry_is_trusted(meta: &fs::Metadata) -> bool {
    meta.file_type().is_file() && owned_by_me_and_private(meta)
}

/// No entry rolecall writes comes near this; a bigger file is not an entry.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;

/// Flags for every file the cache opens: a link at the name is not followed, a FIFO does not
/// block the open, and no child process inherits the descriptor.
const SAFE_OPEN_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;

/// The cache directory, looked at without following a link at its name: `Ok(None)` when it does
/// not exist, an error naming what is wrong when rolecall must not use it. A link there (say in
/// a shared directory that XDG_CACHE_HOME names) could point rolecall at another of the user's
/// directories, which it would then make private and fill.
pub fn inspect_directory(dir: &Path) -> Result<Option<fs::Metadata>, String> {
    let shown = || printable(&dir.to_string_lossy());
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "cannot look at the cache directory {}: {e}",
                shown()
            ))
        }
    };
    if meta.file_type().is_symlink() {
        return Err(format!(
            "the cache directory {} is a symbolic link, which rolecall does not follow: remove it",
            shown()
        ));
    }
    if !meta.is_dir() {
        return Err(format!(
            "the cache directory {} is not a directory: remove it",
            shown()
        ));
    }
    if meta.uid() != crate::os::effective_uid() {
        return Err(format!(
            "the cache directory {} belongs to another user: remove it, or set XDG_CACHE_HOME \
             to a directory of yours",
            shown()
        ));
    }
    Ok(Some(meta))
}

/// Opens `name` in the cache directory for reading, only if it is a trusted entry.
fn open_entry(dir: &Path, name: &str) -> Option<fs::File> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(SAFE_OPEN_FLAGS)
        .open(dir.join(name))
        .ok()?;
    let meta = file.metadata().ok()?;
    (entry_is_trusted(&meta) && meta.len() <= MAX_ENTRY_BYTES).then_some(file)
}

/// The JSON under `name`, when the directory and the file are ours and private and it parses.
fn read_private<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Option<T> {
    let meta = inspect_directory(dir).ok()??;
    if !owned_by_me_and_private(&meta) {
        return None;
    }
    let file = open_entry(dir, name)?;
    serde_json::from_reader(std::io::BufReader::new(file.take(MAX_ENTRY_BYTES))).ok()
}

/// The cached credentials under `name` when they, and the directory they are in, are ours and
/// private, the entry is intact and for `key`, and it is good for more than five minutes (and
/// for no longer than any credentials live: an entry no source could have given is replaced).
pub fn read(dir: &Path, name: &str, key: &str, now: i64) -> Option<Credentials> {
    let entry: Entry = read_private(dir, name)?;
    let fresh = entry
        .credentials
        .seconds_left(now)
        .is_some_and(|left| left > MINIMUM_SECONDS_LEFT)
        && entry.credentials.unfit(now).is_none();
    (entry.version == FORMAT_VERSION && entry.key == key && fresh).then_some(entry.credentials)
}

/// Stores credentials under `name`. Failure to cache never fails an assume, so errors are
/// returned for the caller to ignore or report.
pub fn write(dir: &Path, name: &str, key: &str, credentials: &Credentials) -> std::io::Result<()> {
    let entry = Entry {
        version: FORMAT_VERSION,
        key: key.to_string(),
        credentials: credentials.clone(),
    };
    write_private(dir, name, &entry)
}

/// `value` as JSON under `name`, 0600, replacing what was there in one rename.
fn write_private(dir: &Path, name: &str, value: &impl Serialize) -> std::io::Result<()> {
    prepare_directory(dir)?;
    // tempfile creates the file 0600 with O_EXCL before anything is written into it, and the
    // rename replaces whatever was at the name (a planted FIFO or link included) without
    // following it.
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut temp, value)?;
    temp.as_file_mut().flush()?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o600))?;
    temp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

/// A small fact that is not a secret but saves a slower lookup (the ID of the key a keyring
/// entry held when last read), kept beside the credentials under the same rules.
#[derive(Serialize, Deserialize)]
struct Note {
    version: u32,
    key: String,
    value: String,
}

/// The note under `name`, when it is trusted like an entry and is for `key`.
pub fn read_note(dir: &Path, name: &str, key: &str) -> Option<String> {
    let note: Note = read_private(dir, name)?;
    (note.version == FORMAT_VERSION && note.key == key).then_some(note.value)
}

pub fn write_note(dir: &Path, name: &str, key: &str, value: &str) -> std::io::Result<()> {
    let note = Note {
        version: FORMAT_VERSION,
        key: key.to_string(),
        value: value.to_string(),
    };
    write_private(dir, name, &note)
}

/// Holds an exclusive lock on one entry while it is fetched, so concurrent assumes of the same
/// credentials make one STS call (and ask for one MFA code) and then share the result. The lock
/// is released when the returned file is dropped. Waiting is bounded by `patience`: after it the
/// caller goes on without the lock (two fetches are better than a hang).
pub fn lock(dir: &Path, name: &str, patience: std::time::Duration) -> Option<fs::File> {
    match try_lock(dir, name, patience) {
        Locked::Held(file) => Some(file),
        Locked::Busy | Locked::Unavailable => None,
    }
}

/// What came of asking for a lock.
pub enum Locked {
    /// Held until the file is dropped.
    Held(fs::File),
    /// Another process held it all the while.
    Busy,
    /// No lock file could be made there (a read-only or foreign directory).
    Unavailable,
}

/// As `lock`, telling a lock another process holds from one that cannot be made in `dir`.
pub fn try_lock(dir: &Path, name: &str, patience: std::time::Duration) -> Locked {
    use std::os::fd::AsRawFd;
    let Some(file) = prepare_directory(dir)
        .ok()
        .and_then(|()| open_lock(&dir.join(format!("{name}.lock"))))
    else {
        return Locked::Unavailable;
    };
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        // SAFETY: flock on a descriptor this function owns; LOCK_NB never blocks.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Locked::Held(file);
        }
        if started.elapsed() >= patience {
            return Locked::Busy;
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

/// The lock file at `path`, created if missing. Something else at that name (a link, a FIFO, a
/// file of another user, planted before the directory was made private) is removed and a lock
/// file of rolecall's own made in its place: the directory is ours by now.
fn open_lock(path: &Path) -> Option<fs::File> {
    let open = |extra: i32| {
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(SAFE_OPEN_FLAGS | extra)
            .open(path)
            .ok()
            .filter(|file| file.metadata().is_ok_and(|m| entry_is_trusted(&m)))
    };
    open(0).or_else(|| {
        fs::remove_file(path).ok()?;
        open(libc::O_EXCL)
    })
}

/// Creates the cache directory 0700, or brings an existing one of ours back to 0700 through a
/// descriptor of the directory itself, so no link is followed between looking and changing.
fn prepare_directory(dir: &Path) -> std::io::Result<()> {
    let checked = || inspect_directory(dir).map_err(std::io::Error::other);
    let looked = match checked()? {
        Some(meta) => meta,
        None => {
            if let Some(parent) = dir.parent() {
                fs::create_dir_all(parent)?;
            }
            match fs::DirBuilder::new().mode(0o700).create(dir) {
                // Another rolecall may have made it meanwhile; it is checked like any other.
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            checked()?.ok_or_else(|| std::io::Error::other("the cache directory vanished"))?
        }
    };
    let handle = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | SAFE_OPEN_FLAGS)
        .open(dir)?;
    let meta = handle.metadata()?;
    if (meta.dev(), meta.ino()) != (looked.dev(), looked.ino()) {
        return Err(std::io::Error::other(format!(
            "the cache directory {} was replaced while rolecall looked at it",
            printable(&dir.to_string_lossy())
        )));
    }
    if meta.mode() & 0o777 != 0o700 {
        handle.set_permissions(fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Removes every trusted entry whose key `doomed` picks (logging out ends what came from the
/// login). Entries rolecall cannot read are left to be replaced as usual.
pub fn remove_where(dir: &Path, doomed: impl Fn(&str) -> bool) {
    let Ok(listing) = fs::read_dir(dir) else {
        return;
    };
    for item in listing.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let Some(file) = open_entry(dir, &name) else {
            continue;
        };
        let entry: Option<Entry> =
            serde_json::from_reader(std::io::BufReader::new(file.take(MAX_ENTRY_BYTES))).ok();
        if entry.is_some_and(|e| doomed(&e.key)) {
            let _ = fs::remove_file(dir.join(&name));
        }
    }
}

pub fn remove(dir: &Path, name: &str) {
    let _ = fs::remove_file(dir.join(name));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn credentials(expires: i64) -> Credentials {
        Credentials {
            access_key_id: "ASIA".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
            expires: Some(expires),
        }
    }

    #[test]
    fn entry_names_are_readable_and_differ_by_key() {
        let a = entry_name("role", "prod/admin:x", "key-a");
        assert!(
            a.starts_with("role-prod_admin_x-") && a.ends_with(".json"),
            "{a}"
        );
        assert_ne!(a, entry_name("role", "prod/admin:x", "key-b"));
        assert_eq!(a, entry_name("role", "prod/admin:x", "key-a"));
        assert!(entry_name("role", &"x".repeat(200), "k").len() < 80);
    }

    #[test]
    fn an_entry_is_used_only_for_its_key_while_fresh() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("rolecall");
        write(&dir, "e.json", "key", &credentials(10_000)).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let file_mode = fs::metadata(dir.join("e.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(file_mode, 0o600);
        assert!(read(&dir, "e.json", "key", 10_000 - MINIMUM_SECONDS_LEFT - 1).is_some());
        assert!(read(&dir, "e.json", "key", 10_000 - MINIMUM_SECONDS_LEFT).is_none());
        assert!(read(&dir, "e.json", "other key", 0).is_none());
        // Opened to others, it is no longer trusted; corrupt, neither.
        fs::set_permissions(dir.join("e.json"), fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read(&dir, "e.json", "key", 0).is_none());
        fs::write(dir.join("e.json"), "{not json").unwrap();
        fs::set_permissions(dir.join("e.json"), fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&dir, "e.json", "key", 0).is_none());
        write(&dir, "e.json", "key", &credentials(10_000)).unwrap();
        assert!(read(&dir, "e.json", "key", 0).is_some());
    }

    #[test]
    fn an_entry_living_longer_than_any_credentials_is_not_used() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("rolecall");
        let now = 1_000_000;
        write(&dir, "e.json", "key", &credentials(now + 3600)).unwrap();
        assert!(read(&dir, "e.json", "key", now).is_some());
        write(&dir, "e.json", "key", &credentials(253_402_300_800)).unwrap();
        assert!(read(&dir, "e.json", "key", now).is_none());
    }

    #[test]
    fn a_directory_open_to_others_is_not_read_until_made_private() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("rolecall");
        write(&dir, "e.json", "key", &credentials(10_000)).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(read(&dir, "e.json", "key", 0).is_none());
        assert!(lock(&dir, "e.json", std::time::Duration::ZERO).is_some());
        assert!(
            read(&dir, "e.json", "key", 0).is_some(),
            "the lock made it private"
        );
    }

    #[test]
    fn links_are_neither_followed_nor_trusted() {
        let home = tempfile::tempdir().unwrap();
        let real = home.path().join("elsewhere");
        fs::create_dir(&real).unwrap();
        let link = home.path().join("rolecall");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(inspect_directory(&link)
            .unwrap_err()
            .contains("symbolic link"));
        assert!(write(&link, "e.json", "key", &credentials(10_000)).is_err());
        assert_eq!(fs::read_dir(&real).unwrap().count(), 0);
        // An entry that is a link to a valid entry is not used either.
        let dir = home.path().join("cache");
        write(&dir, "real.json", "key", &credentials(10_000)).unwrap();
        std::os::unix::fs::symlink(dir.join("real.json"), dir.join("e.json")).unwrap();
        assert!(read(&dir, "e.json", "key", 0).is_none());
        assert!(read(&dir, "real.json", "key", 0).is_some());
    }

    #[test]
    fn a_held_lock_is_waited_for_only_as_long_as_allowed() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("rolecall");
        let held = lock(&dir, "e.json", std::time::Duration::ZERO).unwrap();
        let started = std::time::Instant::now();
        assert!(lock(&dir, "e.json", std::time::Duration::from_millis(100)).is_none());
        assert!(started.elapsed() >= std::time::Duration::from_millis(100));
        drop(held);
        // Some patience: a child another test is starting may hold a copy of the descriptor
        // for the moment between its fork and its exec.
        assert!(lock(&dir, "e.json", std::time::Duration::from_secs(5)).is_some());
    }
}
