//! The assume engine: a request (target, overrides, cache policy, MFA input) → profile chain →
//! cached credentials, or source credentials, an MFA session and one AssumeRole per hop. Every
//! command that needs credentials comes here; none of it knows the command line.

use crate::aws::explain::CallContext;
use crate::aws::sts::Sts;
use crate::aws::{net, source};
use crate::cache;
use crate::env::Env;
use crate::error::{Failure, Result};
use crate::profile::{Base, Overrides, ProfileChain};
use crate::session::{Credentials, Origin, Session};
use crate::{mfa, time};

/// What a command asks for.
pub struct Request<'a> {
    /// A profile name or a role ARN.
    pub target: String,
    pub overrides: Overrides,
    pub cache: CachePolicy,
    pub mfa: MfaInput,
    pub env: &'a Env,
}

/// How the cache takes part in one request.
#[derive(Clone, Copy)]
pub struct CachePolicy {
    pub read: bool,
    pub write: bool,
}

/// Where an MFA code comes from: given, else the profile's `mfa_process`, else asked where the
/// person is when that is allowed.
pub struct MfaInput {
    pub code: Option<String>,
    pub may_ask: bool,
}

/// Credentials for the request's target.
pub fn obtain(request: &Request) -> Result<Session> {
    let mut chain = crate::profile::resolve(request.env, &request.target, &request.overrides)?;
    let endpoint = net::endpoint_override().unwrap_or_default();
    let cache_dir = cache::directory();
    // A keyring key's ID as last seen names the cache entries made from it, so a cached answer
    // needs no keyring; the keyring is read only without one (and its key's ID, when it has
    // changed, names the entries from then on).
    if crate::keys::recall(&mut chain.base) && request.cache.read {
        if let Some(credentials) = cached(&chain, &endpoint, cache_dir.as_deref()) {
            return Ok(session_of(&chain, request, credentials));
        }
    }
    crate::keys::load(&mut chain.base)?;
    // A web identity token is read before the cache is asked: its claims name the entry, so
    // another subject's session is never handed out. It is read once a run, and kept apart.
    let mut web_token = None;
    if let Base::WebIdentity { source, whose } = &mut chain.base {
        let limit = net::overall_timeout()?;
        let token = net::block_on(crate::webid::read_token(source, request.env, limit))?;
        *whose = Some(crate::webid::claims::Claims::whose(&token));
        web_token = Some(token);
    }
    let policy = request.cache;
    let key = role_cache_key(&chain, &endpoint);
    let entry = cache::entry_name("role", &chain.target, &key);
    if policy.read {
        if let Some(credentials) = cached(&chain, &endpoint, cache_dir.as_deref()) {
            return Ok(session_of(&chain, request, credentials));
        }
    }
    // Long-term keys used as they are need no cache and so no lock.
    let cacheable =
        !(chain.hops.is_empty() && chain.mfa_serial.is_none() && chain.base.is_long_term());
    let lock = match (&cache_dir, policy.write && cacheable) {
        (Some(dir), true) => cache::lock(dir, &entry, lock_patience(&chain, &request.mfa)),
        _ => None,
    };
    // Another process may have fetched these credentials while this one waited for the lock.
    if policy.read && lock.is_some() {
        if let Some(credentials) = cached(&chain, &endpoint, cache_dir.as_deref()) {
            return Ok(session_of(&chain, request, credentials));
        }
    }
    let credentials = net::block_on(fetch(
        &chain,
        request,
        &endpoint,
        cache_dir.as_deref(),
        web_token.as_deref(),
    ))?;
    if policy.write && is_temporary(&credentials) {
        store(cache_dir.as_deref(), &entry, &key, &credentials);
    }
    Ok(session_of(&chain, request, credentials))
}

/// The chain's credentials from the cache, when it holds good ones.
fn cached(
    chain: &ProfileChain,
    endpoint: &str,
    dir: Option<&std::path::Path>,
) -> Option<Credentials> {
    let key = role_cache_key(chain, endpoint);
    let entry = cache::entry_name("role", &chain.target, &key);
    cache::read(dir?, &entry, &key, time::now())
}

fn session_of(chain: &ProfileChain, request: &Request, credentials: Credentials) -> Session {
    let origin = match (chain.hops.len(), chain.base.is_long_term()) {
        (0, true) => Origin::Keys,
        (1, true) => Origin::FirstHop,
        _ => Origin::Other,
    };
    Session {
        credentials,
        target: chain.target.clone(),
        role_arn: chain.role_arn().map(String::from),
        region: chain.region.clone(),
        source_profile: request
            .overrides
            .source_profile
            .clone()
            .filter(|_| chain.profile.is_none()),
        origin,
        // A variable the person set wins over the profile's setting, as in every SDK.
        settings: chain
            .settings
            .iter()
            .filter(|(variable, _)| request.env.get_os(variable).is_none())
            .cloned()
            .collect(),
        login_expires: login_expires(chain, request.env),
    }
}

/// When the Identity Center login behind an SSO-based chain ends: its token's expiry.
fn login_expires(chain: &ProfileChain, env: &Env) -> Option<i64> {
    let Base::Sso { login, .. } = &chain.base else {
        return None;
    };
    let path = crate::sso::token_path(env, login).ok()?;
    crate::sso::token::read(&path).map(|token| token.expires())
}

/// Long-term keys never go into the cache; only credentials that expire by themselves do.
fn is_temporary(credentials: &Credentials) -> bool {
    credentials.session_token.is_some() && credentials.expires.is_some()
}

/// How long to wait for another rolecall fetching the same credentials: long enough for a
/// person to type an MFA code there (or touch a key for its `mfa_process`), short when nobody
/// may be asked (auto-refresh).
fn lock_patience(chain: &ProfileChain, mfa: &MfaInput) -> std::time::Duration {
    let someone_answers = mfa.may_ask || chain.mfa_process.is_some();
    std::time::Duration::from_secs(if someone_answers { 120 } else { 3 })
}

fn store(dir: Option<&std::path::Path>, entry: &str, key: &str, credentials: &Credentials) {
    let Some(dir) = dir else { return };
    if let Err(e) = cache::write(dir, entry, key, credentials) {
        let why = crate::error::printable(&e.to_string());
        eprintln!("rolecall: warning: could not cache credentials: {why}");
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
    request: &Request<'_>,
    endpoint: &str,
    cache_dir: Option<&std::path::Path>,
    web_token: Option<&str>,
) -> Result<Credentials> {
    let policy = request.cache;
    let mfa_input = &request.mfa;
    // Where the MFA code STS last took is noted: not with --no-cache, which writes nothing.
    let notes = cache_dir.filter(|_| policy.write);
    let mfa_need = |serial| mfa::Need {
        serial,
        profile: chain.profile.as_deref().unwrap_or(&chain.target),
        given: mfa_input.code.as_deref(),
        process: chain.mfa_process.as_ref(),
        may_ask: mfa_input.may_ask,
        notes,
    };
    // STS's settings are checked first: a credential_process may have had a person unlock
    // something by the time a usage error would otherwise surface.
    let sts = Sts::new(chain.region.as_deref())?;
    // A token the SDK's provider would not find in the file, or would renew itself, is handed
    // to the portal by rolecall.
    let mut sso_token = None;
    if let Base::Sso { profile, login, .. } = &chain.base {
        let asking = match request.mfa.may_ask {
            true => crate::sso::Asking::AtTerminal,
            false => crate::sso::Asking::Nobody,
        };
        let held = crate::sso::ensure_login(request.env, login, profile, asking).await?;
        if !held.sdks_use_the_file() {
            sso_token = Some(held.token.access_token);
        }
    }
    // A web identity token has no credentials of its own: its first hop's are the first.
    let (mut credentials, mut caller, first_hop) = match (&chain.base, chain.hops.first()) {
        (Base::WebIdentity { source, .. }, Some(hop)) => (
            crate::webid::assume(
                &sts,
                source,
                web_token.ok_or_else(|| Failure::local("the web identity token was not read"))?,
                hop,
            )
            .await?,
            format!("the role {}", hop.role_arn),
            1,
        ),
        _ => (
            source::base_credentials(&chain.base, sts.timeout(), sso_token.as_deref()).await?,
            chain.base.describe(),
            0,
        ),
    };
    let mut caller_expires = credentials.expires;
    let mut first_hop_mfa: Option<(&str, String)> = None;
    let mut mfa_session_entry: Option<String> = None;

    if let Some(serial) = chain.mfa_serial.as_deref() {
        if chain.base.is_long_term() {
            // One GetSessionToken per source and serial, cached, so the code is typed once per
            // MFA session rather than once per role.
            let key = format!("{endpoint}|{}|{serial}", chain.base.identity());
            let entry = cache::entry_name("mfa", serial.rsplit('/').next().unwrap_or(serial), &key);
            let mfa_cache = cache_dir.filter(|_| policy.write);
            let _lock =
                mfa_cache.and_then(|dir| cache::lock(dir, &entry, lock_patience(chain, mfa_input)));
            // An MFA session outlives `--refresh`: only `--no-cache` (no writes either) skips it.
            let cached = mfa_cache.and_then(|dir| cache::read(dir, &entry, &key, time::now()));
            credentials = match cached {
                Some(session) => session,
                None => {
                    let code = mfa::code(&mfa_need(serial)).await?;
                    let context = CallContext {
                        operation: "GetSessionToken",
                        role_arn: None,
                        caller: caller.clone(),
                        renewal: chain.base.renewal_hint(),
                        caller_expires,
                        used_mfa: true,
                        chained: false,
                        duration_seconds: None,
                        token_claims: None,
                    };
                    let session = sts
                        .get_session_token(&credentials, serial, &code, &context)
                        .await?;
                    mfa::spent(notes, serial, &code);
                    store(mfa_cache, &entry, &key, &session);
                    session
                }
            };
            caller = format!("the MFA session of {caller}");
            caller_expires = credentials.expires;
            mfa_session_entry = Some(entry);
        } else if !chain.hops.is_empty() {
            first_hop_mfa = Some((serial, mfa::code(&mfa_need(serial)).await?));
        }
    }

    for (index, hop) in chain.hops.iter().enumerate().skip(first_hop) {
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
            token_claims: None,
        };
        let result = sts.assume_role(&credentials, hop, mfa, &context).await;
        credentials = match result {
            Ok(next) => {
                if let Some((serial, code)) = mfa {
                    mfa::spent(notes, serial, code);
                }
                next
            }
            Err(failure) => {
                // A cached MFA session that STS no longer accepts must not be offered again.
                let stale = matches!(
                    failure.code.as_deref(),
                    Some("ExpiredToken" | "InvalidClientTokenId")
                );
                if let (0, true, Some(entry), Some(dir)) =
                    (index, stale, &mfa_session_entry, cache_dir)
                {
                    cache::remove(dir, entry);
                }
                return Err(failure);
            }
        };
        caller = format!("the role {}", hop.role_arn);
        caller_expires = credentials.expires;
    }
    Ok(credentials)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Hop;

    fn chain(access_key_id: &str, hops: &[(&str, Option<&str>)]) -> ProfileChain {
        ProfileChain {
            target: "t".into(),
            profile: Some("t".into()),
            settings: Vec::new(),
            base: Base::Static {
                profile: "base".into(),
                credentials: Credentials {
                    access_key_id: access_key_id.into(),
                    secret_access_key: "never in a key".into(),
                    session_token: None,
                    expires: None,
                },
            },
            hops: hops
                .iter()
                .map(|(role, external_id)| Hop {
                    role_arn: role.to_string(),
                    session_name: "ana".into(),
                    external_id: external_id.map(String::from),
                    duration_seconds: None,
                })
                .collect(),
            mfa_serial: None,
            mfa_process: None,
            region: None,
        }
    }

    #[test]
    fn the_cache_key_changes_with_everything_that_decides_the_credentials() {
        let base = chain("AKIA1", &[("arn:r1", None), ("arn:r2", None)]);
        let key = role_cache_key(&base, "http://sts");
        assert!(!key.contains("never in a key"), "a secret is in the key");
        let mut variants = vec![
            role_cache_key(&base, "http://other-sts"),
            role_cache_key(
                &chain("AKIA2", &[("arn:r1", None), ("arn:r2", None)]),
                "http://sts",
            ),
            role_cache_key(&chain("AKIA1", &[("arn:r1", None)]), "http://sts"),
            role_cache_key(
                &chain("AKIA1", &[("arn:r1", None), ("arn:r2", Some("x"))]),
                "http://sts",
            ),
            role_cache_key(
                &chain("AKIA1", &[("arn:r2", None), ("arn:r1", None)]),
                "http://sts",
            ),
        ];
        let mut with_mfa = base.clone();
        with_mfa.mfa_serial = Some("arn:mfa".into());
        variants.push(role_cache_key(&with_mfa, "http://sts"));
        let mut longer = base.clone();
        longer.hops[1].duration_seconds = Some(900);
        variants.push(role_cache_key(&longer, "http://sts"));
        let mut renamed = base.clone();
        renamed.hops[0].session_name = "bob".into();
        variants.push(role_cache_key(&renamed, "http://sts"));
        for variant in &variants {
            assert_ne!(&key, variant);
        }
        variants.sort();
        variants.dedup();
        assert_eq!(variants.len(), 8, "two variants share a key");
        assert_eq!(key, role_cache_key(&base.clone(), "http://sts"));
    }

    #[test]
    fn a_web_identity_base_is_keyed_by_its_source_and_whose_token_it_is() {
        let keyed = |source: &str, whose: &str| {
            let mut chain = chain("unused", &[("arn:r1", None)]);
            chain.base = Base::WebIdentity {
                source: crate::profile::TokenSource::File(source.into()),
                whose: Some(whose.into()),
            };
            role_cache_key(&chain, "http://sts")
        };
        let key = keyed("/t", "iss|repo:a|sts");
        assert_eq!(key, keyed("/t", "iss|repo:a|sts"));
        assert_ne!(key, keyed("/t", "iss|repo:b|sts"));
        assert_ne!(key, keyed("/u", "iss|repo:a|sts"));
    }

    #[test]
    fn a_keyring_base_is_keyed_by_its_key_id_whether_recalled_or_read() {
        let keyring = |key_id: Option<&str>, read: bool| {
            let mut chain = chain("unused", &[("arn:r1", None)]);
            chain.base = Base::Keyring {
                profile: "base".into(),
                entry: "base".into(),
                key_id: key_id.map(String::from),
                credentials: read.then(|| Credentials {
                    access_key_id: key_id.unwrap_or_default().into(),
                    secret_access_key: "never in a key".into(),
                    session_token: None,
                    expires: None,
                }),
            };
            role_cache_key(&chain, "http://sts")
        };
        assert_eq!(keyring(Some("AKIA1"), false), keyring(Some("AKIA1"), true));
        assert_ne!(keyring(Some("AKIA1"), true), keyring(Some("AKIA2"), true));
        assert!(!keyring(Some("AKIA1"), true).contains("never in a key"));
    }
}
