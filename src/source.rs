//! The first credentials of a chain, fetched from wherever the base profile says: static keys
//! as they are, everything else through aws-config's own providers.

use crate::config::Base;
use crate::error::{describe_error, printable, Failure, Result};
use crate::session::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::result::ConnectorError;
use std::time::UNIX_EPOCH;

/// A credential process or an SSO refresh may wait on a person (a password manager, a browser);
/// past this it is stuck, and rolecall says so rather than hang.
const SOURCE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn base_credentials(base: &Base) -> Result<Credentials> {
    match tokio::time::timeout(SOURCE_TIMEOUT, provide(base)).await {
        Ok(result) => result,
        Err(_) => Err(Failure::aws(format!(
            "{} did not answer within {}s\n  {}",
            base.describe(),
            SOURCE_TIMEOUT.as_secs(),
            base.renewal_hint()
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
    let credentials = provided.map_err(|e| {
        // Logging in again cannot help when the service that gives the credentials was not
        // reached at all.
        let hint = if reached_no_server(&e) {
            "nothing answered: check your network (and AWS_ENDPOINT_URL_* if you set one)".into()
        } else {
            base.renewal_hint()
        };
        Failure::aws(format!(
            "could not get {}: {}\n  {hint}",
            base.describe(),
            printable(&describe_error(&e)),
        ))
    })?;
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
