//! The first credentials of a chain, fetched from wherever the base profile says: static keys
//! as they are, everything else through aws-config's own providers.

use super::net::{
    checked_endpoint, set_endpoint_variable, CertificateRefusal, SSO_ENDPOINT_VARIABLES,
};
use crate::error::{describe_error, printable, quotes_a_request, Failure, Result};
use crate::profile::Base;
use crate::session::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::result::ConnectorError;
use std::time::{Duration, UNIX_EPOCH};

/// The credentials `base` names; `network_limit` bounds a call to a service for them. An SSO
/// base with `sso_token` asks the portal with that access token rather than through the file.
pub async fn base_credentials(
    base: &Base,
    network_limit: Duration,
    sso_token: Option<&str>,
) -> Result<Credentials> {
    let limit = match base {
        Base::Process { .. } => crate::process::timeout()?,
        _ => network_limit,
    };
    if let Base::Sso { .. } = base {
        checked_endpoint(SSO_ENDPOINT_VARIABLES)?;
    }
    // A process is timed by its runner, which ends it (and what it started) when it is late.
    let provided = match base {
        Base::Process { command, .. } => Ok(run_process(base, command, limit).await),
        _ => tokio::time::timeout(limit, provide(base, sso_token)).await,
    };
    match provided {
        Ok(Ok(credentials)) => match credentials.unfit(crate::time::now()) {
            None => Ok(credentials),
            Some(why) => Err(Failure::usage(format!(
                "{} gave {why}; fix what produces it",
                base.describe()
            ))),
        },
        Ok(Err(failure)) => Err(failure),
        Err(_) => Err(Failure::aws(format!(
            "{} did not answer within {}s\n  {}",
            base.describe(),
            limit.as_secs(),
            unreachable_hint(base)
        ))),
    }
}

async fn provide(base: &Base, sso_token: Option<&str>) -> Result<Credentials> {
    if let (
        Base::Sso {
            profile,
            login,
            account_id,
            role_name,
        },
        Some(token),
    ) = (base, sso_token)
    {
        let missing = |setting: &str| {
            Failure::usage(format!(
                "profile `{}` has no {setting}; an SSO profile needs sso_account_id and \
                 sso_role_name",
                printable(profile)
            ))
        };
        let account_id = account_id
            .as_deref()
            .ok_or_else(|| missing("sso_account_id"))?;
        let role_name = role_name
            .as_deref()
            .ok_or_else(|| missing("sso_role_name"))?;
        let portal = crate::sso::portal::Portal::new(login, token)?;
        return portal.role_credentials(account_id, role_name).await;
    }
    let provided = match base {
        Base::Static { credentials, .. } | Base::Environment { credentials } => {
            return Ok(credentials.clone())
        }
        Base::Process { .. } => unreachable!("processes are run by run_process"),
        Base::WebIdentity { .. } => {
            return Err(Failure::local(
                "a web identity token is turned into credentials by its first hop",
            ))
        }
        // The engine reads the keyring before anything else (`keys::load`).
        Base::Keyring { credentials, .. } => {
            return credentials.clone().ok_or_else(|| {
                Failure::local(format!("{} was not read from the keyring", base.describe()))
            })
        }
        Base::Sso { profile, .. } => {
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

/// Runs a `credential_process` as the AWS SDKs do (`sh -c COMMAND`, its stdout the JSON, its
/// stdin the person's) and reads its answer; the runner ends it when it is late (the SDK's own
/// runner leaves it running).
async fn run_process(base: &Base, command: &str, limit: Duration) -> Result<Credentials> {
    use crate::process::Unfinished;
    let failed = |why: String| {
        Failure::aws(format!(
            "could not get {}: {why}\n  {}",
            base.describe(),
            base.renewal_hint()
        ))
    };
    let run = crate::process::run(
        "sh",
        &["-c", command],
        std::process::Stdio::inherit(),
        false,
        limit,
        LONGEST_ANSWER_BYTES,
    )
    .await;
    let finished = match run {
        Ok(finished) => finished,
        Err(Unfinished::CannotStart(e)) => return Err(failed(format!("cannot start it: {e}"))),
        Err(Unfinished::Lost(e)) => return Err(failed(format!("lost track of it: {e}"))),
        Err(Unfinished::TooLong) => {
            return Err(Failure::usage(format!(
                "{} printed more than {} KiB, far more than any credentials need, and was \
                 ended; fix what produces it",
                base.describe(),
                LONGEST_ANSWER_BYTES / 1024
            )));
        }
        Err(Unfinished::Late) => {
            return Err(Failure::aws(format!(
                "{} did not answer within {}s, and was ended\n  {}",
                base.describe(),
                limit.as_secs(),
                base.renewal_hint()
            )));
        }
    };
    if !finished.status.success() {
        return Err(failed(format!(
            "it exited with {}{}",
            finished.status,
            finished.last_words()
        )));
    }
    let answer: ProcessAnswer = serde_json::from_slice(&finished.stdout)
        .map_err(|_| failed("its output is not the credential_process JSON (Version 1)".into()))?;
    if answer.version != 1 {
        return Err(failed(format!(
            "its output has Version {}, and only Version 1 exists",
            answer.version
        )));
    }
    let expires = match &answer.expiration {
        None => None,
        Some(text) => Some(crate::time::parse_rfc3339(text).ok_or_else(|| {
            failed(format!(
                "its Expiration `{}` is not an RFC 3339 time",
                printable(text)
            ))
        })?),
    };
    Ok(Credentials {
        access_key_id: answer.access_key_id,
        secret_access_key: answer.secret_access_key,
        session_token: answer.session_token.filter(|t| !t.is_empty()),
        expires,
    })
}

/// The most of a credential process's answer read: its three values at their longest
/// (`LONGEST_FIELD_BYTES` each, escaped as JSON may escape them) fit well within it.
const LONGEST_ANSWER_BYTES: usize = 64 * 1024;

/// What a credential process prints.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessAnswer {
    version: u32,
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    session_token: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
}

/// Why a base gave no credentials, and what to do about it.
fn explain(base: &Base, error: &CredentialsError) -> Failure {
    let detail = describe_error(error);
    // A credential_process's own words (its stderr) are fine to show; an SDK error that quotes
    // its request is not.
    if quotes_a_request(&detail) && !matches!(base, Base::Process { .. }) {
        return Failure::usage(format!(
            "could not get {}: the request for them could not be built; check the endpoint_url \
             settings of your config and the AWS_ENDPOINT_URL variables",
            base.describe()
        ));
    }
    let detail = printable(&detail);
    let hint = if let Some(refused) = CertificateRefusal::find(&detail) {
        refused.advice().to_string()
    } else if reached_no_server(error) {
        unreachable_hint(base)
    } else {
        base.renewal_hint()
    };
    Failure::aws(format!(
        "could not get {}: {detail}\n  {hint}",
        base.describe()
    ))
}

/// What to check when the service that gives a base its credentials did not answer.
fn unreachable_hint(base: &Base) -> String {
    match base {
        Base::Sso { .. } => match set_endpoint_variable(SSO_ENDPOINT_VARIABLES) {
            Some((name, url)) => format!(
                "check your network, and {name} (the portal was asked at {})",
                printable(&url)
            ),
            None => "check your network".into(),
        },
        Base::CredentialSource { source, .. } if source == "Ec2InstanceMetadata" => {
            "is this an EC2 instance with a role? (AWS_EC2_METADATA_SERVICE_ENDPOINT says where \
             its metadata service is)"
                .into()
        }
        Base::CredentialSource { .. } => "is this an ECS task with a task role?".into(),
        _ => base.renewal_hint(),
    }
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
