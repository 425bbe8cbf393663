//! Stand-ins for what a CI job talks to besides STS: GitHub Actions' OIDC token endpoint (it
//! checks the job's bearer token and the audience asked for, and answers `{"value": JWT}`), a
//! recorder in front of moto that keeps each request STS is sent, and unsigned JWTs to hand out.

use base64::Engine;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// The bearer token the stand-in endpoint wants, as `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
pub const REQUEST_TOKEN: &str = "job-request-token-7f3a";

/// A JWT carrying `claims` (its signature is not one: nobody here checks it).
pub fn jwt(claims: &serde_json::Value) -> String {
    let encode =
        |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text.as_bytes());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(r#"{"alg":"RS256","typ":"JWT","kid":"1"}"#),
        encode(&claims.to_string())
    )
}

/// The claims GitHub gives a job of `repo:octo/app` on main, expiring `seconds` from now.
pub fn github_claims(seconds: i64, nonce: &str) -> serde_json::Value {
    serde_json::json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:octo/app:ref:refs/heads/main",
        "aud": "sts.amazonaws.com",
        "exp": chrono::Utc::now().timestamp() + seconds,
        "jti": nonce,
    })
}

/// One HTTP request as it arrived: its head's lines and its body.
pub struct Request {
    pub head: Vec<String>,
    pub body: Vec<u8>,
}

impl Request {
    /// Reads one request (a head, then Content-Length bytes); None at the end of the stream.
    fn read(reader: &mut impl BufRead) -> Option<Request> {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end().to_string();
            if line.is_empty() {
                break;
            }
            head.push(line);
        }
        let length = head
            .iter()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).ok()?;
        Some(Request { head, body })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.iter().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The form fields of the body (STS's query protocol).
    pub fn form(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(&self.body)
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// GitHub's token endpoint: `tokens` handed out in turn (the last repeats) to a request with
/// the right bearer token and an `audience`; the audiences asked for are kept.
pub struct FakeActions {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`, with the query GitHub puts in it.
    pub url: String,
    pub audiences: Arc<Mutex<Vec<String>>>,
}

impl FakeActions {
    pub fn start(tokens: Vec<String>) -> FakeActions {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the token endpoint");
        let url = format!(
            "http://{}/_apis/distributedtask/token?api-version=2.0",
            listener.local_addr().unwrap()
        );
        let audiences = Arc::new(Mutex::new(Vec::new()));
        let kept = audiences.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let Some(request) = Request::read(&mut reader) else {
                    continue;
                };
                let target = request.head[0].split(' ').nth(1).unwrap_or("").to_string();
                let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
                let audience = form_urlencoded::parse(query.as_bytes())
                    .find(|(n, _)| n == "audience")
                    .map(|(_, v)| v.into_owned());
                let authorized =
                    request.header("authorization") == Some(format!("bearer {REQUEST_TOKEN}"));
                let (status, body) = match (authorized, audience) {
                    (false, _) => (401, "{\"message\":\"bad token\"}".to_string()),
                    (true, None) => (400, "{\"message\":\"no audience\"}".to_string()),
                    (true, Some(audience)) => {
                        let mut kept = kept.lock().unwrap();
                        kept.push(audience);
                        let token = &tokens[(kept.len() - 1).min(tokens.len() - 1)];
                        (200, serde_json::json!({ "value": token }).to_string())
                    }
                };
                let mut stream = stream;
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
        });
        FakeActions { url, audiences }
    }

    pub fn audiences(&self) -> Vec<String> {
        self.audiences.lock().unwrap().clone()
    }
}

/// A proxy in front of an STS (moto) that keeps every request it passes on.
pub struct Recorder {
    pub endpoint: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Recorder {
    pub fn start(upstream: &str) -> Recorder {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("a plain-http STS")
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the recorder");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                let upstream = upstream.clone();
                std::thread::spawn(move || pass_on(stream, &upstream, &kept));
            }
        });
        Recorder { endpoint, requests }
    }

    /// (Action, whether it was signed, the request) of each request so far, in order.
    pub fn actions(&self) -> Vec<(String, bool)> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.form("Action").unwrap_or_default(),
                    r.header("authorization").is_some(),
                )
            })
            .collect()
    }

    pub fn field(&self, index: usize, name: &str) -> Option<String> {
        self.requests.lock().unwrap().get(index)?.form(name)
    }
}

/// Each request of a connection goes to the upstream on a connection of its own, closed after
/// its answer, which comes back as it is.
fn pass_on(stream: TcpStream, upstream: &str, kept: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    while let Some(request) = Request::read(&mut reader) {
        let mut sent = String::new();
        for line in &request.head {
            if !line.to_ascii_lowercase().starts_with("connection:") {
                sent.push_str(line);
                sent.push_str("\r\n");
            }
        }
        sent.push_str("Connection: close\r\n\r\n");
        let mut to = TcpStream::connect(upstream).expect("connect to moto");
        to.write_all(sent.as_bytes()).unwrap();
        to.write_all(&request.body).unwrap();
        let mut answer = Vec::new();
        let _ = to.read_to_end(&mut answer);
        kept.lock().unwrap().push(request);
        let mut writer = &stream;
        if writer.write_all(&answer).is_err() {
            return;
        }
    }
}
