//! One test per row of the design's error table: the message says what happened and what to do,
//! the exit code is 1 (AWS side) or 2 (usage/config), and nothing reaches stdout.

use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::{self, World, BASE_KEYS, ONE_HOP};
use std::time::Duration;

fn world_answering(behaviour: Behaviour) -> (FakeSts, World) {
    let sts = FakeSts::start(behaviour);
    let world = World::with_endpoint(&sts.endpoint);
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    (sts, world)
}

#[test]
fn access_denied_names_the_caller_the_role_and_the_trust_policy() {
    let (_sts, world) = world_answering(Behaviour::sts_error(
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: \
         sts:AssumeRole on resource: arn:aws:iam::111111111111:role/admin",
    ));
    let run = world.run(&["assume", "--json", "demo-admin"]).failure(1);
    run.stderr_has("arn:aws:iam::123456789012:user/ana")
        .stderr_has("the keys of profile `base`")
        .stderr_has("may not assume arn:aws:iam::111111111111:role/admin")
        .stderr_has("trust policy must allow that caller");
}

#[test]
fn expired_token_names_the_profile_and_how_to_renew() {
    let (_sts, world) = world_answering(Behaviour::sts_error(
        400,
        "ExpiredToken",
        "The security token included in the request is expired",
    ));
    world
        .run(&["assume", "--json", "demo-admin"])
        .failure(1)
        .stderr_has("the keys of profile `base` expired")
        .stderr_has("renew them");
}

#[test]
fn invalid_keys_say_wrong_or_revoked() {
    for code in ["InvalidClientTokenId", "SignatureDoesNotMatch"] {
        let (_sts, world) = world_answering(Behaviour::sts_error(
            403,
            code,
            "The security token included in the request is invalid.",
        ));
        world
            .run(&["assume", "--json", "demo-admin"])
            .failure(1)
            .stderr_has(code)
            .stderr_has("the keys are wrong or revoked");
    }
}

#[test]
fn invalid_keys_with_a_skewed_clock_blame_the_clock() {
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc2822();
    let (_sts, world) = world_answering(
        Behaviour::sts_error(403, "SignatureDoesNotMatch", "Signature expired")
            .with_header("Date", &an_hour_ago),
    );
    let run = world.run(&["assume", "--json", "demo-admin"]).failure(1);
    // An hour, give or take the second the call took.
    assert!(
        run.stderr.contains("your clock is 3600s ahead of STS's")
            || run.stderr.contains("your clock is 3601s ahead of STS's"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_rejected_mfa_code_says_try_the_next_one() {
    let (_sts, world) = world_answering(Behaviour::sts_error(
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    ));
    world.write_config(
        "[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
         mfa_serial = arn:aws:iam::000000000000:mfa/ana\n",
    );
    world
        .run(&["assume", "--json", "mfa", "--mfa-token", "123456"])
        .failure(1)
        .stderr_has("the MFA code was rejected")
        .stderr_has("next code");
}

#[test]
fn a_duration_too_long_names_the_limit_and_the_chaining_cap() {
    let (_sts, world) = world_answering(Behaviour::sts_error(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    ));
    world
        .run(&["assume", "--json", "demo-admin", "-d", "12h"])
        .failure(1)
        .stderr_has(
            "the duration of 12h00m is longer than arn:aws:iam::111111111111:role/admin allows",
        );
}

#[test]
fn a_chained_hop_over_an_hour_mentions_the_aws_cap() {
    let (_sts, world) = world_answering(Behaviour::Sequence(vec![
        Behaviour::grant(),
        Behaviour::sts_error(
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed \
             by role chaining.",
        ),
    ]));
    world.write_config(&format!(
        "{ONE_HOP}[profile chained]\nrole_arn = arn:aws:iam::222222222222:role/c\n\
         source_profile = demo-admin\n"
    ));
    world
        .run(&["assume", "--json", "chained", "-d", "2h"])
        .failure(1)
        .stderr_has("the duration of 2h00m is longer than arn:aws:iam::222222222222:role/c allows")
        .stderr_has("AWS caps chained roles")
        .stderr_has("at 1h");
}

#[test]
fn an_unknown_profile_suggests_the_nearest_names() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_config(ONE_HOP);
    world
        .run(&["assume", "--json", "demo-admn"])
        .failure(2)
        .stderr_has("no profile named `demo-admn`; did you mean demo-admin?");
    world
        .run(&["assume", "--json", "zzzzzz"])
        .failure(2)
        .stderr_has("`rolecall profiles` lists them");
}

#[test]
fn a_refused_port_fails_fast_naming_the_endpoint() {
    let port = common::free_port();
    let world = World::with_endpoint(&format!("http://127.0.0.1:{port}"));
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let run = world.run(&["assume", "--json", "demo-admin"]).failure(1);
    run.stderr_has(&format!(
        "STS at http://127.0.0.1:{port} could not be reached"
    ));
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn a_silent_endpoint_fails_within_the_timeout_naming_the_wait() {
    let (_sts, world) = world_answering(Behaviour::Silent);
    let run = world.run(&["assume", "--json", "demo-admin"]).failure(1);
    run.stderr_has("did not answer within 3s");
    // ROLECALL_STS_TIMEOUT is 3 s in the test world: the whole process ends soon after.
    assert!(
        run.elapsed < Duration::from_secs(6),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn no_mfa_code_and_no_terminal_asks_for_the_flag() {
    let (sts, world) = world_answering(Behaviour::Silent);
    world.write_config(
        "[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
         mfa_serial = arn:aws:iam::000000000000:mfa/ana\n",
    );
    world
        .run(&["assume", "--json", "mfa"])
        .failure(2)
        .stderr_has("needs an MFA code and there is no terminal to ask on: pass --mfa-token");
    assert!(sts.actions().is_empty(), "nothing was sent to STS");
}

#[test]
fn malformed_answers_and_server_errors_are_reported_not_dumped() {
    let (_sts, world) = world_answering(Behaviour::Answer {
        status: 200,
        headers: Vec::new(),
        body: "<html>not sts</html>".into(),
    });
    world
        .run(&["assume", "--json", "demo-admin"])
        .failure(1)
        .stderr_has("cannot read");
    let (sts, world) = world_answering(Behaviour::sts_error(503, "ServiceUnavailable", "busy"));
    world
        .run(&["assume", "--json", "demo-admin"])
        .failure(1)
        .stderr_has("ServiceUnavailable");
    assert_eq!(sts.actions().len(), 3, "retried, then gave up");
}

/// The one table of bad configuration: each is one line on stderr, exit 2, nothing on stdout.
#[test]
fn bad_configuration_is_one_clear_line_and_exit_2() {
    // The whole catalogue runs in process, next to the code (`profile::chain`'s unit tests);
    // these rows check that the binary says the same, in one line, with exit 2.
    let world = World::with_endpoint("http://127.0.0.1:9");
    let config_path = world.home().join(".aws/config").display().to_string();
    let line_2 = format!("{config_path} line 2");
    let cases: Vec<(String, &str, &str)> = vec![
        ("[profile x]\nrole_arn\n".into(), "x", line_2.as_str()),
        (
            "[profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = b\n\
          [profile b]\nrole_arn = arn:aws:iam::111111111111:role/b\nsource_profile = c\n\
          [profile c]\nrole_arn = arn:aws:iam::111111111111:role/c\nsource_profile = a\n"
                .into(),
            "a",
            "source_profile loop: a → b → c → a",
        ),
        (
            "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = nope\n"
                .into(),
            "x",
            "names source_profile `nope`, which does not exist",
        ),
        (
            "[profile x]\nrole_arn = arn:aws:iam::111111111111:user/x\nsource_profile = x\n".into(),
            "x",
            "is not a role ARN",
        ),
    ];
    for (config, target, message) in &cases {
        world.write_config(config);
        let run = world.run(&["assume", "--json", target]).failure(2);
        run.stderr_has(message);
        assert_eq!(run.stderr.lines().count(), 1, "{config}\n{}", run.stderr);
    }
    world.write_config(ONE_HOP);
    world
        .run(&["assume", "--json", "demo-admin", "-d", "soon"])
        .failure(2)
        .stderr_has("`soon` is not a duration");
    world
        .run(&["assume", "--json", "demo-admin", "-r", "Mars 1"])
        .failure(2)
        .stderr_has("is not a region name");
    world.run(&["assume", "--json"]).failure(2);
}

#[test]
fn config_files_that_cannot_be_used_are_named() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (world.home().join("missing"), "does not exist"),
        (world.home().to_path_buf(), "is a directory"),
        (world.home().join("latin1"), "is not UTF-8 text"),
    ];
    std::fs::write(world.home().join("latin1"), b"[profile caf\xe9]\n").unwrap();
    for (path, message) in cases {
        let mut command = world.rolecall(&["profiles"]);
        command.env("AWS_CONFIG_FILE", &path);
        let run = common::Run::of(command).failure(2);
        run.stderr_has(message).stderr_has("AWS_CONFIG_FILE");
        assert!(
            run.stderr.contains(&path.display().to_string()),
            "{}",
            run.stderr
        );
    }
    world.write_config("[profile ok]\nregion = eu-west-1\n[profile broken\n");
    world
        .run(&["profiles"])
        .failure(2)
        .stderr_has(".aws/config line 3: Profile definition must end with ']'");
}

#[test]
fn environment_settings_that_cannot_work_are_usage_errors() {
    let (sts, world) = world_answering(Behaviour::Silent);
    // Each is refused before a request is built: the SDK's error for any of them quotes the
    // request, MFA code included.
    for (variable, url) in [
        ("AWS_ENDPOINT_URL_STS", "not a url"),
        ("AWS_ENDPOINT_URL_STS", "http://ho<st"),
        ("AWS_ENDPOINT_URL_STS", "http://[::1"),
        ("AWS_ENDPOINT_URL_STS", "http://#frag"),
        ("AWS_ENDPOINT_URL_STS", "http://exa%mple.com"),
        ("AWS_ENDPOINT_URL", "ftp://127.0.0.1"),
    ] {
        let mut command = world.rolecall(&[
            "assume",
            "--json",
            "demo-admin",
            "--no-cache",
            "--mfa-token",
            "123456",
        ]);
        command
            .env_remove("AWS_ENDPOINT_URL_STS")
            .env(variable, url);
        let run = common::Run::of(command).failure(2);
        run.stderr_has(&format!(
            "{variable} is `{url}`, which is not an http(s) URL"
        ));
        assert!(
            !run.stderr.contains("RoleArn") && !run.stderr.contains("123456"),
            "the request leaked: {}",
            run.stderr
        );
    }
    // The scheme is case-insensitive, as it is to the SDK.
    let mut command = world.rolecall(&["assume", "--json", "demo-admin", "--no-cache"]);
    command.env(
        "AWS_ENDPOINT_URL_STS",
        sts.endpoint.replace("http://", "HTTP://"),
    );
    let run = common::Run::of(command).failure(1);
    run.stderr_has("did not answer within");

    let mut command = world.rolecall(&["assume", "--json", "demo-admin"]);
    command.env("ROLECALL_STS_TIMEOUT", "soon");
    common::Run::of(command)
        .failure(2)
        .stderr_has("ROLECALL_STS_TIMEOUT is `soon`");

    let mut command = world.rolecall(&["assume", "demo-admin"]);
    command.env("SHELL", "/bin/tcsh");
    common::Run::of(command)
        .failure(2)
        .stderr_has("not tcsh: pass --shell or --json");
}

#[test]
fn flags_and_targets_sts_would_reject_are_caught_before_any_call() {
    let (sts, world) = world_answering(Behaviour::Silent);
    let cases: &[(&[&str], &str)] = &[
        (&["demo-admin", "-d", "5m"], "STS allows 15m to 12h"),
        (&["demo-admin", "-d", "13h"], "STS allows 15m to 12h"),
        (&["base", "-d", "1h"], "assumes no role, so --duration"),
        (
            &["demo-admin", "--external-id", ""],
            "an external ID is 2 to 1224",
        ),
        (&["arn:aws:iam::123:role/x"], "is not a role ARN"),
        (&["arn:aws:iam::123456789012:role/"], "is not a role ARN"),
    ];
    for (args, message) in cases {
        let mut all = vec!["assume", "--json"];
        all.extend_from_slice(args);
        world.run(&all).failure(2).stderr_has(message);
    }
    assert!(sts.actions().is_empty(), "nothing reached STS");
}

#[test]
fn credential_source_environment_without_keys_is_a_configuration_error() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_config(
        "[profile from-env]\nrole_arn = arn:aws:iam::666666666666:role/e\ncredential_source = Environment\n",
    );
    world
        .run(&["assume", "--json", "from-env"])
        .failure(2)
        .stderr_has("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
}

/// A credential_process may make a person unlock something; settings that would fail the STS
/// call afterwards are reported before it runs.
#[test]
fn sts_settings_are_checked_before_a_credential_process_runs() {
    let (sts, world) = world_answering(Behaviour::grant());
    let marker = world.home().join("process-ran");
    world.write_config(&format!(
        "[profile proc]\ncredential_process = sh -c 'touch {} && printf %s \
         \"{{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"AKIAPROC\\\",\\\"SecretAccessKey\\\":\\\"s\\\"}}\"'\n\
         [profile proc-role]\nrole_arn = arn:aws:iam::111111111111:role/r\nsource_profile = proc\n",
        marker.display()
    ));
    for (variable, value) in [
        ("ROLECALL_STS_TIMEOUT", "abc"),
        ("AWS_ENDPOINT_URL_STS", "not a url"),
    ] {
        let mut command = world.rolecall(&["assume", "--json", "--no-cache", "proc-role"]);
        command.env(variable, value);
        common::Run::of(command).failure(2).stderr_has(variable);
        assert!(
            !marker.exists(),
            "the process ran before {variable} was checked"
        );
    }
    // The same profile works, so the marker would have shown a run.
    world
        .run(&["assume", "--json", "--no-cache", "proc-role"])
        .success();
    assert!(marker.exists());
    assert_eq!(sts.actions(), ["AssumeRole"]);
}
