//! `rolecall doctor`: each check finds what it is for and says what to do.

use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::{Run, Shell, World, BASE_KEYS, ONE_HOP};
use std::os::unix::fs::PermissionsExt;

/// `body` in `bash -u` (not -e: doctor's exit status is looked at), with the integration
/// loaded or not.
fn in_bash(world: &World, init: bool, body: &str) -> Run {
    let bash = Shell::new(world, "bash").no_errexit();
    if init { bash } else { bash.bare() }.run(body)
}

#[test]
fn a_healthy_shell_is_all_ok() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let run = in_bash(
        &world,
        true,
        "assume demo-admin 2>/dev/null\nrolecall doctor --online\ntrue",
    )
    .success();
    for line in [
        "ok      this shell holds demo-admin",
        "ok      the shell integration is loaded in this shell",
        "ok      2 profile(s) resolve to a source of credentials",
        "ok      the cache",
        "ok      STS says these credentials are arn:aws:sts::111111111111:assumed-role/admin/",
        "ok      the local clock is within",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    // The keys contract has doctor warn about base's plaintext key (and the missing Secret
    // Service that would hold it): this world keeps it in plaintext on purpose. Nothing else.
    let other_warnings: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| !line.contains("Secret Service"))
        .filter(|line| line.contains("warn") || line.contains("problem"))
        .collect();
    assert!(other_warnings.is_empty(), "{}", run.stdout);
}

#[test]
fn foreign_keys_overriding_a_profile_and_a_missing_integration_are_warned_about() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let run = in_bash(
        &world,
        false,
        "AWS_ACCESS_KEY_ID=AKIAOTHER AWS_SECRET_ACCESS_KEY=x AWS_PROFILE=demo-admin rolecall doctor demo-admin",
    )
    .success();
    assert!(
        run.stdout
            .contains("warn    AWS_ACCESS_KEY_ID is set, but not by rolecall"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("warn    AWS_PROFILE=demo-admin is set beside the keys in the environment: the AWS SDK for JavaScript v3"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("warn    the keys in this shell's environment are not those of demo-admin"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("warn    the shell integration is not loaded in this shell"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_expired_session_broken_chains_and_ignored_sections_are_problems() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_credentials(BASE_KEYS);
    world.write_config(&format!(
        "{ONE_HOP}[profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = b\n\
         [profile b]\nrole_arn = arn:aws:iam::111111111111:role/b\nsource_profile = a\n\
         [profile has space]\nregion = eu-west-1\n"
    ));
    let run = in_bash(
        &world,
        true,
        "export ROLECALL_PROFILE=demo-admin ROLECALL_EXPIRES=1 AWS_ACCESS_KEY_ID=A AWS_SECRET_ACCESS_KEY=B AWS_PROFILE=demo-admin\n\
         rolecall doctor; echo status=$?",
    );
    assert!(
        run.stdout
            .contains("problem the session of demo-admin in this shell expired"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("problem source_profile loop: a → b → a"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("warn    section [profile has space] is ignored by every AWS tool"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("status=1"), "{}", run.stdout);
}

#[test]
fn an_open_cache_is_reported() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    std::fs::create_dir_all(world.cache_dir()).unwrap();
    std::fs::set_permissions(world.cache_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let stray = world.cache_dir().join("role-x-0000000000000000.json");
    std::fs::write(&stray, "{}").unwrap();
    std::fs::set_permissions(&stray, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = world.run(&["doctor"]).success();
    assert!(
        run.stdout
            .contains("is open to others (mode 755): chmod 700"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "1 cache file(s) are not private files of yours and will be ignored and replaced: \
             role-x-0000000000000000.json"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn online_measures_the_clock_against_sts() {
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc2822();
    let sts = FakeSts::start(
        Behaviour::Answer {
            status: 200,
            headers: vec![],
            body: "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                   <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ana</Arn>\
                   <UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult>\
                   </GetCallerIdentityResponse>"
                .into(),
        }
        .with_header("Date", &an_hour_ago),
    );
    let world = World::with_endpoint(&sts.endpoint);
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let mut command = world.rolecall(&["doctor", "--online"]);
    command
        .env("AWS_ACCESS_KEY_ID", "AKIAUSER")
        .env("AWS_SECRET_ACCESS_KEY", "x");
    let run = Run::of(command);
    assert_eq!(run.status, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("ok      STS says these credentials are arn:aws:iam::123456789012:user/ana"),
        "{}",
        run.stdout
    );
    // An hour, give or take the second the call took.
    assert!(
        run.stdout
            .contains("problem the local clock is 3600s ahead of STS's")
            || run
                .stdout
                .contains("problem the local clock is 3601s ahead of STS's"),
        "{}",
        run.stdout
    );
}
