//! The two ways a person logs in, as the AWS CLI v2 offers them: the authorization code flow
//! with PKCE through a loopback redirect (sso-session profiles), and the device authorization
//! (legacy profiles, `--device-code`, hosts without a browser). The browser is `$BROWSER`, else
//! the platform's opener; the URL always goes to stderr as well, so it works over SSH.

use super::oidc::{DeviceAuthorization, Grant, Issued, Oidc, Refusal, Registration};
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::profile::SsoLogin;
use base64::Engine;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use sha2::Digest;
use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The redirect URI registered for the loopback flow; the port of each login is added when
/// the browser is sent there (RFC 8252 lets a loopback redirect's port vary).
pub const REGISTERED_REDIRECT: &str = "http://127.0.0.1/oauth/callback";

/// How long a person may take in the browser.
const BROWSER_PATIENCE: Duration = Duration::from_secs(10 * 60);

/// SlowDown asks for this much more between polls (RFC 8628).
const SLOW_DOWN_STEP: i64 = 5;

/// How the person wants to log in.
pub struct Choices {
    pub device_code: bool,
    pub open_browser: bool,
}

/// PKCE for an sso-session, as the AWS CLI v2 does; the device code for a legacy profile, when
/// asked for, and (where the CLI would leave the person waiting for a browser that cannot open
/// here) in an SSH session without a display or a `$BROWSER`.
pub fn uses_device_code(login: &SsoLogin, choices: &Choices, env: &Env) -> bool {
    choices.device_code || login.session.is_none() || !has_local_browser(env)
}

fn has_local_browser(env: &Env) -> bool {
    if env.get("BROWSER").is_some() {
        return true;
    }
    let remote = env.get("SSH_CONNECTION").is_some() || env.get("SSH_TTY").is_some();
    let display = env.get("DISPLAY").is_some() || env.get("WAYLAND_DISPLAY").is_some();
    display || !remote
}

/// The authorization code flow: returns the token and the registration it was issued to.
pub async fn with_pkce(
    oidc: &Oidc,
    login: &SsoLogin,
    registration: Registration,
    choices: &Choices,
    env: &Env,
) -> std::result::Result<Issued, Refusal> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| {
        Refusal::Failed(Failure::local(format!(
            "cannot listen on 127.0.0.1 for the browser's answer: {e}"
        )))
    })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let verifier = crate::os::random_text(64).map_err(Refusal::Failed)?;
    let challenge = base64url(&sha2::Sha256::digest(verifier.as_bytes()));
    let state = crate::os::random_text(16).map_err(Refusal::Failed)?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &registration.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("state", &state)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scopes", &login.scopes.join(" "))
        .append_pair("code_challenge", &challenge)
        .finish()
        // Spaces as %20, as the AWS CLI sends them (a `+` in a value is already %2B).
        .replace('+', "%20");
    let url = format!("{}?{query}", oidc.authorize_url());
    // Kept until the login ends: the browser needs it until it has come back.
    let _page = show_and_open(
        &format!("to sign in to {}, open this page:", login.describe()),
        &url,
        None,
        choices,
        env,
    );
    let code = wait_for_callback(listener, &state)
        .await
        .map_err(Refusal::Failed)?;
    let grant = Grant::Code {
        code: &code,
        redirect_uri: &redirect_uri,
        verifier: &verifier,
    };
    oidc.create_token(&registration, &grant).await
}

/// The device authorization: shows the page and the code, then polls until the person
/// approved, declined, or the code expired.
pub async fn with_device_code(
    oidc: &Oidc,
    login: &SsoLogin,
    registration: &Registration,
    choices: &Choices,
    env: &Env,
) -> std::result::Result<Issued, Refusal> {
    let device: DeviceAuthorization = oidc
        .start_device_authorization(registration, &login.start_url)
        .await
        .map_err(Refusal::Failed)?;
    let page = device
        .verification_uri_complete
        .clone()
        .unwrap_or_else(|| device.verification_uri.clone());
    let _page = show_and_open(
        &format!(
            "to sign in to {}, open {} and check that it shows the code {}:",
            login.describe(),
            printable(&device.verification_uri),
            printable(&device.user_code)
        ),
        &page,
        Some(&device.user_code),
        choices,
        env,
    );
    let deadline = Instant::now() + Duration::from_secs(device.expires_in.max(1) as u64);
    let mut interval = device.interval;
    loop {
        tokio::time::sleep(Duration::from_secs(interval as u64)).await;
        match oidc
            .create_token(registration, &Grant::Device(&device.device_code))
            .await
        {
            Err(Refusal::Pending) if Instant::now() < deadline => {}
            Err(Refusal::SlowDown) if Instant::now() < deadline => interval += SLOW_DOWN_STEP,
            Err(Refusal::Pending | Refusal::SlowDown) => return Err(Refusal::Expired),
            other => return other,
        }
    }
}

/// Tells the person where to go (always, on stderr) and opens the browser unless told not to;
/// the private page the browser was given, which lives as long as it is kept.
fn show_and_open(
    what: &str,
    url: &str,
    code: Option<&str>,
    choices: &Choices,
    env: &Env,
) -> Option<crate::browser::Page> {
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "rolecall: {what}\n  {}", printable(url));
    if let Some(code) = code {
        let _ = writeln!(stderr, "  code: {}", printable(code));
    }
    if !choices.open_browser {
        return None;
    }
    crate::browser::open(url, env, std::time::Duration::ZERO)
        .map_err(|why| {
            let _ = writeln!(
                stderr,
                "rolecall: could not open a browser ({}); open the page yourself",
                printable(&why)
            );
        })
        .ok()
}

/// Waits for the browser to come back to the loopback redirect with a code for `state`. One
/// callback with the state is accepted; anything else on the port is answered and ignored.
/// Anyone on this machine can reach the port, so each connection is served apart by hyper
/// (at most `CONNECTIONS` at once, extras dropped), within one deadline and a bounded head.
async fn wait_for_callback(listener: TcpListener, state: &str) -> Result<String> {
    let cannot_wait =
        |e: std::io::Error| Failure::local(format!("cannot wait for the browser: {e}"));
    listener.set_nonblocking(true).map_err(cannot_wait)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(cannot_wait)?;
    let state: Arc<str> = Arc::from(state);
    let (answers, mut answered) = tokio::sync::mpsc::channel::<Result<String>>(1);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS));
    let give_up = tokio::time::sleep(BROWSER_PATIENCE);
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            () = &mut give_up => {
                return Err(Failure::aws(format!(
                    "the browser did not come back within {} minutes; run `rolecall sso login` \
                     again",
                    BROWSER_PATIENCE.as_secs() / 60
                )));
            }
            Some(answer) = answered.recv() => return answer,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors, say: the wait goes on, without spinning.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let Ok(slot) = Arc::clone(&in_flight).try_acquire_owned() else {
                    continue;
                };
                tokio::spawn(serve_callback(stream, Arc::clone(&state), answers.clone(), slot));
            }
        }
    }
}

/// The most connections to the loopback port served at once.
const CONNECTIONS: usize = 128;

/// How long one connection may take to send its request and read the answer.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// The most bytes hyper buffers of a request (its head: the callback has no body).
const REQUEST_BYTES: usize = 16 * 1024;

/// Serves one connection: one request, answered by `callback_answer`; an answer that ends the
/// login goes to `answers`.
async fn serve_callback(
    stream: tokio::net::TcpStream,
    state: Arc<str>,
    answers: tokio::sync::mpsc::Sender<Result<String>>,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let (status, text, outcome) = callback_answer(request.uri(), &state);
        if let Some(outcome) = outcome {
            let _ = answers.try_send(outcome);
        }
        let body = format!("<!doctype html><title>rolecall</title><p>{text}</p>\n");
        let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        async { Ok::<_, std::convert::Infallible>(response) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(REQUEST_DEADLINE)
        .max_buf_size(REQUEST_BYTES)
        .keep_alive(false)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let _ = tokio::time::timeout(REQUEST_DEADLINE, connection).await;
}

/// The answer to one request on the loopback port (status, page text) and, for the callback of
/// this login, what it ends the login with: the code, or why there is none. A request elsewhere
/// (a favicon) gets a 404 and a callback without this login's state a 400: only an answer that
/// carries the state, which only the browser was given, can end the login.
fn callback_answer(
    uri: &hyper::Uri,
    state: &str,
) -> (hyper::StatusCode, &'static str, Option<Result<String>>) {
    use hyper::StatusCode;
    if uri.path() != "/oauth/callback" {
        return (StatusCode::NOT_FOUND, "Not here.", None);
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("state") != Some(state) {
        return (
            StatusCode::BAD_REQUEST,
            "rolecall is not waiting for this sign-in.",
            None,
        );
    }
    let outcome = if let Some(error) = get("error") {
        Err(refused(error))
    } else {
        match get("code") {
            Some(code) if !code.is_empty() => Ok(code.to_string()),
            _ => Err(Failure::aws(
                "the browser came back without an authorization code; run `rolecall sso login` \
                 again",
            )),
        }
    };
    match outcome {
        Ok(code) => (
            StatusCode::OK,
            "rolecall: you are signed in. You can close this tab.",
            Some(Ok(code)),
        ),
        Err(why) => (
            StatusCode::BAD_REQUEST,
            "rolecall: the sign-in did not complete; see your terminal.",
            Some(Err(why)),
        ),
    }
}

/// The error codes an authorization server may send back (RFC 6749, section 4.1.2.1), each with
/// what it means. The server's own `error_description` is never shown: whoever sent the browser
/// back chose its words ("re-enroll: curl … | sh").
const OAUTH_ERRORS: [(&str, &str); 7] = [
    ("access_denied", "declined in the browser"),
    ("invalid_request", "the service found the request malformed"),
    (
        "unauthorized_client",
        "rolecall's registration may not use this flow",
    ),
    (
        "unsupported_response_type",
        "the service does not give authorization codes",
    ),
    ("invalid_scope", "the service refused the scopes asked for"),
    ("server_error", "the service failed"),
    (
        "temporarily_unavailable",
        "the service is busy; try again shortly",
    ),
];

/// The failure for a callback with `error`: its code and meaning when it is one of OAuth's.
fn refused(error: &str) -> Failure {
    let why = match OAUTH_ERRORS.iter().find(|(code, _)| *code == error) {
        Some((code, meaning)) => format!("{code}: {meaning}"),
        None => "with an error code that is not OAuth's".into(),
    };
    Failure::aws(format!(
        "the sign-in was refused ({why}); nothing was saved: run `rolecall sso login` again"
    ))
}

/// `bytes` random bytes as base64url text, for the PKCE verifier and the state.
fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_s256_of_the_verifier() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            base64url(&sha2::Sha256::digest(verifier.as_bytes())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(crate::os::random_text(64).unwrap().len(), 86);
        assert_ne!(
            crate::os::random_text(16).unwrap(),
            crate::os::random_text(16).unwrap()
        );
    }

    #[test]
    fn only_a_callback_with_the_state_ends_the_login_and_only_oauths_codes_are_said() {
        let answer = |target: &str| callback_answer(&target.parse().unwrap(), "s7");
        let (status, _, outcome) = answer("/favicon.ico");
        assert_eq!((status.as_u16(), outcome.is_none()), (404, true));
        for forged in [
            "/oauth/callback?code=c",
            "/oauth/callback?code=c&state=s8",
            "/oauth/callback?error=access_denied&state=",
        ] {
            let (status, _, outcome) = answer(forged);
            assert_eq!(
                (status.as_u16(), outcome.is_none()),
                (400, true),
                "{forged}"
            );
        }
        let (status, _, outcome) = answer("/oauth/callback?state=s7&code=c%2B1");
        assert_eq!(status.as_u16(), 200);
        assert_eq!(outcome.unwrap().unwrap(), "c+1");
        let (_, _, outcome) =
            answer("/oauth/callback?state=s7&error=invalid_scope&error_description=run%20this");
        let message = outcome.unwrap().unwrap_err().message;
        assert!(message.contains("(invalid_scope: the service refused the scopes asked for)"));
        assert!(!message.contains("run this"), "{message}");
        let (_, _, outcome) = answer("/oauth/callback?state=s7&error=evil%20words");
        let message = outcome.unwrap().unwrap_err().message;
        assert!(
            message.contains("not OAuth's") && !message.contains("evil"),
            "{message}"
        );
    }

    #[test]
    fn the_device_code_is_used_where_the_aws_cli_uses_it() {
        let session = SsoLogin {
            session: Some("corp".into()),
            start_url: "https://corp.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            scopes: vec!["sso:account:access".into()],
        };
        let legacy = SsoLogin {
            session: None,
            ..session.clone()
        };
        let browser = Choices {
            device_code: false,
            open_browser: true,
        };
        let local = Env::of(&[]);
        let over_ssh = Env::of(&[("SSH_CONNECTION", "10.0.0.1 22 10.0.0.2 5555")]);
        assert!(!uses_device_code(&session, &browser, &local));
        assert!(uses_device_code(&legacy, &browser, &local));
        let asked = Choices {
            device_code: true,
            open_browser: true,
        };
        assert!(uses_device_code(&session, &asked, &local));
        assert!(uses_device_code(&session, &browser, &over_ssh));
    }
}
