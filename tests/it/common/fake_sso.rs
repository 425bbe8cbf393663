//! The tests' own IAM Identity Center portal, because moto has none: it answers every
//! GetRoleCredentials with one set of credentials, valid for an hour (or, silent, never answers),
//! and records each request.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub const ACCESS_KEY_ID: &str = "ASIASSOPORTAL";

/// What a request asked for: its path with the query, and the bearer token it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRequest {
    pub path: String,
    pub token: String,
}

pub struct FakeSso {
    pub endpoint: String,
    requests: Arc<Mutex<Vec<SsoRequest>>>,
}

impl FakeSso {
    /// A portal that answers every request.
    pub fn start() -> FakeSso {
        FakeSso::serve(true)
    }

    /// A portal that reads every request and never answers it.
    pub fn start_silent() -> FakeSso {
        FakeSso::serve(false)
    }

    fn serve(answers: bool) -> FakeSso {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake SSO portal");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut request_line = String::new();
                let mut token = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    continue;
                }
                let mut header = String::new();
                while reader.read_line(&mut header).unwrap_or(0) > 0 && header.trim_end() != "" {
                    if let Some((name, value)) = header.trim_end().split_once(':') {
                        if name.eq_ignore_ascii_case("x-amz-sso_bearer_token") {
                            token = value.trim().to_string();
                        }
                    }
                    header.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_string();
                recorded.lock().unwrap().push(SsoRequest { path, token });
                if !answers {
                    // Held open, unanswered, until the test's process ends.
                    std::mem::forget(stream);
                    continue;
                }
                let expiration_ms = (chrono::Utc::now().timestamp() + 3600) * 1000;
                let body = format!(
                    "{{\"roleCredentials\":{{\"accessKeyId\":\"{ACCESS_KEY_ID}\",\
                     \"secretAccessKey\":\"portal-secret\",\"sessionToken\":\"portal-token\",\
                     \"expiration\":{expiration_ms}}}}}"
                );
                let mut writer = &stream;
                let _ = writer.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
        });
        FakeSso { endpoint, requests }
    }

    pub fn requests(&self) -> Vec<SsoRequest> {
        self.requests.lock().unwrap().clone()
    }
}
