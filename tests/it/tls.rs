//! STS over HTTPS, the way users reach it: moto_server serving a certificate issued by a test CA
//! for `localhost`, which rolecall trusts only through the trust store (SSL_CERT_FILE). A
//! certificate from an unknown authority, or for another host name, is refused with a message
//! that says what to fix.

use crate::common::certificates::{new_authority, new_server_certificate};
use crate::common::{Moto, Run, World, BASE_KEYS, ONE_HOP};
use std::path::Path;

/// moto_server over HTTPS with a certificate from the authority `trusted`, and a world pointed at it.
struct HttpsSts {
    dir: tempfile::TempDir,
    world: World,
    _moto: Moto,
}

fn https_sts() -> HttpsSts {
    https_sts_named("DNS:localhost, IP:127.0.0.1")
}

/// As `https_sts`, with a server certificate for `names` only.
fn https_sts_named(names: &str) -> HttpsSts {
    let dir = tempfile::tempdir().unwrap();
    new_authority(dir.path(), "ca");
    let (certificate, key) = new_server_certificate(dir.path(), "ca", names);
    let moto = Moto::start_tls(&certificate, &key);
    let world = World::with_endpoint(&moto.endpoint);
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    HttpsSts {
        dir,
        world,
        _moto: moto,
    }
}

fn assume_trusting(sts: &HttpsSts, trust_store: &Path) -> Run {
    let mut command = sts.world.rolecall(&["assume", "--json", "demo-admin"]);
    command.env("SSL_CERT_FILE", trust_store);
    Run::of(command)
}

#[test]
fn assume_over_https_trusts_the_certificate_authorities_of_the_trust_store() {
    let sts = https_sts();
    assert!(sts.world.endpoint.starts_with("https://localhost:"));
    let json = assume_trusting(&sts, &sts.dir.path().join("ca.pem"))
        .success()
        .json();
    assert!(json["AWS_ACCESS_KEY_ID"]
        .as_str()
        .is_some_and(|key| key.starts_with("ASIA")));
    assert_eq!(
        json["ROLECALL_ROLE_ARN"],
        "arn:aws:iam::111111111111:role/admin"
    );
}

#[test]
fn a_certificate_from_an_untrusted_authority_is_refused_and_named() {
    let sts = https_sts();
    let other = new_authority(sts.dir.path(), "other-ca");
    let run = assume_trusting(&sts, &other).failure(1);
    run.stderr_has(&format!(
        "STS at {} presented a certificate rolecall does not trust \
         (invalid peer certificate: UnknownIssuer); if a proxy re-signs HTTPS traffic, set \
         SSL_CERT_FILE to a PEM file with its CA certificate",
        sts.world.endpoint
    ));
    assert!(
        !sts.world.cache_dir().exists()
            || std::fs::read_dir(sts.world.cache_dir())
                .unwrap()
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().ends_with(".json")),
        "nothing cached from a refused server"
    );
}

#[test]
fn a_certificate_for_another_host_name_is_refused_even_from_a_trusted_authority() {
    let sts = https_sts_named("DNS:elsewhere.test");
    let run = assume_trusting(&sts, &sts.dir.path().join("ca.pem")).failure(1);
    run.stderr_has(&format!(
        "STS at {} presented a certificate rolecall does not trust \
         (invalid peer certificate: certificate not valid for name \"localhost\"",
        sts.world.endpoint
    ))
    .stderr_has("the certificate is for another host name: check the endpoint URL");
}
