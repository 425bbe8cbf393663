//! Rotating a keyring profile's access key through IAM, so that no step can lose a key:
//!
//! 1. ListAccessKeys: a user with two keys already cannot get a third; stop, change nothing.
//! 2. CreateAccessKey, and at once the new key into the keyring as a pending rotation (with the
//!    old key's ID), signals held off between the two so an interrupt cannot fall in between.
//! 3. GetCallerIdentity with the new key until IAM's change has reached STS. If it never works,
//!    the new key is deleted again and the old one stays.
//! 4. The new key becomes the profile's; then DeleteAccessKey of the old one; then the pending
//!    record goes.
//!
//! Interrupted anywhere, the keyring still holds a working key, and the pending record says
//! where the rotation was: running it again finishes it.

use super::vault::{short_id, PendingRotation, StoredKey, Vault};
use crate::aws::iam::Iam;
use crate::aws::sts::Sts;
use crate::error::{printable, Failure, Result};
use crate::session::Credentials;
use std::time::{Duration, Instant};

/// How long a new key may take to work, by default: IAM changes usually reach STS in seconds.
const DEFAULT_WAIT_SECONDS: u64 = 30;
pub const WAIT_VARIABLE: &str = "ROLECALL_ROTATE_WAIT";

fn wait_limit() -> Result<Duration> {
    match std::env::var(WAIT_VARIABLE).ok().filter(|v| !v.is_empty()) {
        None => Ok(Duration::from_secs(DEFAULT_WAIT_SECONDS)),
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
            _ => Err(Failure::usage(format!(
                "{WAIT_VARIABLE} is `{}`; it must be a whole number of seconds, like 30",
                printable(&text)
            ))),
        },
    }
}

/// What IAM calls are signed with: the profile's key as the keyring holds it now (or its MFA
/// session), and the region its profile names.
pub struct Signer {
    pub credentials: Credentials,
    pub region: Option<String>,
}

/// Rotates `profile`'s key, or finishes a rotation that was interrupted. `signer` gives the
/// credentials to sign IAM calls with, from whatever key the keyring holds when it is called.
pub fn rotate(vault: &Vault, profile: &str, signer: &dyn Fn() -> Result<Signer>) -> Result<()> {
    let wait = wait_limit()?;
    let shown = printable(profile);
    let current = vault.key(profile)?.ok_or_else(|| {
        Failure::usage(format!(
            "profile `{shown}` has no key in the keyring; `rolecall keys add {shown}` or \
             `rolecall keys import {shown}` puts one there"
        ))
    })?;
    if let Some(pending) = vault.pending(profile)? {
        return resume(vault, profile, current, pending, signer, wait);
    }
    let sign = signer()?;
    let iam = Iam::new(sign.region.as_deref(), &sign.credentials)?;
    let unchanged = |failure: Failure| Failure {
        message: format!(
            "{}\n  nothing was changed: `{shown}` keeps its key {}",
            failure.message,
            short_id(&current.access_key_id)
        ),
        ..failure
    };
    crate::aws::net::block_on(async {
        let keys = iam.list_keys().await.map_err(unchanged)?;
        if keys.len() >= 2 {
            return Err(two_keys_already(profile, &current, &keys));
        }
        let created = {
            let _held = HeldSignals::hold();
            let new = iam.create_key().await.map_err(unchanged)?;
            let pending = PendingRotation {
                new: StoredKey {
                    access_key_id: new.access_key_id,
                    secret_access_key: new.secret_access_key,
                    stored: crate::time::now(),
                    created: new.created,
                },
                old_access_key_id: current.access_key_id.clone(),
            };
            if let Err(failure) = vault.put_pending(profile, &pending) {
                // The secret exists nowhere else: a key nobody can use must not stay behind.
                let _ = iam.delete_key(&pending.new.access_key_id).await;
                return Err(failure);
            }
            pending
        };
        eprintln!(
            "rolecall: created key {} for profile `{shown}`; checking that it works",
            short_id(&created.new.access_key_id)
        );
        adopt(vault, profile, &iam, &sign.region, &current, &created, wait).await
    })
}

/// Picks up a rotation the pending record says was interrupted.
fn resume(
    vault: &Vault,
    profile: &str,
    current: StoredKey,
    pending: PendingRotation,
    signer: &dyn Fn() -> Result<Signer>,
    wait: Duration,
) -> Result<()> {
    let shown = printable(profile);
    eprintln!(
        "rolecall: finishing the rotation of `{shown}` that was interrupted ({} → {})",
        short_id(&pending.old_access_key_id),
        short_id(&pending.new.access_key_id)
    );
    let adopted = current.access_key_id == pending.new.access_key_id;
    if !adopted && current.access_key_id != pending.old_access_key_id {
        return Err(Failure::usage(format!(
            "the keyring's key for `{shown}` ({}) is neither the old ({}) nor the new key ({}) \
             of the interrupted rotation; if nothing uses {}, delete it in IAM \
             (`aws iam delete-access-key --access-key-id {}`), then forget the rotation with \
             your keyring manager (entry `rolecall-rotation` / `{shown}`)",
            short_id(&current.access_key_id),
            short_id(&pending.old_access_key_id),
            short_id(&pending.new.access_key_id),
            short_id(&pending.new.access_key_id),
            printable(&pending.new.access_key_id)
        )));
    }
    let sign = signer()?;
    let iam = Iam::new(sign.region.as_deref(), &sign.credentials)?;
    if adopted {
        // The new key is already the profile's: only the old key's deletion is left.
        return crate::aws::net::block_on(finish(vault, profile, &iam, &pending));
    }
    crate::aws::net::block_on(adopt(
        vault,
        profile,
        &iam,
        &sign.region,
        &current,
        &pending,
        wait,
    ))
}

/// Steps 3 and 4: the new key checked with STS; if it never works, deleted again (the old key
/// stays), else made the profile's and the rotation finished.
async fn adopt(
    vault: &Vault,
    profile: &str,
    iam: &Iam,
    region: &Option<String>,
    current: &StoredKey,
    rotation: &PendingRotation,
    wait: Duration,
) -> Result<()> {
    if let Err(why) = works(region, &rotation.new, wait).await {
        let deleted = iam.delete_key(&rotation.new.access_key_id).await;
        vault.remove_pending(profile)?;
        return Err(never_worked(
            profile,
            current,
            &rotation.new,
            &why,
            deleted.err(),
        ));
    }
    vault.put_key(profile, &rotation.new)?;
    finish(vault, profile, iam, rotation).await
}

/// The last steps: the old key deleted in IAM, then the pending record. A failed deletion
/// leaves the record, so running rotate again retries it.
async fn finish(vault: &Vault, profile: &str, iam: &Iam, rotation: &PendingRotation) -> Result<()> {
    let shown = printable(profile);
    let old = &rotation.old_access_key_id;
    let new = short_id(&rotation.new.access_key_id);
    if let Err(failure) = iam.delete_key(old).await {
        return Err(Failure::aws(format!(
            "profile `{shown}` now uses its new key {new}, but the old key {} was not deleted: \
             {}\n  run `rolecall keys rotate {shown}` again to finish, or delete it yourself: \
             `aws iam delete-access-key --access-key-id {}`",
            short_id(old),
            failure.message,
            printable(old)
        )));
    }
    vault.remove_pending(profile)?;
    eprintln!(
        "rolecall: rotated the key of `{shown}`: {} → {new}; the old key is deleted",
        short_id(old)
    );
    Ok(())
}

/// Asks STS who the new key is until it answers, or the wait is over (the last refusal then).
async fn works(region: &Option<String>, key: &StoredKey, wait: Duration) -> Result<()> {
    let sts = Sts::new(region.as_deref())?;
    let credentials = key.credentials();
    let started = Instant::now();
    let mut pause = Duration::from_millis(500);
    loop {
        let attempt = sts
            .get_caller_identity(&credentials, "the new key")
            .await
            .map(|_| ());
        match attempt {
            Ok(()) => return Ok(()),
            Err(failure) if started.elapsed() + pause >= wait => return Err(failure),
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(4));
            }
        }
    }
}

fn two_keys_already(
    profile: &str,
    current: &StoredKey,
    keys: &[crate::aws::iam::KeyMetadata],
) -> Failure {
    let described: Vec<String> = keys
        .iter()
        .map(|key| {
            let mut text = short_id(&key.access_key_id);
            if key.access_key_id == current.access_key_id {
                text.push_str(" (the keyring's)");
            } else {
                text.push_str(&format!(
                    " ({}, ID {})",
                    if key.active { "active" } else { "inactive" },
                    printable(&key.access_key_id)
                ));
            }
            text
        })
        .collect();
    Failure::usage(format!(
        "the IAM user of `{}` already has two access keys, {}, and IAM allows no third; \
         nothing was changed. Delete the one nothing uses \
         (`aws iam delete-access-key --access-key-id ID`) and run this again",
        printable(profile),
        described.join(" and ")
    ))
}

fn never_worked(
    profile: &str,
    current: &StoredKey,
    new: &StoredKey,
    why: &Failure,
    not_deleted: Option<Failure>,
) -> Failure {
    let cleanup = match not_deleted {
        None => "it was deleted again".to_string(),
        Some(failure) => format!(
            "deleting it again failed too ({}); delete it yourself: \
             `aws iam delete-access-key --access-key-id {}`",
            failure.message,
            printable(&new.access_key_id)
        ),
    };
    Failure::aws(format!(
        "the new key {} did not work with STS: {}\n  {cleanup}; profile `{}` keeps its key {}",
        short_id(&new.access_key_id),
        why.message,
        printable(profile),
        short_id(&current.access_key_id)
    ))
}

/// Holds off SIGINT, SIGTERM and SIGHUP while alive: between IAM creating a key and the
/// keyring holding it, the key's secret exists only in this process. A signal that arrives
/// meanwhile is noted and raised again when this is dropped, with the old handling back.
/// (A handler rather than a signal mask: the keyring's D-Bus thread would take a masked
/// signal's default action for the whole process.)
struct HeldSignals {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

static ARRIVED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn note_signal(signal: libc::c_int) {
    ARRIVED.store(signal, std::sync::atomic::Ordering::SeqCst);
}

impl HeldSignals {
    fn hold() -> HeldSignals {
        ARRIVED.store(0, std::sync::atomic::Ordering::SeqCst);
        let mut previous = Vec::new();
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: sigaction with a zeroed, then filled, struct; the handler only stores
            // to an atomic, which is async-signal-safe.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = note_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) == 0 {
                    previous.push((signal, old));
                }
            }
        }
        HeldSignals { previous }
    }
}

impl Drop for HeldSignals {
    fn drop(&mut self) {
        for (signal, old) in &self.previous {
            // SAFETY: puts back the action saved in `hold`.
            unsafe {
                libc::sigaction(*signal, old, std::ptr::null_mut());
            }
        }
        let arrived = ARRIVED.swap(0, std::sync::atomic::Ordering::SeqCst);
        if arrived != 0 {
            // SAFETY: raising a signal at this process; its own handling applies again.
            unsafe {
                libc::raise(arrived);
            }
        }
    }
}
