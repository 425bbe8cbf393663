//! `rolecall keys`: long-term keys kept in a real Secret Service (gnome-keyring on a D-Bus
//! session of the test's own), IAM and STS from moto_server with authentication on (so a key
//! that works, and one that no longer does, are moto's verdict), and the AWS CLI using a
//! profile through the `credential_process` line rolecall writes. The tests' own STS only where
//! moto cannot misbehave: a new key that never becomes valid, and an answer slow enough to kill
//! a rotation in the middle.

use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::keyring::Keyring;
use crate::common::{self, require_tool, Moto, Run, Tmux, World, BIN};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// moto's one account.
const ACCOUNT: &str = "123456789012";

/// The keyring's service for a profile's keys, and for a rotation's new key until it is done.
const SERVICE: &str = "rolecall";
const ROTATION_SERVICE: &str = "rolecall-rotation";

/// Everything allowed, for the person whose keys rolecall keeps.
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Everything but creating access keys: rotation's first change is refused.
const NO_CREATE_ACCESS_KEY: &str = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"*","Resource":"*"},
{"Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"*"}]}"#;

/// Drives moto with botocore, a client rolecall did not write. `bootstrap POLICY` creates the
/// `admin` user (everything allowed) and its key in the three requests moto lets through
/// unchecked, then, signed as admin, the user `ana` with POLICY and her key; the other commands
/// are signed as admin (ADMIN_KEY, ADMIN_SECRET in the environment) except `whoami`, which
/// signs with the key it is given and prints the caller's ARN, or the error code and exits 3.
const MOTO_IAM: &str = r#"
import json, os, sys, botocore.session
from botocore.exceptions import ClientError
endpoint = os.environ["MOTO_ENDPOINT"]
session = botocore.session.get_session()
def client(service, key, secret):
    return session.create_client(service, region_name="us-east-1", endpoint_url=endpoint,
                                 aws_access_key_id=key, aws_secret_access_key=secret)
def admin(service):
    return client(service, os.environ["ADMIN_KEY"], os.environ["ADMIN_SECRET"])
def pair(created):
    return [created["AccessKey"]["AccessKeyId"], created["AccessKey"]["SecretAccessKey"]]
command = sys.argv[1]
if command == "bootstrap":
    unchecked = client("iam", "AKIAUNCHECKED0000000", "unchecked")
    unchecked.create_user(UserName="admin")
    unchecked.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    admin_key = pair(unchecked.create_access_key(UserName="admin"))
    iam = client("iam", *admin_key)
    iam.create_user(UserName="ana")
    iam.put_user_policy(UserName="ana", PolicyName="keys", PolicyDocument=sys.argv[2])
    print(json.dumps({"admin": admin_key, "ana": pair(iam.create_access_key(UserName="ana"))}))
elif command == "keys":
    listed = admin("iam").list_access_keys(UserName="ana")["AccessKeyMetadata"]
    print(json.dumps([[key["AccessKeyId"], key["Status"]] for key in listed]))
elif command == "create-key":
    print(json.dumps(pair(admin("iam").create_access_key(UserName="ana"))))
elif command == "whoami":
    try:
        print(client("sts", sys.argv[2], sys.argv[3]).get_caller_identity()["Arn"])
    except ClientError as refused:
        print(refused.response["Error"]["Code"])
        sys.exit(3)
"#;

#[derive(Clone, Debug, PartialEq)]
struct Key {
    id: String,
    secret: String,
}

impl Key {
    fn from_pair(pair: &serde_json::Value) -> Key {
        Key {
            id: pair[0].as_str().unwrap().to_string(),
            secret: pair[1].as_str().unwrap().to_string(),
        }
    }

    /// What `keys add --stdin` reads: the ID, then the secret, a line each.
    fn stdin(&self) -> String {
        format!("{}\n{}\n", self.id, self.secret)
    }

    /// A plaintext `[profile]` section of the credentials file with this key.
    fn section(&self, profile: &str) -> String {
        format!(
            "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.id, self.secret
        )
    }

    /// The key ID as `keys list` and messages show it: `…` and its last four characters.
    fn shown(&self) -> String {
        format!("…{}", &self.id[self.id.len() - 4..])
    }
}

/// A key pair in the right shapes that no IAM knows.
fn made_up_key(tag: char) -> Key {
    Key {
        id: format!("AKIAMADEUP{}", tag.to_string().repeat(10)),
        secret: format!("madeUp/Secret+{}", tag.to_string().repeat(26)),
    }
}

/// The rotation's clock: a fault test waits this long for a new key, not the default 30 s.
const SHORT_ROTATE_WAIT: &str = "2";

/// A test's world for `keys`: its own HOME, Secret Service and moto (IAM and, unless a test
/// brings its own, STS), with `admin` (for the test to look at IAM) and `ana` (whose keys
/// rolecall keeps) in moto.
struct KeysWorld {
    /// Declared first so it is dropped first: the session ends before its files go.
    keyring: Keyring,
    /// The keyring's HOME and runtime directory, outside the world's HOME so comparing that
    /// before and after sees only what rolecall did.
    _keyring_dir: tempfile::TempDir,
    world: World,
    moto: Moto,
    admin: Key,
    ana: Key,
}

impl KeysWorld {
    fn new() -> KeysWorld {
        KeysWorld::with(ALLOW_ALL, None)
    }

    /// `ana` with `policy`; STS at `sts`, else at moto.
    fn with(policy: &str, sts: Option<&str>) -> KeysWorld {
        let moto = Moto::start();
        moto.authenticate_after(3);
        let world = World::with_endpoint(sts.unwrap_or(&moto.endpoint));
        let keyring_dir = tempfile::tempdir().unwrap();
        let keyring = Keyring::start(keyring_dir.path());
        let mut keys_world = KeysWorld {
            keyring,
            _keyring_dir: keyring_dir,
            world,
            moto,
            admin: made_up_key('A'),
            ana: made_up_key('B'),
        };
        let made = keys_world.moto_iam(&["bootstrap", policy]);
        keys_world.admin = Key::from_pair(&made["admin"]);
        keys_world.ana = Key::from_pair(&made["ana"]);
        // ana's config: a region for the AWS CLI, and a role to assume from her keys.
        keys_world.world.write_config(&format!(
            "[profile ana]\nregion = us-east-1\n\
             [profile ana-admin]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/admin\nsource_profile = ana\n"
        ));
        keys_world
    }

    fn home(&self) -> &Path {
        self.world.home()
    }

    /// botocore, with no file of the world's and nothing of the developer's.
    fn moto_iam(&self, args: &[&str]) -> serde_json::Value {
        let output = self.moto_iam_output(args);
        assert!(
            output.status.success(),
            "moto_iam {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn moto_iam_output(&self, args: &[&str]) -> std::process::Output {
        Command::new(common::test_python())
            .arg("-c")
            .arg(MOTO_IAM)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home().join("botocore-home"))
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("MOTO_ENDPOINT", &self.moto.endpoint)
            .env("ADMIN_KEY", &self.admin.id)
            .env("ADMIN_SECRET", &self.admin.secret)
            .output()
            .expect("run python")
    }

    /// ana's access keys as IAM lists them: (ID, status).
    fn iam_keys(&self) -> Vec<(String, String)> {
        let listed = self.moto_iam(&["keys"]);
        let mut keys: Vec<(String, String)> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_string(),
                    pair[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        keys.sort();
        keys
    }

    fn iam_key_ids(&self) -> Vec<String> {
        self.iam_keys().into_iter().map(|(id, _)| id).collect()
    }

    /// Whether moto's STS accepts `key` (GetCallerIdentity signed with it), as ana.
    fn works(&self, key: &Key) -> bool {
        let output = self.moto_iam_output(&["whoami", &key.id, &key.secret]);
        let answer = String::from_utf8_lossy(&output.stdout);
        match output.status.code() {
            Some(0) => {
                assert_eq!(answer.trim(), format!("arn:aws:iam::{ACCOUNT}:user/ana"));
                true
            }
            Some(3) => false,
            _ => panic!(
                "whoami failed: {answer}{}",
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    }

    /// The variables every command of this world gets besides the world's own: IAM at moto and
    /// the keyring's bus.
    fn environment(&self) -> Vec<(String, String)> {
        let mut environment = vec![("AWS_ENDPOINT_URL_IAM".into(), self.moto.endpoint.clone())];
        environment.extend(self.keyring.environment());
        environment
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = self.world.command(program);
        command.envs(self.environment());
        command
    }

    fn rolecall(&self, args: &[&str]) -> Command {
        let mut command = self.command(BIN);
        command.args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::of(self.rolecall(args))
    }

    fn feeding(&self, args: &[&str], input: &str) -> Run {
        Run::feeding(self.rolecall(args), input)
    }

    /// `keys add PROFILE --stdin` with `key`, which must succeed.
    fn add(&self, profile: &str, key: &Key) {
        self.feeding(&["keys", "add", profile, "--stdin"], &key.stdin())
            .success();
    }

    /// The key rolecall hands out for `profile` (`keys credential-process`, stdout a pipe).
    fn keyring_key(&self, profile: &str) -> Key {
        let json = self
            .run(&["keys", "credential-process", profile])
            .success()
            .json();
        Key {
            id: json["AccessKeyId"].as_str().unwrap().to_string(),
            secret: json["SecretAccessKey"].as_str().unwrap().to_string(),
        }
    }

    fn credentials_path(&self) -> std::path::PathBuf {
        self.home().join(".aws/credentials")
    }

    fn credentials(&self) -> Vec<u8> {
        std::fs::read(self.credentials_path()).unwrap_or_default()
    }

    /// The AWS CLI's `sts get-caller-identity` as `profile`, with STS at moto and this PATH.
    fn aws_caller(&self, profile: &str, path: Option<&str>) -> Run {
        let mut command = self.command(require_tool("aws"));
        command
            .env("AWS_ENDPOINT_URL_STS", &self.moto.endpoint)
            // Only ana's config names a region; the CLI wants one for any profile.
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .args(["--profile", profile, "sts", "get-caller-identity"])
            .args(["--query", "Arn", "--output", "text"]);
        if let Some(path) = path {
            command.env("PATH", path);
        }
        Run::of(command)
    }
}

/// PATH without the directory of the binary under test, so no `rolecall` on it is this one.
fn path_without_rolecall() -> String {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let kept: Vec<_> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|dir| dir != bin_dir)
        .collect();
    std::env::join_paths(kept).unwrap().into_string().unwrap()
}

/// The line rolecall writes in place of a profile's keys, for the absolute path of the binary.
fn absolute_line(profile: &str) -> String {
    format!("credential_process = {BIN} keys credential-process {profile}")
}

/// Whether `text` holds the line rolecall writes for `profile`, in either form the contract
/// allows: the binary's absolute path, or bare `rolecall` when that is first on PATH.
fn has_credential_process_line(text: &str, profile: &str) -> bool {
    let bare = format!("credential_process = rolecall keys credential-process {profile}");
    text.lines()
        .map(|line| line.trim_end_matches('\r'))
        .any(|line| line == absolute_line(profile) || line == bare)
}

/// Every file and directory under `dir`, sorted, for a before-and-after comparison.
fn tree(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            found.push(path.display().to_string());
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                pending.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Polls `test` every 50 ms for up to `seconds`.
fn wait_until(what: &str, seconds: u64, test: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !test() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn import_moves_the_keys_into_the_keyring_and_changes_no_other_byte() {
    let world = KeysWorld::new();
    // CRLF line ends, comments, a profile before and after, the key lines not adjacent.
    let other = made_up_key('C');
    let before = format!(
        "# my keys\r\n[default]\r\nregion = eu-west-1\r\n\r\n; ana's own\r\n[ana]\r\n\
         aws_access_key_id = {}\r\n# kept comment between\r\noutput = json\r\n\
         aws_secret_access_key = {}\r\n\r\n[other]\r\naws_access_key_id = {}\r\n\
         aws_secret_access_key = {}\r\n",
        world.ana.id, world.ana.secret, other.id, other.secret
    );
    world.world.write_credentials(&before);
    std::fs::set_permissions(
        world.credentials_path(),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let aws_dir_before = tree(&world.home().join(".aws"));

    // No `rolecall` on PATH is this binary: the line must name it by its absolute path.
    let mut import = world.rolecall(&["keys", "import", "ana"]);
    import.env("PATH", path_without_rolecall());
    let run = Run::of(import).success();
    assert!(run.stdout.is_empty(), "import printed data: {}", run.stdout);

    let expected = before
        .replace(
            &format!("aws_access_key_id = {}\r\n# kept", world.ana.id),
            &format!("{}\r\n# kept", absolute_line("ana")),
        )
        .replace(
            &format!("aws_secret_access_key = {}\r\n", world.ana.secret),
            "",
        );
    assert_eq!(
        String::from_utf8(world.credentials()).unwrap(),
        expected,
        "the credentials file changed beyond ana's two lines"
    );
    let mode = world
        .credentials_path()
        .metadata()
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640, "the file's mode was not kept");
    assert_eq!(
        tree(&world.home().join(".aws")),
        aws_dir_before,
        "a file was left beside the credentials file"
    );

    // The keyring holds ana's secret, and nothing for the profile that was not imported.
    let stored = world
        .keyring
        .lookup(SERVICE, "ana")
        .expect("no keyring entry for ana");
    assert!(
        stored.contains(&world.ana.secret),
        "the secret is not in the entry"
    );
    assert_eq!(world.keyring.users(SERVICE), ["ana"]);
    assert_eq!(world.keyring_key("ana"), world.ana);

    // The AWS CLI signs as ana through the line, with no key left in the file.
    let run = world
        .aws_caller("ana", Some(&path_without_rolecall()))
        .success();
    assert_eq!(
        run.stdout.trim(),
        format!("arn:aws:iam::{ACCOUNT}:user/ana")
    );
}

#[test]
fn import_all_moves_every_profile_with_keys_and_only_those() {
    let world = KeysWorld::new();
    let bob = made_up_key('D');
    world.world.write_credentials(&format!(
        "{}[plain-region]\nregion = eu-west-1\n{}",
        world.ana.section("ana"),
        bob.section("bob")
    ));
    world.run(&["keys", "import", "--all"]).success();
    let after = String::from_utf8(world.credentials()).unwrap();
    for profile in ["ana", "bob"] {
        assert!(
            has_credential_process_line(&after, profile),
            "no line for {profile}:\n{after}"
        );
    }
    assert!(
        !after.contains("aws_access_key_id") && !after.contains("aws_secret_access_key"),
        "keys left in the file:\n{after}"
    );
    assert!(after.contains("[plain-region]\nregion = eu-west-1\n"));
    assert_eq!(world.keyring.users(SERVICE), ["ana", "bob"]);
    assert_eq!(world.keyring_key("bob"), bob);
}

#[test]
fn import_refuses_a_profile_without_keys_temporary_keys_and_an_unknown_profile() {
    let world = KeysWorld::new();
    let before = format!(
        "[no-keys]\nregion = eu-west-1\n[temporary]\naws_access_key_id = {}\n\
         aws_secret_access_key = {}\naws_session_token = FwoGZXIvYXdzEBYaDH\n",
        world.ana.id, world.ana.secret
    );
    world.world.write_credentials(&before);
    let run = world.run(&["keys", "import", "no-keys"]).failure(2);
    run.stderr_has("has no keys");
    world.run(&["keys", "import", "temporary"]).failure(2);
    world.run(&["keys", "import", "nowhere"]).failure(2);
    assert_eq!(world.credentials(), before.as_bytes(), "the file changed");
    assert!(world.keyring.users(SERVICE).is_empty(), "something stored");
}

#[test]
fn add_creates_the_section_and_the_aws_cli_signs_through_its_line() {
    let world = KeysWorld::new();
    let before = "[default]\nregion = eu-west-1\n";
    world.world.write_credentials(before);
    let run = world.feeding(&["keys", "add", "ana", "--stdin"], &world.ana.stdin());
    let run = run.success();
    assert!(
        !run.stderr.contains(&world.ana.secret),
        "the secret was echoed"
    );
    let after = String::from_utf8(world.credentials()).unwrap();
    let added = after
        .strip_prefix(before)
        .unwrap_or_else(|| panic!("what was in the file changed:\n{after}"));
    assert!(
        added.trim_start().starts_with("[ana]") && has_credential_process_line(added, "ana"),
        "no [ana] section with the line at the end:\n{after}"
    );
    assert!(
        !after.contains(&world.ana.secret),
        "the secret is in the file"
    );
    assert_eq!(world.keyring_key("ana"), world.ana);
    let run = world.aws_caller("ana", None).success();
    assert_eq!(
        run.stdout.trim(),
        format!("arn:aws:iam::{ACCOUNT}:user/ana")
    );
}

#[test]
fn the_javascript_sdk_signs_with_the_keyring_key_through_the_line() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    let js = common::JsCaller::find();
    let mut command = js.command(&world.world, Some("ana"));
    command
        .envs(world.environment())
        .env("AWS_ENDPOINT_URL_STS", &world.moto.endpoint);
    // moto checks every signature by now: only ana's real secret gets an answer.
    let run = Run::of(command).success();
    let answer = common::JsCaller::answer(&run);
    assert_eq!(
        answer["signedWith"],
        world.ana.id.as_str(),
        "{}",
        run.stderr
    );
    assert_eq!(answer["arn"], format!("arn:aws:iam::{ACCOUNT}:user/ana"));
}

#[test]
fn add_adds_the_line_to_an_existing_section() {
    let world = KeysWorld::new();
    world
        .world
        .write_credentials("[ana]\nregion = eu-west-1\n[zed]\nregion = us-east-2\n");
    world.add("ana", &world.ana);
    let after = String::from_utf8(world.credentials()).unwrap();
    let ana_section = after
        .split("[zed]")
        .next()
        .unwrap_or_else(|| panic!("[zed] went away:\n{after}"));
    assert!(
        ana_section.starts_with("[ana]\n") && has_credential_process_line(ana_section, "ana"),
        "the line is not in [ana]:\n{after}"
    );
    assert_eq!(
        after.matches("[ana]").count(),
        1,
        "a second [ana]:\n{after}"
    );
    assert!(after.ends_with("[zed]\nregion = us-east-2\n"), "{after}");
}

#[test]
fn add_on_a_terminal_asks_for_both_values_and_echoes_neither() {
    let world = KeysWorld::new();
    let environment: String = world
        .environment()
        .iter()
        .map(|(name, value)| format!("{name}='{value}' "))
        .collect();
    let tmux = Tmux::start(
        &world.world,
        &format!("env {environment}rolecall keys add ana; echo added=$?; sleep 60"),
    );
    tmux.wait_for_text("Access key ID:");
    tmux.line(&world.ana.id);
    tmux.wait_for_text("Secret access key:");
    tmux.line(&world.ana.secret);
    let screen = tmux.wait_for_text("added=");
    assert!(screen.contains("added=0"), "{screen}");
    assert!(
        !screen.contains(&world.ana.id),
        "the key ID was echoed:\n{screen}"
    );
    assert!(
        !screen.contains(&world.ana.secret),
        "the secret was echoed:\n{screen}"
    );
    assert_eq!(world.keyring_key("ana"), world.ana);
}

#[test]
fn add_refuses_keys_of_the_wrong_shape_and_changes_nothing() {
    let world = KeysWorld::new();
    let before = "[default]\nregion = eu-west-1\n";
    world.world.write_credentials(before);
    let good = &world.ana;
    let cases: Vec<(&str, String)> = vec![
        (
            "a lower-case key ID",
            format!("{}\n{}\n", good.id.to_lowercase(), good.secret),
        ),
        (
            "a temporary key ID",
            format!("ASIA{}\n{}\n", &good.id[4..], good.secret),
        ),
        (
            "a key ID too short",
            format!("AKIA1234567\n{}\n", good.secret),
        ),
        (
            "a key ID too long",
            format!("AKIA{}\n{}\n", "A".repeat(125), good.secret),
        ),
        (
            "a key ID with a space",
            format!("AKIA 1234567890ABCD\n{}\n", good.secret),
        ),
        (
            "a key ID not AKIA",
            format!("ABIA{}\n{}\n", &good.id[4..], good.secret),
        ),
        (
            "a secret too short",
            format!("{}\nshort/secret+1\n", good.id),
        ),
        (
            "a secret too long",
            format!("{}\n{}\n", good.id, "s".repeat(129)),
        ),
        (
            "a secret with a stray character",
            format!("{}\n{}!\n", good.id, &good.secret[1..]),
        ),
        ("no secret", format!("{}\n", good.id)),
        ("nothing at all", String::new()),
    ];
    for (what, input) in &cases {
        let run = Run::feeding(world.rolecall(&["keys", "add", "ana", "--stdin"]), input);
        assert_eq!(run.status, Some(2), "{what}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{what} printed: {}", run.stdout);
        assert!(
            !run.stderr.contains(&good.secret[1..]),
            "{what}: the secret reached the message"
        );
        if *what == "a temporary key ID" {
            run.stderr_has("temporary");
        }
    }
    assert_eq!(world.credentials(), before.as_bytes(), "the file changed");
    assert!(world.keyring.users(SERVICE).is_empty(), "something stored");
}

#[test]
fn add_refuses_profiles_that_already_have_keys_or_are_not_sources() {
    let world = KeysWorld::new();
    let bob = made_up_key('E');
    world.world.write_config(&format!(
        "[profile ana]\nregion = us-east-1\n\
         [profile by-process]\ncredential_process = /bin/false\n\
         [profile a-role]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/admin\nsource_profile = ana\n"
    ));
    world.add("ana", &world.ana);
    world.run(&["keys", "credential-process", "ana"]).success();
    // Plaintext keys for bob in the file: import them, rather than a second copy.
    let mut file = String::from_utf8(world.credentials()).unwrap();
    file.push_str(&bob.section("bob"));
    world.world.write_credentials(&file);

    let again = world
        .feeding(&["keys", "add", "ana", "--stdin"], &bob.stdin())
        .failure(2);
    assert!(
        again.stderr.contains("keys remove") || again.stderr.contains("keys rotate"),
        "does not say what to do instead: {}",
        again.stderr
    );
    let plaintext = world
        .feeding(&["keys", "add", "bob", "--stdin"], &bob.stdin())
        .failure(2);
    plaintext.stderr_has("keys import bob");
    world
        .feeding(&["keys", "add", "by-process", "--stdin"], &bob.stdin())
        .failure(2);
    world
        .feeding(&["keys", "add", "a-role", "--stdin"], &bob.stdin())
        .failure(2);

    assert_eq!(world.credentials(), file.as_bytes(), "the file changed");
    assert_eq!(world.keyring.users(SERVICE), ["ana"]);
    assert_eq!(
        world.keyring_key("ana"),
        world.ana,
        "ana's key was replaced"
    );
}

#[test]
fn hostile_profile_names_are_refused_before_anything_is_written_or_run() {
    let world = KeysWorld::new();
    let mut names: Vec<String> = [
        "x$(touch pwned)",
        "`touch pwned`",
        "a;touch pwned",
        "a b",
        "a\nb",
        "a\rb",
        "[x]",
        "a=b",
        "#x",
        "a'b",
        "a\"b",
        "a\\b",
        "é",
        "a\u{1b}[31m",
        "",
    ]
    .iter()
    .map(|name| name.to_string())
    .collect();
    // Generated ones too, each with at least one character the SDKs do not accept.
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c);
    names.extend(
        common::hostile::hostile_strings(12, false)
            .into_iter()
            .filter(|name| !name.contains('\0') && !name.chars().all(allowed)),
    );
    // Some names also as sections of the credentials file, so import has keys to take: those
    // the file's syntax can hold (the final add below shows the file still parses, so the
    // refusals were the names', not a broken file's).
    let mut file = world.ana.section("ana");
    for name in [
        "x$(touch pwned)",
        "`touch pwned`",
        "a b",
        "a'b",
        "a\"b",
        "é",
    ] {
        file.push_str(&world.ana.section(name));
    }
    world.world.write_credentials(&file);
    let home_before = tree(world.home());
    for name in &names {
        for args in [
            vec!["keys", "add", name.as_str(), "--stdin"],
            vec!["keys", "import", name.as_str()],
            vec!["keys", "rotate", name.as_str()],
            vec!["keys", "remove", name.as_str()],
            vec!["keys", "credential-process", name.as_str()],
        ] {
            let run = world.feeding(&args, &world.ana.stdin());
            assert_eq!(run.status, Some(2), "{args:?}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "{args:?} printed: {}", run.stdout);
            assert!(
                !run.stderr.contains("does not parse"),
                "{args:?} refused for the file, not the name: {}",
                run.stderr
            );
        }
    }
    assert_eq!(world.credentials(), file.as_bytes(), "the file changed");
    assert!(world.keyring.users(SERVICE).is_empty(), "something stored");
    assert_eq!(tree(world.home()), home_before, "a file appeared in HOME");
    assert_eq!(world.iam_key_ids(), [world.ana.id.as_str()], "IAM changed");

    // Every character the SDKs accept, in one name: taken, and the AWS CLI signs through it.
    let unusual = "team/ana.dev%1@corp:2+x_y-Z";
    world.add(unusual, &world.ana);
    let run = world.aws_caller(unusual, None).success();
    assert_eq!(
        run.stdout.trim(),
        format!("arn:aws:iam::{ACCOUNT}:user/ana")
    );
}

#[test]
fn add_takes_keys_at_the_edges_of_their_shapes() {
    let world = KeysWorld::new();
    let shortest = Key {
        id: "AKIA0123456789AB".into(),
        secret: "abcdEFGH0123/+==".into(),
    };
    let longest = Key {
        id: format!("AKIA{}", "Z9".repeat(62)),
        secret: "s/+=".repeat(32),
    };
    world.add("shortest", &shortest);
    world.add("longest", &longest);
    assert_eq!(world.keyring_key("shortest"), shortest);
    assert_eq!(world.keyring_key("longest"), longest);
}

#[test]
fn list_shows_each_profile_with_a_shortened_key_id_and_age_and_never_a_secret() {
    let world = KeysWorld::new();
    let bob = made_up_key('G');
    world.add("ana", &world.ana);
    world.add("bob", &bob);
    let run = world.run(&["keys", "list"]).success();
    for (profile, key) in [("ana", &world.ana), ("bob", &bob)] {
        let line = run
            .stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(profile))
            .unwrap_or_else(|| panic!("no line for {profile}:\n{}", run.stdout));
        assert!(line.contains(&key.shown()), "no {}: {line}", key.shown());
        let has_age = line.split_whitespace().any(|word| {
            word.len() > 1
                && word.ends_with(['s', 'm', 'h', 'd'])
                && word[..word.len() - 1].chars().all(|c| c.is_ascii_digit())
        });
        assert!(has_age, "no age on {line}");
    }
    for key in [&world.ana, &bob] {
        assert!(
            !run.stdout.contains(&key.id),
            "a whole key ID:\n{}",
            run.stdout
        );
        assert!(!run.stdout.contains(&key.id[..8]), "{}", run.stdout);
        assert!(
            !run.stdout.contains(&key.secret),
            "a secret:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(&key.secret),
            "a secret:\n{}",
            run.stderr
        );
    }
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);

    // bob's line still points at the keyring, which no longer has his key.
    world.keyring.clear(SERVICE, "bob");
    let run = world.run(&["keys", "list"]).success();
    let bob_line = run
        .stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some("bob"))
        .unwrap_or_else(|| panic!("bob is no longer listed:\n{}", run.stdout));
    assert!(bob_line.contains("missing"), "{bob_line}");
    let ana_line = run.stdout.lines().find(|line| line.starts_with("ana"));
    assert!(
        !ana_line.unwrap_or_default().contains("missing"),
        "{}",
        run.stdout
    );
}

#[test]
fn remove_takes_the_line_then_the_entry_and_names_the_key_still_in_iam() {
    let world = KeysWorld::new();
    world
        .world
        .write_credentials("[ana]\nregion = eu-west-1\n[zed]\nregion = us-east-2\n");
    world.add("ana", &world.ana);
    let run = world.run(&["keys", "remove", "ana"]).success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    run.stderr_has(&world.ana.id);
    assert!(!run.stderr.contains(&world.ana.secret));
    assert_eq!(
        String::from_utf8(world.credentials()).unwrap(),
        "[ana]\nregion = eu-west-1\n[zed]\nregion = us-east-2\n",
        "the section should be as before the add"
    );
    assert_eq!(world.keyring.lookup(SERVICE, "ana"), None);
    assert_eq!(world.iam_key_ids(), [world.ana.id.as_str()], "IAM changed");
    assert!(world.works(&world.ana));
    world.run(&["keys", "remove", "ana"]).failure(2);
}

#[test]
fn credential_process_prints_the_key_for_a_program_and_refuses_a_terminal() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    let json = world
        .run(&["keys", "credential-process", "ana"])
        .success()
        .json();
    assert_eq!(json["Version"], 1);
    assert_eq!(json["AccessKeyId"], world.ana.id.as_str());
    assert_eq!(json["SecretAccessKey"], world.ana.secret.as_str());
    assert!(json.get("SessionToken").is_none(), "{json}");

    require_tool("script");
    let mut command = world.command("script");
    command.args([
        "-qec",
        &format!("{BIN} keys credential-process ana"),
        "/dev/null",
    ]);
    let run = Run::of(command);
    assert_eq!(run.status, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains(&world.ana.secret),
        "the secret reached the terminal"
    );
}

#[test]
fn a_role_assumed_from_a_keyring_profile_reads_the_keyring_itself() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    // The line in its bare form, with a `rolecall` first on PATH that logs each call: rolecall
    // must not run it, whichever form it wrote.
    let log = world.home().join("calls.log");
    let path = common::logging_rolecall(&world.world, &log);
    world
        .world
        .write_credentials("[ana]\ncredential_process = rolecall keys credential-process ana\n");

    let mut assume = world.rolecall(&["assume", "--json", "ana-admin"]);
    assume.env("PATH", &path);
    let json = Run::of(assume).success().json();
    assert!(json["AWS_ACCESS_KEY_ID"]
        .as_str()
        .unwrap_or_default()
        .starts_with("ASIA"));
    assert_eq!(
        json["ROLECALL_ROLE_ARN"],
        format!("arn:aws:iam::{ACCOUNT}:role/admin").as_str()
    );
    let mut credential_process = world.rolecall(&["credential-process", "ana-admin", "--refresh"]);
    credential_process.env("PATH", &path);
    let json = Run::of(credential_process).success().json();
    assert!(json["SessionToken"].is_string(), "{json}");

    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(calls.is_empty(), "rolecall ran itself: {calls}");
}

#[test]
fn rotate_replaces_the_key_in_iam_and_in_the_keyring() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    let run = world.run(&["keys", "rotate", "ana"]).success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let new = world.keyring_key("ana");
    assert_ne!(new.id, world.ana.id, "the keyring still has the old key");
    assert!(
        !run.stderr.contains(&new.secret),
        "the new secret was shown"
    );
    assert_eq!(
        world.iam_keys(),
        [(new.id.clone(), "Active".to_string())],
        "IAM should have the new key alone"
    );
    assert!(world.works(&new), "moto refuses the new key");
    assert!(!world.works(&world.ana), "moto still takes the old key");
    assert_eq!(world.keyring.lookup(ROTATION_SERVICE, "ana"), None);
    let run = world.aws_caller("ana", None).success();
    assert_eq!(
        run.stdout.trim(),
        format!("arn:aws:iam::{ACCOUNT}:user/ana")
    );
}

#[test]
fn rotate_with_two_keys_already_stops_before_changing_anything() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    let second = Key::from_pair(&world.moto_iam(&["create-key"]));
    let before = world.iam_key_ids();
    let run = world.run(&["keys", "rotate", "ana"]).failure(2);
    run.stderr_has(&world.ana.shown());
    run.stderr_has(&second.shown());
    assert_eq!(world.iam_key_ids(), before, "IAM changed");
    assert_eq!(world.keyring_key("ana"), world.ana);
    assert_eq!(world.keyring.lookup(ROTATION_SERVICE, "ana"), None);
}

#[test]
fn rotate_refused_by_iam_changes_nothing_and_the_old_key_still_works() {
    let world = KeysWorld::with(NO_CREATE_ACCESS_KEY, None);
    world.add("ana", &world.ana);
    world.run(&["keys", "rotate", "ana"]).failure(1);
    assert_eq!(world.iam_key_ids(), [world.ana.id.as_str()], "IAM changed");
    assert_eq!(world.keyring_key("ana"), world.ana);
    assert_eq!(world.keyring.lookup(ROTATION_SERVICE, "ana"), None);
    assert!(world.works(&world.ana));
    world.aws_caller("ana", None).success();
}

#[test]
fn a_new_key_that_never_works_is_deleted_again_and_the_old_one_kept() {
    // STS refuses every key, the new one included; IAM is moto's.
    let sts = FakeSts::start(Behaviour::sts_error(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    ));
    let world = KeysWorld::with(ALLOW_ALL, Some(&sts.endpoint));
    world.add("ana", &world.ana);
    let mut rotate = world.rolecall(&["keys", "rotate", "ana"]);
    rotate.env("ROLECALL_ROTATE_WAIT", SHORT_ROTATE_WAIT);
    let run = Run::of(rotate).failure(1);
    assert!(
        run.elapsed < Duration::from_secs(20),
        "waited {:?} for a {SHORT_ROTATE_WAIT} s limit",
        run.elapsed
    );
    // A new key was made and tried...
    let tried: Vec<String> = sts
        .signed_actions()
        .into_iter()
        .filter(|(action, signer)| action == "GetCallerIdentity" && *signer != world.ana.id)
        .map(|(_, signer)| signer)
        .collect();
    assert!(
        !tried.is_empty(),
        "no new key was tried: {:?}",
        sts.signed_actions()
    );
    // ...and deleted again: IAM has the old key alone, which works and is still ana's.
    assert_eq!(
        world.iam_key_ids(),
        [world.ana.id.as_str()],
        "IAM kept {tried:?}"
    );
    assert!(world.works(&world.ana));
    assert_eq!(world.keyring_key("ana"), world.ana);
    assert_eq!(world.keyring.lookup(ROTATION_SERVICE, "ana"), None);
}

#[test]
fn a_rotation_killed_mid_way_is_finished_by_the_next_one_and_no_key_is_lost() {
    // The new key's check is held for a minute, long enough to kill rotate while it waits.
    let sts = FakeSts::start(Behaviour::Delayed(
        Duration::from_secs(60),
        Box::new(Behaviour::grant()),
    ));
    let world = KeysWorld::with(ALLOW_ALL, Some(&sts.endpoint));
    world.add("ana", &world.ana);
    let mut rotate = world.rolecall(&["keys", "rotate", "ana"]);
    rotate
        .env("ROLECALL_ROTATE_WAIT", "120")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = rotate.spawn().expect("start rotate");
    wait_until("the pending rotation entry", 30, || {
        world.keyring.lookup(ROTATION_SERVICE, "ana").is_some()
    });
    // SAFETY: kill with a process ID this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    assert_eq!(world.iam_key_ids().len(), 2, "the new key is not in IAM");

    let list = world.run(&["keys", "list"]).success();
    let line = list
        .stdout
        .lines()
        .find(|line| line.starts_with("ana"))
        .unwrap_or_else(|| panic!("ana is not listed:\n{}", list.stdout));
    assert!(
        line.contains("rotat"),
        "the unfinished rotation is not noted: {line}"
    );

    // Again, with STS at moto now: the rotation is finished, not started over.
    let mut again = world.rolecall(&["keys", "rotate", "ana"]);
    again.env("AWS_ENDPOINT_URL_STS", &world.moto.endpoint);
    Run::of(again).success();
    let now = world.keyring_key("ana");
    assert_ne!(now, world.ana, "the keyring still has the old key");
    assert_eq!(
        world.iam_keys(),
        [(now.id.clone(), "Active".to_string())],
        "IAM should have exactly the keyring's key"
    );
    assert!(world.works(&now));
    assert!(!world.works(&world.ana), "the old key still works");
    assert_eq!(world.keyring.lookup(ROTATION_SERVICE, "ana"), None);
}

#[test]
fn doctor_names_the_keyring_and_every_profile_with_plaintext_keys() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    let mut file = String::from_utf8(world.credentials()).unwrap();
    file.push_str(&made_up_key('H').section("plain-one"));
    file.push_str(&made_up_key('I').section("plain-two"));
    world.world.write_credentials(&file);
    let run = world.run(&["doctor"]);
    let report = format!("{}{}", run.stdout, run.stderr);
    assert!(
        report.lines().any(|line| line.contains("Secret Service")),
        "no keyring line:\n{report}"
    );
    let warning = report
        .lines()
        .find(|line| line.contains("rolecall keys import"))
        .unwrap_or_else(|| panic!("no plaintext warning:\n{report}"));
    assert!(
        warning.contains("plain-one") && warning.contains("plain-two"),
        "{warning}"
    );
    assert!(
        !warning.contains("ana"),
        "ana's keys are not in plaintext: {warning}"
    );

    // And none once they are all in the keyring.
    world.run(&["keys", "import", "--all"]).success();
    let run = world.run(&["doctor"]);
    let report = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !report.contains("rolecall keys import"),
        "warned with no plaintext keys left:\n{report}"
    );
}

/// What every keys command must do without a Secret Service: exit 2, say so and how to get one,
/// write nothing anywhere.
fn check_no_secret_service(environment: &[(String, String)]) {
    let world = World::with_endpoint("http://127.0.0.1:9");
    let key = made_up_key('J');
    // ana's line as rolecall writes it, so credential-process has to ask the keyring.
    world.write_credentials(&format!(
        "{}[ana]\ncredential_process = rolecall keys credential-process ana\n",
        key.section("plain")
    ));
    let before = std::fs::read(world.home().join(".aws/credentials")).unwrap();
    let home_before = tree(world.home());
    let runs = [
        ("add", vec!["keys", "add", "ana", "--stdin"]),
        ("import", vec!["keys", "import", "plain"]),
        (
            "credential-process",
            vec!["keys", "credential-process", "ana"],
        ),
    ];
    for (what, args) in runs {
        let mut command = world.rolecall(&args);
        command.envs(environment.iter().cloned());
        let run = Run::feeding(command, &key.stdin());
        assert_eq!(run.status, Some(2), "{what}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{what} printed: {}", run.stdout);
        assert!(
            run.elapsed < Duration::from_secs(15),
            "{what} took {:?}",
            run.elapsed
        );
        for fact in ["Secret Service", "running", "gnome-keyring"] {
            assert!(
                run.stderr.contains(fact),
                "{what}: no {fact:?} in {}",
                run.stderr
            );
        }
    }
    assert_eq!(
        std::fs::read(world.home().join(".aws/credentials")).unwrap(),
        before,
        "the credentials file changed"
    );
    assert_eq!(tree(world.home()), home_before, "something was written");
}

#[test]
fn without_a_session_bus_keys_say_how_to_get_a_secret_service_and_write_nothing() {
    let elsewhere = tempfile::tempdir().unwrap();
    let runtime = elsewhere.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    check_no_secret_service(&[
        (
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}/no-bus", elsewhere.path().display()),
        ),
        ("XDG_RUNTIME_DIR".into(), runtime.display().to_string()),
    ]);
}

#[test]
fn with_a_bus_but_no_secret_service_keys_say_so_and_write_nothing() {
    let elsewhere = tempfile::tempdir().unwrap();
    let bus = Keyring::bus_without_secret_service(elsewhere.path());
    check_no_secret_service(&bus.environment());
}

#[test]
fn a_locked_keyring_is_reported_with_how_to_unlock_it_at_once() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    let before = world.credentials();
    world.keyring.lock();
    for args in [
        vec!["keys", "credential-process", "ana"],
        vec!["keys", "add", "bob", "--stdin"],
        vec!["assume", "--json", "ana-admin"],
    ] {
        let run = world.feeding(&args, &made_up_key('K').stdin());
        assert_eq!(
            run.status,
            Some(2),
            "{args:?}: {}{}",
            run.stdout,
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?} printed: {}", run.stdout);
        assert!(
            run.elapsed < Duration::from_secs(15),
            "{args:?} took {:?}",
            run.elapsed
        );
        run.stderr_has("locked").stderr_has("unlock");
    }
    assert_eq!(world.credentials(), before, "the credentials file changed");
}

/// The ground the other tests stand on: moto refuses keys it does not know, the keyring stores,
/// finds, clears and locks as the helpers say, and its session leaves nothing behind.
#[test]
fn the_harness_keyring_and_moto_behave_as_these_tests_assume() {
    let world = KeysWorld::new();
    assert_eq!(world.iam_key_ids(), [world.ana.id.as_str()]);
    assert!(world.works(&world.ana));
    assert!(!world.works(&made_up_key('Z')));
    assert!(world.keyring.users(SERVICE).is_empty());
    world.keyring.store(SERVICE, "ana", "s1");
    world.keyring.store(SERVICE, "b/c", "s2");
    assert_eq!(world.keyring.users(SERVICE), ["ana", "b/c"]);
    assert_eq!(world.keyring.lookup(SERVICE, "ana").as_deref(), Some("s1"));
    world.keyring.clear(SERVICE, "ana");
    assert_eq!(world.keyring.lookup(SERVICE, "ana"), None);
    let second = Key::from_pair(&world.moto_iam(&["create-key"]));
    assert!(world.works(&second));
    world.keyring.lock();
    assert_eq!(world.keyring.lookup(SERVICE, "b/c"), None);
    let bus = world.keyring.bus_address.clone();
    drop(world);
    let socket = bus
        .strip_prefix("unix:path=")
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    assert!(!Path::new(&socket).exists());
}

#[test]
fn rotate_finds_iam_and_sts_through_aws_endpoint_url_alone() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    let mut rotate = world.rolecall(&["keys", "rotate", "ana"]);
    rotate
        .env_remove("AWS_ENDPOINT_URL_IAM")
        .env_remove("AWS_ENDPOINT_URL_STS")
        .env("AWS_ENDPOINT_URL", &world.moto.endpoint);
    Run::of(rotate).success();
    let new = world.keyring_key("ana");
    assert_ne!(new, world.ana);
    assert_eq!(world.iam_key_ids(), [new.id.as_str()]);
}

#[test]
fn an_mfa_profile_in_the_keyring_gets_one_session_signed_with_its_key() {
    // moto does not take the session's keys back once it authenticates, so the tests' STS
    // grants here; it records which key signed each request.
    let sts = FakeSts::start(Behaviour::grant());
    let world = KeysWorld::with(ALLOW_ALL, Some(&sts.endpoint));
    world.add("ana", &world.ana);
    world.world.write_config(&format!(
        "[profile ana]\nregion = us-east-1\nmfa_serial = arn:aws:iam::{ACCOUNT}:mfa/ana\n\
         [profile one]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/one\nsource_profile = ana\n\
         [profile two]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/two\nsource_profile = ana\n"
    ));
    world
        .run(&["assume", "--json", "one", "--mfa-token", "123456"])
        .success();
    // The second role reuses the MFA session: no code needed, no second GetSessionToken.
    world.run(&["assume", "--json", "two"]).success();
    let calls = sts.signed_actions();
    let sessions: Vec<_> = calls
        .iter()
        .filter(|(action, _)| action == "GetSessionToken")
        .collect();
    assert_eq!(sessions.len(), 1, "{calls:?}");
    assert_eq!(
        sessions[0].1, world.ana.id,
        "not signed with the keyring's key"
    );
    let assumed = calls
        .iter()
        .filter(|(action, _)| action == "AssumeRole")
        .count();
    assert_eq!(assumed, 2, "{calls:?}");
}

#[test]
fn a_cached_role_session_is_not_reused_once_its_keyring_key_is_rotated() {
    let world = KeysWorld::new();
    world.add("ana", &world.ana);
    let session_key = |world: &KeysWorld| {
        world
            .run(&["assume", "--json", "ana-admin"])
            .success()
            .json()["AWS_ACCESS_KEY_ID"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = session_key(&world);
    assert_eq!(session_key(&world), first, "the session was not cached");
    world.run(&["keys", "rotate", "ana"]).success();
    // The cache is keyed by the source's key ID: the new key is a new source.
    assert_ne!(
        session_key(&world),
        first,
        "a session of the rotated-away key was reused"
    );
}

#[test]
fn import_refuses_a_hard_linked_credentials_file_and_changes_neither_name() {
    let world = KeysWorld::new();
    let before = world.ana.section("ana");
    world.world.write_credentials(&before);
    let other_name = world.home().join("credentials-backup");
    std::fs::hard_link(world.credentials_path(), &other_name).unwrap();
    let run = world.run(&["keys", "import", "ana"]).failure(2);
    run.stderr_has("has 2 names (hard links)")
        .stderr_has("nothing was changed");
    assert_eq!(world.credentials(), before.as_bytes());
    assert_eq!(std::fs::read(&other_name).unwrap(), before.as_bytes());
    assert!(world.keyring.users(SERVICE).is_empty(), "something stored");
    // `keys add` too: its key does not stay in the keyring.
    let bob = made_up_key('D');
    world
        .feeding(&["keys", "add", "bob", "--stdin"], &bob.stdin())
        .failure(2)
        .stderr_has("has 2 names (hard links)");
    assert_eq!(world.credentials(), before.as_bytes());
    assert!(world.keyring.users(SERVICE).is_empty(), "something stored");
}

#[test]
fn a_secret_saved_while_import_writes_is_kept_and_the_keyring_put_back() {
    let world = KeysWorld::new();
    world.world.write_credentials(&world.ana.section("ana"));
    // The person saves a new profile's secret while import is about to replace the file.
    let saved = format!(
        "{}{}",
        world.ana.section("ana"),
        made_up_key('E').section("new")
    );
    let path = world.credentials_path();
    let run = Run::pausing_before_rename(world.rolecall(&["keys", "import", "ana"]), || {
        std::fs::write(&path, &saved).unwrap()
    })
    .failure(1);
    run.stderr_has("changed while rolecall was working on it")
        .stderr_has("the keyring was put back as it was");
    assert_eq!(
        world.credentials(),
        saved.as_bytes(),
        "the saved secret was lost"
    );
    assert!(
        world.keyring.users(SERVICE).is_empty(),
        "the keyring kept ana"
    );
    // Run again, the import goes through.
    world.run(&["keys", "import", "ana"]).success();
    let after = String::from_utf8(world.credentials()).unwrap();
    assert!(has_credential_process_line(&after, "ana"), "{after}");
    assert!(after.contains(&made_up_key('E').secret), "{after}");
}
