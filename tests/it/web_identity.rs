//! Web identity (issue 25): a role assumed with an OIDC token instead of a stored key, through
//! STS's unsigned AssumeRoleWithWebIdentity. moto answers it behind a recorder that keeps what
//! it is sent; the tests' fake STS refuses it; `common::fake_actions` stands in for GitHub
//! Actions' token endpoint.

use crate::common::fake_actions::{github_claims, jwt, FakeActions, Recorder, REQUEST_TOKEN};
use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::{self, Moto, Run, World};

const CI_ROLE: &str = "arn:aws:iam::123456789012:role/deploy";

/// A world whose STS is moto, behind a recorder.
fn recorded_world() -> (World, Recorder) {
    let moto = Moto::start();
    let recorder = Recorder::start(&moto.endpoint);
    let mut world = World::with_endpoint(&recorder.endpoint);
    world.moto = Some(moto);
    (world, recorder)
}

fn unsigned_webid() -> (String, bool) {
    ("AssumeRoleWithWebIdentity".into(), false)
}

/// Nothing rolecall printed holds the token.
fn token_unseen(run: &Run, token: &str) {
    let signature_free = token.rsplit_once('.').map_or(token, |(head, _)| head);
    assert!(
        !run.stdout.contains(signature_free) && !run.stderr.contains(signature_free),
        "the token was printed:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_web_identity_profile_assumes_unsigned_with_its_file_read_fresh_and_carries_a_chain() {
    let (world, sts) = recorded_world();
    let token_file = world.home().join("token");
    let first = jwt(&github_claims(600, "one"));
    std::fs::write(&token_file, format!("\n  {first}  \n")).unwrap();
    world.write_config(&format!(
        "[profile ci-deploy]\nrole_arn = {CI_ROLE}\nweb_identity_token_file = {}\n\
         role_session_name = build-42\nregion = eu-west-1\n\
         [profile prod]\nrole_arn = arn:aws:iam::210987654321:role/prod\nsource_profile = ci-deploy\n",
        token_file.display()
    ));
    let run = world.run(&["assume", "ci-deploy", "--json"]).success();
    let variables = run.json();
    assert!(variables["AWS_ACCESS_KEY_ID"]
        .as_str()
        .unwrap()
        .starts_with("ASIA"));
    assert_eq!(variables["ROLECALL_ROLE_ARN"], CI_ROLE);
    assert_eq!(variables["AWS_REGION"], "eu-west-1");
    token_unseen(&run, &first);
    assert_eq!(sts.actions(), [unsigned_webid()]);
    assert_eq!(sts.field(0, "WebIdentityToken"), Some(first.clone()));
    assert_eq!(sts.field(0, "RoleSessionName").as_deref(), Some("build-42"));
    assert_eq!(sts.field(0, "RoleArn").as_deref(), Some(CI_ROLE));
    // Cached like any session, for tokens of the same subject.
    std::fs::write(&token_file, jwt(&github_claims(600, "same subject"))).unwrap();
    world.run(&["assume", "ci-deploy", "--json"]).success();
    assert_eq!(sts.actions().len(), 1);
    // Another subject's token in the file: its own call, not the cached session.
    let mut claims = github_claims(600, "pr");
    claims["sub"] = "repo:octo/app:pull_request".into();
    let other = jwt(&claims);
    std::fs::write(&token_file, &other).unwrap();
    world.run(&["assume", "ci-deploy", "--json"]).success();
    assert_eq!(
        sts.actions().len(),
        2,
        "another subject got the cached session"
    );
    assert_eq!(sts.field(1, "WebIdentityToken"), Some(other));
    // A role on top of it, with the file rewritten meanwhile: the new token is the one sent.
    let second = jwt(&github_claims(600, "two"));
    std::fs::write(&token_file, &second).unwrap();
    let run = world.run(&["assume", "prod", "--json"]).success();
    assert_eq!(
        run.json()["ROLECALL_ROLE_ARN"],
        "arn:aws:iam::210987654321:role/prod"
    );
    assert_eq!(
        sts.actions()[2..],
        [unsigned_webid(), ("AssumeRole".into(), true)]
    );
    assert_eq!(sts.field(2, "WebIdentityToken"), Some(second));

    // botocore reads the same profile unchanged and gets credentials from the same STS.
    let mut botocore = world.command(common::test_python());
    botocore.args([
        "-c",
        "import botocore.session\n\
         c = botocore.session.Session(profile='ci-deploy').get_credentials()\n\
         print(c.get_frozen_credentials().access_key[:4])",
    ]);
    let run = Run::of(botocore).success();
    assert_eq!(run.stdout.trim(), "ASIA");
    assert_eq!(sts.actions().len(), 5, "{:?}", sts.actions());
    assert_eq!(sts.actions()[4], unsigned_webid());
}

#[test]
fn the_environment_form_is_taken_for_a_role_arn_as_the_sdks_take_it() {
    let (world, sts) = recorded_world();
    let token_file = world.home().join("eks-token");
    let token = jwt(&serde_json::json!({
        "iss": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
        "sub": "system:serviceaccount:jobs:runner",
        "aud": "sts.amazonaws.com",
    }));
    std::fs::write(&token_file, &token).unwrap();
    let pod = |command: &mut std::process::Command| {
        command
            .env("AWS_ROLE_ARN", CI_ROLE)
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
            .env("AWS_ROLE_SESSION_NAME", "pod-7");
    };
    let mut exec = world.rolecall(&["exec", CI_ROLE, "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"]);
    pod(&mut exec);
    let run = Run::of(exec).success();
    assert!(run.stdout.starts_with("ASIA"), "{}", run.stdout);
    assert_eq!(sts.actions(), [unsigned_webid()]);
    assert_eq!(sts.field(0, "RoleSessionName").as_deref(), Some("pod-7"));
    assert_eq!(sts.field(0, "WebIdentityToken"), Some(token));
    // Another role from the pod's: assumed with the pod's credentials.
    let other = "arn:aws:iam::210987654321:role/reader";
    let mut further = world.rolecall(&["assume", other, "--json"]);
    pod(&mut further);
    assert_eq!(
        Run::of(further).success().json()["ROLECALL_ROLE_ARN"],
        other
    );
    assert_eq!(
        sts.actions()[1..],
        [unsigned_webid(), ("AssumeRole".into(), true)]
    );
}

#[test]
fn a_token_from_a_file_or_a_variable_assumes_a_role_arn_or_a_role_profile() {
    let (world, sts) = recorded_world();
    world.write_config(&format!(
        "[profile deploy]\nrole_arn = {CI_ROLE}\nsource_profile = base\nregion = us-west-2\n"
    ));
    world.write_credentials(common::BASE_KEYS);
    let gitlab = jwt(
        &serde_json::json!({"iss": "https://gitlab.example.com", "sub": "project_path:g/p:ref_type:branch:ref:main"}),
    );
    let mut process = world.rolecall(&[
        "credential-process",
        "arn:aws:iam::111111111111:role/ci",
        "--web-identity",
        "env:GITLAB_OIDC_TOKEN",
    ]);
    process.env("GITLAB_OIDC_TOKEN", &gitlab);
    let run = Run::of(process).success();
    assert_eq!(run.json()["Version"], 1);
    token_unseen(&run, &gitlab);
    assert_eq!(sts.actions(), [unsigned_webid()]);
    assert_eq!(sts.field(0, "WebIdentityToken"), Some(gitlab));
    assert_eq!(
        sts.field(0, "RoleArn").as_deref(),
        Some("arn:aws:iam::111111111111:role/ci")
    );

    let file = world.home().join("id-token");
    let token = jwt(&github_claims(600, "f"));
    std::fs::write(&file, &token).unwrap();
    let source = format!("file:{}", file.display());
    let run = world
        .run(&["assume", "deploy", "--web-identity", &source, "--json"])
        .success();
    assert_eq!(run.json()["AWS_REGION"], "us-west-2");
    // The profile's role, with the token: its source_profile's keys sign nothing.
    assert_eq!(sts.actions()[1..], [unsigned_webid()]);
    assert_eq!(sts.field(1, "RoleArn").as_deref(), Some(CI_ROLE));
    assert_eq!(sts.field(1, "WebIdentityToken"), Some(token));
}

fn in_actions(command: &mut std::process::Command, actions: &FakeActions) {
    command
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &actions.url)
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
}

#[test]
fn github_actions_token_asked_with_the_jobs_bearer_for_sts_or_the_audience_given() {
    let (world, sts) = recorded_world();
    let token = jwt(&github_claims(300, "gh"));
    let actions = FakeActions::start(vec![token.clone()]);
    let mut assume = world.rolecall(&["assume", CI_ROLE, "--web-identity", "github", "--json"]);
    in_actions(&mut assume, &actions);
    let run = Run::of(assume).success();
    token_unseen(&run, &token);
    assert_eq!(actions.audiences(), ["sts.amazonaws.com"]);
    assert_eq!(sts.actions(), [unsigned_webid()]);
    assert_eq!(sts.field(0, "WebIdentityToken"), Some(token));
    let mut custom = world.rolecall(&[
        "assume",
        CI_ROLE,
        "--web-identity",
        "github",
        "--audience",
        "api://AwsCorp",
        "--json",
        "--no-cache",
    ]);
    in_actions(&mut custom, &actions);
    Run::of(custom).success();
    assert_eq!(actions.audiences()[1], "api://AwsCorp");

    // A wrong bearer: the endpoint refuses, and the job's permission is named.
    let mut refused = world.rolecall(&[
        "assume",
        CI_ROLE,
        "--web-identity",
        "github",
        "--json",
        "--no-cache",
    ]);
    in_actions(&mut refused, &actions);
    refused.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "stale");
    Run::of(refused)
        .failure(1)
        .stderr_has("refused the job's request token (HTTP 401)")
        .stderr_has("permissions: id-token: write");
    // Outside a job with the permission: which variable is missing, and why.
    for (missing, named) in [
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_URL is not set",
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set",
        ),
    ] {
        let mut command = world.rolecall(&[
            "assume",
            CI_ROLE,
            "--web-identity",
            "github",
            "--json",
            "--no-cache",
        ]);
        in_actions(&mut command, &actions);
        command.env_remove(missing);
        let run = Run::of(command).failure(2);
        run.stderr_has(named)
            .stderr_has("`permissions: id-token: write`");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    world
        .run(&[
            "assume",
            CI_ROLE,
            "--web-identity",
            "github",
            "--json",
            "--no-cache",
        ])
        .failure(2)
        .stderr_has("ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set");
    assert_eq!(actions.audiences().len(), 2);
    assert_eq!(sts.actions().len(), 2);
}

#[test]
fn github_env_gets_the_variables_delimited_and_stdout_only_the_masks() {
    let (world, _sts) = recorded_world();
    let token = jwt(&github_claims(300, "env"));
    let actions = FakeActions::start(vec![token.clone()]);
    let env_file = world.home().join("github-env");
    std::fs::write(&env_file, "EARLIER=kept\n").unwrap();
    let mut assume = world.rolecall(&[
        "assume",
        CI_ROLE,
        "--web-identity",
        "github",
        "--github-env",
        "-r",
        "eu-central-1",
    ]);
    in_actions(&mut assume, &actions);
    assume.env("GITHUB_ENV", &env_file);
    let run = Run::of(assume).success();
    token_unseen(&run, &token);
    let text = std::fs::read_to_string(&env_file).unwrap();
    assert!(text.starts_with("EARLIER=kept\n"), "{text}");
    // NAME<<DELIMITER, the value, DELIMITER: as the runner reads it.
    let mut values = std::collections::HashMap::new();
    let mut lines = text.lines().skip(1);
    while let Some(opening) = lines.next() {
        let (name, delimiter) = opening.split_once("<<").expect(opening);
        assert!(delimiter.starts_with("ghadelimiter_") && delimiter.len() > 30);
        values.insert(name.to_string(), lines.next().unwrap().to_string());
        assert_eq!(lines.next(), Some(delimiter));
    }
    assert!(values["AWS_ACCESS_KEY_ID"].starts_with("ASIA"));
    assert_eq!(values["AWS_REGION"], "eu-central-1");
    assert_eq!(values["ROLECALL_ROLE_ARN"], CI_ROLE);
    assert!(!text.contains(&token));
    assert_eq!(
        run.stdout,
        format!(
            "::add-mask::{}\n::add-mask::{}\n",
            values["AWS_SECRET_ACCESS_KEY"], values["AWS_SESSION_TOKEN"]
        )
    );
    // Without $GITHUB_ENV: refused, nothing printed.
    let mut outside = world.rolecall(&[
        "assume",
        CI_ROLE,
        "--web-identity",
        "github",
        "--github-env",
    ]);
    in_actions(&mut outside, &actions);
    Run::of(outside)
        .failure(2)
        .stderr_has("$GITHUB_ENV is not set");
}

/// Inside `exec --server`: asks, waits until the credentials are within the margin, asks again.
const ASK_TWICE: &str = r#"
import datetime, json, os, time, urllib.request
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
margin = int(os.environ["ROLECALL_SERVER_MARGIN"])
def ask():
    request = urllib.request.Request(url, headers={"Authorization": token})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)
first = ask()
expires = datetime.datetime.fromisoformat(first["Expiration"].replace("Z", "+00:00"))
time.sleep(max(0.0, (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds() - margin + 1.0))
second = ask()
print(first["AccessKeyId"], second["AccessKeyId"])
"#;

#[test]
fn exec_server_renews_with_a_fresh_token_from_the_job() {
    let sts = FakeSts::start(Behaviour::Lasting(6));
    let world = World::with_endpoint(&sts.endpoint);
    let tokens = vec![
        jwt(&github_claims(300, "first")),
        jwt(&github_claims(300, "second")),
    ];
    let actions = FakeActions::start(tokens.clone());
    let mut command = world.rolecall(&[
        "exec",
        "--server",
        CI_ROLE,
        "--web-identity",
        "github",
        "--",
    ]);
    in_actions(&mut command, &actions);
    command
        .env("ROLECALL_SERVER_MARGIN", "3")
        .arg(common::test_python())
        .args(["-c", ASK_TWICE]);
    let run = Run::of(command).success();
    let keys: Vec<&str> = run.stdout.split_whitespace().collect();
    assert_eq!(keys.len(), 2, "{}", run.stdout);
    assert_ne!(keys[0], keys[1], "not renewed");
    assert_eq!(actions.audiences().len(), 2, "no second token asked for");
    assert_eq!(sts.fields("WebIdentityToken"), tokens);
    assert!(
        sts.signers.lock().unwrap().iter().all(|s| s.is_empty()),
        "a signed call"
    );
}

#[test]
fn a_refusal_names_the_tokens_claims_beside_the_role_and_never_the_token() {
    let token = jwt(&serde_json::json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:octo/app:pull_request\u{1b}[2J",
        "aud": ["sts.amazonaws.com", "other"],
        "exp": chrono::Utc::now().timestamp() + 300,
    }));
    for (status, code, message) in [
        (403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"),
        (400, "InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com"),
    ] {
        let sts = FakeSts::start(Behaviour::sts_error(status, code, message));
        let world = World::with_endpoint(&sts.endpoint);
        let mut assume = world.rolecall(&["assume", CI_ROLE, "--web-identity", "env:ID_TOKEN", "--json"]);
        assume.env("ID_TOKEN", &token);
        let run = Run::of(assume).failure(1);
        token_unseen(&run, &token);
        run.stderr_has(&format!("AssumeRoleWithWebIdentity of {CI_ROLE} refused ({code})"))
            .stderr_has("iss `https://token.actions.githubusercontent.com`")
            .stderr_has("sub `repo:octo/app:pull_request\\x1b[2J`")
            .stderr_has("aud `sts.amazonaws.com` `other`")
            .stderr_has("expires 20")
            .stderr_has("trust policy must allow that issuer")
            .stderr_has(message);
        assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
        assert!(!run.stderr.contains('\u{1b}'));
        assert_eq!(sts.actions(), ["AssumeRoleWithWebIdentity"]);
    }
}

#[test]
fn an_expired_empty_missing_or_malformed_token_is_refused_before_any_call() {
    let sts = FakeSts::start(Behaviour::grant());
    let world = World::with_endpoint(&sts.endpoint);
    let file = world.home().join("token");
    let source = format!("file:{}", file.display());
    let expired = jwt(&github_claims(-120, "old"));
    for (contents, code, message) in [
        (Some(expired.as_str()), 1, "expired at"),
        (Some("opaque-secret-value"), 2, "is not a JWT"),
        (Some("a.bm90IGpzb24.c"), 2, "is not a JWT"),
        (Some(" \n"), 2, "is empty"),
        (None, 2, "does not exist"),
    ] {
        match contents {
            Some(text) => std::fs::write(&file, text).unwrap(),
            None => {
                let _ = std::fs::remove_file(&file);
            }
        }
        let run = world
            .run(&["assume", CI_ROLE, "--web-identity", &source, "--json"])
            .failure(code);
        run.stderr_has(message);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        if let Some(text) = contents.filter(|t| !t.trim().is_empty()) {
            token_unseen(&run, text);
        }
    }
    world
        .run(&["assume", CI_ROLE, "--web-identity", "env:NOPE", "--json"])
        .failure(2)
        .stderr_has("$NOPE is not set");
    assert!(sts.actions().is_empty(), "{:?}", sts.actions());
}
