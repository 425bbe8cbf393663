//! A small HTTPS stand-in for an EKS cluster's API server, because moto's EKS has none: it
//! answers `GET /api` (what `kubectl get --raw /api` asks) and `/version` only for a bearer
//! token that `eks_token::check` accepts for its cluster and the session's secret, and 401
//! otherwise, as the cluster's authenticator does. One thread per connection; every answer closes it.

use super::eks_token::{check, Signer};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The body `GET /api` answers with, which kubectl prints.
pub const API_VERSIONS: &str = r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:443"}]}"#;

const VERSION: &str =
    r#"{"major":"1","minor":"32","gitVersion":"v1.32.0","platform":"linux/amd64"}"#;

pub struct FakeKube {
    pub url: String,
    refused: Arc<AtomicUsize>,
}

/// Whose tokens the stand-in takes.
pub struct Accepting {
    pub cluster: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl FakeKube {
    /// Serves on a loopback port with the certificate and key (PEM files) given.
    pub fn start(certificate: &Path, key: &Path, accepting: Accepting) -> FakeKube {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
            .expect("read the certificate")
            .map(|c| c.expect("a PEM certificate"))
            .collect();
        let key = PrivateKeyDer::from_pem_file(key).expect("read the key");
        let config = Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("a server configuration"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let refused = Arc::new(AtomicUsize::new(0));
        let accepting = Arc::new(accepting);
        let counter = refused.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (config, accepting, counter) =
                    (config.clone(), accepting.clone(), counter.clone());
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                    let Ok(connection) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(connection, stream);
                    let Some((target, authorization)) = read_request(&mut tls) else {
                        return;
                    };
                    let accepted = authorization
                        .as_deref()
                        .and_then(|a| a.strip_prefix("Bearer "))
                        .is_some_and(|token| accepts(&accepting, token));
                    let path = target.split('?').next().unwrap_or_default();
                    let answer = if !accepted {
                        counter.fetch_add(1, Ordering::SeqCst);
                        response(
                            "401 Unauthorized",
                            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#,
                        )
                    } else if path == "/api" {
                        response("200 OK", API_VERSIONS)
                    } else if path == "/version" {
                        // Some kubectl builds ask for the server's version first.
                        response("200 OK", VERSION)
                    } else {
                        response("404 Not Found", "{}")
                    };
                    let _ = tls.write_all(answer.as_bytes());
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        FakeKube { url, refused }
    }

    /// How many requests were refused.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

fn accepts(accepting: &Accepting, token: &str) -> bool {
    let signer = Signer {
        access_key_id: &accepting.access_key_id,
        secret_access_key: &accepting.secret_access_key,
        session_token: accepting.session_token.as_deref(),
    };
    let now = chrono::Utc::now().timestamp();
    check(token, &accepting.cluster, &signer, now).is_ok()
}

fn response(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The request target and the Authorization header of a request without a body.
fn read_request(stream: &mut impl std::io::Read) -> Option<(String, Option<String>)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_string();
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            return Some((target, authorization));
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_string());
            }
        }
    }
}
