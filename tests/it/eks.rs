//! `eks token` and `eks kubeconfig`: the token checked offline as the cluster's authenticator
//! checks it (and the same check taking the AWS CLI's token), kubectl reaching a stand-in API
//! server through a kubeconfig written against moto's EKS, and the kubeconfig's rewrite.

use crate::common::certificates::{new_authority, new_server_certificate};
use crate::common::eks_token::{check, of_exec_credential, Signer};
use crate::common::fake_kube::{Accepting, FakeKube, API_VERSIONS};
use crate::common::{require_tool, Run, World, BASE_KEYS, ONE_HOP};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const REGION: &str = "eu-west-1";

fn world() -> World {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    world
}

/// The session `eks token demo-admin` signs with: the cached one `credential-process` hands out.
struct Session {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expires: i64,
}

impl Session {
    fn of(world: &World, target: &str) -> Session {
        let json = world.run(&["credential-process", target]).success().json();
        let text = |name: &str| json[name].as_str().unwrap().to_string();
        Session {
            access_key_id: text("AccessKeyId"),
            secret_access_key: text("SecretAccessKey"),
            session_token: text("SessionToken"),
            expires: chrono::DateTime::parse_from_rfc3339(&text("Expiration"))
                .unwrap()
                .timestamp(),
        }
    }

    fn signer(&self) -> Signer<'_> {
        Signer {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            session_token: Some(&self.session_token),
        }
    }

    fn accepting(&self, cluster: &str) -> Accepting {
        Accepting {
            cluster: cluster.into(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: Some(self.session_token.clone()),
        }
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn a_token_passes_the_authenticator_s_check_for_its_cluster_only_as_the_aws_cli_s_does() {
    let world = world();
    let session = Session::of(&world, "demo-admin");
    let printed = world
        .run(&["eks", "token", "demo-admin", "--cluster", "prod"])
        .success()
        .json();
    assert_eq!(printed["kind"], "ExecCredential");
    assert_eq!(
        printed["apiVersion"],
        "client.authentication.k8s.io/v1beta1"
    );
    let token = of_exec_credential(&printed);
    check(token, "prod", &session.signer(), now()).unwrap();
    let other = check(token, "staging", &session.signer(), now()).unwrap_err();
    assert!(other.contains("signature"), "{other}");
    let expires = chrono::DateTime::parse_from_rfc3339(
        printed["status"]["expirationTimestamp"].as_str().unwrap(),
    )
    .unwrap()
    .timestamp();
    assert!(expires <= session.expires);
    assert!((expires - (now() + 14 * 60)).abs() <= 60, "{printed}");

    // The AWS CLI's token for the same credentials, checked the same way.
    let mut aws = world.command(require_tool("aws"));
    aws.args([
        "eks",
        "get-token",
        "--cluster-name",
        "prod",
        "--region",
        REGION,
    ])
    .env_remove("AWS_ENDPOINT_URL_STS")
    .env("AWS_ACCESS_KEY_ID", &session.access_key_id)
    .env("AWS_SECRET_ACCESS_KEY", &session.secret_access_key)
    .env("AWS_SESSION_TOKEN", &session.session_token)
    .env("AWS_CONFIG_FILE", "/dev/null")
    .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let theirs = Run::of(aws).success().json();
    check(
        of_exec_credential(&theirs),
        "prod",
        &session.signer(),
        now(),
    )
    .unwrap();
}

#[test]
fn a_token_from_the_environment_s_credentials_in_the_version_kubectl_asks_for() {
    let world = world();
    let mut command = world.rolecall(&["eks", "token", "--cluster", "c_1", "-r", "us-east-2"]);
    command
        .env("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT")
        .env("AWS_SECRET_ACCESS_KEY", "secret/from+env")
        .env(
            "KUBERNETES_EXEC_INFO",
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#,
        );
    let printed = Run::of(command).success().json();
    assert_eq!(printed["apiVersion"], "client.authentication.k8s.io/v1");
    let signer = Signer {
        access_key_id: "AKIDENVIRONMENT",
        secret_access_key: "secret/from+env",
        session_token: None,
    };
    check(of_exec_credential(&printed), "c_1", &signer, now()).unwrap();
    let wrong_secret = Signer {
        secret_access_key: "another",
        ..signer
    };
    assert!(check(of_exec_credential(&printed), "c_1", &wrong_secret, now()).is_err());
}

#[test]
fn token_refusals_say_what_to_fix() {
    let world = world();
    world
        .run(&["eks", "token", "demo-admin", "--cluster", "a.b"])
        .failure(2)
        .stderr_has("not an EKS cluster name");
    world
        .run(&[
            "eks",
            "token",
            "demo-admin",
            "--cluster",
            "a",
            "-r",
            "nowhere",
        ])
        .failure(2)
        .stderr_has("not a region name");
    world
        .run(&["eks", "token", "--cluster", "a", "-r", REGION])
        .failure(2)
        .stderr_has("no AWS credentials in the environment");
    let mut command = world.rolecall(&["eks", "token", "demo-admin", "--cluster", "a"]);
    command.env(
        "KUBERNETES_EXEC_INFO",
        r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#,
    );
    Run::of(command).failure(2).stderr_has("v1alpha1");
}

/// A cluster in moto's EKS, made with the AWS CLI in the account of demo-admin's session.
fn create_cluster(world: &World, name: &str) {
    let session = Session::of(world, "demo-admin");
    let mut aws = world.command(require_tool("aws"));
    aws.args([
        "eks",
        "create-cluster",
        "--name",
        name,
        "--role-arn",
        "arn:aws:iam::111111111111:role/eks",
        "--resources-vpc-config",
        "subnetIds=subnet-1",
        "--region",
        REGION,
        "--endpoint-url",
        &world.endpoint,
    ])
    .env("AWS_ACCESS_KEY_ID", &session.access_key_id)
    .env("AWS_SECRET_ACCESS_KEY", &session.secret_access_key)
    .env("AWS_SESSION_TOKEN", &session.session_token)
    .env("AWS_CONFIG_FILE", "/dev/null");
    Run::of(aws).success();
}

/// `rolecall eks kubeconfig ARGS…` against moto's EKS, writing `kubeconfig`.
fn kubeconfig(world: &World, kubeconfig: &Path, args: &[&str]) -> Run {
    let mut command = world.rolecall(&["eks", "kubeconfig"]);
    command
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("AWS_ENDPOINT_URL_EKS", &world.endpoint);
    Run::of(command)
}

fn read_yaml(path: &Path) -> serde_json::Value {
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn arn(name: &str) -> String {
    format!("arn:aws:eks:{REGION}:111111111111:cluster/{name}")
}

#[test]
fn kubectl_reaches_the_api_with_the_session_s_token_through_the_kubeconfig_written() {
    let kubectl = require_tool("kubectl");
    let world = world();
    create_cluster(&world, "prod");
    let path = world.home().join(".kube/config");
    kubeconfig(&world, &path, &["demo-admin", "--cluster", "prod"]).success();
    let session = Session::of(&world, "demo-admin");
    let dir = tempfile::tempdir().unwrap();
    let ca = new_authority(dir.path(), "ca");
    let (certificate, key) = new_server_certificate(dir.path(), "ca", "IP:127.0.0.1");
    let get_api = |server: &FakeKube| {
        // moto's cluster has no API server: kubectl is sent to the stand-in, trusting its CA.
        let mut command = world.command(&kubectl);
        command
            .args(["get", "--raw", "/api", "--server", &server.url])
            .arg("--certificate-authority")
            .arg(&ca);
        Run::of(command)
    };
    let right = FakeKube::start(&certificate, &key, session.accepting("prod"));
    let run = get_api(&right).success();
    assert_eq!(run.stdout.trim(), API_VERSIONS);
    assert_eq!(right.refused(), 0);
    let wrong = FakeKube::start(&certificate, &key, session.accepting("staging"));
    get_api(&wrong).failure_allowing_output(1);
    assert!(wrong.refused() > 0);
}

#[test]
fn the_kubeconfig_keeps_other_entries_and_a_second_run_writes_nothing() {
    let world = world();
    create_cluster(&world, "prod");
    create_cluster(&world, "dev");
    let path = world.home().join("kube.yaml");
    let mine = "apiVersion: v1\nkind: Config\nclusters:\n- name: mine\n  cluster:\n    server: https://mine.example\nusers:\n- name: me\n  user:\n    token: abc\ncontexts:\n- name: mine\n  context:\n    cluster: mine\n    user: me\ncurrent-context: mine\npreferences: {}\n";
    std::fs::write(&path, mine).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::metadata(&path).unwrap();
    kubeconfig(&world, &path, &["demo-admin", "--cluster", "prod"])
        .success()
        .stderr_has(&arn("prod"));
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(after.mode() & 0o777, 0o600);
    assert_ne!(
        after.ino(),
        before.ino(),
        "replaced by a new file, not rewritten"
    );
    let leftovers: Vec<PathBuf> = std::fs::read_dir(world.home())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let yaml = read_yaml(&path);
    assert_eq!(yaml["current-context"], arn("prod"));
    assert_eq!(yaml["clusters"][0]["name"], "mine");
    assert_eq!(yaml["users"][0]["user"]["token"], "abc");
    assert_eq!(yaml["contexts"][0]["name"], "mine");
    assert_eq!(yaml["clusters"][1]["name"], arn("prod"));
    let cluster = &yaml["clusters"][1]["cluster"];
    assert!(cluster["server"]
        .as_str()
        .unwrap()
        .ends_with(".eu-west-1.eks.amazonaws.com/"));
    assert!(!cluster["certificate-authority-data"]
        .as_str()
        .unwrap()
        .is_empty());
    assert_eq!(yaml["users"][1]["name"], arn("prod"));
    let exec = &yaml["users"][1]["user"]["exec"];
    assert_eq!(exec["command"], crate::common::BIN);
    assert_eq!(
        exec["args"],
        serde_json::json!([
            "eks",
            "token",
            "demo-admin",
            "--cluster",
            "prod",
            "-r",
            REGION
        ])
    );
    assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1beta1");

    let written = std::fs::metadata(&path).unwrap();
    kubeconfig(&world, &path, &["demo-admin", "--cluster", "prod"])
        .success()
        .stderr_has("nothing was written");
    let again = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (again.ino(), again.mtime_nsec()),
        (written.ino(), written.mtime_nsec())
    );

    kubeconfig(
        &world,
        &path,
        &["demo-admin", "--cluster", "prod", "--alias", "p"],
    )
    .success();
    let yaml = read_yaml(&path);
    assert_eq!(yaml["current-context"], "p");
    assert_eq!(yaml["contexts"][2]["name"], "p");
    assert_eq!(yaml["contexts"][2]["context"]["user"], arn("prod"));
    assert_eq!(yaml["users"].as_array().unwrap().len(), 2);

    kubeconfig(&world, &path, &["demo-admin", "--all"]).success();
    let yaml = read_yaml(&path);
    let clusters: Vec<&str> = yaml["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(clusters, ["mine", &arn("prod"), &arn("dev")]);
}

#[test]
fn kubeconfig_refusals_write_nothing() {
    let world = world();
    create_cluster(&world, "prod");
    let path = world.home().join(".kube/config");
    for (args, says) in [
        (
            &["demo-admin", "--cluster", "no/such"][..],
            "not an EKS cluster name",
        ),
        (
            &["demo-admin", "--cluster", "prod", "-r", "eu_west_1"][..],
            "not a region name",
        ),
        (
            &["demo-admin", "--cluster", "prod", "-r", "moon-1"][..],
            "not a region name",
        ),
        (&["-", "--cluster", "prod"][..], "previous target"),
    ] {
        kubeconfig(&world, &path, args).failure(2).stderr_has(says);
        assert!(!path.exists(), "{args:?}");
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let broken = "apiVersion: v1\nclusters:\n  - name: [unclosed\n";
    std::fs::write(&path, broken).unwrap();
    kubeconfig(&world, &path, &["demo-admin", "--cluster", "prod"])
        .failure(2)
        .stderr_has("line ");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    // A cluster EKS does not have is the AWS side's answer.
    let empty = world.home().join("empty");
    kubeconfig(&world, &empty, &["demo-admin", "--cluster", "missing"]).failure(1);
    assert!(!empty.exists());
}

#[test]
fn at_a_terminal_no_token_is_shown_and_under_kubectl_an_mfa_code_is_asked_only_when_someone_can_answer(
) {
    let world = World::with_moto();
    world.write_config(
        "[profile base]\nregion = eu-west-1\n\
         [profile demo-mfa]\nrole_arn = arn:aws:iam::111111111111:role/admin\n\
         source_profile = base\nmfa_serial = arn:aws:iam::111111111111:mfa/me\n",
    );
    world.write_credentials(BASE_KEYS);
    let environment: String = world
        .environment()
        .iter()
        .map(|(name, value)| format!("{name}='{value}' "))
        .collect();
    let info = |interactive: bool| {
        format!(
            "KUBERNETES_EXEC_INFO='{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\
             \"spec\":{{\"interactive\":{interactive}}}}}'"
        )
    };
    let token = "rolecall eks token demo-mfa --cluster c > token.json";
    let tmux = crate::common::Tmux::start(
        &world,
        &format!(
            "env {environment}rolecall eks token demo-mfa --cluster c; echo shown=$?; \
             env {environment}{} {token}; echo nobody=$?; env {environment}{} {token}; \
             echo someone=$?; sleep 60",
            info(false),
            info(true)
        ),
    );
    let screen = tmux.wait_for_text("MFA code for");
    // On a terminal the token is not shown: refused before any credentials are fetched.
    assert!(screen.contains("shown=2"), "{screen}");
    assert!(screen.contains("not for a terminal"), "{screen}");
    assert!(!screen.contains("k8s-aws-v1"), "{screen}");
    assert!(screen.contains("nobody=2"), "{screen}");
    assert!(screen.contains("assume the profile in a shell"), "{screen}");
    assert_eq!(screen.matches("MFA code for").count(), 1, "{screen}");
    tmux.line("123456");
    let screen = tmux.wait_for_text("someone=");
    assert!(screen.contains("someone=0"), "{screen}");
    let printed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(world.home().join("token.json")).unwrap())
            .unwrap();
    assert_eq!(printed["apiVersion"], "client.authentication.k8s.io/v1");
}

#[test]
fn kubeconfigs_written_at_once_take_turns_and_keep_every_entry() {
    let world = world();
    let names = ["c1", "c2", "c3", "c4"];
    for name in names {
        create_cluster(&world, name);
    }
    let path = world.home().join(".kube/config");
    let runs: Vec<std::process::Child> = names
        .iter()
        .map(|name| {
            let mut command =
                world.rolecall(&["eks", "kubeconfig", "demo-admin", "--cluster", name]);
            command
                .arg("--kubeconfig")
                .arg(&path)
                .env("AWS_ENDPOINT_URL_EKS", &world.endpoint)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let yaml = read_yaml(&path);
    let mut clusters: Vec<&str> = yaml["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    clusters.sort();
    let expected: Vec<String> = names.iter().map(|n| arn(n)).collect();
    assert_eq!(clusters, expected);
}
