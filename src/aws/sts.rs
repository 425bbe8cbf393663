//! The STS calls rolecall makes, with the timeouts that keep a silent endpoint from hanging a
//! shell. What their failures mean is `explain`'s.

use super::clock::DateRecorder;
use super::explain::{Call, CallContext};
use super::net::{checked_endpoint, overall_timeout, retries, time_limits, STS_ENDPOINT_VARIABLES};
use crate::error::{printable, Failure, Result};
use crate::profile::Hop;
use crate::session::Credentials;
use aws_credential_types::Credentials as SdkCredentials;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response;
use std::time::Duration;

/// STS's default when no region is known; the global endpoint answers for every account.
const FALLBACK_REGION: &str = "us-east-1";

pub struct Sts {
    client: aws_sdk_sts::Client,
    endpoint: String,
    timeout: Duration,
}

impl Sts {
    pub fn new(region: Option<&str>) -> Result<Sts> {
        let timeout = overall_timeout()?;
        let endpoint = checked_endpoint(STS_ENDPOINT_VARIABLES)?;
        let region = region.unwrap_or(FALLBACK_REGION).to_string();
        let mut builder = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .retry_config(retries())
            .timeout_config(time_limits(timeout));
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
        let mut request = self
            .client
            .assume_role()
            .role_arn(&hop.role_arn)
            .role_session_name(&hop.session_name)
            .duration_seconds(duration_of(hop))
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
        self.issued(output.credentials(), context)
    }

    /// AssumeRoleWithWebIdentity: unsigned (the client holds no credentials), the token its
    /// only proof.
    pub async fn assume_role_with_web_identity(
        &self,
        token: &str,
        hop: &Hop,
        context: &CallContext<'_>,
    ) -> Result<Credentials> {
        let output = self
            .client
            .assume_role_with_web_identity()
            .role_arn(&hop.role_arn)
            .role_session_name(&hop.session_name)
            .web_identity_token(token)
            .duration_seconds(duration_of(hop))
            .send()
            .await
            .map_err(|e| self.explain(e, context))?;
        self.issued(output.credentials(), context)
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
        self.issued(output.credentials(), context)
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
            token_claims: None,
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

    fn call<'a>(&'a self, context: &'a CallContext<'a>) -> Call<'a> {
        Call {
            endpoint: &self.endpoint,
            timeout: self.timeout,
            context,
        }
    }

    fn explain<E>(&self, error: SdkError<E, Response>, context: &CallContext<'_>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.call(context).explain(error)
    }

    /// The credentials an answer carries, or why they cannot be used.
    fn issued(
        &self,
        answer: Option<&aws_sdk_sts::types::Credentials>,
        context: &CallContext<'_>,
    ) -> Result<Credentials> {
        let credentials = answer
            .and_then(convert)
            .ok_or_else(|| self.malformed(context, "no complete credentials in it"))?;
        match credentials.unfit(crate::time::now()) {
            None => Ok(credentials),
            Some(why) => Err(self.malformed(context, &format!("it gave {why}"))),
        }
    }

    fn malformed(&self, context: &CallContext<'_>, what: &str) -> Failure {
        self.call(context).malformed(what)
    }
}

/// The session length a hop asks for: its own, else STS's default hour.
fn duration_of(hop: &Hop) -> i32 {
    hop.duration_seconds
        .map(|d| i32::try_from(d).unwrap_or(i32::MAX))
        .unwrap_or(3600)
}

/// The SDK's parser fills missing fields with defaults, so an answer that is XML but not really
/// credentials must be caught here.
fn convert(creds: &aws_sdk_sts::types::Credentials) -> Option<Credentials> {
    let complete = !creds.access_key_id().is_empty()
        && !creds.secret_access_key().is_empty()
        && !creds.session_token().is_empty();
    complete.then(|| Credentials {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: creds.secret_access_key().to_string(),
        session_token: Some(creds.session_token().to_string()),
        expires: Some(creds.expiration().secs()),
    })
}
