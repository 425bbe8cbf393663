//! AWS sign-in federation: a session's temporary credentials exchanged for a sign-in token
//! (`getSigninToken`), and the URLs that sign a browser in to the console with it. The hosts
//! follow the partition of the region; `ROLECALL_SIGNIN_URL` moves the endpoint (tests, private
//! endpoints).
//!
//! The token is asked for with a POST whose form body carries the credentials, so they never
//! stand in a URL that a proxy or a log could keep. The login URL itself is a bearer credential
//! for 15 minutes: callers print it only when asked to.

use crate::error::{printable, Failure, Result};
use crate::session::Credentials;
use http_body_util::BodyExt;
use std::time::Duration;

/// No sign-in token answer is near this size.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The variable that replaces the federation endpoint, checked like the SDK's endpoint ones.
pub const SIGNIN_VARIABLE: &str = "ROLECALL_SIGNIN_URL";

/// An AWS partition: where its sign-in and console live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    China,
    GovCloud,
}

impl Partition {
    pub fn of_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::China
        } else if region.starts_with("us-gov-") {
            Partition::GovCloud
        } else {
            Partition::Aws
        }
    }

    fn signin_host(self) -> &'static str {
        match self {
            Partition::Aws => "signin.aws.amazon.com",
            Partition::China => "signin.amazonaws.cn",
            Partition::GovCloud => "signin.amazonaws-us-gov.com",
        }
    }

    /// The console's domain; a region's console is `<region>.<domain>`.
    pub fn console_domain(self) -> &'static str {
        match self {
            Partition::Aws => "console.aws.amazon.com",
            Partition::China => "console.amazonaws.cn",
            Partition::GovCloud => "console.amazonaws-us-gov.com",
        }
    }
}

/// The federation endpoint: `ROLECALL_SIGNIN_URL`, else the partition's.
pub fn endpoint(partition: Partition) -> Result<url::Url> {
    endpoint_of(std::env::var(SIGNIN_VARIABLE).ok(), partition)
}

/// The endpoint `named` (the variable's value) gives, else the partition's.
fn endpoint_of(named: Option<String>, partition: Partition) -> Result<url::Url> {
    let Some(text) = named.filter(|v| !v.is_empty()) else {
        let default = format!("https://{}/federation", partition.signin_host());
        return url::Url::parse(&default)
            .map_err(|e| Failure::local(format!("the sign-in endpoint {default}: {e}")));
    };
    let url = match url::Url::parse(&text) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            url
        }
        _ => {
            return Err(Failure::usage(format!(
                "{SIGNIN_VARIABLE} is `{}`, which is not an http(s) URL",
                printable(&text)
            )))
        }
    };
    // The endpoint gets the secret key itself (STS gets only signatures): never in clear text
    // over a network, and no password in a URL that messages name.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Failure::usage(format!(
            "{SIGNIN_VARIABLE} must not hold a user name or password"
        )));
    }
    if url.scheme() == "http" && !crate::aws::net::is_loopback(&url) {
        return Err(Failure::usage(format!(
            "{SIGNIN_VARIABLE} is `{}`: the credentials would cross the network unencrypted; \
             use https (plain http is for this machine's own loopback only)",
            printable(&text)
        )));
    }
    Ok(url)
}

/// Exchanges `credentials` for a sign-in token at `endpoint`, with a console session of
/// `session_seconds` when given (AWS allows it only for credentials of a role assumed from
/// long-term keys).
pub async fn signin_token(
    endpoint: &url::Url,
    credentials: &Credentials,
    session_seconds: Option<i64>,
    limit: Duration,
) -> Result<String> {
    let session = serde_json::json!({
        "sessionId": credentials.access_key_id,
        "sessionKey": credentials.secret_access_key,
        "sessionToken": credentials.session_token,
    })
    .to_string();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", "getSigninToken");
    form.append_pair("Session", &session);
    if let Some(seconds) = session_seconds {
        form.append_pair("SessionDuration", &seconds.to_string());
    }
    let body = form.finish();
    let shown = printable(endpoint.as_str());
    let request = http::Request::post(endpoint.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(http_body_util::Full::new(bytes_of(body)))
        .map_err(|_| {
            Failure::usage(format!(
                "{SIGNIN_VARIABLE}: cannot send a request to {shown}"
            ))
        })?;
    let client = crate::aws::net::http_client()?;
    let exchange = async {
        let answer = client.request(request).await.map_err(|e| {
            let detail = printable(&crate::error::describe_error(&e));
            match crate::aws::net::CertificateRefusal::find(&detail) {
                Some(refused) => Failure::aws(format!(
                    "the sign-in endpoint {shown} presented a certificate rolecall does not \
                     trust ({}); {}",
                    refused.reason,
                    refused.advice()
                )),
                None => Failure::aws(format!(
                    "the sign-in endpoint {shown} could not be reached ({detail}); check your \
                     network or {SIGNIN_VARIABLE}"
                )),
            }
        })?;
        let status = answer.status();
        if !status.is_success() {
            return Ok((status, Default::default()));
        }
        // A sign-in token is a few kilobytes; an endpoint sending more is not one to read on.
        let body = http_body_util::Limited::new(answer.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|_| {
                Failure::aws(format!(
                    "the sign-in endpoint {shown} broke off its answer, or sent more than a \
                     sign-in token"
                ))
            })?;
        Ok::<_, Failure>((status, body))
    };
    let (status, body) = tokio::time::timeout(limit, exchange).await.map_err(|_| {
        Failure::aws(format!(
            "the sign-in endpoint {shown} did not answer within {}s; check your network or \
                 {SIGNIN_VARIABLE}",
            limit.as_secs()
        ))
    })??;
    if matches!(status.as_u16(), 400 | 401 | 403) {
        return Err(Failure::aws(format!(
            "the sign-in endpoint refused these credentials (HTTP {}): they have expired, or \
             they are not a role's and cannot sign in to the console",
            status.as_u16()
        )));
    }
    if status.is_server_error() {
        return Err(Failure::aws(format!(
            "the sign-in endpoint {shown} failed (HTTP {}); try again in a moment",
            status.as_u16()
        )));
    }
    if !status.is_success() {
        return Err(Failure::aws(format!(
            "the sign-in endpoint {shown} answered HTTP {}; is that AWS sign-in's federation \
             endpoint? (check {SIGNIN_VARIABLE})",
            status.as_u16()
        )));
    }
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("SigninToken")?.as_str().map(String::from))
        .filter(|t| !t.is_empty());
    token.ok_or_else(|| {
        Failure::aws(format!(
            "the sign-in endpoint {shown} returned an answer rolecall cannot read; is that \
             endpoint AWS sign-in's federation endpoint?"
        ))
    })
}

/// The URL that signs a browser in with `token` and lands on `destination`.
pub fn login_url(endpoint: &url::Url, token: &str, destination: &str) -> String {
    let mut url = endpoint.clone();
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair("Action", "login")
        .append_pair("Issuer", "rolecall")
        .append_pair("Destination", destination)
        .append_pair("SigninToken", token);
    url.into()
}

/// The URL that first signs the browser out of the account it is in, then goes on to `next`,
/// so switching accounts needs no private window.
pub fn logout_then(endpoint: &url::Url, next: &str) -> String {
    let mut url = endpoint.clone();
    // Beside the federation endpoint: `/federation` → `/oauth`, under any prefix it has.
    let prefix = endpoint
        .path()
        .rsplit_once('/')
        .map_or("", |(prefix, _)| prefix)
        .to_string();
    url.set_path(&format!("{prefix}/oauth"));
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair("Action", "logout")
        .append_pair("redirect_uri", next);
    url.into()
}

fn bytes_of(text: String) -> hyper::body::Bytes {
    hyper::body::Bytes::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(Partition::of_region("eu-west-1"), Partition::Aws);
        assert_eq!(Partition::of_region("cn-north-1"), Partition::China);
        assert_eq!(Partition::of_region("us-gov-west-1"), Partition::GovCloud);
    }

    #[test]
    fn the_endpoint_is_the_partitions_unless_the_variable_names_one() {
        let endpoint = |named: Option<&str>, region| {
            endpoint_of(named.map(String::from), Partition::of_region(region)).map(String::from)
        };
        assert_eq!(
            endpoint(None, "eu-west-1").unwrap(),
            "https://signin.aws.amazon.com/federation"
        );
        assert_eq!(
            endpoint(Some(""), "cn-north-1").unwrap(),
            "https://signin.amazonaws.cn/federation"
        );
        assert_eq!(
            endpoint(None, "us-gov-west-1").unwrap(),
            "https://signin.amazonaws-us-gov.com/federation"
        );
        assert_eq!(
            endpoint(Some("http://127.0.0.1:9/federation"), "cn-north-1").unwrap(),
            "http://127.0.0.1:9/federation"
        );
        assert!(endpoint(Some("http://[::1]:9/federation"), "eu-west-1").is_ok());
        for bad in [
            "not a url",
            "file:///etc/passwd",
            "http://",
            "http://signin.example.com/federation",
            "https://user:secret@signin.example.com/federation",
        ] {
            assert!(endpoint(Some(bad), "eu-west-1").is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_carry_every_value_as_one_encoded_parameter() {
        let endpoint = url::Url::parse("https://signin.aws.amazon.com/federation").unwrap();
        let login = login_url(&endpoint, "tok&en=1", "https://x/?a=b&c=d#frag");
        let parsed = url::Url::parse(&login).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                ("Action".into(), "login".into()),
                ("Issuer".into(), "rolecall".into()),
                ("Destination".into(), "https://x/?a=b&c=d#frag".into()),
                ("SigninToken".into(), "tok&en=1".into()),
            ]
        );
        assert!(parsed.fragment().is_none());
        let logout = url::Url::parse(&logout_then(&endpoint, &login)).unwrap();
        assert_eq!(logout.path(), "/oauth");
        let private = url::Url::parse("https://h/prefix/federation").unwrap();
        assert!(logout_then(&private, "x").starts_with("https://h/prefix/oauth?"));
        assert_eq!(
            logout.query_pairs().into_owned().collect::<Vec<_>>(),
            [
                ("Action".to_string(), "logout".to_string()),
                ("redirect_uri".to_string(), login)
            ]
        );
    }
}
