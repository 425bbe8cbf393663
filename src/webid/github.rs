//! GitHub Actions: the job's OIDC token from its token endpoint, and handing credentials to the
//! job's later steps through `$GITHUB_ENV` with the secrets masked in its log.

use crate::env::Env;
use crate::error::{printable, Failure, Result};
use http_body_util::BodyExt;
use std::time::Duration;

const URL_VARIABLE: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
const BEARER_VARIABLE: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// The variable naming the file whose lines become later steps' environment.
pub const ENV_FILE_VARIABLE: &str = "GITHUB_ENV";
/// The token endpoint's answer is a token in a little JSON; more is not one.
const MOST_ANSWER_BYTES: usize = 64 * 1024;

/// A fresh OIDC token for `audience` from the job's token endpoint, within `limit`.
pub async fn token(env: &Env, audience: &str, limit: Duration) -> Result<String> {
    let missing: Vec<&str> = [URL_VARIABLE, BEARER_VARIABLE]
        .into_iter()
        .filter(|name| env.get(name).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::usage(format!(
            "--web-identity github: {} not set; GitHub Actions sets them only in a job with \
             `permissions: id-token: write`",
            match missing.as_slice() {
                [one] => format!("{one} is"),
                _ => format!("{} are", missing.join(" and ")),
            }
        )));
    }
    let text = env.get(URL_VARIABLE).unwrap_or_default();
    let bearer = env.get(BEARER_VARIABLE).unwrap_or_default();
    let mut url = url::Url::parse(&text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            Failure::usage(format!(
                "{URL_VARIABLE} is `{}`, which is not an http(s) URL",
                printable(&text)
            ))
        })?;
    // The job's bearer token goes to it: never in clear text over a network.
    if url.scheme() == "http" && !crate::aws::net::is_loopback(&url) {
        return Err(Failure::usage(format!(
            "{URL_VARIABLE} is `{}`: the job's request token would cross the network \
             unencrypted; GitHub's endpoint is https",
            printable(&text)
        )));
    }
    url.query_pairs_mut().append_pair("audience", audience);
    // The URL is shown without its query, which GitHub fills with the run's details.
    let shown = printable(&format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.path()
    ));
    let request = http::Request::get(url.as_str())
        .header("authorization", format!("bearer {bearer}"))
        .header("accept", "application/json; api-version=2.0")
        .header(
            "user-agent",
            concat!("rolecall/", env!("CARGO_PKG_VERSION")),
        )
        .body(http_body_util::Full::new(hyper::body::Bytes::new()))
        .map_err(|_| Failure::usage(format!("{URL_VARIABLE}: cannot send a request to {shown}")))?;
    let client = crate::aws::net::http_client()?;
    let exchange = async {
        let answer = client.request(request).await.map_err(|e| {
            let detail = printable(&crate::error::describe_error(&e));
            Failure::aws(format!(
                "GitHub's OIDC token endpoint {shown} could not be reached ({detail})"
            ))
        })?;
        let status = answer.status();
        let body = http_body_util::Limited::new(answer.into_body(), MOST_ANSWER_BYTES)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|_| {
                Failure::aws(format!(
                    "GitHub's OIDC token endpoint {shown} broke off its answer, or sent more \
                     than a token"
                ))
            })?;
        Ok::<_, Failure>((status, body))
    };
    let (status, body) = tokio::time::timeout(limit, exchange).await.map_err(|_| {
        Failure::aws(format!(
            "GitHub's OIDC token endpoint {shown} did not answer within {}s",
            limit.as_secs()
        ))
    })??;
    if matches!(status.as_u16(), 401 | 403) {
        return Err(Failure::aws(format!(
            "GitHub's OIDC token endpoint refused the job's request token (HTTP {}); give the \
             job `permissions: id-token: write`",
            status.as_u16()
        )));
    }
    if !status.is_success() {
        return Err(Failure::aws(format!(
            "GitHub's OIDC token endpoint {shown} answered HTTP {}; try the job again",
            status.as_u16()
        )));
    }
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("value")?.as_str().map(String::from))
        .ok_or_else(|| {
            Failure::aws(format!(
                "GitHub's OIDC token endpoint {shown} returned an answer without a token"
            ))
        })
}

/// Appends `variables` to `$GITHUB_ENV`'s file; the workflow commands that mask the secret key
/// and the session token in the job's log are returned, to be printed on stdout.
pub fn hand_over(
    env: &Env,
    variables: &[(&str, String)],
    credentials: &crate::session::Credentials,
) -> Result<String> {
    append_to_env_file(env, variables)?;
    let mut secrets = vec![credentials.secret_access_key.as_str()];
    secrets.extend(credentials.session_token.as_deref());
    Ok(masks(&secrets))
}

/// Appends `variables` to the file `$GITHUB_ENV` names, each in the multi-line form with a
/// random delimiter, so no value can end its entry early and set another variable.
pub fn append_to_env_file(env: &Env, variables: &[(&str, String)]) -> Result<()> {
    let path = env
        .get(ENV_FILE_VARIABLE)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--github-env: ${ENV_FILE_VARIABLE} is not set; it is for a step of a GitHub \
                 Actions job"
            ))
        })?;
    let delimiter = format!("ghadelimiter_{}", crate::os::random_text(18)?);
    let mut text = String::new();
    for (name, value) in variables {
        if value.contains(['\n', '\r']) || value.contains(&delimiter) {
            return Err(Failure::usage(format!(
                "--github-env: the value of {name} holds a line break; nothing was written"
            )));
        }
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = printable(&path);
    let cannot_open = |why: String| {
        Failure::usage(format!(
            "--github-env: cannot open ${ENV_FILE_VARIABLE} ({shown}): {}",
            printable(&why)
        ))
    };
    // The runner made the file; a link planted at its name is not followed, and a FIFO (whose
    // reader would get the keys) neither blocks the open nor is written to.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| cannot_open(e.to_string()))?;
    if !file.metadata().is_ok_and(|meta| meta.is_file()) {
        return Err(cannot_open("it is not a regular file".into()));
    }
    file.write_all(text.as_bytes()).map_err(|e| {
        Failure::local(format!(
            "--github-env: cannot write to {shown}: {}",
            printable(&e.to_string())
        ))
    })
}

/// The workflow commands that hide `secrets` in the job's log from here on, one a line.
pub fn masks(secrets: &[&str]) -> String {
    secrets
        .iter()
        .map(|secret| format!("::add-mask::{}\n", command_data(secret)))
        .collect()
}

/// A workflow command's data, escaped as the runner reads it, so a value cannot start a line
/// of its own.
fn command_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_one_line_each_whatever_the_secret() {
        assert_eq!(
            masks(&["a%b", "x\n::set-output name=y::z\r"]),
            "::add-mask::a%25b\n::add-mask::x%0A::set-output name=y::z%0D\n"
        );
    }

    #[test]
    fn the_env_file_gets_delimited_entries_and_refuses_line_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "EARLIER=1\n").unwrap();
        let env = Env::of(&[(ENV_FILE_VARIABLE, path.to_str().unwrap())]);
        append_to_env_file(&env, &[("A", "1".into()), ("B", "two words".into())]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "EARLIER=1");
        let delimiter = lines[1].strip_prefix("A<<").unwrap();
        assert!(delimiter.len() > 20);
        assert_eq!(
            &lines[1..],
            [
                &format!("A<<{delimiter}"),
                "1",
                delimiter,
                &format!("B<<{delimiter}"),
                "two words",
                delimiter
            ]
        );
        let refused = append_to_env_file(&env, &[("A", "x\nB=y".into())]).unwrap_err();
        assert!(refused.message.contains("line break"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        let unset = append_to_env_file(&Env::of(&[]), &[]).unwrap_err();
        assert!(unset.message.contains("$GITHUB_ENV is not set"));
        // A FIFO at the name, with a reader waiting on it, gets nothing.
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads the NUL-terminated path and touches nothing else.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        use std::os::unix::fs::OpenOptionsExt;
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let env = Env::of(&[(ENV_FILE_VARIABLE, fifo.to_str().unwrap())]);
        let refused = append_to_env_file(&env, &[("A", "secret".into())]).unwrap_err();
        assert!(
            refused.message.contains("not a regular file"),
            "{}",
            refused.message
        );
        let mut got = Vec::new();
        let _ = std::io::Read::read_to_end(&mut &reader, &mut got);
        assert!(got.is_empty());
    }
}
