//! SSO (IAM Identity Center) base profiles end to end: rolecall finds the token `aws sso login`
//! cached, asks the portal for the profile's role credentials (the tests' own portal: moto has
//! none), then exports them, or assumes a role with them at moto_server.

use crate::common::fake_sso::{FakeSso, ACCESS_KEY_ID};
use crate::common::{self, Run, World};
use std::process::Command;

const CONFIG: &str = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
sso_region = eu-west-1\n\
[profile sso-dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\n\
region = eu-west-1\n\
[profile sso-admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = sso-dev\n\
[profile sso-legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = eu-west-1\n\
sso_account_id = 333333333333\nsso_role_name = ReadOnly\n";

struct SsoWorld {
    world: World,
    portal: FakeSso,
}

fn sso_world() -> SsoWorld {
    sso_world_with(FakeSso::start())
}

fn sso_world_with(portal: FakeSso) -> SsoWorld {
    let world = World::with_moto();
    world.write_config(CONFIG);
    SsoWorld { world, portal }
}

impl SsoWorld {
    /// Writes the token `aws sso login` caches, under the name the AWS tools give it: the SHA-1
    /// of the session name (or, for a profile without a session, of its start URL).
    fn cache_login(&self, key: &str, token: &str, seconds_left: i64) {
        let digest = Command::new("sh")
            .args(["-c", "printf %s \"$1\" | sha1sum", "sh", key])
            .output()
            .expect("run sha1sum");
        let name = String::from_utf8(digest.stdout).unwrap()[..40].to_string();
        let dir = self.world.home().join(".aws/sso/cache");
        std::fs::create_dir_all(&dir).unwrap();
        let expires = (chrono::Utc::now() + chrono::Duration::seconds(seconds_left))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        std::fs::write(
            dir.join(format!("{name}.json")),
            format!("{{\"accessToken\": \"{token}\", \"expiresAt\": \"{expires}\"}}"),
        )
        .unwrap();
    }

    fn assume(&self, target: &str) -> Run {
        let mut command = self.world.rolecall(&["assume", "--json", target]);
        command.env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint);
        Run::of(command)
    }

    /// The query strings the portal was asked, with the token each carried.
    fn portal_calls(&self) -> Vec<(String, String)> {
        self.portal
            .requests()
            .into_iter()
            .map(|request| {
                let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
                assert_eq!(path, "/federation/credentials");
                let mut pairs: Vec<&str> = query.split('&').collect();
                pairs.sort();
                (pairs.join("&"), request.token)
            })
            .collect()
    }
}

#[test]
fn an_sso_profile_exports_the_role_credentials_the_portal_gives_for_the_cached_login() {
    let sso = sso_world();
    sso.cache_login("corp", "token-from-login", 3600);
    let run = sso.assume("sso-dev").success();
    let json = run.json();
    assert_eq!(json["AWS_ACCESS_KEY_ID"], ACCESS_KEY_ID);
    assert_eq!(json["AWS_SECRET_ACCESS_KEY"], "portal-secret");
    assert_eq!(json["AWS_SESSION_TOKEN"], "portal-token");
    assert_eq!(json["AWS_PROFILE"], "sso-dev");
    assert_eq!(json["AWS_REGION"], "eu-west-1");
    let expires: i64 = json["ROLECALL_EXPIRES"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now().timestamp();
    assert!((3500..=3600).contains(&left), "{left}s left");
    assert_eq!(
        sso.portal_calls(),
        [(
            "account_id=111111111111&role_name=Developer".to_string(),
            "token-from-login".to_string()
        )]
    );
}

#[test]
fn a_role_on_an_sso_profile_is_assumed_with_the_portal_credentials_and_cached() {
    let mut sso = sso_world();
    sso.cache_login("corp", "token-from-login", 3600);
    let json = sso.assume("sso-admin").success().json();
    assert_eq!(
        json["ROLECALL_ROLE_ARN"],
        "arn:aws:iam::222222222222:role/admin"
    );
    let key = json["AWS_ACCESS_KEY_ID"].as_str().unwrap();
    assert!(key.starts_with("ASIA") && key != ACCESS_KEY_ID, "{key}");
    assert_eq!(sso.portal_calls().len(), 1);
    // The role's credentials are cached: a second assume asks neither the portal nor STS.
    sso.world.moto.as_mut().unwrap().stop();
    let again = sso.assume("sso-admin").success().json();
    assert_eq!(again["AWS_ACCESS_KEY_ID"], key);
    assert_eq!(sso.portal_calls().len(), 1);
}

#[test]
fn a_profile_with_its_own_start_url_finds_the_login_cached_under_that_url() {
    let sso = sso_world();
    sso.cache_login("https://legacy.awsapps.com/start", "legacy-token", 3600);
    let json = sso.assume("sso-legacy").success().json();
    assert_eq!(json["AWS_ACCESS_KEY_ID"], ACCESS_KEY_ID);
    assert_eq!(
        sso.portal_calls(),
        [(
            "account_id=333333333333&role_name=ReadOnly".to_string(),
            "legacy-token".to_string()
        )]
    );
}

#[test]
fn an_expired_or_missing_login_says_to_log_in_again_and_asks_no_portal() {
    let sso = sso_world();
    sso.assume("sso-dev")
        .failure(1)
        .stderr_has("the SSO session of profile `sso-dev`")
        .stderr_has("run `aws sso login --profile sso-dev`");
    sso.cache_login("corp", "stale-token", -60);
    sso.assume("sso-admin")
        .failure(1)
        .stderr_has("run `aws sso login --profile sso-dev`");
    assert!(sso.portal_calls().is_empty());
}

#[test]
fn an_unreachable_portal_is_called_a_network_problem_not_a_login_to_renew() {
    let sso = sso_world();
    sso.cache_login("corp", "token-from-login", 3600);
    let mut command = sso.world.rolecall(&["assume", "--json", "sso-dev"]);
    command.env(
        "AWS_ENDPOINT_URL_SSO",
        format!("http://127.0.0.1:{}", common::free_port()),
    );
    let run = Run::of(command).failure(1);
    run.stderr_has("could not get the SSO session of profile `sso-dev`")
        .stderr_has("check your network, and AWS_ENDPOINT_URL_SSO (the portal was asked at http://127.0.0.1:");
    assert!(!run.stderr.contains("aws sso login"), "{}", run.stderr);
}

#[test]
fn a_silent_portal_is_given_up_on_after_the_network_timeout() {
    let sso = sso_world_with(FakeSso::start_silent());
    sso.cache_login("corp", "token-from-login", 3600);
    let started = std::time::Instant::now();
    // The world's ROLECALL_STS_TIMEOUT is 3 s.
    let run = sso.assume("sso-dev").failure(1);
    let waited = started.elapsed().as_secs_f64();
    assert!((2.5..10.0).contains(&waited), "waited {waited:.1}s");
    run.stderr_has("the SSO session of profile `sso-dev` did not answer within 3s")
        .stderr_has(&format!(
            "check your network, and AWS_ENDPOINT_URL_SSO (the portal was asked at {})",
            sso.portal.endpoint
        ));
    assert_eq!(sso.portal_calls().len(), 1, "the portal was asked");
}

#[test]
fn an_endpoint_that_is_no_url_never_shows_the_token() {
    let sso = sso_world();
    sso.cache_login("corp", "secret-bearer-token", 3600);
    for variable in ["AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL"] {
        for url in ["not a url", "http://ho<st", "http://[::1", "http://#frag"] {
            let mut command = sso.world.rolecall(&["assume", "--json", "sso-dev"]);
            command.env(variable, url);
            let run = Run::of(command).failure(2);
            run.stderr_has(&format!(
                "{variable} is `{url}`, which is not an http(s) URL"
            ));
            assert!(
                !run.stderr.contains("secret-bearer-token"),
                "{}",
                run.stderr
            );
        }
    }
    // An endpoint_url in the config reaches the SDK unchecked; its error is not printed either.
    sso.world.write_config(&format!(
        "{CONFIG}[profile sso-odd]\nsso_session = corp\nsso_account_id = 111111111111\n\
         sso_role_name = Developer\nendpoint_url = not a url\n"
    ));
    let run = Run::of(sso.world.rolecall(&["assume", "--json", "sso-odd"])).failure(2);
    run.stderr_has(
        "could not get the SSO session of profile `sso-odd`: the request for them could not be \
         built; check the endpoint_url settings of your config",
    );
    assert!(
        !run.stderr.contains("secret-bearer-token"),
        "{}",
        run.stderr
    );
    assert!(sso.portal_calls().is_empty());
}
