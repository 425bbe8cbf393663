//! IAM Identity Center without the AWS CLI: logging in (`login`), keeping the token where and
//! how the AWS CLI keeps it (`token`), so the CLI, botocore and the SDKs share one login,
//! renewing it silently with its refresh token, and logging out. The OIDC service is reached
//! through the SDK's own client (`oidc`).

pub mod login;
pub mod oidc;
pub mod populate;
pub mod portal;
pub mod start;
pub mod token;

use crate::aws::net::{checked_endpoint, overall_timeout, SSO_ENDPOINT_VARIABLES};
use crate::cache::{self, Locked};
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::profile::SsoLogin;
use login::{Choices, REGISTERED_REDIRECT};
use oidc::{Grant, Issued, Oidc, Refusal, Registration};
use std::path::{Path, PathBuf};
use token::Token;

/// A token with less than this left is renewed (the cache's own margin: an SDK treats it as
/// expired then).
const FRESH_SECONDS: i64 = crate::cache::MINIMUM_SECONDS_LEFT;

/// A registration is reused only with this much of it left, so it does not lapse mid-login.
const REGISTRATION_MARGIN_SECONDS: i64 = 60 * 60;

/// Where the token of `login` lives.
pub fn token_path(env: &Env, login: &SsoLogin) -> Result<PathBuf> {
    token::directory(env)
        .map(|dir| dir.join(token::file_name(login.cache_key())))
        .ok_or_else(|| Failure::usage("no home directory to keep the SSO token in"))
}

/// The token at `path` when it is good for a while yet.
fn fresh_token(path: &Path) -> Option<Token> {
    token::read(path).filter(|token| token.expires() - crate::time::now() > FRESH_SECONDS)
}

/// The token a run goes on with, from `ensure_login`.
pub struct Held {
    pub token: Token,
    /// Whether the token file holds this very token.
    in_file: bool,
}

/// An SDK reading the token file renews a token with five minutes left (aws-config and
/// botocore alike); this much more keeps the time between rolecall's look and the SDK's.
const SDK_RENEWAL_SECONDS: i64 = 5 * 60 + 60;

impl Held {
    /// Whether an SDK that reads the token file finds this token there and uses it as it is.
    /// Otherwise the run must hand the token to the portal itself: only it has the token, or an
    /// SDK would renew it, spending the refresh token where rolecall cannot see whether the
    /// new one was kept.
    pub fn sdks_use_the_file(&self) -> bool {
        self.in_file && self.token.expires() - crate::time::now() > SDK_RENEWAL_SECONDS
    }
}

/// Logs in to `login` as the person chooses and writes the token file.
pub async fn log_in(env: &Env, login: &SsoLogin, choices: &Choices) -> Result<Token> {
    let path = token_path(env, login)?;
    let oidc = Oidc::new(&login.region)?;
    let device = login::uses_device_code(login, choices, env);
    let purpose = Purpose::of(login, device);
    let saved_path = path.with_file_name(token::registration_file_name(&purpose.key()));
    // A registration is reused until an hour before it expires, but only one made for this
    // very flow, start URL, region and scopes.
    let reusable = token::read_private::<token::SavedRegistration>(&saved_path).and_then(|saved| {
        let expires = crate::time::parse_rfc3339(&saved.expires_at)?;
        (expires - crate::time::now() > REGISTRATION_MARGIN_SECONDS).then_some(Registration {
            client_id: saved.client_id,
            client_secret: saved.client_secret,
            expires,
        })
    });
    let reused = reusable.is_some();
    let mut registration = match reusable {
        Some(registration) => registration,
        None => register(&oidc, login, &purpose, &saved_path).await?,
    };
    let mut issued = run_flow(&oidc, login, &registration, device, choices, env).await;
    if reused && matches!(issued, Err(Refusal::InvalidClient)) {
        registration = register(&oidc, login, &purpose, &saved_path).await?;
        issued = run_flow(&oidc, login, &registration, device, choices, env).await;
    }
    let issued = issued.map_err(|refusal| refused(refusal, login))?;
    let token = token_from(login, &registration, issued, None);
    token::write(&path, &token).map_err(Failure::local)?;
    Ok(token)
}

/// What a registration is made for: the flow and its grants, and the login's own settings.
struct Purpose<'a> {
    login: &'a SsoLogin,
    grants: &'static [&'static str],
    redirect: Option<&'static str>,
}

impl<'a> Purpose<'a> {
    fn of(login: &'a SsoLogin, device: bool) -> Purpose<'a> {
        let (grants, redirect): (&'static [&'static str], _) = match (device, &login.session) {
            (false, _) => (
                &["authorization_code", "refresh_token"],
                Some(REGISTERED_REDIRECT),
            ),
            // An sso-session's device login can be refreshed too, as the AWS CLI registers it.
            (true, Some(_)) => (
                &[
                    "urn:ietf:params:oauth:grant-type:device_code",
                    "refresh_token",
                ],
                None,
            ),
            (true, None) => (&[], None),
        };
        Purpose {
            login,
            grants,
            redirect,
        }
    }

    /// The registration's identity: everything a reused one must have been made for.
    fn key(&self) -> String {
        serde_json::json!({
            "tool": "rolecall",
            "startUrl": self.login.start_url,
            "region": self.login.region,
            "scopes": self.login.scopes,
            "session": self.login.session,
            "grantTypes": self.grants,
        })
        .to_string()
    }
}

async fn run_flow(
    oidc: &Oidc,
    login: &SsoLogin,
    registration: &Registration,
    device: bool,
    choices: &Choices,
    env: &Env,
) -> std::result::Result<Issued, Refusal> {
    if device {
        login::with_device_code(oidc, login, registration, choices, env).await
    } else {
        login::with_pkce(oidc, login, registration.clone(), choices, env).await
    }
}

async fn register(
    oidc: &Oidc,
    login: &SsoLogin,
    purpose: &Purpose<'_>,
    saved_path: &std::path::Path,
) -> Result<Registration> {
    let label: String = login
        .cache_key()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let registration = oidc
        .register(
            &label,
            &login.scopes,
            &login.start_url,
            purpose.grants,
            purpose.redirect,
        )
        .await?;
    let saved = token::SavedRegistration {
        client_id: registration.client_id.clone(),
        client_secret: registration.client_secret.clone(),
        expires_at: crate::time::rfc3339(registration.expires),
    };
    // Not keeping it only costs a registration next time.
    let _ = token::write_private(saved_path, &saved);
    Ok(registration)
}

/// What came of trying to renew a token with its refresh token.
enum Renewal {
    Renewed(Held),
    /// Not tried, because the new token could not be kept (the reason, for a person): the
    /// refresh token is still good.
    NotNow(String),
    /// The service refused the refresh token: another client may have spent it. The access
    /// token that was in the file.
    Refused(String),
    /// Nothing to renew with: no token file, no refresh token, or an expired registration.
    Impossible,
}

/// Renews the token at `path` with its refresh token, when it has one and a registration that
/// is still good. The refresh token is single-use (the service hands out a new one with each
/// new token), so it is spent only with `turn` held and room for the new file made.
async fn refresh(path: &Path, login: &SsoLogin, turn: &Locked) -> Result<Renewal> {
    let Some(old) = token::read(path) else {
        return Ok(Renewal::Impossible);
    };
    let (Some(refresh_token), Some(registration)) =
        (old.refresh_token.clone(), registration_of(&old))
    else {
        return Ok(Renewal::Impossible);
    };
    let place = match token::Place::prepare(path, token::ROOM) {
        Ok(place) => place,
        Err(why) => return Ok(Renewal::NotNow(why)),
    };
    if !matches!(turn, Locked::Held(_)) {
        return Ok(Renewal::NotNow(format!(
            "another rolecall is renewing or logging in to {}",
            login.describe()
        )));
    }
    let oidc = Oidc::new(&login.region)?;
    match oidc
        .create_token(&registration, &Grant::Refresh(&refresh_token))
        .await
    {
        Ok(issued) => {
            let token = token_from(login, &registration, issued, Some(refresh_token));
            let in_file = match place.keep(&token) {
                Ok(()) => true,
                Err(why) => {
                    eprintln!(
                        "rolecall: warning: the renewed token of {} could not be saved ({why}); \
                         this run uses it, the next may have to log in again",
                        login.describe()
                    );
                    false
                }
            };
            Ok(Renewal::Renewed(Held { token, in_file }))
        }
        // The service could not be asked: a token not yet expired still serves.
        Err(Refusal::Failed(failure)) => {
            if old.expires() > crate::time::now() {
                Ok(Renewal::Renewed(Held {
                    token: old,
                    in_file: true,
                }))
            } else {
                Err(failure)
            }
        }
        Err(_) => Ok(Renewal::Refused(old.access_token)),
    }
}

/// How long a refused renewal, or a token file found half written, waits for another client's
/// new token (botocore writes the file in place, after its own refresh).
const OTHER_CLIENT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// A fresh token other than `old_access` that appears at `path` within OTHER_CLIENT_PATIENCE.
async fn another_client_s_token(path: &Path, old_access: Option<&str>) -> Option<Token> {
    let started = std::time::Instant::now();
    loop {
        let found = fresh_token(path).filter(|t| Some(t.access_token.as_str()) != old_access);
        if found.is_some() || started.elapsed() >= OTHER_CLIENT_PATIENCE {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// This process's turn with the login's token file: a lock beside the file (every process that
/// can write the file can hold it there), else, where that directory cannot hold one, in
/// rolecall's cache directory.
fn take_turn(path: &Path, patience: std::time::Duration) -> Locked {
    let name = format!(
        "rolecall-{}",
        path.file_stem().unwrap_or_default().to_string_lossy()
    );
    // A directory that is not there yet holds no token to guard.
    let beside = match path.parent().filter(|dir| dir.is_dir()) {
        Some(dir) => cache::try_lock(dir, &name, patience),
        None => Locked::Unavailable,
    };
    match (beside, cache::directory()) {
        (Locked::Unavailable, Some(dir)) => cache::try_lock(&dir, &format!("sso-{name}"), patience),
        (beside, _) => beside,
    }
}

/// Who may be asked to log in when a login must be made anew.
pub enum Asking<'a> {
    /// Nobody: auto-refresh, `--no-input`.
    Nobody,
    /// A person at this terminal, through the browser.
    AtTerminal,
    /// The person who ran a command that logs in (`sso populate`), as they chose: reached at a
    /// terminal, through their `$BROWSER`, or on a page they asked to be shown
    /// (`--device-code`, `--no-browser`). A script with none of those is told what to run.
    AsChosen(&'a Choices),
}

impl Asking<'_> {
    /// The choices of the login, when someone is there to make it.
    fn someone_there(&self, env: &Env) -> Option<Choices> {
        use std::io::IsTerminal;
        let terminal = std::io::stderr().is_terminal();
        match self {
            Asking::Nobody => None,
            Asking::AtTerminal => (terminal && std::io::stdin().is_terminal()).then_some(Choices {
                device_code: false,
                open_browser: true,
            }),
            Asking::AsChosen(choices) => {
                let reached = terminal
                    || env.get_os("BROWSER").is_some()
                    || choices.device_code
                    || !choices.open_browser;
                reached.then_some(Choices {
                    device_code: choices.device_code,
                    open_browser: choices.open_browser,
                })
            }
        }
    }
}

/// Makes sure `login` has a token good for a while, before an SSO profile's credentials are
/// fetched: a fresh one is used as it is, an old one renewed silently, and a missing or
/// unrenewable one logged in anew when someone is there to do it (`asking`). Two processes
/// needing the same login take turns: the second finds the first's token. A token that cannot
/// be renewed without losing the login serves while it lasts.
pub async fn ensure_login(
    env: &Env,
    login: &SsoLogin,
    profile: &str,
    asking: Asking<'_>,
) -> Result<Held> {
    let may_ask = !matches!(asking, Asking::Nobody);
    let path = token_path(env, login)?;
    let from_file = |token| Held {
        token,
        in_file: true,
    };
    if let Some(token) = fresh_token(&path) {
        return Ok(from_file(token));
    }
    let patience = std::time::Duration::from_secs(if may_ask { 600 } else { 3 });
    let turn = take_turn(&path, patience);
    if let Some(token) = fresh_token(&path) {
        return Ok(from_file(token));
    }
    let old_access = match refresh(&path, login, &turn).await? {
        Renewal::Renewed(held) => return Ok(held),
        Renewal::NotNow(why) => {
            let now = crate::time::now();
            return match token::read(&path).filter(|t| t.expires() > now) {
                Some(token) => {
                    eprintln!(
                        "rolecall: warning: the SSO login of {} was not renewed: {why}; its \
                         token serves for {} more minute(s)",
                        login.describe(),
                        (token.expires() - now + 59) / 60
                    );
                    Ok(from_file(token))
                }
                None => Err(Failure::local(format!(
                    "the SSO login of {} was not renewed: {why}\n  its refresh token was not \
                     used, so the login is still there to renew once that is mended",
                    login.describe()
                ))),
            };
        }
        Renewal::Refused(old_access) => Some(old_access),
        Renewal::Impossible => None,
    };
    let racing = old_access.is_some() || token::being_written(&path);
    if racing {
        if let Some(token) = another_client_s_token(&path, old_access.as_deref()).await {
            return Ok(from_file(token));
        }
    }
    let Some(choices) = asking.someone_there(env) else {
        let shown = printable(&path.to_string_lossy());
        let ignored = if token::being_written(&path) {
            format!(" (its token file {shown} holds no token rolecall can read)")
        } else if path.exists() && token::read(&path).is_none() {
            format!(" (its token file {shown} is not a private file of yours, so it was not used)")
        } else {
            String::new()
        };
        return Err(Failure::aws(format!(
            "the SSO login of {} has expired or was never made{ignored}: run `rolecall sso \
             login {}`",
            login.describe(),
            printable(profile)
        )));
    };
    // Another client may have logged in meanwhile: no browser then.
    if let Some(token) = fresh_token(&path) {
        return Ok(from_file(token));
    }
    eprintln!(
        "rolecall: the SSO login of {} has expired or was never made; logging in",
        login.describe()
    );
    log_in(env, login, &choices).await.map(from_file)
}

/// How long `sso logout` waits for a renewal or login in flight.
const LOGOUT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Ends `login`: the portal's Logout with its token (when there is one), then the token file is
/// removed. A portal that cannot be reached does not keep the file: the person asked to end it.
pub async fn log_out(env: &Env, login: &SsoLogin) -> Result<bool> {
    let path = token_path(env, login)?;
    // A renewal in flight would write its token back after the file is gone.
    let _turn = match take_turn(&path, LOGOUT_PATIENCE) {
        Locked::Busy => {
            return Err(Failure::local(format!(
                "another rolecall has been renewing or logging in to {} for a minute; the \
                 login was not ended: try again when it is done",
                login.describe()
            )))
        }
        turn => turn,
    };
    let Some(token) = token::read(&path) else {
        let existed = path.exists();
        let _ = std::fs::remove_file(&path);
        return Ok(existed);
    };
    if let Err(why) = portal_logout(login, &token.access_token).await {
        eprintln!("rolecall: warning: {why}; the token is removed here anyway");
    }
    std::fs::remove_file(&path).map_err(|e| {
        Failure::local(format!(
            "cannot remove {}: {e}",
            printable(&path.to_string_lossy())
        ))
    })?;
    Ok(true)
}

async fn portal_logout(login: &SsoLogin, access_token: &str) -> std::result::Result<(), String> {
    let timeout = overall_timeout().map_err(|f| f.message)?;
    let endpoint = checked_endpoint(SSO_ENDPOINT_VARIABLES).map_err(|f| f.message)?;
    let mut builder = aws_sdk_sso::Config::builder()
        .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
        .region(aws_sdk_sso::config::Region::new(login.region.clone()))
        .retry_config(crate::aws::net::retries())
        .timeout_config(crate::aws::net::time_limits(timeout));
    if let Some(url) = &endpoint {
        builder = builder.endpoint_url(url.clone());
    }
    let client = aws_sdk_sso::Client::from_conf(builder.build());
    client
        .logout()
        .access_token(access_token)
        .send()
        .await
        .map(drop)
        .map_err(|e| {
            use aws_sdk_sso::error::ProvideErrorMetadata;
            let code = e.code().unwrap_or("no answer");
            format!(
                "the SSO portal's Logout for {} failed ({})",
                login.describe(),
                printable(code)
            )
        })
}

/// The registration a token file carries, for its refresh token, when it has not expired.
fn registration_of(token: &Token) -> Option<Registration> {
    let expires = token.registration_expires()?;
    if expires <= crate::time::now() {
        return None;
    }
    Some(Registration {
        client_id: token.client_id.clone()?,
        client_secret: token.client_secret.clone()?,
        expires,
    })
}

fn token_from(
    login: &SsoLogin,
    registration: &Registration,
    issued: Issued,
    kept_refresh_token: Option<String>,
) -> Token {
    let now = crate::time::now();
    Token {
        start_url: Some(login.start_url.clone()),
        region: Some(login.region.clone()),
        access_token: issued.access_token,
        expires_at: crate::time::rfc3339(now + issued.expires_in),
        client_id: Some(registration.client_id.clone()),
        client_secret: Some(registration.client_secret.clone()),
        registration_expires_at: Some(crate::time::rfc3339(registration.expires)),
        refresh_token: issued.refresh_token.or(kept_refresh_token),
    }
}

/// A token call's refusal, said for a person.
fn refused(refusal: Refusal, login: &SsoLogin) -> Failure {
    let what = login.describe();
    match refusal {
        Refusal::Failed(failure) => failure,
        Refusal::Denied => Failure::aws(format!(
            "the sign-in to {what} was declined in the browser; nothing was saved"
        )),
        Refusal::Expired | Refusal::Pending | Refusal::SlowDown => Failure::aws(format!(
            "the sign-in to {what} was not approved in time; run `rolecall sso login` again"
        )),
        Refusal::InvalidGrant => Failure::aws(format!(
            "IAM Identity Center no longer accepts this sign-in to {what}; run `rolecall sso \
             login` again"
        )),
        Refusal::InvalidClient => Failure::aws(format!(
            "IAM Identity Center does not know rolecall's registration for {what}; run \
             `rolecall sso login` again"
        )),
    }
}
