//! The two ways a person logs in, as the AWS CLI v2 offers them: the authorization code flow
//! with PKCE through a loopback redirect (sso-session profiles), and the device authorization
//! (legacy profiles, `--device-code`, hosts without a browser). The browser is `$BROWSER`, else
//! the platform's opener; the URL always goes to stderr as well, so it works over SSH.

use super::oidc::{DeviceAuthorization, Grant, Issued, Oidc, Refusal, Registration};
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::profile::SsoLogin;
use base64::Engine;
use sha2::Digest;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
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
    let code = wait_for_callback(&listener, &state).map_err(Refusal::Failed)?;
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
fn wait_for_callback(listener: &TcpListener, state: &str) -> Result<String> {
    let deadline = Instant::now() + BROWSER_PATIENCE;
    listener
        .set_nonblocking(true)
        .map_err(|e| Failure::local(format!("cannot wait for the browser: {e}")))?;
    loop {
        if Instant::now() > deadline {
            return Err(Failure::aws(format!(
                "the browser did not come back within {} minutes; run `rolecall sso login` again",
                BROWSER_PATIENCE.as_secs() / 60
            )));
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(Failure::local(format!("cannot wait for the browser: {e}"))),
        };
        if let Some(answer) = read_callback(stream, state) {
            return answer;
        }
    }
}

/// The code from one request to the callback path, or `None` while the wait goes on: a request
/// elsewhere (a favicon) gets a 404, and a callback without this login's state a 400. Anyone on
/// this machine can reach the port, so only an answer that carries the state, which only the
/// browser was given, can end the login. A request that is too slow or too long is dropped.
fn read_callback(stream: TcpStream, state: &str) -> Option<Result<String>> {
    let target = read_request_target(&stream)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if path != "/oauth/callback" {
        respond(&stream, "404 Not Found", "Not here.");
        return None;
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("state") != Some(state) {
        respond(
            &stream,
            "400 Bad Request",
            "rolecall is not waiting for this sign-in.",
        );
        return None;
    }
    let answer = if let Some(error) = get("error") {
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
    match &answer {
        Ok(_) => respond(
            &stream,
            "200 OK",
            "rolecall: you are signed in. You can close this tab.",
        ),
        Err(_) => respond(
            &stream,
            "400 Bad Request",
            "rolecall: the sign-in did not complete; see your terminal.",
        ),
    }
    Some(answer)
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

/// A request's target (`/oauth/callback?…`), read within a few seconds and a few KiB in all,
/// headers included (read to their end, so the answer is not cut off by a reset).
fn read_request_target(stream: &TcpStream) -> Option<String> {
    const LIMIT: usize = 16 * 1024;
    let deadline = Instant::now() + Duration::from_secs(5);
    let _ = stream.set_nonblocking(false);
    let mut head: Vec<u8> = Vec::new();
    let mut byte = [0u8; 1];
    let mut reader = stream;
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        let left = deadline.checked_duration_since(Instant::now())?;
        let _ = stream.set_read_timeout(Some(left.max(Duration::from_millis(1))));
        match std::io::Read::read(&mut reader, &mut byte) {
            Ok(1) if head.len() < LIMIT => head.push(byte[0]),
            _ => return None,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next()?;
    Some(line.split_whitespace().nth(1)?.to_string())
}

fn respond(mut stream: &TcpStream, status: &str, text: &str) {
    let body = format!("<!doctype html><title>rolecall</title><p>{text}</p>\n");
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
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
