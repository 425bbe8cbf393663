//! Certificates of the tests' own, made with openssl: an authority, and server certificates it
//! signs, for the HTTPS peers (moto_server, the stand-in API server).

use super::require_tool;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A certificate authority of the test's own, in `dir`: its certificate (`NAME.pem`) and key.
pub fn new_authority(dir: &Path, name: &str) -> PathBuf {
    let certificate = dir.join(format!("{name}.pem"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN=rolecall test {name}"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-keyout",
        path(&dir.join(format!("{name}.key"))),
        "-out",
        path(&certificate),
    ]);
    certificate
}

/// A server certificate for `names` (subjectAltName entries such as `DNS:localhost`) signed by
/// the authority `ca`; returns the certificate and its key.
pub fn new_server_certificate(dir: &Path, ca: &str, names: &str) -> (PathBuf, PathBuf) {
    let key = dir.join("server.key");
    let request = dir.join("server.csr");
    let certificate = dir.join("server.pem");
    let extensions = dir.join("server.ext");
    std::fs::write(
        &extensions,
        format!(
            "subjectAltName = {names}\nbasicConstraints = CA:FALSE\n\
             keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n"
        ),
    )
    .unwrap();
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        path(&key),
        "-out",
        path(&request),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-days",
        "2",
        "-in",
        path(&request),
        "-CA",
        path(&dir.join(format!("{ca}.pem"))),
        "-CAkey",
        path(&dir.join(format!("{ca}.key"))),
        "-CAcreateserial",
        "-extfile",
        path(&extensions),
        "-out",
        path(&certificate),
    ]);
    (certificate, key)
}

fn openssl(args: &[&str]) {
    let output = Command::new(require_tool("openssl"))
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn path(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary path")
}
