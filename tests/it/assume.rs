//! The assume engine against a real STS implementation (moto_server): every way a profile can be
//! written, MFA sessions, and the cache.

use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::{self, World, BASE_KEYS, ONE_HOP};
use std::os::unix::fs::PermissionsExt;

fn assume_json(world: &World, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["assume", "--json"];
    all.extend_from_slice(args);
    world.run(&all).success().json()
}

/// The cache's credential files (each has a `.lock` beside it once fetched).
fn json_entries(world: &World) -> Vec<std::fs::DirEntry> {
    std::fs::read_dir(world.cache_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .collect()
}

fn var<'a>(json: &'a serde_json::Value, name: &str) -> &'a str {
    json[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} missing from {json}"))
}

#[test]
fn one_hop_role_gives_temporary_credentials_and_caches_them_privately() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let run = world.run(&["assume", "--json", "demo-admin"]).success();
    run.stderr_has("demo-admin (eu-west-1) · role admin in 111111111111 · expires");
    let json = run.json();
    assert!(var(&json, "AWS_ACCESS_KEY_ID").starts_with("ASIA"));
    assert!(!var(&json, "AWS_SESSION_TOKEN").is_empty());
    assert_eq!(
        var(&json, "ROLECALL_ROLE_ARN"),
        "arn:aws:iam::111111111111:role/admin"
    );
    assert!(
        json.get("AWS_PROFILE").is_none(),
        "AWS_PROFILE beside the keys"
    );
    assert_eq!(var(&json, "AWS_REGION"), "eu-west-1");
    assert_eq!(var(&json, "AWS_DEFAULT_REGION"), "eu-west-1");
    let expires: i64 = var(&json, "ROLECALL_EXPIRES").parse().unwrap();
    let left = expires - chrono::Utc::now().timestamp();
    assert!((3000..=3600).contains(&left), "{left}s left");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(var(&json, "AWS_CREDENTIAL_EXPIRATION"))
            .unwrap()
            .timestamp(),
        expires
    );
    assert!(var(&json, "AWS_CREDENTIAL_EXPIRATION").ends_with('Z'));

    let dir = world.cache_dir();
    assert_eq!(dir.metadata().unwrap().permissions().mode() & 0o777, 0o700);
    let entries: Vec<_> = json_entries(&world);
    assert_eq!(entries.len(), 1, "one credential set, one file");
    for entry in entries {
        assert_eq!(
            entry.metadata().unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn three_hop_chain_crosses_accounts_and_regions() {
    let world = World::with_moto();
    world.write_config(
        "[profile base]\nregion = us-east-1\n\
         [profile hop-a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
         region = eu-west-1\n\
         [profile hop-b]\nrole_arn = arn:aws:iam::222222222222:role/b\nsource_profile = hop-a\n\
         [profile hop-c]\nrole_arn = arn:aws:iam::333333333333:role/c\nsource_profile = hop-b\n\
         region = ap-southeast-2\n",
    );
    world.write_credentials(BASE_KEYS);
    let json = assume_json(&world, &["hop-c"]);
    assert_eq!(
        var(&json, "ROLECALL_ROLE_ARN"),
        "arn:aws:iam::333333333333:role/c"
    );
    assert_eq!(var(&json, "AWS_REGION"), "ap-southeast-2");
    // hop-b names no region: the nearest one down its chain (hop-a's) applies.
    let json = assume_json(&world, &["hop-b"]);
    assert_eq!(var(&json, "AWS_REGION"), "eu-west-1");
}

#[test]
fn a_chain_makes_one_assume_role_call_per_hop() {
    let sts = FakeSts::start(Behaviour::grant());
    let world = World::with_endpoint(&sts.endpoint);
    world.write_config(
        "[profile hop-a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
         [profile hop-b]\nrole_arn = arn:aws:iam::222222222222:role/b\nsource_profile = hop-a\n\
         [profile hop-c]\nrole_arn = arn:aws:iam::333333333333:role/c\nsource_profile = hop-b\n",
    );
    world.write_credentials(BASE_KEYS);
    assume_json(&world, &["hop-c"]);
    assert_eq!(sts.actions(), ["AssumeRole", "AssumeRole", "AssumeRole"]);

    // Fifty hops resolve, and each is assumed.
    let sts = FakeSts::start(Behaviour::grant());
    let world = World::with_endpoint(&sts.endpoint);
    let config: String = std::iter::once("[profile base]\nregion = eu-west-1\n".to_string())
        .chain((1..=50).map(|i| {
            let source = if i == 1 {
                "base".to_string()
            } else {
                format!("hop{}", i - 1)
            };
            format!("[profile hop{i}]\nrole_arn = arn:aws:iam::111111111111:role/r{i}\nsource_profile = {source}\n")
        }))
        .collect();
    world.write_config(&config);
    world.write_credentials(BASE_KEYS);
    assume_json(&world, &["hop50"]);
    assert_eq!(sts.actions().len(), 50);
}

#[test]
fn region_falls_back_to_the_default_profile_then_the_flag_wins() {
    let world = World::with_moto();
    world.write_config(
        "[default]\nregion = sa-east-1\n[profile base]\n\
         [profile demo-admin]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n",
    );
    world.write_credentials(BASE_KEYS);
    assert_eq!(
        var(&assume_json(&world, &["demo-admin"]), "AWS_REGION"),
        "sa-east-1"
    );
    let json = assume_json(&world, &["demo-admin", "-r", "ca-central-1"]);
    assert_eq!(var(&json, "AWS_REGION"), "ca-central-1");
}

#[test]
fn mfa_code_is_typed_once_per_mfa_session_and_reused_by_other_roles() {
    let world = World::with_moto();
    world.write_config(
        "[profile base]\n\
         [profile mfa-a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
         mfa_serial = arn:aws:iam::000000000000:mfa/ana\n\
         [profile mfa-b]\nrole_arn = arn:aws:iam::222222222222:role/b\nsource_profile = base\n\
         mfa_serial = arn:aws:iam::000000000000:mfa/ana\n",
    );
    world.write_credentials(BASE_KEYS);
    // Without a code and without a terminal, the first role cannot start an MFA session.
    world
        .run(&["assume", "--json", "mfa-a"])
        .failure(2)
        .stderr_has("--mfa-token");
    let json = assume_json(&world, &["mfa-a", "--mfa-token", "123456"]);
    assert_eq!(
        var(&json, "ROLECALL_ROLE_ARN"),
        "arn:aws:iam::111111111111:role/a"
    );
    // The second role shares source and serial: no code is asked for, none given.
    let json = assume_json(&world, &["mfa-b"]);
    assert_eq!(
        var(&json, "ROLECALL_ROLE_ARN"),
        "arn:aws:iam::222222222222:role/b"
    );
    let mfa_entries = json_entries(&world)
        .into_iter()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("mfa-") && name.ends_with(".json")
        })
        .count();
    assert_eq!(mfa_entries, 1);
}

#[test]
fn the_mfa_session_is_one_get_session_token_call() {
    let sts = FakeSts::start(Behaviour::grant());
    let world = World::with_endpoint(&sts.endpoint);
    world.write_config(
        "[profile mfa-a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
         mfa_serial = arn:aws:iam::000000000000:mfa/ana\n\
         [profile mfa-b]\nrole_arn = arn:aws:iam::222222222222:role/b\nsource_profile = base\n\
         mfa_serial = arn:aws:iam::000000000000:mfa/ana\n",
    );
    world.write_credentials(BASE_KEYS);
    assume_json(&world, &["mfa-a", "--mfa-token", "123456"]);
    assume_json(&world, &["mfa-b"]);
    assert_eq!(
        sts.actions(),
        ["GetSessionToken", "AssumeRole", "AssumeRole"]
    );
}

#[test]
fn a_cached_assume_needs_no_sts_and_refresh_fetches_new_keys() {
    let mut world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let first = assume_json(&world, &["demo-admin"]);
    let refreshed = assume_json(&world, &["demo-admin", "--refresh"]);
    assert_ne!(
        var(&first, "AWS_ACCESS_KEY_ID"),
        var(&refreshed, "AWS_ACCESS_KEY_ID")
    );

    world.moto.as_mut().unwrap().stop();
    let cached = assume_json(&world, &["demo-admin"]);
    assert_eq!(
        var(&cached, "AWS_ACCESS_KEY_ID"),
        var(&refreshed, "AWS_ACCESS_KEY_ID"),
        "the refreshed keys replaced the first ones in the cache"
    );
    assert_eq!(
        var(&cached, "AWS_SECRET_ACCESS_KEY"),
        var(&refreshed, "AWS_SECRET_ACCESS_KEY")
    );
    // Bypassing the cache with STS gone is an AWS-side failure.
    world
        .run(&["assume", "--json", "demo-admin", "--no-cache"])
        .failure(1)
        .stderr_has("could not be reached");
}

#[test]
fn no_cache_writes_nothing() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    assume_json(&world, &["demo-admin", "--no-cache"]);
    let files = std::fs::read_dir(world.cache_dir())
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0);
}

#[test]
fn a_credential_process_source() {
    let world = World::with_moto();
    world.write_config(
        "[profile proc]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESS\",\"SecretAccessKey\":\"s\"}'\n\
         [profile via-proc]\nrole_arn = arn:aws:iam::444444444444:role/p\nsource_profile = proc\n",
    );
    let json = assume_json(&world, &["via-proc"]);
    assert_eq!(
        var(&json, "ROLECALL_ROLE_ARN"),
        "arn:aws:iam::444444444444:role/p"
    );
    assert!(var(&json, "AWS_ACCESS_KEY_ID").starts_with("ASIA"));
}

#[test]
fn a_failing_credential_process_says_which_profile() {
    let world = World::with_moto();
    world.write_config(
        "[profile proc]\ncredential_process = sh -c 'printf \"\\\\033]0;x\\\\007 vault locked\\\\n\" >&2; exit 3'\n\
         [profile via-proc]\nrole_arn = arn:aws:iam::444444444444:role/p\nsource_profile = proc\n",
    );
    let run = world.run(&["assume", "--json", "via-proc"]).failure(1);
    run.stderr_has("credential_process of profile `proc`");
    // The process's own words come with it, through the printable filter.
    run.stderr_has("\\x1b]0;x\\x07 vault locked");
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
}

#[test]
fn a_credential_process_that_outlives_its_limit_is_ended_not_left_running() {
    let world = World::with_moto();
    let pid_file = world.home().join("process.pid");
    // The shell writes its process ID, then becomes `sleep` (same ID): a process stuck for good.
    // It lets go of rolecall's output, so only the check below can tell whether it was ended.
    world.write_config(&format!(
        "[profile stuck]\ncredential_process = sh -c 'echo $$ > {}; exec sleep 300 \
         >/dev/null 2>&1'\n",
        pid_file.display()
    ));
    let mut command = world.rolecall(&["assume", "--json", "stuck"]);
    command.env("ROLECALL_PROCESS_TIMEOUT", "2");
    let run = crate::common::Run::of(command).failure(1);
    run.stderr_has("did not answer within 2s");
    assert!(run.elapsed.as_secs() < 30, "{:?}", run.elapsed);
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("the process started")
        .trim()
        .parse()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    // Gone, or a zombie its parent (init, once rolecall exited) has yet to reap.
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
    };
    while alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!alive(), "the credential_process {pid} is still running");
    let mut command = world.rolecall(&["assume", "--json", "stuck"]);
    command.env("ROLECALL_PROCESS_TIMEOUT", "soon");
    crate::common::Run::of(command)
        .failure(2)
        .stderr_has("ROLECALL_PROCESS_TIMEOUT is `soon`");
}

#[test]
fn a_bare_role_arn_uses_the_environment_credentials() {
    let world = World::with_moto();
    world.write_config("");
    let mut command = world.rolecall(&["assume", "--json", "arn:aws:iam::555555555555:role/bare"]);
    command
        .env("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "eu-central-1");
    let json = common::Run::of(command).success().json();
    assert_eq!(
        var(&json, "ROLECALL_ROLE_ARN"),
        "arn:aws:iam::555555555555:role/bare"
    );
    assert_eq!(
        var(&json, "ROLECALL_PROFILE"),
        "arn:aws:iam::555555555555:role/bare"
    );
    assert!(
        json.get("AWS_PROFILE").is_none(),
        "no profile for a bare ARN"
    );
    assert_eq!(var(&json, "AWS_REGION"), "eu-central-1");
}

#[test]
fn a_bare_role_arn_with_a_source_profile() {
    let world = World::with_moto();
    world.write_config("[profile base]\nregion = eu-north-1\n");
    world.write_credentials(BASE_KEYS);
    let json = assume_json(
        &world,
        &[
            "arn:aws:iam::555555555555:role/bare",
            "--source-profile",
            "base",
        ],
    );
    assert_eq!(var(&json, "AWS_REGION"), "eu-north-1");
    assert!(var(&json, "AWS_ACCESS_KEY_ID").starts_with("ASIA"));
}

#[test]
fn assume_minus_brings_a_role_arn_back_through_the_same_source_profile() {
    let world = World::with_moto();
    world.write_config(&format!(
        "{ONE_HOP}[profile other-base]\nregion = eu-north-1\n"
    ));
    world.write_credentials(&format!(
        "{BASE_KEYS}[other-base]\naws_access_key_id = AKIAOTHERBASE0000000\n\
         aws_secret_access_key = other/secret\n"
    ));
    let arn = "arn:aws:iam::555555555555:role/bare";
    for shell in ["bash", "zsh", "fish"] {
        let show = match shell {
            "fish" => "echo \"$ROLECALL_PROFILE|$ROLECALL_SOURCE_PROFILE|$AWS_REGION|$ROLECALL_PREVIOUS\"",
            _ => "echo \"$ROLECALL_PROFILE|${ROLECALL_SOURCE_PROFILE-}|$AWS_REGION|${ROLECALL_PREVIOUS-}\"",
        };
        let body = format!(
            "assume {arn} --source-profile other-base\n{show}\nassume demo-admin\n{show}\n\
             assume -\n{show}\nassume -\n{show}"
        );
        let run = common::shell::Shell::new(&world, shell)
            .init("")
            .run(&body)
            .success();
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(
            lines,
            [
                format!("{arn}|other-base|eu-north-1|"),
                format!("demo-admin||eu-west-1|{arn} other-base"),
                // Back from other-base (its region), not from demo-admin's credentials.
                format!("{arn}|other-base|eu-north-1|demo-admin"),
                format!("demo-admin||eu-west-1|{arn} other-base"),
            ],
            "{shell}: {}",
            run.stderr
        );
    }
}

#[test]
fn credential_source_environment() {
    let world = World::with_moto();
    world.write_config(
        "[profile from-env]\nrole_arn = arn:aws:iam::666666666666:role/e\n\
         credential_source = Environment\n",
    );
    let mut command = world.rolecall(&["assume", "--json", "from-env"]);
    command
        .env("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
        .env("AWS_SECRET_ACCESS_KEY", "secret");
    let json = common::Run::of(command).success().json();
    assert_eq!(
        var(&json, "ROLECALL_ROLE_ARN"),
        "arn:aws:iam::666666666666:role/e"
    );
}

#[test]
fn duration_session_name_and_external_id_reach_sts() {
    let world = World::with_moto();
    world.write_config(
        "[profile base]\n[profile tuned]\nrole_arn = arn:aws:iam::111111111111:role/t\n\
         source_profile = base\nduration_seconds = 1800\nrole_session_name = ana-laptop\n\
         external_id = shared-secret\n",
    );
    world.write_credentials(BASE_KEYS);
    let json = assume_json(&world, &["tuned"]);
    let left =
        var(&json, "ROLECALL_EXPIRES").parse::<i64>().unwrap() - chrono::Utc::now().timestamp();
    assert!((1500..=1800).contains(&left), "{left}s left");
    let json = assume_json(&world, &["tuned", "-d", "15m"]);
    let left =
        var(&json, "ROLECALL_EXPIRES").parse::<i64>().unwrap() - chrono::Utc::now().timestamp();
    assert!((600..=900).contains(&left), "{left}s left");
}

#[test]
fn a_profile_with_static_keys_and_no_role_gives_its_keys_uncached() {
    let world = World::with_moto();
    world.write_config("[profile base]\nregion = eu-west-3\n");
    world.write_credentials(BASE_KEYS);
    let json = assume_json(&world, &["base"]);
    assert_eq!(var(&json, "AWS_ACCESS_KEY_ID"), "AKIAIOSFODNN7EXAMPLE");
    assert!(json.get("ROLECALL_ROLE_ARN").is_none());
    assert!(
        !world.cache_dir().exists() || std::fs::read_dir(world.cache_dir()).unwrap().count() == 0,
        "long-term keys are never cached"
    );
}

#[test]
fn exec_puts_credentials_in_the_child_only_and_passes_its_status_through() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let run = world
        .run(&[
            "exec",
            "demo-admin",
            "--",
            "sh",
            "-c",
            "printf '%s\\n' \"$ROLECALL_ROLE_ARN\" \"$AWS_REGION\"; exit 7",
        ])
        .failure_allowing_output(7);
    assert_eq!(
        run.stdout,
        "arn:aws:iam::111111111111:role/admin\neu-west-1\n"
    );
    world
        .run(&["exec", "demo-admin", "--", "no-such-command-here"])
        .failure(127)
        .stderr_has("cannot run no-such-command-here");
}

#[test]
fn credential_process_prints_version_1_json_with_expiration() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let json = world
        .run(&["credential-process", "demo-admin"])
        .success()
        .json();
    assert_eq!(json["Version"], 1);
    for key in [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ] {
        assert!(
            json[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key} in {json}"
        );
    }
}

#[test]
fn profiles_lists_names_and_with_long_roles_and_descriptions() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_config(
        "[profile zeta]\nrole_arn = arn:aws:iam::1:role/z\nsource_profile = alpha\n\
         rolecall_description = Production admin\n[profile alpha]\n",
    );
    world.write_credentials("[alpha]\naws_access_key_id = A\naws_secret_access_key = B\n");
    assert_eq!(world.run(&["profiles"]).success().stdout, "alpha\nzeta\n");
    assert_eq!(
        world.run(&["profiles", "--long"]).success().stdout,
        "alpha\t\t\nzeta\tarn:aws:iam::1:role/z\tProduction admin\n"
    );
}

#[test]
fn assume_minus_returns_to_the_previous_target() {
    let world = World::with_moto();
    world.write_config(&format!(
        "{ONE_HOP}[profile other]\nrole_arn = arn:aws:iam::222222222222:role/o\nsource_profile = base\n"
    ));
    world.write_credentials(BASE_KEYS);
    let mut command = world.rolecall(&["assume", "--json", "-"]);
    command
        .env("ROLECALL_PROFILE", "other")
        .env("ROLECALL_PREVIOUS", "demo-admin");
    let json = common::Run::of(command).success().json();
    assert_eq!(var(&json, "ROLECALL_PROFILE"), "demo-admin");
    assert_eq!(var(&json, "ROLECALL_PREVIOUS"), "other");
    world
        .run(&["assume", "--json", "-"])
        .failure(2)
        .stderr_has("no previous target");
}

#[test]
fn the_cache_ignores_entries_it_did_not_write_safely() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let first = assume_json(&world, &["demo-admin"]);
    let entry = json_entries(&world)[0].path();
    // World-readable: not trusted, replaced by a fresh, private entry.
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
    let second = assume_json(&world, &["demo-admin"]);
    assert_ne!(
        var(&first, "AWS_ACCESS_KEY_ID"),
        var(&second, "AWS_ACCESS_KEY_ID")
    );
    assert_eq!(
        entry.metadata().unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Corrupt: replaced as well.
    std::fs::write(&entry, "{ not json").unwrap();
    let third = assume_json(&world, &["demo-admin"]);
    assert_ne!(
        var(&second, "AWS_ACCESS_KEY_ID"),
        var(&third, "AWS_ACCESS_KEY_ID")
    );
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    // Empty and truncated entries: replaced too, never a crash.
    let mut previous = var(&third, "AWS_ACCESS_KEY_ID").to_string();
    for damaged in [String::new(), text[..text.len() / 2].to_string()] {
        std::fs::write(&entry, damaged).unwrap();
        let next = assume_json(&world, &["demo-admin"]);
        assert_ne!(previous, var(&next, "AWS_ACCESS_KEY_ID"));
        previous = var(&next, "AWS_ACCESS_KEY_ID").to_string();
    }
}

#[test]
fn environment_sourced_roles_are_cached_per_source_key() {
    let world = World::with_moto();
    world.write_config(
        "[profile from-env]\nrole_arn = arn:aws:iam::666666666666:role/e\ncredential_source = Environment\n",
    );
    let mut keys = Vec::new();
    for source_key in ["AKIAFIRSTSOURCE", "AKIASECONDSOURCE"] {
        let mut command = world.rolecall(&["assume", "--json", "from-env"]);
        command
            .env("AWS_ACCESS_KEY_ID", source_key)
            .env("AWS_SECRET_ACCESS_KEY", "secret");
        let json = common::Run::of(command).success().json();
        keys.push(var(&json, "AWS_ACCESS_KEY_ID").to_string());
    }
    assert_ne!(
        keys[0], keys[1],
        "another source identity got the first one's role keys"
    );
}

#[test]
fn an_entry_is_used_only_for_its_own_key_and_only_from_a_private_directory() {
    let world = World::with_moto();
    world.write_config(&format!(
        "{ONE_HOP}[profile other]\nrole_arn = arn:aws:iam::222222222222:role/o\nsource_profile = base\n"
    ));
    world.write_credentials(BASE_KEYS);
    let admin = assume_json(&world, &["demo-admin"]);
    let other = assume_json(&world, &["other"]);
    let path_of = |prefix: &str| {
        json_entries(&world)
            .into_iter()
            .map(|e| e.path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .unwrap()
    };
    // Another entry copied into this one's place is not taken for it.
    std::fs::copy(path_of("role-other-"), path_of("role-demo-admin-")).unwrap();
    let again = assume_json(&world, &["demo-admin"]);
    assert_ne!(
        var(&again, "AWS_ACCESS_KEY_ID"),
        var(&other, "AWS_ACCESS_KEY_ID")
    );
    assert_ne!(
        var(&again, "AWS_ACCESS_KEY_ID"),
        var(&admin, "AWS_ACCESS_KEY_ID")
    );
    // A cache directory others can write to is made private again before anything in it is
    // read; entries that still carry their own key are then used.
    std::fs::set_permissions(world.cache_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let reused = assume_json(&world, &["demo-admin"]);
    assert_eq!(
        var(&reused, "AWS_ACCESS_KEY_ID"),
        var(&again, "AWS_ACCESS_KEY_ID")
    );
    assert_eq!(
        world.cache_dir().metadata().unwrap().permissions().mode() & 0o777,
        0o700
    );
}

#[test]
fn a_held_lock_is_waited_for_briefly_with_no_input_then_passed_by() {
    let flock = common::require_tool("flock");
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    assume_json(&world, &["demo-admin"]);
    let lock = format!("{}.lock", json_entries(&world)[0].path().display());
    let mut holder = std::process::Command::new(flock)
        .args(["-x", &lock, "sleep", "20"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = world
        .run(&["assume", "--json", "demo-admin", "--refresh", "--no-input"])
        .success();
    let _ = holder.kill();
    let _ = holder.wait();
    run.stderr_has("waiting for another rolecall that is fetching the same credentials");
    let waited = run.elapsed.as_secs_f64();
    assert!((3.0..8.0).contains(&waited), "waited {waited}s");
}
