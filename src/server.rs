//! `rolecall exec --server`: a command runs with a credentials endpoint instead of fixed keys.
//! The endpoint speaks the container credentials protocol every AWS SDK and the CLI know
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN`), on
//! 127.0.0.1, so a job that outlives one session's hour asks again and gets credentials the
//! engine renewed. The token is fresh for each run; the endpoint goes when the command ends.

mod held;
mod peer;

use crate::engine::Request;
use crate::error::{printable, Failure, Result};
use crate::session::{Credentials, Session};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// Credentials handed out have at least this long left; older ones are renewed first. The
/// SDKs refresh a few minutes before expiry themselves, so they never hold expired ones.
const DEFAULT_MARGIN_SECONDS: i64 = 5 * 60;

/// The variable that changes the margin (seconds), for tests and for roles of short sessions.
pub const MARGIN_VARIABLE: &str = "ROLECALL_SERVER_MARGIN";

/// A connection is read, answered and closed within this long, however slowly its bytes come.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(5);
/// The most bytes of a request's head: hyper's smallest buffer.
const MOST_REQUEST_BYTES: usize = 8 * 1024;
/// Connections served at once: the SDKs ask once per client, so more is an attack, and the
/// extras are closed as they are accepted.
const MOST_CONNECTIONS: usize = 64;
/// Connections the kernel queues for accepting, so a flood waits there rather than making
/// the command's own connections retry; and the most taken from it in one batch.
const BACKLOG: u32 = 1024;
const MOST_AT_ONCE: usize = 256;
/// How long accepting pauses after a failure such as EMFILE, rather than spinning on it.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

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
/// with its cache and MFA session). The endpoint runs on one thread of its own and a renewal
/// on another, both started here, so no later request needs a thread (or fails for want of
/// one); it lives until the process ends.
pub fn start(
    session: Session,
    renew: impl Fn() -> Result<Session> + Send + 'static,
    margin: i64,
) -> Result<Endpoint> {
    let cannot =
        |e: std::io::Error| Failure::local(format!("cannot start the credentials server: {e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(cannot)?;
    let listener = {
        let _inside = runtime.enter();
        let socket = tokio::net::TcpSocket::new_v4().map_err(cannot)?;
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .map_err(cannot)?;
        socket.listen(BACKLOG).map_err(cannot)?
    };
    let address = listener.local_addr().map_err(cannot)?;
    let token = crate::os::random_text(32)?;
    let served = Arc::new(Served {
        holder: held::Holder::start(session, Box::new(renew), margin).map_err(cannot)?,
        token: token.clone(),
        address,
        uid: crate::os::effective_uid(),
        told_of_stranger: AtomicBool::new(false),
    });
    std::thread::Builder::new()
        .name("endpoint".into())
        .spawn(move || runtime.block_on(served.serve(listener)))
        .map_err(cannot)?;
    Ok(Endpoint {
        url: format!("http://{address}/"),
        token,
    })
}

struct Served {
    holder: Arc<held::Holder>,
    token: String,
    /// The endpoint's own address, the peer's partner in the kernel's socket table.
    address: SocketAddr,
    /// Whose connections are served: this process's effective uid.
    uid: u32,
    /// Whether a connection from another user was said on stderr already: once is enough.
    told_of_stranger: AtomicBool,
}

impl Served {
    /// Accepts for good, in batches of what is waiting: a failure to accept (no descriptor
    /// left) pauses it, a connection of another user or one past the cap is closed at once,
    /// the rest are answered as tasks of this thread.
    async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) {
        let slots = Arc::new(tokio::sync::Semaphore::new(MOST_CONNECTIONS));
        loop {
            let (batch, failed) = accept_batch(&listener).await;
            let peers: Vec<SocketAddr> = batch.iter().map(|(_, peer)| *peer).collect();
            let owners = peer::owners(&peers, self.address);
            for ((stream, _), owner) in batch.into_iter().zip(owners) {
                if self.stranger(owner) {
                    continue;
                }
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    continue;
                };
                let served = Arc::clone(&self);
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(CONNECTION_DEADLINE, served.answer(stream)).await;
                    drop(slot);
                });
            }
            if failed {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }

    /// Whether a peer socket of `owner` belongs to another user (said once on stderr). A peer
    /// whose owner cannot be told is no stranger: the token alone guards the credentials then.
    fn stranger(&self, owner: Option<u32>) -> bool {
        let Some(owner) = owner.filter(|owner| *owner != self.uid) else {
            return false;
        };
        if !self.told_of_stranger.swap(true, Ordering::Relaxed) {
            eprintln!(
                "rolecall: the credentials server refused a connection from another user \
                 (uid {owner})"
            );
        }
        true
    }

    /// One request on `stream`, read by hyper within a bounded head, then the connection ends.
    async fn answer(self: Arc<Self>, stream: tokio::net::TcpStream) {
        let service = hyper::service::service_fn(move |request| {
            let served = Arc::clone(&self);
            async move { Ok::<_, std::convert::Infallible>(served.reply(&request).await) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .keep_alive(false)
            .max_buf_size(MOST_REQUEST_BYTES)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
    }

    async fn reply<B>(&self, request: &hyper::Request<B>) -> Response<Full<Bytes>> {
        let authorization = request
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .map(|value| value.as_bytes())
            .unwrap_or_default();
        if !same_secret(authorization, self.token.as_bytes()) {
            return response(
                StatusCode::FORBIDDEN,
                r#"{"message":"missing or wrong authorization token"}"#.into(),
            );
        }
        match self.holder.credentials().await {
            Some(credentials) => response(StatusCode::OK, body(&credentials)),
            None => response(
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"message":"rolecall could not renew the credentials; see its stderr"}"#.into(),
            ),
        }
    }
}

/// The connections waiting on `listener` (at least one, unless accepting failed), up to
/// MOST_AT_ONCE, so one read of the socket tables tells all their owners; and whether
/// accepting failed for want of a resource such as a descriptor.
async fn accept_batch(
    listener: &tokio::net::TcpListener,
) -> (Vec<(tokio::net::TcpStream, SocketAddr)>, bool) {
    let mut batch = Vec::new();
    let mut next = listener.accept().await;
    loop {
        match next {
            Ok(accepted) => batch.push(accepted),
            // Aborted or reset: that connection is gone, the next may be fine.
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return (batch, true),
        }
        if batch.len() == MOST_AT_ONCE {
            return (batch, false);
        }
        // Another connection only if one is waiting now.
        match std::future::poll_fn(|context| Poll::Ready(listener.poll_accept(context))).await {
            Poll::Ready(result) => next = result,
            Poll::Pending => return (batch, false),
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

fn response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut answer = Response::new(Full::new(Bytes::from(body)));
    *answer.status_mut() = status;
    answer.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    answer
}

/// The engine request of a renewal: the cache may answer, the MFA code may be asked on the
/// terminal when the person allowed it.
pub fn renewal(request: &Request) -> impl Fn() -> Result<Session> + Send + 'static {
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
