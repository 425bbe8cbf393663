//! What a login may enter, as the Identity Center portal lists it: every account (ListAccounts)
//! and the roles in each (ListAccountRoles), page by page. An organisation grants thousands of
//! accounts, so role lists are fetched several at a time, and a portal that throttles
//! (`TooManyRequestsException`) is waited on with growing pauses instead of failing the listing.

use crate::aws::net::{
    checked_endpoint, overall_timeout, time_limits, Service, SSO_ENDPOINT_VARIABLES,
};
use crate::error::{printable, Failure, Result};
use crate::profile::SsoLogin;
use crate::session::Credentials;
use aws_sdk_sso::config::{BehaviorVersion, Region};
use aws_sdk_sso::error::{ProvideErrorMetadata, SdkError};
use std::time::Duration;

/// One account × role pair the login may assume.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub account_id: String,
    pub account_name: String,
    pub role_name: String,
}

/// How far a listing has come, for a progress line.
pub enum Progress {
    /// Accounts listed so far.
    Accounts(usize),
    /// Role lists fetched, of how many.
    Roles { done: usize, of: usize },
}

/// The most a page may hold, as the portal allows.
const PAGE_SIZE: i32 = 100;

/// Pages no real organisation needs (10,000 accounts is Organizations' usual ceiling): a
/// portal that keeps handing out new page tokens is refused instead of followed for ever.
const MOST_ACCOUNT_PAGES: usize = 2_000;
const MOST_ROLE_PAGES: usize = 100;

/// The portal's word for an account that is not (or no longer) there.
const NOT_FOUND: &str = "ResourceNotFoundException";

/// Role lists fetched at once: enough to hide the portal's latency, few enough not to be
/// throttled from the start.
const ROLE_LISTS_IN_FLIGHT: usize = 8;

/// Calls a throttling portal gets before the listing gives up, waiting longer each time.
const THROTTLED_ATTEMPTS: u32 = 8;
/// Calls that failed for another passing reason (a 5xx, a dropped connection) get this many.
const TRANSIENT_ATTEMPTS: u32 = 3;
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Portal {
    client: aws_sdk_sso::Client,
    service: std::sync::Arc<Service>,
    access_token: String,
    login: std::sync::Arc<SsoLogin>,
}

impl Portal {
    pub fn new(login: &SsoLogin, access_token: &str) -> Result<Portal> {
        let timeout = overall_timeout()?;
        let endpoint = checked_endpoint(SSO_ENDPOINT_VARIABLES)?;
        // rolecall retries itself (below): the SDK's own retries would spend the call's time
        // limit on pauses it cannot stretch for a throttling portal.
        let mut builder = aws_sdk_sso::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(login.region.clone()))
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
            .timeout_config(time_limits(timeout));
        if let Some(url) = &endpoint {
            builder = builder.endpoint_url(url.clone());
        }
        let region = &login.region;
        let domain = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        Ok(Portal {
            client: aws_sdk_sso::Client::from_conf(builder.build()),
            service: std::sync::Arc::new(Service {
                name: "the SSO portal",
                variable: SSO_ENDPOINT_VARIABLES[0],
                endpoint: endpoint
                    .unwrap_or_else(|| format!("https://portal.sso.{region}.{domain}")),
                timeout,
            }),
            access_token: access_token.to_string(),
            login: std::sync::Arc::new(login.clone()),
        })
    }

    /// Every account × role pair, sorted, or the first failure that retries could not mend.
    pub async fn grants(&self, progress: &mut dyn FnMut(Progress)) -> Result<Vec<Grant>> {
        let accounts = self.accounts(progress).await?;
        let of = accounts.len();
        let mut pending = accounts.into_iter();
        let mut running = tokio::task::JoinSet::new();
        let mut grants = Vec::new();
        let mut done = 0;
        loop {
            while running.len() < ROLE_LISTS_IN_FLIGHT {
                let Some((account_id, account_name)) = pending.next() else {
                    break;
                };
                let portal = self.clone();
                running.spawn(async move {
                    let roles = portal.roles(&account_id).await?;
                    Ok::<_, Failure>((account_id, account_name, roles))
                });
            }
            let Some(finished) = running.join_next().await else {
                break;
            };
            let (account_id, account_name, roles) = finished.map_err(|e| {
                Failure::local(format!("a role listing stopped unexpectedly: {e}"))
            })??;
            grants.extend(roles.into_iter().map(|role_name| Grant {
                account_id: account_id.clone(),
                account_name: account_name.clone(),
                role_name,
            }));
            done += 1;
            progress(Progress::Roles { done, of });
        }
        grants.sort();
        grants.dedup();
        Ok(grants)
    }

    /// The credentials of one role in one account (GetRoleCredentials), for a run whose token
    /// only it holds or that is too near its end to hand to the SDK's own provider.
    pub async fn role_credentials(&self, account_id: &str, role_name: &str) -> Result<Credentials> {
        let answer = self
            .patiently("GetRoleCredentials", || {
                self.client
                    .get_role_credentials()
                    .access_token(&self.access_token)
                    .account_id(account_id)
                    .role_name(role_name)
                    .send()
            })
            .await?;
        let malformed = || self.service.malformed("GetRoleCredentials");
        let given = answer.role_credentials().ok_or_else(malformed)?;
        let (Some(access_key_id), Some(secret_access_key)) =
            (given.access_key_id(), given.secret_access_key())
        else {
            return Err(malformed());
        };
        Ok(Credentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: given.session_token().map(String::from),
            // The portal gives milliseconds.
            expires: (given.expiration() > 0).then(|| given.expiration() / 1000),
        })
    }

    /// Every account: (ID, name).
    async fn accounts(&self, progress: &mut dyn FnMut(Progress)) -> Result<Vec<(String, String)>> {
        let mut accounts = Vec::new();
        let mut listed = std::collections::HashSet::new();
        let mut pages = Pages::default();
        let mut next_token: Option<String> = None;
        for _page in 0..MOST_ACCOUNT_PAGES {
            let page = self
                .patiently("ListAccounts", || {
                    self.client
                        .list_accounts()
                        .access_token(&self.access_token)
                        .max_results(PAGE_SIZE)
                        .set_next_token(next_token.clone())
                        .send()
                })
                .await?;
            for account in page.account_list() {
                let Some(id) = account.account_id() else {
                    return Err(self.service.malformed("ListAccounts"));
                };
                // An account listed twice (a portal paging badly) is asked about once.
                if listed.insert(id.to_string()) {
                    let name = account.account_name().unwrap_or(id);
                    accounts.push((id.to_string(), name.to_string()));
                }
            }
            progress(Progress::Accounts(accounts.len()));
            next_token =
                pages.next(page.next_token(), || self.service.malformed("ListAccounts"))?;
            if next_token.is_none() {
                return Ok(accounts);
            }
        }
        Err(self.endless("ListAccounts"))
    }

    /// The names of the roles in one account.
    async fn roles(&self, account_id: &str) -> Result<Vec<String>> {
        let mut roles = Vec::new();
        let mut pages = Pages::default();
        let mut next_token: Option<String> = None;
        for _page in 0..MOST_ROLE_PAGES {
            let answer = self
                .patiently("ListAccountRoles", || {
                    self.client
                        .list_account_roles()
                        .access_token(&self.access_token)
                        .account_id(account_id)
                        .max_results(PAGE_SIZE)
                        .set_next_token(next_token.clone())
                        .send()
                })
                .await;
            let page = match answer {
                Ok(page) => page,
                // The account was taken away between the two listings: it has no roles now.
                Err(gone) if gone.code.as_deref() == Some(NOT_FOUND) => return Ok(roles),
                Err(failure) => return Err(failure),
            };
            roles.extend(
                page.role_list()
                    .iter()
                    .filter_map(|role| role.role_name().map(String::from)),
            );
            next_token = pages.next(page.next_token(), || {
                self.service.malformed("ListAccountRoles")
            })?;
            if next_token.is_none() {
                return Ok(roles);
            }
        }
        Err(self.endless("ListAccountRoles"))
    }

    fn endless(&self, operation: &str) -> Failure {
        Failure::aws(format!(
            "{operation} at {} kept handing out more pages than any organisation has; is that \
             endpoint {}?",
            printable(&self.service.endpoint),
            self.service.name
        ))
    }

    /// Sends a call again while the portal throttles it (or fails it in passing), with pauses
    /// that double up to a few seconds, each shortened by a random part so that the calls in
    /// flight do not all come back at once.
    async fn patiently<T, E, F, Sent>(&self, operation: &str, mut send: F) -> Result<T>
    where
        F: FnMut() -> Sent,
        Sent: std::future::Future<
            Output = std::result::Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>,
        >,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut pause = FIRST_PAUSE;
        let mut attempt = 1;
        loop {
            let error = match send().await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            let limit = match Trouble::of(&error) {
                Trouble::Throttled => THROTTLED_ATTEMPTS,
                Trouble::Passing => TRANSIENT_ATTEMPTS,
                Trouble::Refused => return Err(self.refused(operation, error)),
                Trouble::Other => 1,
            };
            if attempt >= limit {
                return Err(self.refused(operation, error));
            }
            tokio::time::sleep(pause.mul_f64(0.5 + random_fraction() / 2.0)).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
            attempt += 1;
        }
    }

    fn refused<E>(
        &self,
        operation: &str,
        error: SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if matches!(Trouble::of(&error), Trouble::Refused) {
            let again = match &self.login.session {
                Some(session) => {
                    format!("`rolecall sso login --sso-session {}`", printable(session))
                }
                None => "`rolecall sso login PROFILE` for a profile of that start URL".into(),
            };
            return Failure::aws(format!(
                "the SSO portal refused the login of {} ({operation}: UnauthorizedException): it \
                 has expired or was ended; run {again}",
                self.login.describe(),
            ));
        }
        let code = error.code().map(String::from);
        let failure = self.service.explain(operation, error);
        match code {
            Some(code) => failure.with_code(&code),
            None => failure,
        }
    }
}

/// What a failed call calls for.
enum Trouble {
    /// The portal asks to slow down: wait and ask again, for a while.
    Throttled,
    /// A server error or a lost connection: worth another try or two.
    Passing,
    /// The token is no good: only a new login helps.
    Refused,
    Other,
}

impl Trouble {
    fn of<E: ProvideErrorMetadata>(
        error: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> Trouble {
        match error {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                match error.code() {
                    Some("TooManyRequestsException") => Trouble::Throttled,
                    Some("UnauthorizedException") => Trouble::Refused,
                    _ if status == 429 => Trouble::Throttled,
                    _ if status >= 500 => Trouble::Passing,
                    _ => Trouble::Other,
                }
            }
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Trouble::Passing,
            _ => Trouble::Other,
        }
    }
}

/// The page tokens a listing was given. A portal that hands back a token it gave before would
/// page in a circle, so that is refused as a malformed answer.
#[derive(Default)]
struct Pages {
    seen: std::collections::HashSet<String>,
}

impl Pages {
    /// The next page's token: none after the last page.
    fn next(
        &mut self,
        given: Option<&str>,
        malformed: impl FnOnce() -> Failure,
    ) -> Result<Option<String>> {
        match given.filter(|token| !token.is_empty()) {
            None => Ok(None),
            Some(token) if !self.seen.insert(token.to_string()) => Err(malformed()),
            Some(token) => Ok(Some(token.to_string())),
        }
    }
}

/// A number in [0, 1), for spreading pauses; 0.5 when no randomness is to be had.
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 2];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => f64::from(u16::from_le_bytes(bytes)) / 65536.0,
        Err(_) => 0.5,
    }
}
