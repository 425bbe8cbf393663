//! `rolecall exec --server`: a command runs with a credentials endpoint instead of fixed keys.
//! The endpoint speaks the container credentials protocol every AWS SDK and the CLI know
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN`), on
//! 127.0.0.1, so a job that outlives one session's hour asks again and gets credentials the
//! engine renewed. The token is fresh for each run; the endpoint goes when the command ends.

use crate::engine::Request;
use crate::error::{printable, Failure, Result};
use crate::session::{Credentials, Session};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Credentials handed out have at least this long left; older ones are renewed first. The
/// SDKs refresh a few minutes before expiry themselves, so they never hold expired ones.
const DEFAULT_MARGIN_SECONDS: i64 = 5 * 60;

/// The variable that changes the margin (seconds), for tests and for roles of short sessions.
pub const MARGIN_VARIABLE: &str = "ROLECALL_SERVER_MARGIN";

/// A request is read within this long and this size, or dropped.
const READ_LIMIT: Duration = Duration::from_secs(5);
const MOST_REQUEST_BYTES: u64 = 16 * 1024;

/// The renewal margin: `ROLECALL_SERVER_MARGIN` seconds, else 5 minutes.
pub fn margin() -> Result<i64> {
    match std::env::var(MARGIN_VARIABLE)
        .ok()
        .filter(|v| !v.is_empty())
    {
        None => Ok(DEFAULT_MARGIN_SECONDS),
        Some(text) => text.parse::<i64>().ok().filter(|s| *s >= 0).ok_or_else(|| {
            Failure::usage(format!(
                "{MARGIN_VARIABLE} is `{}`; it must be a whole number of seconds, like 300",
                printable(&text)
            ))
        }),
    }
}

/// What the endpoint serves: the session, renewed through `renew` when it gets old.
pub struct Endpoint {
    /// `http://127.0.0.1:PORT/`
    pub url: String,
    /// The bearer token a request must carry.
    pub token: String,
}

/// Starts serving `session` on a loopback port; `renew` fetches new credentials (the engine,
/// with its cache and MFA session). The server lives until the process ends.
pub fn start(
    session: Session,
    renew: impl Fn() -> Result<Session> + Send + Sync + 'static,
    margin: i64,
) -> Result<Endpoint> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Failure::local(format!("cannot open a loopback port: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Failure::local(format!("cannot open a loopback port: {e}")))?
        .port();
    let token = crate::os::random_text(32)?;
    let shared = Arc::new(Served {
        session: Mutex::new(session),
        renew: Box::new(renew),
        margin,
        token: token.clone(),
        told: Mutex::new(false),
    });
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let served = Arc::clone(&shared);
            std::thread::spawn(move || served.answer(stream));
        }
    });
    Ok(Endpoint {
        url: format!("http://127.0.0.1:{port}/"),
        token,
    })
}

struct Served {
    session: Mutex<Session>,
    renew: Box<dyn Fn() -> Result<Session> + Send + Sync>,
    margin: i64,
    token: String,
    /// Whether a failed renewal was said on stderr already: once is enough.
    told: Mutex<bool>,
}

impl Served {
    fn answer(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(READ_LIMIT));
        let Some(authorization) = read_authorization(&stream) else {
            return;
        };
        let reply = if !same_secret(authorization.as_bytes(), self.token.as_bytes()) {
            response(
                "403 Forbidden",
                r#"{"message":"missing or wrong authorization token"}"#,
            )
        } else {
            match self.credentials() {
                Ok(credentials) => response("200 OK", &body(&credentials)),
                Err(failure) => {
                    let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
                    if !*told {
                        eprintln!(
                            "rolecall: the credentials server could not renew the credentials: {}",
                            crate::error::printable_lines(&failure.message)
                        );
                        *told = true;
                    }
                    response(
                        "503 Service Unavailable",
                        r#"{"message":"rolecall could not renew the credentials; see its stderr"}"#,
                    )
                }
            }
        };
        let mut writer = &stream;
        let _ = writer.write_all(reply.as_bytes());
    }

    /// The session's credentials, renewed first when they have less than the margin left.
    /// The lock is held while renewing, so requests at once make one renewal.
    fn credentials(&self) -> Result<Credentials> {
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = session
            .credentials
            .seconds_left(crate::time::now())
            .is_none_or(|left| left > self.margin);
        if !fresh {
            *session = (self.renew)()?;
            *self.told.lock().unwrap_or_else(|e| e.into_inner()) = false;
        }
        Ok(session.credentials.clone())
    }
}

/// The request's `Authorization` header (empty when there is none); none when the request
/// could not be read.
fn read_authorization(stream: &TcpStream) -> Option<String> {
    use std::io::Read;
    let mut reader = BufReader::new(stream.take(MOST_REQUEST_BYTES));
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut authorization = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            return Some(authorization);
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = value.trim().to_string();
            }
        }
    }
}

/// Whether `given` is `expected`, in time that does not depend on where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != expected.len());
    for (index, byte) in expected.iter().enumerate() {
        difference |= byte ^ given.get(index).copied().unwrap_or(0);
    }
    difference == 0
}

/// The container credentials protocol's answer.
fn body(credentials: &Credentials) -> String {
    let mut answer = serde_json::json!({
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "Token": credentials.session_token,
    });
    if let Some(expires) = credentials.expires {
        answer["Expiration"] = serde_json::json!(crate::time::rfc3339(expires));
    }
    answer.to_string()
}

fn response(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The engine request of a renewal: the cache may answer, the MFA code may be asked on the
/// terminal when the person allowed it.
pub fn renewal(request: &Request) -> impl Fn() -> Result<Session> + Send + Sync + 'static {
    let target = request.target.clone();
    let overrides = request.overrides.clone();
    let cache = request.cache;
    let may_ask = request.mfa.may_ask;
    move || {
        let env = crate::env::Env::Process;
        crate::engine::obtain(&Request {
            target: target.clone(),
            overrides: overrides.clone(),
            cache,
            mfa: crate::engine::MfaInput {
                code: None,
                may_ask,
            },
            env: &env,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        for other in [&b""[..], b"ab", b"abd", b"abcd", b"xbc"] {
            assert!(!same_secret(other, b"abc"), "{other:?}");
        }
    }

    #[test]
    fn the_answer_is_the_container_protocols() {
        let answer: serde_json::Value = serde_json::from_str(&body(&Credentials {
            access_key_id: "ASIA".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
            expires: Some(1_795_974_120),
        }))
        .unwrap();
        assert_eq!(answer["AccessKeyId"], "ASIA");
        assert_eq!(answer["SecretAccessKey"], "secret");
        assert_eq!(answer["Token"], "token");
        assert_eq!(answer["Expiration"], "2026-11-29T17:42:00Z");
    }
}
