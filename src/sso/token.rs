//! The token file of a login, where and how the AWS CLI keeps it:
//! `~/.aws/sso/cache/<SHA-1 of the sso-session name, or of the start URL>.json`, with the CLI's
//! field names, so the AWS CLI, botocore and the SDKs use (and refresh) the same login. Written
//! atomically, mode 0600; a file that is not a private regular file of this user is ignored.

use crate::env::Env;
use crate::error::printable;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub access_token: String,
    /// RFC 3339 in UTC, `…Z`, as the AWS CLI writes it.
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl Token {
    /// Unix seconds the access token is good until (0 when the file's date does not parse).
    pub fn expires(&self) -> i64 {
        crate::time::parse_rfc3339(&self.expires_at).unwrap_or(0)
    }

    /// Unix seconds the client registration is good until, when the file has one.
    pub fn registration_expires(&self) -> Option<i64> {
        self.registration_expires_at
            .as_deref()
            .and_then(crate::time::parse_rfc3339)
    }
}

/// The directory the AWS tools keep SSO tokens in.
pub fn directory(env: &Env) -> Option<PathBuf> {
    env.home().map(|home| home.join(".aws/sso/cache"))
}

/// The token file's name for a login's cache key: lowercase hex SHA-1, as the AWS CLI names it.
pub fn file_name(cache_key: &str) -> String {
    let digest = Sha1::digest(cache_key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.json")
}

/// No token file is near this size.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// A client registration rolecall keeps for reuse, in the same directory, in a file named for
/// what it was made for (flow, start URL, region, scopes, session): one made for the device
/// flow is never offered to the browser's, nor one for other scopes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SavedRegistration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: String,
}

/// The file name of the registration made for `purpose`.
pub fn registration_file_name(purpose: &str) -> String {
    format!("rolecall-registration-{}", file_name(purpose))
}

/// The token at `path`, when it is a private regular file of this user holding one; anything
/// else (missing, corrupt, another user's, readable by others) is as good as no login.
pub fn read(path: &Path) -> Option<Token> {
    read_private(path)
}

/// The contents of a private regular file of this user at `path`, parsed.
pub fn read_private<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    let private = meta.is_file()
        && meta.uid() == crate::os::effective_uid()
        && meta.mode() & 0o077 == 0
        && meta.len() <= MAX_TOKEN_BYTES;
    if !private {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_TOKEN_BYTES).read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes `token` to `path` atomically, mode 0600, making the directory (0700) if needed.
pub fn write(path: &Path, token: &Token) -> Result<(), String> {
    write_private(path, token)
}

/// Writes `value` as JSON to `path`: a temporary file in the same directory, 0600, synced, then
/// renamed into place, so a reader sees the old file or the new one, never half of one.
pub fn write_private<T: Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    Place::prepare(path, 0)?.fill(text.as_bytes())
}

/// A temporary file beside a token file, with room already taken on the disk for the file's
/// new text: made before a refresh token is spent, so a full disk or a read-only directory is
/// found while the old token is still good (the service answers a refresh with a new refresh
/// token, and the old one is dead from then on).
pub struct Place {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
}

impl Place {
    /// Room for a token at `path`: the directory made (0700) if needed, and `room` bytes written
    /// and synced in a private temporary file there. `Err` says why a token cannot be kept.
    pub fn prepare(path: &Path, room: u64) -> Result<Place, String> {
        let dir = path
            .parent()
            .ok_or_else(|| format!("{} has no directory", printable(&path.to_string_lossy())))?;
        let shown_dir = || printable(&dir.to_string_lossy());
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot make {}: {e}", shown_dir()))?;
        let mut temp = tempfile::Builder::new()
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(|e| format!("cannot write in {}: {e}", shown_dir()))?;
        if room > 0 {
            let zeros = vec![0u8; room as usize];
            temp.write_all(&zeros)
                .and_then(|_| temp.as_file().sync_all())
                .map_err(|e| format!("cannot write in {}: {e}", shown_dir()))?;
        }
        Ok(Place {
            path: path.to_path_buf(),
            temp,
        })
    }

    /// Puts `text` in the room taken and renames the file into place.
    pub fn fill(mut self, text: &[u8]) -> Result<(), String> {
        let shown = printable(&self.path.to_string_lossy());
        let file = self.temp.as_file_mut();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(text))
            .and_then(|_| file.set_len(text.len() as u64))
            .and_then(|_| file.sync_all())
            .map_err(|e| format!("cannot write {shown}: {e}"))?;
        crate::os::test_pause_before_rename();
        self.temp
            .persist(&self.path)
            .map_err(|e| format!("cannot write {shown}: {}", e.error))?;
        Ok(())
    }

    /// Writes `token` into the place.
    pub fn keep(self, token: &Token) -> Result<(), String> {
        let text = serde_json::to_string_pretty(token).map_err(|e| e.to_string())?;
        self.fill(text.as_bytes())
    }
}

/// The room a refresh takes before it spends its token: as much as a token file rolecall
/// reads may hold, so whatever the service answers fits.
pub const ROOM: u64 = MAX_TOKEN_BYTES;

/// Whether something at `path` is a private file of this user that holds no token yet: another
/// client (botocore writes the file in place) in the middle of writing it.
pub fn being_written(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| {
        meta.is_file() && meta.uid() == crate::os::effective_uid() && meta.mode() & 0o077 == 0
    }) && read(path).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Token {
        Token {
            start_url: Some("https://corp.awsapps.com/start".into()),
            region: Some("eu-west-1".into()),
            access_token: "at".into(),
            expires_at: "2026-11-29T17:42:00Z".into(),
            client_id: Some("cid".into()),
            client_secret: Some("cs".into()),
            registration_expires_at: Some("2027-02-27T17:42:00Z".into()),
            refresh_token: Some("rt".into()),
        }
    }

    #[test]
    fn a_place_takes_its_room_first_and_leaves_exactly_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sso/cache").join(file_name("corp"));
        let place = Place::prepare(&path, ROOM).unwrap();
        let taken = fs::metadata(place.temp.path()).unwrap();
        assert_eq!(taken.len(), ROOM);
        assert_eq!(taken.mode() & 0o777, 0o600);
        place.keep(&token()).unwrap();
        assert_eq!(read(&path), Some(token()));
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary file was left");
    }

    #[test]
    fn names_are_the_sha1_the_aws_cli_uses() {
        // printf %s corp | sha1sum
        assert_eq!(
            file_name("corp"),
            "ee0bfd2552fbd840c02cc48b6e823320543c450f.json"
        );
    }

    #[test]
    fn written_private_with_the_cli_field_names_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sso/cache").join(file_name("corp"));
        write(&path, &token()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        for field in [
            "\"startUrl\"",
            "\"region\"",
            "\"accessToken\"",
            "\"expiresAt\"",
            "\"clientId\"",
            "\"clientSecret\"",
            "\"registrationExpiresAt\"",
            "\"refreshToken\"",
        ] {
            assert!(text.contains(field), "{field}: {text}");
        }
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(read(&path), Some(token()));
        assert_eq!(token().expires(), 1_795_974_120);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read(&path), None, "a token others can read is not used");
        fs::write(&path, "{oops").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read(&path), None);
    }
}
