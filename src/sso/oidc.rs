//! The IAM Identity Center OIDC service, through the SDK's own client: registering rolecall as a
//! public client, the device authorization, and the three ways to get a token (device code,
//! authorization code with PKCE, refresh token). Every failure is said in one line that names
//! the endpoint; nothing the server sends reaches a terminal unfiltered.

use crate::aws::net::{checked_endpoint, overall_timeout, retries, time_limits, Service};
use crate::error::{Failure, Result};
use aws_sdk_ssooidc::config::{BehaviorVersion, Region};
use aws_sdk_ssooidc::error::ProvideErrorMetadata;

/// Where the OIDC service is moved to, as the SDKs read it.
pub const OIDC_ENDPOINT_VARIABLES: &[&str] = &["AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL"];

/// The name rolecall registers under, as the AWS CLI's `botocore-client-…` names its own.
const CLIENT_NAME_PREFIX: &str = "rolecall-client";

pub struct Oidc {
    client: aws_sdk_ssooidc::Client,
    /// For messages; its endpoint is also where the browser is sent.
    pub service: Service,
}

/// A client registration: what every token call names.
#[derive(Debug, Clone)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    /// Unix seconds.
    pub expires: i64,
}

/// A device authorization under way.
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: i64,
    pub interval: i64,
}

/// What a token call hands back.
pub struct Issued {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

/// How a token is asked for.
pub enum Grant<'a> {
    Device(&'a str),
    Code {
        code: &'a str,
        redirect_uri: &'a str,
        verifier: &'a str,
    },
    Refresh(&'a str),
}

/// Why a token call gave no token. The first two mean "ask again"; the others need a person.
#[derive(Debug)]
pub enum Refusal {
    /// `AuthorizationPendingException`: the person has not approved yet.
    Pending,
    /// `SlowDownException`: poll less often.
    SlowDown,
    /// `InvalidClientException`: the registration is stale; register again.
    InvalidClient,
    /// `InvalidGrantException`: the refresh token (or code) is no longer good.
    InvalidGrant,
    /// `ExpiredTokenException`: the device code expired before it was approved.
    Expired,
    /// `AccessDeniedException`: the person declined.
    Denied,
    /// Anything else, explained.
    Failed(Failure),
}

impl Oidc {
    pub fn new(region: &str) -> Result<Oidc> {
        let timeout = overall_timeout()?;
        let endpoint = checked_endpoint(OIDC_ENDPOINT_VARIABLES)?;
        let mut builder = aws_sdk_ssooidc::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(retries())
            .timeout_config(time_limits(timeout));
        if let Some(url) = &endpoint {
            builder = builder.endpoint_url(url.clone());
        }
        Ok(Oidc {
            client: aws_sdk_ssooidc::Client::from_conf(builder.build()),
            service: Service {
                name: "the SSO OIDC service",
                variable: OIDC_ENDPOINT_VARIABLES[0],
                endpoint: endpoint.unwrap_or_else(|| {
                    // The browser is sent to this host itself, so it follows the partition.
                    let domain = if region.starts_with("cn-") {
                        "amazonaws.com.cn"
                    } else {
                        "amazonaws.com"
                    };
                    format!("https://oidc.{region}.{domain}")
                }),
                timeout,
            },
        })
    }

    /// The browser's page for the authorization code flow.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.service.endpoint.trim_end_matches('/'))
    }

    /// Registers rolecall as a public client for `grants` (none: the plain device flow of a
    /// legacy profile), with `redirect_uri` for the authorization code flow.
    pub async fn register(
        &self,
        label: &str,
        scopes: &[String],
        start_url: &str,
        grants: &[&str],
        redirect_uri: Option<&str>,
    ) -> Result<Registration> {
        let mut request = self
            .client
            .register_client()
            .client_name(format!("{CLIENT_NAME_PREFIX}-{label}"))
            .client_type("public")
            .set_scopes(Some(scopes.to_vec()))
            .set_redirect_uris(redirect_uri.map(|uri| vec![uri.to_string()]));
        if !grants.is_empty() {
            request = request
                .set_grant_types(Some(grants.iter().map(|g| g.to_string()).collect()))
                .issuer_url(start_url);
        }
        let output = request
            .send()
            .await
            .map_err(|e| self.service.explain("RegisterClient", e))?;
        // A registration without a future expiry would be written as a date no tool can use.
        let expires = output.client_secret_expires_at();
        match (output.client_id(), output.client_secret()) {
            (Some(id), Some(secret)) if expires > crate::time::now() => Ok(Registration {
                client_id: id.to_string(),
                client_secret: secret.to_string(),
                expires,
            }),
            _ => Err(self.service.malformed("RegisterClient")),
        }
    }

    pub async fn start_device_authorization(
        &self,
        registration: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization> {
        let output = self
            .client
            .start_device_authorization()
            .client_id(&registration.client_id)
            .client_secret(&registration.client_secret)
            .start_url(start_url)
            .send()
            .await
            .map_err(|e| self.service.explain("StartDeviceAuthorization", e))?;
        match (
            output.device_code(),
            output.user_code(),
            output.verification_uri(),
        ) {
            (Some(device_code), Some(user_code), Some(uri)) => Ok(DeviceAuthorization {
                device_code: device_code.to_string(),
                user_code: user_code.to_string(),
                verification_uri: uri.to_string(),
                verification_uri_complete: output.verification_uri_complete().map(String::from),
                expires_in: i64::from(output.expires_in()),
                // RFC 8628's default when the server names none; never more than a minute.
                interval: match i64::from(output.interval()) {
                    0 => 5,
                    given => given.clamp(1, 60),
                },
            }),
            _ => Err(self.service.malformed("StartDeviceAuthorization")),
        }
    }

    pub async fn create_token(
        &self,
        registration: &Registration,
        grant: &Grant<'_>,
    ) -> std::result::Result<Issued, Refusal> {
        let request = self
            .client
            .create_token()
            .client_id(&registration.client_id)
            .client_secret(&registration.client_secret);
        let request = match grant {
            Grant::Device(code) => request
                .grant_type("urn:ietf:params:oauth:grant-type:device_code")
                .device_code(*code),
            Grant::Code {
                code,
                redirect_uri,
                verifier,
            } => request
                .grant_type("authorization_code")
                .code(*code)
                .redirect_uri(*redirect_uri)
                .code_verifier(*verifier),
            Grant::Refresh(token) => request.grant_type("refresh_token").refresh_token(*token),
        };
        let output = match request.send().await {
            Ok(output) => output,
            Err(error) => {
                let code = error.code().map(String::from);
                return Err(match code.as_deref() {
                    Some("AuthorizationPendingException") => Refusal::Pending,
                    Some("SlowDownException") => Refusal::SlowDown,
                    Some("InvalidClientException") => Refusal::InvalidClient,
                    Some("InvalidGrantException") => Refusal::InvalidGrant,
                    Some("ExpiredTokenException") => Refusal::Expired,
                    Some("AccessDeniedException") => Refusal::Denied,
                    _ => Refusal::Failed(self.service.explain("CreateToken", error)),
                });
            }
        };
        match output.access_token() {
            Some(token) if !token.is_empty() && output.expires_in() > 0 => Ok(Issued {
                access_token: token.to_string(),
                expires_in: i64::from(output.expires_in()),
                refresh_token: output.refresh_token().map(String::from),
            }),
            _ => Err(Refusal::Failed(self.service.malformed("CreateToken"))),
        }
    }
}
