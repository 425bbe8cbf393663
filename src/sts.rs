//! The STS calls rolecall makes, with the timeouts that keep a silent endpoint from hanging a
//! shell, and the translation of every STS failure into a message a person can act on.

use crate::config::Hop;
use crate::error::{describe_error, printable, quotes_a_request, Failure, Result};
use crate::session::Credentials;
use aws_credential_types::Credentials as SdkCredentials;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::time::Duration;

/// STS's default when no region is known; the global endpoint answers for every account.
const FALLBACK_REGION: &str = "us-east-1";
const DEFAULT_TIMEOUT_SECONDS: u64 = 10;
const CONNECT_TIMEOUT_SECONDS: u64 = 3;

pub struct Sts {
    client: aws_sdk_sts::Client,
    endpoint: String,
    timeout: Duration,
}

/// The endpoint override the AWS SDKs honour, so tests and local STS peers work unchanged.
pub fn endpoint_override() -> Option<String> {
    set_endpoint_variable(STS_ENDPOINT_VARIABLES).map(|(_, url)| url)
}

const STS_ENDPOINT_VARIABLES: &[&str] = &["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"];

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

/// The overall time one STS call may take, retries included (a slow answer inside it is fine):
/// `ROLECALL_STS_TIMEOUT` seconds, else 10.
fn overall_timeout() -> Result<Duration> {
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

/// Runs STS work on a single-threaded runtime, started only when a call is needed.
pub fn block_on<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::aws(format!("cannot start the network runtime: {e}")))?
        .block_on(work)
}

/// What a failing call was doing, so its error can name the people and things involved.
pub struct CallContext<'a> {
    /// `AssumeRole` or `GetSessionToken`.
    pub operation: &'static str,
    pub role_arn: Option<&'a str>,
    /// Whose credentials signed the call, in words.
    pub caller: String,
    /// How to renew the caller's credentials when STS says they expired.
    pub renewal: String,
    /// When the caller's credentials expire, if known.
    pub caller_expires: Option<i64>,
    pub used_mfa: bool,
    pub chained: bool,
    pub duration_seconds: Option<i64>,
}

impl Sts {
    pub fn new(region: Option<&str>) -> Result<Sts> {
        let timeout = overall_timeout()?;
        let endpoint = checked_endpoint(STS_ENDPOINT_VARIABLES)?;
        let region = region.unwrap_or(FALLBACK_REGION).to_string();
        let mut builder = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECONDS).min(timeout))
                    .operation_timeout(timeout)
                    .build(),
            );
        if let Some(url) = &endpoint {
            builder = builder.endpoint_url(url.clone());
        }
        Ok(Sts {
            client: aws_sdk_sts::Client::from_conf(builder.build()),
            endpoint: endpoint.unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com")),
            timeout,
        })
    }

    /// The limit on one call, retries included; the other network sources of credentials
    /// (an SSO portal, instance or container credentials) are held to it too.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn signed_by(credentials: &Credentials) -> aws_sdk_sts::config::Builder {
        aws_sdk_sts::Config::builder().credentials_provider(SdkCredentials::new(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
            credentials.session_token.clone(),
            None,
            "rolecall",
        ))
    }

    pub async fn assume_role(
        &self,
        credentials: &Credentials,
        hop: &Hop,
        mfa: Option<(&str, &str)>,
        context: &CallContext<'_>,
    ) -> Result<Credentials> {
        let duration = hop
            .duration_seconds
            .map(|d| i32::try_from(d).unwrap_or(i32::MAX))
            .unwrap_or(3600);
        let mut request = self
            .client
            .assume_role()
            .role_arn(&hop.role_arn)
            .role_session_name(&hop.session_name)
            .duration_seconds(duration)
            .set_external_id(hop.external_id.clone());
        if let Some((serial, code)) = mfa {
            request = request.serial_number(serial).token_code(code);
        }
        let output = request
            .customize()
            .config_override(Self::signed_by(credentials))
            .send()
            .await
            .map_err(|e| self.explain(e, context))?;
        output
            .credentials()
            .and_then(convert)
            .ok_or_else(|| self.malformed(context, "no complete, unexpired credentials in it"))
    }

    pub async fn get_session_token(
        &self,
        credentials: &Credentials,
        serial: &str,
        code: &str,
        context: &CallContext<'_>,
    ) -> Result<Credentials> {
        let output = self
            .client
            .get_session_token()
            .serial_number(serial)
            .token_code(code)
            .customize()
            .config_override(Self::signed_by(credentials))
            .send()
            .await
            .map_err(|e| self.explain(e, context))?;
        output
            .credentials()
            .and_then(convert)
            .ok_or_else(|| self.malformed(context, "no complete, unexpired credentials in it"))
    }

    /// The ARN STS says these credentials belong to.
    pub async fn get_caller_identity(
        &self,
        credentials: &Credentials,
        label: &str,
    ) -> Result<String> {
        self.identity_and_clock(credentials, label)
            .await
            .map(|(arn, _)| arn)
    }

    /// The caller's ARN, and how far the local clock is ahead of STS's `Date` header (seconds).
    pub async fn identity_and_clock(
        &self,
        credentials: &Credentials,
        label: &str,
    ) -> Result<(String, Option<i64>)> {
        let server_date = DateRecorder::default();
        let context = CallContext {
            operation: "GetCallerIdentity",
            role_arn: None,
            caller: format!("the credentials of {}", printable(label)),
            renewal: format!("run assume {} again", printable(label)),
            caller_expires: credentials.expires,
            used_mfa: false,
            chained: false,
            duration_seconds: None,
        };
        let output = self
            .client
            .get_caller_identity()
            .customize()
            .config_override(Self::signed_by(credentials))
            .interceptor(server_date.clone())
            .send()
            .await
            .map_err(|e| self.explain(e, &context))?;
        let arn = output
            .arn()
            .map(String::from)
            .ok_or_else(|| self.malformed(&context, "no ARN in the answer"))?;
        let offset = server_date.seconds().map(|date| crate::time::now() - date);
        Ok((arn, offset))
    }

    fn malformed(&self, context: &CallContext<'_>, what: &str) -> Failure {
        Failure::aws(format!(
            "{} at {} returned an answer rolecall cannot read ({what}); is that endpoint STS?",
            context.operation,
            printable(&self.endpoint)
        ))
    }

    fn explain<E>(&self, error: SdkError<E, Response>, context: &CallContext<'_>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let waited = format!("{}s", self.timeout.as_secs());
        let endpoint = printable(&self.endpoint);
        match &error {
            SdkError::TimeoutError(_) => {
                return Failure::aws(format!(
                    "STS at {endpoint} did not answer within {waited}; check your network or \
                     AWS_ENDPOINT_URL_STS (ROLECALL_STS_TIMEOUT sets the limit)"
                ))
            }
            SdkError::DispatchFailure(failure) => {
                let reason = if failure.is_timeout() {
                    format!("did not answer within {waited}")
                } else {
                    let detail = std::error::Error::source(&error)
                        .map(|s| printable(&describe_error(s)))
                        .unwrap_or_default();
                    if quotes_a_request(&detail) {
                        return Failure::usage(format!(
                            "{} could not be sent to STS at {endpoint}: the request could not be \
                             built; check AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL",
                            context.operation
                        ));
                    }
                    if let Some(refused) = CertificateRefusal::find(&detail) {
                        return Failure::aws(format!(
                            "STS at {endpoint} presented a certificate rolecall does not trust \
                             ({}); {}",
                            refused.reason,
                            refused.advice()
                        ));
                    }
                    format!("could not be reached ({detail})")
                };
                return Failure::aws(format!(
                    "STS at {endpoint} {reason}; check your network or AWS_ENDPOINT_URL_STS"
                ));
            }
            SdkError::ResponseError(_) => {
                return self.malformed(context, "the response did not parse");
            }
            SdkError::ServiceError(_) => {}
            // Other failures carry the request in their text, secrets included: never print it.
            _ => {
                return Failure::aws(format!(
                    "{} could not be sent to STS at {endpoint}; check AWS_ENDPOINT_URL_STS and the \
                     region",
                    context.operation
                ))
            }
        }
        let Some(code) = error.code().map(String::from) else {
            let status = error
                .raw_response()
                .map(|r| r.status().as_u16().to_string())
                .unwrap_or_default();
            return self.malformed(context, &format!("an error without a code, HTTP {status}"));
        };
        let message = printable(error.message().unwrap_or(""));
        let server_date = error
            .raw_response()
            .and_then(|r| r.headers().get("date"))
            .and_then(http_date);
        let role = context.role_arn.map(printable).unwrap_or_default();
        self.explain_service_error(&code, &message, server_date, &role, context)
            .with_code(&code)
    }

    fn explain_service_error(
        &self,
        code: &str,
        message: &str,
        server_date: Option<i64>,
        role: &str,
        context: &CallContext<'_>,
    ) -> Failure {
        let caller = &context.caller;
        match code {
            "AccessDenied" if message.contains("MultiFactorAuthentication") => {
                Failure::aws(format!(
                    "the MFA code was rejected: it was wrong or already used; wait for the next \
                     code and try again\n  (STS: {message})"
                ))
            }
            "AccessDenied" => {
                let who = message
                    .split_whitespace()
                    .skip_while(|w| *w != "User:")
                    .nth(1)
                    .map(|arn| format!("{arn} ({caller})"))
                    .unwrap_or_else(|| caller.clone());
                let mfa = if context.used_mfa {
                    ""
                } else {
                    " (and, if the policy asks for MFA, set mfa_serial on the profile)"
                };
                Failure::aws(format!(
                    "access denied: {who} may not assume {role}\n  the role's trust policy must \
                     allow that caller{mfa}"
                ))
            }
            "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
                let when = context
                    .caller_expires
                    .map(|t| format!(" at {}", crate::time::rfc3339(t)))
                    .unwrap_or_default();
                Failure::aws(format!(
                    "{caller} expired{when}; renew them: {}",
                    context.renewal
                ))
            }
            "InvalidClientTokenId" | "SignatureDoesNotMatch" | "IncompleteSignature" => {
                let skew = server_date
                    .map(|d| crate::time::now() - d)
                    .filter(|s| s.abs() > 300)
                    .map(|s| {
                        format!(
                            "\n  your clock is {}s {} STS's; fix the system time and try again",
                            s.abs(),
                            if s > 0 { "ahead of" } else { "behind" }
                        )
                    })
                    .unwrap_or_default();
                Failure::aws(format!(
                    "STS rejected {caller} ({code}): the keys are wrong or revoked; {}{skew}",
                    context.renewal
                ))
            }
            "ValidationError"
                if message.contains("DurationSeconds") || message.contains("duration") =>
            {
                let asked = context
                    .duration_seconds
                    .map(|d| format!(" of {}", crate::time::format_duration(d)))
                    .unwrap_or_default();
                let chained = if context.chained {
                    "; AWS caps chained roles (assumed with another role's credentials) at 1h"
                } else {
                    ""
                };
                Failure::aws(format!(
                    "the duration{asked} is longer than {role} allows: use a shorter -d or raise \
                     the role's maximum session duration{chained}\n  (STS: {message})"
                ))
            }
            _ => Failure::aws(format!(
                "{} {role} failed: {}: {message}",
                context.operation,
                printable(code)
            )),
        }
    }
}

/// The SDK's parser fills missing fields with defaults, so an answer that is XML but not really
/// credentials must be caught here; so must one no shell could hold (a NUL byte).
fn convert(creds: &aws_sdk_sts::types::Credentials) -> Option<Credentials> {
    let expires = creds.expiration().secs();
    let complete = !creds.access_key_id().is_empty()
        && !creds.secret_access_key().is_empty()
        && !creds.session_token().is_empty()
        && expires > crate::time::now();
    let credentials = complete.then(|| Credentials {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: creds.secret_access_key().to_string(),
        session_token: Some(creds.session_token().to_string()),
        expires: Some(expires),
    })?;
    credentials
        .field_with_nul()
        .is_none()
        .then_some(credentials)
}

/// Remembers the `Date` header of a response, to measure the local clock against STS's.
#[derive(Clone, Debug, Default)]
struct DateRecorder(std::sync::Arc<std::sync::Mutex<Option<i64>>>);

impl DateRecorder {
    fn seconds(&self) -> Option<i64> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl aws_sdk_sts::config::Intercept for DateRecorder {
    fn name(&self) -> &'static str {
        "DateRecorder"
    }

    fn read_after_transmit(
        &self,
        context: &aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_sts::config::RuntimeComponents,
        _cfg: &mut aws_sdk_sts::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let date = context.response().headers().get("date").and_then(http_date);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = date;
        Ok(())
    }
}

/// Unix seconds from an HTTP `Date` header (`Sun, 29 Nov 2026 07:02:16 GMT`).
fn http_date(value: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|d| d.timestamp())
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
