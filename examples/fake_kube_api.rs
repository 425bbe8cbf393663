//! The tests' stand-in for an EKS cluster's API server (tests/it/common/fake_kube.rs) as a
//! program, for scripts/bench: it answers `kubectl get --raw /api` over HTTPS only for a token
//! of the cluster signed with the credentials in its environment, and serves until killed.
//!
//! ```sh
//! cargo build --release --example fake_kube_api
//! AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_SESSION_TOKEN=… \
//!   fake_kube_api --certificate server.pem --key server.key --cluster NAME
//! ```
//!
//! The first line of stdout is its URL (`https://127.0.0.1:PORT`), for kubectl's `--server`;
//! the certificate must be for `IP:127.0.0.1`, and kubectl must trust its authority.

#[allow(dead_code)]
#[path = "../tests/it/common/eks_token.rs"]
mod eks_token;
#[allow(dead_code)]
#[path = "../tests/it/common/fake_kube.rs"]
mod fake_kube;

use std::io::Write;
use std::path::PathBuf;

const USAGE: &str = "usage: fake_kube_api --certificate PEM --key PEM --cluster NAME";

fn main() {
    let fail = |message: String| -> ! {
        eprintln!("fake_kube_api: {message}");
        std::process::exit(2);
    };
    let (mut certificate, mut key, mut cluster) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| fail(format!("{flag} needs a value\n{USAGE}")));
        match flag.as_str() {
            "--certificate" => certificate = Some(PathBuf::from(value)),
            "--key" => key = Some(PathBuf::from(value)),
            "--cluster" => cluster = Some(value),
            _ => fail(format!("unknown option `{flag}`\n{USAGE}")),
        }
    }
    let (Some(certificate), Some(key), Some(cluster)) = (certificate, key, cluster) else {
        fail(USAGE.to_string())
    };
    let variable = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(access_key_id), Some(secret_access_key)) = (
        variable("AWS_ACCESS_KEY_ID"),
        variable("AWS_SECRET_ACCESS_KEY"),
    ) else {
        fail("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the session's".into())
    };
    let server = fake_kube::FakeKube::start(
        &certificate,
        &key,
        fake_kube::Accepting {
            cluster,
            access_key_id,
            secret_access_key,
            session_token: variable("AWS_SESSION_TOKEN"),
        },
    );
    let mut stdout = std::io::stdout();
    // Flushed at once: the script that started this reads the line while the program runs on.
    let _ = writeln!(stdout, "{}", server.url).and_then(|()| stdout.flush());
    loop {
        std::thread::park();
    }
}
