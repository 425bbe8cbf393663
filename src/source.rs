//! The first credentials of a chain, fetched from wherever the base profile says: static keys
//! as they are, everything else through aws-config's own providers.

use crate::config::Base;
use crate::error::{describe_error, printable, Failure, Result};
use crate::session::Credentials;
use crate::sts::CertificateRefusal;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::result::ConnectorError;
use std::time::UNIX_EPOCH;

/// A credential process may wait on a person (a password manager, a hardware key); past this it
/// is stuck, and rolecall says so rather than hang. The other sources are network calls, bounded
/// like STS calls.
const PROCESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn base_credentials(base: &Base) -> Result<Credentials> {
    let limit = match base {
        Base::Process { .. } => PROCESS_TIMEOUT,
        _ => crate::sts::overall_timeout()?,
    };
    if let Base::Sso { .. } = base {
        crate::sts::check_endpoint_variables(&["AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL"])?;
    }
    match tokio::time::timeout(limit, provide(base)).await {
        Ok(result) => result,
        Err(_) => Err(Failure::aws(format!(
            "{} did not answer within {}s\n  {}",
            base.describe(),
            limit.as_secs(),
            base.unreachable_hint()
        ))),
    }
}

async fn provide(base: &Base) -> Result<Credentials> {
    let provided = match base {
        Base::Static { credentials, .. } | Base::Environment { credentials } => {
            return Ok(credentials.clone())
        }
        Base::Process { command, .. } => {
            aws_config::credential_process::CredentialProcessProvider::new(command.clone())
                .provide_credentials()
                .await
        }
        Base::Sso { profile } => {
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build()
                .provide_credentials()
                .await
        }
        Base::CredentialSource { source, .. } => match source.as_str() {
            "Ec2InstanceMetadata" => {
                aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                    .build()
                    .provide_credentials()
                    .await
            }
            _ => {
                aws_config::ecs::EcsCredentialsProvider::builder()
                    .build()
                    .provide_credentials()
                    .await
            }
        },
    };
    let credentials = provided.map_err(|e| explain(base, &e))?;
    Ok(Credentials {
        access_key_id: credentials.access_key_id().to_string(),
        secret_access_key: credentials.secret_access_key().to_string(),
        session_token: credentials.session_token().map(String::from),
        expires: credentials
            .expiry()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64),
    })
}

/// Why a base gave no credentials, and what to do about it.
fn explain(base: &Base, error: &CredentialsError) -> Failure {
    let detail = describe_error(error);
    // Some SDK errors quote the request they could not send, bearer tokens included: never print
    // one. (The endpoint variables are checked beforehand; an endpoint_url in the config is not.)
    if detail.contains("Request {") {
        return Failure::aws(format!(
            "could not get {}: the request for them could not be built; check the endpoint_url \
             settings of your config and the AWS_ENDPOINT_URL variables",
            base.describe()
        ));
    }
    let detail = printable(&detail);
    let hint = if let Some(refused) = CertificateRefusal::find(&detail) {
        refused.advice().to_string()
    } else if reached_no_server(error) {
        base.unreachable_hint()
    } else {
        base.renewal_hint()
    };
    Failure::aws(format!(
        "could not get {}: {detail}\n  {hint}",
        base.describe()
    ))
}

/// Whether a provider failed because it could not connect to, or hear back from, its service.
fn reached_no_server(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(connector) = current.downcast_ref::<ConnectorError>() {
            return connector.is_io() || connector.is_timeout();
        }
        cause = current.source();
    }
    false
}
