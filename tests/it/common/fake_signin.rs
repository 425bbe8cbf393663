//! The tests' own AWS federation (sign-in) endpoint, because moto has none: it answers
//! `getSigninToken` as signin.aws.amazon.com does (`{"SigninToken":"…"}`), records every request
//! whole, and can instead refuse (400), fail (500), stay silent or answer a 200 nobody can read,
//! as `Answer` says. A browser's GET of the login URL is answered and noted apart (`logins`). One thread per connection, and every answer closes its connection, so a
//! client that keeps connections alive still sends each request afresh.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// The path the fake serves, as the real endpoint's (`/federation`); `ROLECALL_SIGNIN_URL` names
/// it.
pub const PATH: &str = "/federation";

/// How the fake answers `getSigninToken` from now on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `{"SigninToken":"token-N"}`, N counting the tokens issued, from 1.
    Token,
    /// This HTTP status, with a body as the real endpoint's errors have (not JSON).
    Status(u16),
    /// Reads the request and never answers it, holding the connection open.
    Silent,
    /// A 200 with this body instead of the token's JSON.
    Malformed(String),
}

/// One request as it arrived: what a test checks the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninRequest {
    pub method: String,
    /// The request target: the path and any query, as written on the request line.
    pub target: String,
    /// Every header, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl SigninRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's fields, decoded as a form is.
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    /// The one value of a form field; a field sent twice is a finding, so it fails the test.
    pub fn field(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .form()
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        assert!(values.len() <= 1, "{name} sent {} times", values.len());
        values.into_iter().next()
    }

    /// The `Session` field parsed as the JSON it must be.
    pub fn session(&self) -> serde_json::Value {
        let text = self
            .field("Session")
            .unwrap_or_else(|| panic!("no Session field in {:?}", self.body));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("Session is not JSON ({e}): {text}"))
    }

    /// `SessionDuration` as sent, if it was.
    pub fn session_duration(&self) -> Option<String> {
        self.field("SessionDuration")
    }
}

#[derive(Debug)]
struct State {
    answer: Answer,
    requests: Vec<SigninRequest>,
    issued: Vec<String>,
    /// The sign-in tokens browsers came to log in with.
    logins: Vec<String>,
}

pub struct FakeSignin {
    /// The federation endpoint itself, `http://127.0.0.1:PORT/federation`.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl FakeSignin {
    /// An endpoint that issues a token for every well-formed request.
    pub fn start() -> FakeSignin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake sign-in endpoint");
        let endpoint = format!("http://{}{PATH}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            answer: Answer::Token,
            requests: Vec::new(),
            issued: Vec::new(),
            logins: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve_one(stream, &shared));
            }
        });
        FakeSignin { endpoint, state }
    }

    /// Changes how the fake answers from the next request on.
    pub fn answer(&self, answer: Answer) {
        self.state.lock().unwrap().answer = answer;
    }

    pub fn requests(&self) -> Vec<SigninRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The only request so far; anything but exactly one fails the test.
    pub fn only_request(&self) -> SigninRequest {
        let requests = self.requests();
        assert_eq!(
            requests.len(),
            1,
            "expected one sign-in request: {requests:#?}"
        );
        requests.into_iter().next().unwrap()
    }

    /// The sign-in tokens a browser logged in with (a GET of `Action=login`), in order.
    pub fn logins(&self) -> Vec<String> {
        self.state.lock().unwrap().logins.clone()
    }

    /// The sign-in tokens issued so far, in order.
    pub fn issued(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }
}

/// Reads one request (a `Content-Length` body or a chunked one), records it, and answers.
fn serve_one(stream: TcpStream, state: &Mutex<State>) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    // A browser following the login URL: kept apart from the requests rolecall sends.
    if let Some(token) = login_token(&request) {
        state.lock().unwrap().logins.push(token);
        let page = respond(
            "200 OK",
            "text/html",
            "<html><body>Signed in.</body></html>",
        );
        let _ = (&stream).write_all(page.as_bytes());
        return;
    }
    let answer = {
        let mut locked = state.lock().unwrap();
        locked.requests.push(request.clone());
        locked.answer.clone()
    };
    // Read without `field`, whose check of duplicates belongs to the test's thread.
    let well_formed = request.method == "POST"
        && request.target == PATH
        && request
            .form()
            .iter()
            .any(|(name, value)| name == "Action" && value == "getSigninToken");
    let response = match answer {
        Answer::Silent => {
            // Held open, unanswered, until the test's process ends.
            std::mem::forget(stream);
            return;
        }
        // Anything else is what the real endpoint would not issue a token for either, so a
        // client sending it fails its test instead of passing by luck.
        _ if !well_formed => respond(
            "400 Bad Request",
            "text/plain",
            "this fake answers only a POST of Action=getSigninToken to /federation",
        ),
        Answer::Token => {
            let token = {
                let mut locked = state.lock().unwrap();
                let token = format!("token-{}", locked.issued.len() + 1);
                locked.issued.push(token.clone());
                token
            };
            respond(
                "200 OK",
                "application/json",
                &serde_json::json!({ "SigninToken": token }).to_string(),
            )
        }
        Answer::Status(status) => respond(
            &format!("{status} Status"),
            "text/html",
            // Without the status's number, so a message naming it took it from the status line.
            "<html><body>The fake sign-in endpoint says no.</body></html>",
        ),
        Answer::Malformed(body) => respond("200 OK", "application/json", &body),
    };
    let mut writer = &stream;
    let _ = writer.write_all(response.as_bytes());
}

/// The `SigninToken` of a GET of `Action=login`, the URL rolecall sends the browser to.
fn login_token(request: &SigninRequest) -> Option<String> {
    let (path, query) = request.target.split_once('?')?;
    let fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let login = request.method == "GET"
        && path == PATH
        && fields.iter().any(|(n, v)| n == "Action" && v == "login");
    login
        .then(|| fields.into_iter().find(|(n, _)| n == "SigninToken"))
        .flatten()
        .map(|(_, token)| token)
}

fn respond(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn read_request(stream: &TcpStream) -> Option<SigninRequest> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut words = line.split_whitespace();
    let method = words.next()?.to_string();
    let target = words.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v): &(String, String)| v.clone())
    };
    let body = if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let length: usize = find("content-length")
            .map(|v| v.parse().ok())
            .unwrap_or(Some(0))?;
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some(SigninRequest {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A chunked body: hex sizes, each chunk, a zero-size chunk and the trailer's blank line.
fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        if size == 0 {
            let mut trailer = String::new();
            while reader.read_line(&mut trailer).ok()? > 0 && trailer.trim_end() != "" {
                trailer.clear();
            }
            return Some(body);
        }
        let mut chunk = vec![0u8; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        body.extend_from_slice(&chunk[..size]);
    }
}
