//! What every network call of rolecall's shares: where a service is (the SDK's endpoint
//! variables), how long a call may take, which certificates are trusted, and the runtime the
//! calls run on.

use crate::error::{printable, Failure, Result};
use std::time::Duration;

const DEFAULT_TIMEOUT_SECONDS: u64 = 10;
/// Connecting may take this long, whatever the overall limit.
const CONNECT_TIMEOUT_SECONDS: u64 = 3;

/// The endpoint override the AWS SDKs honour, so tests and local STS peers work unchanged.
pub fn endpoint_override() -> Option<String> {
    set_endpoint_variable(STS_ENDPOINT_VARIABLES).map(|(_, url)| url)
}

pub const STS_ENDPOINT_VARIABLES: &[&str] = &["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"];

/// The first of `variables` that is set, and its value.
pub fn set_endpoint_variable(variables: &[&'static str]) -> Option<(&'static str, String)> {
    variables.iter().find_map(|name| {
        let value = std::env::var(name).ok().filter(|u| !u.is_empty())?;
        Some((*name, value))
    })
}

/// The endpoint override in the first of `variables` that is set (the service's own variable,
/// then AWS_ENDPOINT_URL), refused if the SDK could not use it, before any request is built: the
/// SDK's own error for one quotes the whole request. It is parsed as the SDK parses it, as a URI
/// that needs an http(s) scheme and a host.
pub fn checked_endpoint(variables: &[&'static str]) -> Result<Option<String>> {
    let Some((name, url)) = set_endpoint_variable(variables) else {
        return Ok(None);
    };
    let usable = url.parse::<http::Uri>().is_ok_and(|uri| {
        let scheme_ok = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
        scheme_ok && uri.host().is_some_and(|host| !host.is_empty())
    });
    if usable {
        Ok(Some(url))
    } else {
        Err(Failure::usage(format!(
            "{name} is `{}`, which is not an http(s) URL",
            printable(&url)
        )))
    }
}

/// The retries every SDK client of rolecall's makes: at most 3 attempts.
pub fn retries() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(3)
}

/// The time limits every SDK client of rolecall's keeps: connecting within 3 s, and a whole
/// call (retries included) within `overall`.
pub fn time_limits(overall: Duration) -> aws_smithy_types::timeout::TimeoutConfig {
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECONDS).min(overall))
        .operation_timeout(overall)
        .build()
}

/// Where the SSO portal is moved to, as aws-config's SSO client reads it (then a profile's
/// `endpoint_url`).
pub const SSO_ENDPOINT_VARIABLES: &[&str] = &["AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL"];

/// The overall time one STS call may take, retries included (a slow answer inside it is fine):
/// `ROLECALL_STS_TIMEOUT` seconds, else 10.
pub fn overall_timeout() -> Result<Duration> {
    let Some(text) = std::env::var("ROLECALL_STS_TIMEOUT")
        .ok()
        .filter(|t| !t.is_empty())
    else {
        return Ok(Duration::from_secs(DEFAULT_TIMEOUT_SECONDS));
    };
    match text.parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
        _ => Err(Failure::usage(format!(
            "ROLECALL_STS_TIMEOUT is `{}`; it must be a whole number of seconds, like 10",
            printable(&text)
        ))),
    }
}

/// A server certificate rustls refused, found in an error's text: rustls words every refusal
/// `invalid peer certificate: REASON`, REASON a variant name (`UnknownIssuer`) or words
/// ("certificate expired: …"). What to fix is then the trust store, the clock or the endpoint,
/// not the network.
pub struct CertificateRefusal<'a> {
    /// From `invalid peer certificate` on.
    pub reason: &'a str,
}

impl<'a> CertificateRefusal<'a> {
    const MARK: &'static str = "invalid peer certificate";

    pub fn find(detail: &'a str) -> Option<CertificateRefusal<'a>> {
        let at = detail.find(Self::MARK)?;
        Some(CertificateRefusal {
            reason: &detail[at..],
        })
    }

    pub fn advice(&self) -> &'static str {
        // Only the start of REASON counts: what follows may quote host names, which say anything.
        let reason = self.reason[Self::MARK.len()..].trim_start_matches([':', ' ']);
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| reason.starts_with(p));
        if starts(&[
            "NotValidYet",
            "certificate not valid yet",
            "certificate expired",
        ]) || (starts(&["Expired"]) && !starts(&["ExpiredRevocationList"]))
        {
            "check this machine's clock"
        } else if starts(&["NotValidForName", "certificate not valid for name"]) {
            "the certificate is for another host name: check the endpoint URL"
        } else if starts(&["UnknownIssuer"]) {
            "if a proxy re-signs HTTPS traffic, set SSL_CERT_FILE to a PEM file with its CA \
             certificate (rolecall then trusts that file instead of the system's store)"
        } else {
            "check the endpoint URL; the server's certificate is not one rolecall can accept"
        }
    }
}

/// A service rolecall calls through an SDK client, as messages name it: what it is, where it
/// was asked, the variable that moves it, and how long a call may take.
pub struct Service {
    /// "the SSO OIDC service", "the SSO portal".
    pub name: &'static str,
    /// The service's own endpoint variable, for the advice.
    pub variable: &'static str,
    pub endpoint: String,
    pub timeout: Duration,
}

impl Service {
    /// An answer that is not what `operation` returns: the endpoint is probably something else.
    pub fn malformed(&self, operation: &str) -> Failure {
        Failure::aws(format!(
            "{operation} at {} returned an answer rolecall cannot read; is that endpoint {}?",
            printable(&self.endpoint),
            self.name
        ))
    }

    /// A failed call, said in one line that names the endpoint and what to check. Nothing of
    /// the request (which may carry a token) and nothing unfiltered of the answer is quoted.
    pub fn explain<E>(
        &self,
        operation: &str,
        error: aws_smithy_runtime_api::client::result::SdkError<
            E,
            aws_smithy_runtime_api::http::Response,
        >,
    ) -> Failure
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        use aws_smithy_runtime_api::client::result::SdkError;
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        let (name, variable) = (self.name, self.variable);
        let endpoint = printable(&self.endpoint);
        let waited = self.timeout.as_secs();
        let silent = || {
            Failure::aws(format!(
                "{name} at {endpoint} did not answer {operation} within {waited}s; check your \
                 network or {variable}"
            ))
        };
        match &error {
            SdkError::TimeoutError(_) => silent(),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => silent(),
            SdkError::DispatchFailure(_) => {
                let detail = std::error::Error::source(&error)
                    .map(crate::error::describe_error)
                    .unwrap_or_default();
                if crate::error::quotes_a_request(&detail) {
                    return Failure::usage(format!(
                        "{operation} could not be sent to {endpoint}; check {variable} and \
                         AWS_ENDPOINT_URL"
                    ));
                }
                let detail = printable(&detail);
                if let Some(refused) = CertificateRefusal::find(&detail) {
                    return Failure::aws(format!(
                        "{name} at {endpoint} presented a certificate rolecall does not trust \
                         ({}); {}",
                        refused.reason,
                        refused.advice()
                    ));
                }
                Failure::aws(format!(
                    "{name} at {endpoint} could not be reached ({detail}); check your network \
                     or {variable}"
                ))
            }
            SdkError::ServiceError(_) => Failure::aws(format!(
                "{operation} at {endpoint} failed: {}: {}",
                printable(error.code().unwrap_or("an error without a code")),
                printable(error.message().unwrap_or(""))
            )),
            _ => Failure::aws(format!(
                "{operation} at {endpoint} returned an answer rolecall cannot read"
            )),
        }
    }
}

/// Runs STS work on a single-threaded runtime, started only when a call is needed.
pub fn block_on<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::local(format!("cannot start the network runtime: {e}")))?;
    let result = runtime.block_on(work);
    // A host name lookup outlives its time limit on a blocking thread; dropping the runtime
    // would wait for it. The answer is in: leave it behind.
    runtime.shutdown_background();
    result
}

/// Whether `url` names this machine's loopback, the one place plain http may carry a secret.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

pub type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<hyper::body::Bytes>,
>;

/// An HTTP(S) client that trusts what the SDK clients trust: the platform's certificates, or
/// `SSL_CERT_FILE`.
pub fn http_client() -> Result<HttpClient> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| Failure::local(format!("cannot load the trusted certificates: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(connector),
    )
}

#[cfg(test)]
mod tests {
    use super::CertificateRefusal;

    #[test]
    fn a_refused_certificate_gets_advice_for_its_reason() {
        let advice = |detail: &str| CertificateRefusal::find(detail).map(|r| r.advice());
        assert_eq!(advice("client error (Connect): connection refused"), None);
        for (detail, expected) in [
            (
                "TLS handshake failed: invalid peer certificate: UnknownIssuer",
                "SSL_CERT_FILE",
            ),
            (
                "invalid peer certificate: certificate expired: verification time 1, but \
                 certificate is not valid after 0",
                "clock",
            ),
            (
                "invalid peer certificate: certificate not valid yet: …",
                "clock",
            ),
            ("invalid peer certificate: NotValidYet", "clock"),
            ("invalid peer certificate: Expired", "clock"),
            (
                "invalid peer certificate: certificate not valid for name \"localhost\"",
                "another host name",
            ),
            (
                "invalid peer certificate: certificate not valid for name \"localhost\"; \
                 certificate is only valid for DnsName(\"expired.example.test\")",
                "another host name",
            ),
            (
                "invalid peer certificate: ExpiredRevocationList",
                "check the endpoint URL",
            ),
            (
                "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
                "check the endpoint URL",
            ),
        ] {
            let given = advice(detail).expect(detail);
            assert!(given.contains(expected), "{detail}: {given}");
        }
    }
}
