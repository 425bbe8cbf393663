//! The error table: every STS failure turned into what happened and what to do about it, in
//! the words of the call that failed (whose credentials, which role, how to renew them).

use super::net::CertificateRefusal;
use crate::error::{describe_error, printable, quotes_a_request, Failure};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response;
use std::time::Duration;

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
    /// For AssumeRoleWithWebIdentity: the token's claims in words (`webid::claims`), for a
    /// refusal to name what the trust policy must match.
    pub token_claims: Option<String>,
}

/// Where the failing call went, and how long it was allowed: both are in every message.
pub struct Call<'a> {
    pub endpoint: &'a str,
    pub timeout: Duration,
    pub context: &'a CallContext<'a>,
}

impl Call<'_> {
    /// A failure for an answer that is not STS's.
    pub fn malformed(&self, what: &str) -> Failure {
        Failure::aws(format!(
            "{} at {} returned an answer rolecall cannot read ({what}); is that endpoint STS?",
            self.context.operation,
            printable(self.endpoint)
        ))
    }

    pub fn explain<E>(&self, error: SdkError<E, Response>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let context = self.context;
        let waited = format!("{}s", self.timeout.as_secs());
        let endpoint = printable(self.endpoint);
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
                return self.malformed("the response did not parse");
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
            return self.malformed(&format!("an error without a code, HTTP {status}"));
        };
        let message = printable(error.message().unwrap_or(""));
        let server_date = error
            .raw_response()
            .and_then(|r| r.headers().get("date"))
            .and_then(super::clock::http_date);
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
            "AccessDenied" | "InvalidIdentityToken" | "IDPRejectedClaim"
                if context.token_claims.is_some() =>
            {
                let claims = context.token_claims.as_deref().unwrap_or_default();
                Failure::aws(format!(
                    "{} of {role} refused ({code}): the token says {claims}\n  the role's trust \
                     policy must allow that issuer (an OIDC identity provider in the role's \
                     account), audience and subject (STS: {message})",
                    context.operation
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
