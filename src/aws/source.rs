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

/// A credential process may wait on a person (a password manager, a hardware key); past this it
/// is stuck, and rolecall says so rather than hang, and ends it. The other sources are network
/// calls, held to the limit of an STS call.
const PROCESS_TIMEOUT_SECONDS: u64 = 60;

/// The variable that changes that limit (seconds).
pub const PROCESS_TIMEOUT_VARIABLE: &str = "ROLECALL_PROCESS_TIMEOUT";

fn process_timeout() -> Result<Duration> {
    match std::env::var(PROCESS_TIMEOUT_VARIABLE)
        .ok()
        .filter(|v| !v.is_empty())
    {
        None => Ok(Duration::from_secs(PROCESS_TIMEOUT_SECONDS)),
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
            _ => Err(Failure::usage(format!(
                "{PROCESS_TIMEOUT_VARIABLE} is `{}`; it must be a whole number of seconds, like 60",
                printable(&text)
            ))),
        },
    }
}

/// The credentials `base` names; `network_limit` bounds a call to a service for them. An SSO
/// base with `sso_token` asks the portal with that access token rather than through the file.
pub async fn base_credentials(
    base: &Base,
    network_limit: Duration,
    sso_token: Option<&str>,
) -> Result<Credentials> {
    let limit = match base {
        Base::Process { .. } => process_timeout()?,
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
/// stderr the person's) and reads its answer. The process is killed when this future is dropped,
/// so one that outlives the time limit does not go on after rolecall has given up on it (the
/// SDK's own runner leaves it running).
async fn run_process(base: &Base, command: &str, limit: Duration) -> Result<Credentials> {
    let failed = |why: String| {
        Failure::aws(format!(
            "could not get {}: {why}\n  {}",
            base.describe(),
            base.renewal_hint()
        ))
    };
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::piped())
        // Its words reach the person only inside rolecall's message, through the printable
        // filter, as they did through the SDK's runner.
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed(format!("cannot start it: {e}")))?;
    let pid = child.id();
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let finished = tokio::time::timeout(limit, async {
        let (mut out, mut said) = (Vec::new(), Vec::new());
        // Both at once: a process that fills one pipe while rolecall reads the other would wait.
        // Too long an answer ends the reading of both at once.
        let read = tokio::try_join!(
            async {
                match stdout.as_mut() {
                    Some(pipe) => read_answer(pipe, &mut out).await,
                    None => Ok(()),
                }
            },
            async {
                match stderr.as_mut() {
                    Some(pipe) => read_tail(pipe, &mut said).await.map_err(Unread::Lost),
                    None => Ok(()),
                }
            }
        );
        read?;
        let status = child.wait().await.map_err(Unread::Lost)?;
        Ok::<_, Unread>((status, out, said))
    })
    .await;
    // `sh -c` may have started the command as a child of its own: end them all while the shell
    // still stands, so they can be found as its descendants.
    let end_it = || {
        if let Some(pid) = pid {
            crate::os::kill_tree(pid as i32);
        }
    };
    let (status, stdout, said) = match finished {
        Ok(Ok(done)) => done,
        Ok(Err(Unread::Lost(e))) => return Err(failed(format!("lost track of it: {e}"))),
        Ok(Err(Unread::TooLong)) => {
            end_it();
            return Err(Failure::usage(format!(
                "{} printed more than {} KiB, far more than any credentials need, and was \
                 ended; fix what produces it",
                base.describe(),
                LONGEST_ANSWER_BYTES / 1024
            )));
        }
        Err(_) => {
            end_it();
            return Err(Failure::aws(format!(
                "{} did not answer within {}s, and was ended\n  {}",
                base.describe(),
                limit.as_secs(),
                base.renewal_hint()
            )));
        }
    };
    if !status.success() {
        let said = String::from_utf8_lossy(&said);
        let last: Vec<&str> = said.trim_end().lines().rev().take(3).collect();
        let words = match last.as_slice() {
            [] => String::new(),
            lines => {
                let shown: Vec<&str> = lines.iter().rev().copied().collect();
                format!(
                    ": {}",
                    printable(&shown.join(" / ").chars().take(400).collect::<String>())
                )
            }
        };
        return Err(failed(format!("it exited with {status}{words}")));
    }
    let answer: ProcessAnswer = serde_json::from_slice(&stdout)
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

/// Why a credential process's output was not read to its end.
enum Unread {
    Lost(std::io::Error),
    TooLong,
}

/// The answer on the process's stdout, refused once longer than `LONGEST_ANSWER_BYTES`.
async fn read_answer(
    pipe: &mut tokio::process::ChildStdout,
    out: &mut Vec<u8>,
) -> Result<(), Unread> {
    use tokio::io::AsyncReadExt;
    let limit = LONGEST_ANSWER_BYTES as u64 + 1;
    pipe.take(limit)
        .read_to_end(out)
        .await
        .map_err(Unread::Lost)?;
    if out.len() > LONGEST_ANSWER_BYTES {
        return Err(Unread::TooLong);
    }
    Ok(())
}

/// The process's stderr read to its end, keeping no more than its last `LONGEST_ANSWER_BYTES`
/// or so: only its last lines are shown.
async fn read_tail(
    pipe: &mut tokio::process::ChildStderr,
    said: &mut Vec<u8>,
) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 8192];
    loop {
        let read = pipe.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        said.extend_from_slice(&chunk[..read]);
        if said.len() > 2 * LONGEST_ANSWER_BYTES {
            said.drain(..said.len() - LONGEST_ANSWER_BYTES);
        }
    }
}

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
