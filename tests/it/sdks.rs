//! Every client signs as the session the prompt shows: after `assume` in each shell, in `exec`'s
//! child, behind `exec --server` and through `credential-process`, the AWS SDK for JavaScript v3
//! (which takes a named profile over keys beside it) and the Rust SDK's default chain sign with
//! the key rolecall handed out. And the profile settings other tools read from variables travel
//! as those variables, set by one assume and unset by the next.

use crate::common::fake_sso::{FakeSso, Script, ACCESS_KEY_ID as PORTAL_KEY_ID};
use crate::common::{self, JsCaller, Run, Shell, World};

const CONFIG: &str = "[profile base]\nregion = eu-west-1\n\
[profile demo-admin]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n\
[profile demo-chain]\nrole_arn = arn:aws:iam::222222222222:role/deploy\nsource_profile = demo-admin\n\
[profile demo-mfa]\nrole_arn = arn:aws:iam::111111111111:role/mfa-admin\nsource_profile = base\n\
mfa_serial = arn:aws:iam::000000000000:mfa/ana\n\
[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
[profile sso-dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\n\
region = eu-west-1\n\
[profile via-process]\ncredential_process = rolecall credential-process demo-admin\n\
region = eu-west-1\n";

/// Keys of a `[default]` profile that must never be what anything signs with.
const DEFAULT_KEYS: &str = "[default]\naws_access_key_id = AKIADEFAULTDEFAULTXX\n\
aws_secret_access_key = default/secret/that/must/not/sign/anything\n";

/// moto as STS, the fake Identity Center as portal (logged in), the config above.
struct Sdks {
    world: World,
    portal: FakeSso,
    js: JsCaller,
}

fn sdks() -> Sdks {
    let world = World::with_moto();
    world.write_config(CONFIG);
    world.write_credentials(&format!("{}{DEFAULT_KEYS}", common::BASE_KEYS));
    common::write_sso_token(
        world.home(),
        "corp",
        &serde_json::json!({"accessToken": "token-corp", "expiresAt": common::token_time(3600)}),
    );
    Sdks {
        world,
        portal: FakeSso::start(),
        js: JsCaller::find(),
    }
}

impl Sdks {
    fn shell<'w>(&'w self, name: &'w str) -> Shell<'w> {
        Shell::new(&self.world, name)
            .env("NODE_PATH", &self.js.node_path)
            .env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint)
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut command = self.world.command(program);
        command
            .env("NODE_PATH", &self.js.node_path)
            .env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint);
        command
    }

    /// The key rolecall hands out for `target` now (the cache answers after a first assume).
    fn session_key(&self, target: &str) -> String {
        let mut command = self.command(common::BIN);
        command.args(["assume", "--json", target]);
        Run::of(command).success().json()["AWS_ACCESS_KEY_ID"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// The assumes each shell makes, and the session name moto shows for the role each ends in.
const TARGETS: [(&str, &str); 4] = [
    ("demo-admin", "assumed-role/admin/"),
    ("demo-chain", "assumed-role/deploy/"),
    ("demo-mfa --mfa-token 123456", "assumed-role/mfa-admin/"),
    ("sso-dev", ""),
];

#[test]
fn the_javascript_sdk_signs_with_the_key_assume_exported_in_every_shell() {
    let sdks = sdks();
    let caller = sdks.js.caller.display().to_string();
    for shell in ["bash", "zsh", "fish", "nu"] {
        if shell == "nu" {
            common::require_tool("nu");
        }
        let run_node = match shell {
            "nu" => format!("^node r#'{caller}'#"),
            _ => format!("node '{caller}'"),
        };
        // An AWS_PROFILE of the person's, set before: assume must not leave it beside the keys.
        let mut body = match shell {
            "nu" => "$env.AWS_PROFILE = 'base'\n".to_string(),
            "fish" => "set -gx AWS_PROFILE base\n".to_string(),
            _ => "export AWS_PROFILE=base\n".to_string(),
        };
        for (target, _) in TARGETS {
            body.push_str(&format!("assume {target}\n{run_node}\n"));
        }
        let run = sdks.shell(shell).run(&body).success();
        assert!(
            !run.stderr.contains("Multiple credential sources"),
            "{shell}: the SDK saw a profile beside the keys:\n{}",
            run.stderr
        );
        let answers: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .filter(|line| line.starts_with('{'))
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(answers.len(), TARGETS.len(), "{shell}: {}", run.stdout);
        for ((target, role), answer) in TARGETS.iter().zip(&answers) {
            let exported = answer["environmentKey"].as_str();
            assert!(exported.is_some(), "{shell} {target}: no key exported");
            assert_eq!(
                answer["signedWith"].as_str(),
                exported,
                "{shell} {target}: the JavaScript SDK signed with another key: {answer}"
            );
            let arn = answer["arn"].as_str().unwrap();
            if role.is_empty() {
                assert_eq!(exported, Some(PORTAL_KEY_ID), "{shell} {target}");
            } else {
                // The session rolecall named, not one the SDK assumed itself (aws-sdk-js-…).
                let session = format!("{role}{}", common::expected_session_name());
                assert!(arn.ends_with(&session), "{shell} {target}: {arn}");
            }
        }
    }
}

#[test]
fn exec_and_credential_process_hand_the_javascript_sdk_rolecalls_session() {
    let sdks = sdks();
    let caller = sdks.js.caller.display().to_string();
    // exec: the key in the child's environment is the one it signs with.
    let mut command = sdks.command(common::BIN);
    command.args([
        "exec",
        "demo-mfa",
        "--mfa-token",
        "123456",
        "--",
        "node",
        &caller,
    ]);
    let run = Run::of(command).success();
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert!(answer["environmentKey"].is_string(), "{answer}");
    assert_eq!(answer["signedWith"], answer["environmentKey"], "{run:?}");
    assert!(
        answer["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!("mfa-admin/{}", common::expected_session_name())),
        "{answer}"
    );
    assert!(!run.stderr.contains("Multiple credential sources"));
    let session = sdks.session_key("demo-admin");
    // exec --server: no keys in the child; the endpoint's, not [default]'s.
    let mut command = sdks.command(common::BIN);
    command.args(["exec", "--server", "demo-admin", "--", "node", &caller]);
    let run = Run::of(command).success();
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(answer["environmentKey"], serde_json::Value::Null);
    assert_eq!(answer["signedWith"], session.as_str(), "{}", run.stderr);
    // credential-process, which the SDK runs for a profile that names it.
    let mut command = sdks.command("node");
    command.arg(&caller).env("AWS_PROFILE", "via-process");
    let run = Run::of(command).success();
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(answer["signedWith"], session.as_str(), "{}", run.stderr);
}

#[test]
fn the_javascript_sdk_signs_as_a_profile_sso_populate_wrote() {
    let mut script = Script::default();
    script.grant("444444444444", "Payments", &["ReadOnlyAccess"]);
    let sdks = Sdks {
        portal: FakeSso::start_with(script),
        ..sdks()
    };
    let before: Vec<String> = list_profiles(&sdks);
    let mut command = sdks.command(common::BIN);
    command.args(["sso", "populate", "--sso-session", "corp"]);
    Run::of(command).success();
    let written: Vec<String> = list_profiles(&sdks)
        .into_iter()
        .filter(|name| !before.contains(name))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let caller = sdks.js.caller.display().to_string();
    let run = sdks
        .shell("bash")
        .run(&format!(
            "assume '{}'\nnode '{caller}'\nprintenv AWS_PROFILE || echo no-profile",
            written[0]
        ))
        .success();
    let mut lines = run.stdout.lines();
    let answer: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(answer["signedWith"], PORTAL_KEY_ID, "{}", run.stderr);
    assert_eq!(answer["signedWith"], answer["environmentKey"]);
    assert_eq!(lines.next(), Some("no-profile"));
}

fn list_profiles(sdks: &Sdks) -> Vec<String> {
    let mut command = sdks.command(common::BIN);
    command.arg("profiles");
    Run::of(command)
        .success()
        .stdout
        .lines()
        .map(String::from)
        .collect()
}

/// Set in the copy of this test binary that plays the Rust program: it resolves aws-config's
/// default chain from its own environment (the shell's, after assume) and prints the key.
const RUST_SDK_CHILD: &str = "ROLECALL_TEST_RUST_SDK_CHILD";

#[test]
fn the_rust_sdk_default_chain_signs_with_the_key_assume_exported() {
    if std::env::var_os(RUST_SDK_CHILD).is_some() {
        println!("\nresolved={}", rust_sdk_default_chain_key());
        return;
    }
    let sdks = sdks();
    let run = sdks
        .shell("bash")
        .run("export AWS_PROFILE=base\nassume demo-admin\nenv -0")
        .success();
    let environment = common::environment_of(&run.stdout);
    // This test again, in a process of its own with exactly the shell's environment.
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "sdks::the_rust_sdk_default_chain_signs_with_the_key_assume_exported",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .envs(&environment)
        .env(RUST_SDK_CHILD, "1");
    let child = Run::of(child).success();
    let resolved = child
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("resolved="))
        .unwrap_or_else(|| panic!("{child:?}"));
    assert_eq!(resolved, environment["AWS_ACCESS_KEY_ID"]);
}

/// The access key aws-config's default credentials chain resolves in this process.
fn rust_sdk_default_chain_key() -> String {
    use aws_credential_types::provider::ProvideCredentials;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
            .build()
            .await;
        chain
            .provide_credentials()
            .await
            .expect("the default chain resolves credentials")
            .access_key_id()
            .to_string()
    })
}

/// Each setting of `PROFILE_SETTINGS` as the README maps it: (profile setting, variable, value).
const SETTINGS: [(&str, &str, &str); 15] = [
    ("ca_bundle", "AWS_CA_BUNDLE", "/etc/ssl/certs/corp.pem"),
    (
        "endpoint_url",
        "AWS_ENDPOINT_URL",
        "https://aws.internal.example",
    ),
    (
        "ignore_configured_endpoint_urls",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "false",
    ),
    ("retry_mode", "AWS_RETRY_MODE", "adaptive"),
    ("max_attempts", "AWS_MAX_ATTEMPTS", "7"),
    ("defaults_mode", "AWS_DEFAULTS_MODE", "in-region"),
    ("output", "AWS_DEFAULT_OUTPUT", "table"),
    ("cli_pager", "AWS_PAGER", "less -R"),
    ("use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT", "true"),
    (
        "use_dualstack_endpoint",
        "AWS_USE_DUALSTACK_ENDPOINT",
        "true",
    ),
    (
        "sts_regional_endpoints",
        "AWS_STS_REGIONAL_ENDPOINTS",
        "regional",
    ),
    (
        "request_checksum_calculation",
        "AWS_REQUEST_CHECKSUM_CALCULATION",
        "when_required",
    ),
    (
        "response_checksum_validation",
        "AWS_RESPONSE_CHECKSUM_VALIDATION",
        "when_required",
    ),
    (
        "account_id_endpoint_mode",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE",
        "disabled",
    ),
    ("sdk_ua_app_id", "AWS_SDK_UA_APP_ID", "payments-team"),
];

#[test]
fn each_mapped_profile_setting_is_exported_by_assume_and_unset_by_the_next() {
    let world = World::with_moto();
    let settings: String = SETTINGS
        .iter()
        .map(|(setting, _, value)| format!("{setting} = {value}\n"))
        .collect();
    world.write_config(&format!(
        "{}[profile tuned]\nrole_arn = arn:aws:iam::111111111111:role/tuned\n\
         source_profile = base\n{settings}",
        common::ONE_HOP
    ));
    world.write_credentials(common::BASE_KEYS);
    for shell in ["bash", "zsh", "fish", "nu"] {
        let dump = match shell {
            "nu" => "^env -0; print -n \"\\u{1}\"",
            _ => "env -0; printf '\\001'",
        };
        // A person's own AWS_DEFAULT_OUTPUT is kept: a variable wins over a profile's setting.
        let own = match shell {
            "nu" => "$env.AWS_DEFAULT_OUTPUT = 'mine'",
            "fish" => "set -gx AWS_DEFAULT_OUTPUT mine",
            _ => "export AWS_DEFAULT_OUTPUT=mine",
        };
        let body = format!(
            "assume tuned\n{dump}\nassume demo-admin\n{dump}\n{own}\nassume tuned\n{dump}\n\
             assume --unset\n{dump}"
        );
        let run = Shell::new(&world, shell).run(&body).success();
        let dumps: Vec<_> = run
            .stdout
            .split('\u{1}')
            .map(common::environment_of)
            .collect();
        let (tuned, next, tuned_again, unset) = (&dumps[0], &dumps[1], &dumps[2], &dumps[3]);
        for (setting, variable, value) in SETTINGS {
            assert_eq!(
                tuned.get(variable).map(String::as_str),
                Some(value),
                "{shell}: {setting} not exported as {variable}"
            );
            assert!(
                !next.contains_key(variable),
                "{shell}: {variable} outlived its assume"
            );
            assert!(
                !unset.contains_key(variable) || variable == "AWS_DEFAULT_OUTPUT",
                "{shell}: {variable} outlived assume --unset"
            );
        }
        assert!(!tuned.contains_key("AWS_PROFILE"), "{shell}");
        assert_eq!(tuned_again["AWS_DEFAULT_OUTPUT"], "mine", "{shell}");
        assert_eq!(unset["AWS_DEFAULT_OUTPUT"], "mine", "{shell}");
        assert_eq!(tuned_again["AWS_CA_BUNDLE"], SETTINGS[0].2, "{shell}");
    }
}

#[test]
fn settings_an_assume_exported_do_not_reach_the_next_sessions_child() {
    // `local`'s endpoint is its own session's: a child given demo-admin must not inherit it.
    let world = World::with_moto();
    world.write_config(&format!(
        "{}[profile local]\nrole_arn = arn:aws:iam::111111111111:role/local\n\
         source_profile = base\nendpoint_url = http://127.0.0.1:9\n",
        common::ONE_HOP
    ));
    world.write_credentials(common::BASE_KEYS);
    let run = Shell::new(&world, "bash")
        .run(
            "assume local\necho \"shell=$AWS_ENDPOINT_URL\"\n\
             rolecall exec demo-admin -- sh -c 'echo \"child=${AWS_ENDPOINT_URL-none}\"'",
        )
        .success();
    assert!(
        run.stdout.contains("shell=http://127.0.0.1:9\nchild=none"),
        "{}",
        run.stdout
    );
}
