//! The assume engine: target → profile chain → cached credentials, or source credentials, an
//! MFA session and one AssumeRole per hop. Every command that needs credentials comes here.

use crate::cache;
use crate::cli::CredentialFlags;
use crate::config::{Config, Overrides, ProfileChain};
use crate::error::Result;
use crate::session::{Credentials, Session};
use crate::sts::{CallContext, Sts};
use crate::{mfa, source, time};

/// How the cache takes part in one request.
#[derive(Clone, Copy)]
struct CachePolicy {
    read: bool,
    write: bool,
}

impl CachePolicy {
    fn from_flags(flags: &CredentialFlags) -> Self {
        CachePolicy {
            read: !flags.no_cache && !flags.refresh,
            write: !flags.no_cache,
        }
    }
}

/// Credentials for `target` (a profile name or a role ARN).
pub fn obtain(target: &str, flags: &CredentialFlags) -> Result<Session> {
    let overrides = Overrides::from_flags(flags)?;
    let aws_profile = std::env::var("AWS_PROFILE").unwrap_or_default();
    let mut targets = vec![target, aws_profile.as_str()];
    targets.extend(overrides.source_profile.as_deref());
    let (config, partial) = Config::load_for(&targets)?;
    let chain = match config.chain(target, &overrides) {
        // An error found in part of the config (an unknown name, say) is explained by the whole.
        Err(_) if partial => Config::load()?.chain(target, &overrides)?,
        result => result?,
    };
    let policy = CachePolicy::from_flags(flags);
    let endpoint = crate::sts::endpoint_override().unwrap_or_default();
    let key = role_cache_key(&chain, &endpoint);
    let entry = cache::entry_name("role", &chain.target, &key);

    if policy.read {
        if let Some(credentials) = cache::read(&entry, &key, time::now()) {
            return Ok(session(&chain, credentials));
        }
    }
    // Long-term keys used as they are need no cache and so no lock.
    let cacheable =
        !(chain.hops.is_empty() && chain.mfa_serial.is_none() && chain.base.is_long_term());
    let lock = (policy.write && cacheable)
        .then(|| cache::lock(&entry, lock_patience(flags)))
        .flatten();
    // Another process may have fetched these credentials while this one waited for the lock.
    if policy.read && lock.is_some() {
        if let Some(credentials) = cache::read(&entry, &key, time::now()) {
            return Ok(session(&chain, credentials));
        }
    }
    let credentials = crate::sts::block_on(fetch(&chain, flags, policy, &endpoint))?;
    if policy.write && is_temporary(&credentials) {
        store(&entry, &key, &credentials);
    }
    Ok(session(&chain, credentials))
}

fn session(chain: &ProfileChain, credentials: Credentials) -> Session {
    Session {
        credentials,
        target: chain.target.clone(),
        profile: chain.profile.clone(),
        role_arn: chain.role_arn().map(String::from),
        region: chain.region.clone(),
    }
}

/// Long-term keys never go into the cache; only credentials that expire by themselves do.
fn is_temporary(credentials: &Credentials) -> bool {
    credentials.session_token.is_some() && credentials.expires.is_some()
}

/// How long to wait for another rolecall fetching the same credentials: long enough for a
/// person to type an MFA code there, short when nobody may be asked (auto-refresh).
fn lock_patience(flags: &CredentialFlags) -> std::time::Duration {
    std::time::Duration::from_secs(if flags.no_input { 3 } else { 120 })
}

fn store(entry: &str, key: &str, credentials: &Credentials) {
    if let Err(e) = cache::write(entry, key, credentials) {
        eprintln!("rolecall: warning: could not cache credentials: {e}");
    }
}

/// Everything that decides which credentials a chain ends in; any change gives a new entry.
fn role_cache_key(chain: &ProfileChain, endpoint: &str) -> String {
    let mut key = format!(
        "{endpoint}|{}|{}",
        chain.base.identity(),
        chain.mfa_serial.as_deref().unwrap_or("")
    );
    for hop in &chain.hops {
        key.push_str(&format!(
            "|{},{},{},{}",
            hop.role_arn,
            hop.session_name,
            hop.external_id.as_deref().unwrap_or(""),
            hop.duration_seconds.unwrap_or(0)
        ));
    }
    key
}

async fn fetch(
    chain: &ProfileChain,
    flags: &CredentialFlags,
    policy: CachePolicy,
    endpoint: &str,
) -> Result<Credentials> {
    // STS's settings are checked first: a credential_process may have had a person unlock
    // something by the time a usage error would otherwise surface.
    let sts = Sts::new(chain.region.as_deref())?;
    let mut credentials = source::base_credentials(&chain.base, sts.timeout()).await?;
    let mut caller = chain.base.describe();
    let mut caller_expires = credentials.expires;
    let mut first_hop_mfa: Option<(&str, String)> = None;
    let mut mfa_session_entry: Option<String> = None;

    if let Some(serial) = chain.mfa_serial.as_deref() {
        if chain.base.is_long_term() {
            // One GetSessionToken per source and serial, cached, so the code is typed once per
            // MFA session rather than once per role.
            let key = format!("{endpoint}|{}|{serial}", chain.base.identity());
            let entry = cache::entry_name("mfa", serial.rsplit('/').next().unwrap_or(serial), &key);
            let _lock = policy
                .write
                .then(|| cache::lock(&entry, lock_patience(flags)))
                .flatten();
            let cached = if flags.no_cache {
                None
            } else {
                cache::read(&entry, &key, time::now())
            };
            credentials = match cached {
                Some(session) => session,
                None => {
                    let code = mfa::code(serial, flags.mfa_token.as_deref(), !flags.no_input)?;
                    let context = CallContext {
                        operation: "GetSessionToken",
                        role_arn: None,
                        caller: caller.clone(),
                        renewal: chain.base.renewal_hint(),
                        caller_expires,
                        used_mfa: true,
                        chained: false,
                        duration_seconds: None,
                    };
                    let session = sts
                        .get_session_token(&credentials, serial, &code, &context)
                        .await?;
                    if policy.write {
                        store(&entry, &key, &session);
                    }
                    session
                }
            };
            caller = format!("the MFA session of {caller}");
            caller_expires = credentials.expires;
            mfa_session_entry = Some(entry);
        } else if !chain.hops.is_empty() {
            first_hop_mfa = Some((
                serial,
                mfa::code(serial, flags.mfa_token.as_deref(), !flags.no_input)?,
            ));
        }
    }

    for (index, hop) in chain.hops.iter().enumerate() {
        let mfa = if index == 0 {
            first_hop_mfa.as_ref().map(|(s, c)| (*s, c.as_str()))
        } else {
            None
        };
        let context = CallContext {
            operation: "AssumeRole",
            role_arn: Some(&hop.role_arn),
            caller: caller.clone(),
            renewal: if index == 0 {
                chain.base.renewal_hint()
            } else {
                "assume again with --refresh".into()
            },
            caller_expires,
            used_mfa: mfa.is_some() || mfa_session_entry.is_some(),
            chained: index > 0,
            duration_seconds: hop.duration_seconds,
        };
        let result = sts.assume_role(&credentials, hop, mfa, &context).await;
        credentials = match result {
            Ok(next) => next,
            Err(failure) => {
                // A cached MFA session that STS no longer accepts must not be offered again.
                let stale = matches!(
                    failure.code.as_deref(),
                    Some("ExpiredToken" | "InvalidClientTokenId")
                );
                if let (0, true, Some(entry)) = (index, stale, &mfa_session_entry) {
                    cache::remove(entry);
                }
                return Err(failure);
            }
        };
        caller = format!("the role {}", hop.role_arn);
        caller_expires = credentials.expires;
    }
    Ok(credentials)
}
