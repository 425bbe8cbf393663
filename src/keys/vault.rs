//! The OS keyring as rolecall uses it: one entry per profile (service `rolecall`, user the
//! profile's name) holding its access key, and one per unfinished rotation (service
//! `rolecall-rotation`). Each platform's own store: the Secret Service on Linux, the Keychain on
//! macOS, the Credential Manager on Windows. When none can be reached rolecall says so and
//! stops; keys never fall back to a file.

use crate::error::{printable, Failure, Result};
use crate::session::Credentials;
use keyring_core::{CredentialStore, Entry, Error as StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

const SERVICE: &str = "rolecall";
const ROTATION_SERVICE: &str = "rolecall-rotation";

/// One profile's long-term key as kept in the keyring.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// When it entered the keyring (Unix seconds).
    pub stored: i64,
    /// When IAM created it, when rolecall knows (it created the key in a rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
}

impl StoredKey {
    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: None,
            expires: None,
        }
    }

    /// Since when the key is known to exist: IAM's date when rolecall has it, else the day it
    /// was stored.
    pub fn since(&self) -> i64 {
        self.created.unwrap_or(self.stored)
    }
}

/// A rotation between IAM's CreateAccessKey and the end: the new key, and the one it replaces.
#[derive(Serialize, Deserialize, Clone)]
pub struct PendingRotation {
    pub new: StoredKey,
    pub old_access_key_id: String,
}

/// The key ID as lists and messages show it: its last four characters.
pub fn short_id(access_key_id: &str) -> String {
    let tail: String = access_key_id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{}", printable(&tail))
}

pub struct Vault {
    store: Arc<CredentialStore>,
}

/// What the keyring of this platform is called in messages.
pub fn backend_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(target_os = "windows") {
        "Windows Credential Manager"
    } else {
        "Secret Service"
    }
}

/// How to make the keyring reachable, for the message that says it is not.
fn how_to_get_one() -> &'static str {
    if cfg!(target_os = "linux") {
        "rolecall keeps keys only in the OS keyring and will not fall back to a file. A desktop \
         session has one (GNOME Keyring, KDE Wallet, KeePassXC); on a machine without a desktop, \
         install gnome-keyring and dbus (`sudo apt install gnome-keyring dbus`) and start them: \
         `dbus-run-session -- $SHELL`, then in it `gnome-keyring-daemon --unlock \
         --components=secrets` (it reads the keyring's password from standard input)"
    } else {
        "rolecall keeps keys only in the OS keyring and will not fall back to a file"
    }
}

/// How to unlock a keyring that is locked and could not ask for its password here.
fn how_to_unlock() -> &'static str {
    if cfg!(target_os = "macos") {
        "unlock it with `security unlock-keychain` and run the command again"
    } else if cfg!(target_os = "windows") {
        "log in to Windows as the user whose keys these are and run the command again"
    } else {
        "unlock it from your desktop (Seahorse, or KDE Wallet), or on a terminal with \
         `gnome-keyring-daemon --replace --unlock --components=secrets` (type the keyring's \
         password, then Ctrl-D), and run the command again"
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

impl Vault {
    /// The keyring of this session, or why there is none.
    pub fn open() -> Result<Vault> {
        match platform_store() {
            Ok(store) => Ok(Vault { store }),
            Err(e) => Err(Failure::usage(format!(
                "no {} is running for this session ({}); {}",
                backend_name(),
                detail(&e),
                how_to_get_one()
            ))),
        }
    }

    fn entry(&self, service: &str, profile: &str) -> Result<Entry> {
        // The label is what a keyring manager shows; only the Secret Service takes one.
        let label = format!("rolecall: the AWS access key of profile {profile}");
        let result = if cfg!(target_os = "linux") {
            let modifiers = HashMap::from([("label", label.as_str())]);
            Entry::new_in_store_with_modifiers(&self.store, service, profile, &modifiers)
        } else {
            Entry::new_in_store(&self.store, service, profile)
        };
        result.map_err(|e| self.failed("open", profile, e))
    }

    fn read<T: for<'de> Deserialize<'de>>(
        &self,
        service: &str,
        profile: &str,
    ) -> Result<Option<T>> {
        let entry = self.entry(service, profile)?;
        match entry.get_secret() {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| {
                Failure::usage(format!(
                    "the {} entry `{service}` / `{}` is not one rolecall wrote; remove it with \
                     your keyring manager (or `rolecall keys remove {}`) and add the key again",
                    backend_name(),
                    printable(profile),
                    printable(profile)
                ))
            }),
            Err(StoreError::NoEntry) => Ok(None),
            Err(e) => Err(self.failed("read", profile, e)),
        }
    }

    fn write<T: Serialize>(&self, service: &str, profile: &str, value: &T) -> Result<()> {
        let entry = self.entry(service, profile)?;
        let bytes = serde_json::to_vec(value).expect("keyring values serialize");
        entry
            .set_secret(&bytes)
            .map_err(|e| self.failed("write", profile, e))?;
        // Read back: a keyring that accepted the write but cannot return it must be found out
        // before the key is taken from anywhere else.
        match entry.get_secret() {
            Ok(back) if back == bytes => Ok(()),
            Ok(_) => Err(Failure::local(format!(
                "the {} returned something else than rolecall stored for `{}`; nothing else \
                 was changed",
                backend_name(),
                printable(profile)
            ))),
            Err(e) => Err(self.failed("read back", profile, e)),
        }
    }

    fn delete(&self, service: &str, profile: &str) -> Result<bool> {
        match self.entry(service, profile)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(StoreError::NoEntry) => Ok(false),
            Err(e) => Err(self.failed("remove", profile, e)),
        }
    }

    /// The profile's key; one whose values are not a key's shape (the entry was changed by
    /// something else) is refused, not used.
    pub fn key(&self, profile: &str) -> Result<Option<StoredKey>> {
        let key: Option<StoredKey> = self.read(SERVICE, profile)?;
        if let Some(key) = &key {
            let checked = super::check_access_key_id(&key.access_key_id)
                .and_then(|_| super::check_secret(&key.secret_access_key));
            if let Err(failure) = checked {
                return Err(Failure::usage(format!(
                    "the {} entry of `{}` does not hold a usable key ({}); `rolecall keys \
                     remove {}` and add it again",
                    backend_name(),
                    printable(profile),
                    failure.message,
                    printable(profile)
                )));
            }
        }
        Ok(key)
    }

    pub fn put_key(&self, profile: &str, key: &StoredKey) -> Result<()> {
        self.write(SERVICE, profile, key)?;
        super::remember_key_id(profile, Some(&key.access_key_id));
        Ok(())
    }

    pub fn remove_key(&self, profile: &str) -> Result<bool> {
        let removed = self.delete(SERVICE, profile)?;
        super::remember_key_id(profile, None);
        Ok(removed)
    }

    pub fn pending(&self, profile: &str) -> Result<Option<PendingRotation>> {
        self.read(ROTATION_SERVICE, profile)
    }

    pub fn put_pending(&self, profile: &str, pending: &PendingRotation) -> Result<()> {
        self.write(ROTATION_SERVICE, profile, pending)
    }

    pub fn remove_pending(&self, profile: &str) -> Result<bool> {
        self.delete(ROTATION_SERVICE, profile)
    }

    /// The profiles with a key in the keyring, as far as the store can search (all but the
    /// oldest Windows stores can); `None` when it cannot.
    pub fn profiles(&self) -> Result<Option<Vec<String>>> {
        let spec = HashMap::from([("service", SERVICE)]);
        match self.store.search(&spec) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .iter()
                    .filter_map(|entry| entry.get_specifiers())
                    .filter(|(service, _)| service == SERVICE)
                    .map(|(_, user)| user)
                    .collect();
                names.sort();
                names.dedup();
                Ok(Some(names))
            }
            Err(StoreError::NotSupportedByStore(_)) => Ok(None),
            Err(e) => Err(self.failed("search", "", e)),
        }
    }

    fn failed(&self, doing: &str, profile: &str, error: StoreError) -> Failure {
        let backend = backend_name();
        let whose = if profile.is_empty() {
            String::new()
        } else {
            format!(" for `{}`", printable(profile))
        };
        match error {
            StoreError::NoStorageAccess(_) => Failure::usage(format!(
                "the {backend} keyring is locked, and it could not ask for its password here \
                 ({}); {}",
                detail(&error),
                how_to_unlock()
            )),
            _ => Failure::local(format!(
                "could not {doing} the key{whose} in the {backend}: {}",
                detail(&error)
            )),
        }
    }
}

/// A store error in one printable line; a platform error's own words, not its debug dump.
fn detail(error: &StoreError) -> String {
    let text = match error {
        StoreError::PlatformFailure(inner) | StoreError::NoStorageAccess(inner) => {
            crate::error::describe_error(inner.as_ref())
        }
        other => other.to_string(),
    };
    printable(&text)
}
