//! The test world: a temporary HOME with its own ~/.aws, a real STS peer (moto_server) or the
//! tests' own fault-injecting STS on a free loopback port, and the rolecall binary run inside it,
//! detached from any terminal so nothing ever waits for a person; `shell` drives bash, zsh and
//! fish with the integration loaded, and `Tmux` gives one of them a terminal.

pub mod certificates;
pub mod eks_token;
pub mod fake_actions;
pub mod fake_kube;
pub mod fake_signin;
pub mod fake_sso;
pub mod fake_sts;
#[path = "../../../src/shell/hostile.rs"]
pub mod hostile;
pub mod keyring;
pub mod recorder;
pub mod shell;

pub use shell::{environment_of, eval_assume, Shell, NUSHELLS, SHELLS};

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_rolecall");

/// A free port on 127.0.0.1, found by binding port 0.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Fails loudly when a tool the suite needs is missing: a skipped test would hide it.
pub fn require_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    found
        .unwrap_or_else(|| panic!("`{name}` is not installed: run scripts/test, which installs it"))
}

/// The file the AWS CLI keeps an SSO login's token in, and rolecall reads and writes:
/// ~/.aws/sso/cache/ and the lowercase hex SHA-1 of the sso-session name (or, for a profile
/// without a session, of its start URL).
pub fn sso_token_file(home: &Path, key: &str) -> PathBuf {
    use sha1::Digest;
    let digest: String = sha1::Sha1::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    home.join(format!(".aws/sso/cache/{digest}.json"))
}

/// Writes `token` as the login's token file, private as the AWS CLI writes it (rolecall ignores
/// a token file others can read).
pub fn write_sso_token(home: &Path, key: &str, token: &serde_json::Value) {
    use std::os::unix::fs::PermissionsExt;
    let file = sso_token_file(home, key);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, token.to_string()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The time `seconds` from now as the AWS CLI writes it in a token file: RFC 3339, UTC, `…Z`.
pub fn token_time(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A python with botocore, a client rolecall did not write: the one scripts/test names in
/// ROLECALL_TEST_PYTHON, else the one beside a pip-installed AWS CLI.
pub fn test_python() -> PathBuf {
    let python = std::env::var_os("ROLECALL_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| require_tool("aws").parent().unwrap().join("python"));
    assert!(
        python.is_file(),
        "no python with botocore at {} (scripts/test installs one)",
        python.display()
    );
    python
}

/// The AWS SDK for JavaScript v3 that scripts/test installs (ROLECALL_TEST_NODE_MODULES, else
/// target/js-sdk/node_modules), a client rolecall did not write, and `tests/it/js/caller.cjs`:
/// its default chain's GetCallerIdentity, printed as `{signedWith, arn, environmentKey}`.
pub struct JsCaller {
    /// NODE_PATH for node to find the SDK.
    pub node_path: String,
    pub caller: PathBuf,
}

impl JsCaller {
    pub fn find() -> JsCaller {
        require_tool("node");
        let node_path = std::env::var("ROLECALL_TEST_NODE_MODULES").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/js-sdk/node_modules").to_string()
        });
        assert!(
            Path::new(&node_path).join("@aws-sdk/client-sts").is_dir(),
            "the AWS SDK for JavaScript v3 is not installed in {node_path} (scripts/test installs it)"
        );
        JsCaller {
            node_path,
            caller: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/js/caller.cjs"),
        }
    }

    /// node running the caller in `world`, with `profile` as AWS_PROFILE when given.
    pub fn command(&self, world: &World, profile: Option<&str>) -> Command {
        let mut command = world.command("node");
        command.arg(&self.caller).env("NODE_PATH", &self.node_path);
        if let Some(profile) = profile {
            command.env("AWS_PROFILE", profile);
        }
        command
    }

    /// What the caller printed: the key it signed with, the caller's ARN, the key exported.
    pub fn answer(run: &Run) -> serde_json::Value {
        let line = run.stdout.lines().find(|line| line.starts_with('{'));
        serde_json::from_str(line.unwrap_or_else(|| panic!("no answer: {run:?}"))).unwrap()
    }
}

/// moto_server on a free loopback port, stopped when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_serving(None)
    }

    /// moto_server speaking HTTPS with this certificate and key (PEM files); its endpoint names
    /// the host `localhost`, so the certificate's name is checked too.
    pub fn start_tls(certificate: &Path, key: &Path) -> Moto {
        Moto::start_serving(Some((certificate, key)))
    }

    fn start_serving(tls: Option<(&Path, &Path)>) -> Moto {
        let program = require_tool("moto_server");
        for _attempt in 0..3 {
            let port = free_port();
            let mut command = Command::new(&program);
            command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            if let Some((certificate, key)) = tls {
                command.arg("-c").arg(certificate).arg("-k").arg(key);
            }
            let child = command
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let endpoint = match tls {
                Some(_) => format!("https://localhost:{port}"),
                None => format!("http://127.0.0.1:{port}"),
            };
            let mut moto = Moto { child, endpoint };
            if moto.wait_ready(port, tls.is_none()) {
                return moto;
            }
            let _ = moto.child.kill();
        }
        panic!("moto_server did not start");
    }

    /// Waits until the port accepts connections and, for plain HTTP, answers a request.
    fn wait_ready(&mut self, port: u16, plain_http: bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                if !plain_http {
                    return true;
                }
                // An STS request, so moto has loaded its STS backend (slow the first time, and
                // more so on a loaded machine) before a test's assume is timed against it.
                let body = "Action=GetCallerIdentity&Version=2011-06-15";
                let request = format!(
                    "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: \
                     application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 \
                     Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/aws4_request, \
                     SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(request.as_bytes());
                let mut buffer = [0u8; 12];
                if stream.read(&mut buffer).map(|n| n > 0).unwrap_or(false) {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// From now on moto authenticates: after `unchecked` more requests (those that create the
    /// first user and its key), every request's access key and signature are checked, and the
    /// user's IAM policies. moto's reset-auth call rather than INITIAL_NO_AUTH_ACTION_COUNT at
    /// start, because it restarts the count: the readiness probe above is not one of them.
    pub fn authenticate_after(&self, unchecked: u32) {
        let address = self
            .endpoint
            .strip_prefix("http://")
            .expect("authentication is set on plain-HTTP moto only");
        let body = unchecked.to_string();
        // moto reads the count from the raw body, which it only keeps for a non-form type.
        let request = format!(
            "POST /moto-api/reset-auth HTTP/1.0\r\nHost: {address}\r\nContent-Type: \
             text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut stream = TcpStream::connect(address).expect("connect to moto");
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "moto refused reset-auth: {answer}"
        );
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A temporary HOME with ~/.aws, and the STS endpoint rolecall is pointed at.
pub struct World {
    pub home: tempfile::TempDir,
    pub endpoint: String,
    pub moto: Option<Moto>,
}

impl World {
    /// A world whose STS is moto_server.
    pub fn with_moto() -> World {
        let moto = Moto::start();
        let mut world = World::with_endpoint(&moto.endpoint);
        world.moto = Some(moto);
        world
    }

    /// A world whose STS is whatever listens at `endpoint`.
    pub fn with_endpoint(endpoint: &str) -> World {
        let home = tempfile::tempdir().expect("temporary HOME");
        std::fs::create_dir_all(home.path().join(".aws")).unwrap();
        World {
            home,
            endpoint: endpoint.to_string(),
            moto: None,
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.home().join(".aws/config"), text).unwrap();
    }

    pub fn write_credentials(&self, text: &str) {
        std::fs::write(self.home().join(".aws/credentials"), text).unwrap();
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home().join(".cache/rolecall")
    }

    /// The environment every process of this world starts from: nothing of the developer's.
    pub fn environment(&self) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        let bin_dir = Path::new(BIN).parent().unwrap().display().to_string();
        vec![
            ("PATH".into(), format!("{bin_dir}:{path}")),
            ("HOME".into(), self.home().display().to_string()),
            ("LANG".into(), "C.UTF-8".into()),
            ("AWS_ENDPOINT_URL_STS".into(), self.endpoint.clone()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("ROLECALL_STS_TIMEOUT".into(), "3".into()),
        ]
    }

    /// A command in this world, in a session of its own so it has no terminal to prompt on.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .envs(self.environment())
            .current_dir(self.home());
        command.stdin(Stdio::null());
        // SAFETY: setsid is async-signal-safe and touches no memory of this process.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        command
    }

    pub fn rolecall(&self, args: &[&str]) -> Command {
        let mut command = self.command(BIN);
        command.args(args);
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.rolecall(args))
    }
}

/// A finished process, with its output as text.
#[derive(Debug)]
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn of(command: Command) -> Run {
        Run::collect(command, None)
    }

    /// As `of`, with `input` written to the command's standard input.
    pub fn feeding(command: Command, input: &str) -> Run {
        Run::collect(command, Some(input))
    }

    fn collect(mut command: Command, input: Option<&str>) -> Run {
        let started = Instant::now();
        let output: Output = match input {
            None => command.output().expect("run command"),
            Some(input) => {
                command
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = command.spawn().expect("start command");
                let mut stdin = child.stdin.take().unwrap();
                // A command may refuse and exit before it reads its input: that is its answer,
                // not the test's failure.
                if let Err(error) = stdin.write_all(input.as_bytes()) {
                    assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
                }
                drop(stdin);
                child.wait_with_output().expect("run command")
            }
        };
        Run::finished(output, started)
    }

    fn finished(output: Output, started: Instant) -> Run {
        let run = Run {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: started.elapsed(),
        };
        assert!(
            !run.stderr.contains("panicked"),
            "a panic reached the user:\n{}",
            run.stderr
        );
        run
    }

    /// Runs `command` with ROLECALL_TEST_PAUSE_BEFORE_RENAME set (a hook of debug builds): once
    /// rolecall is about to rename a new file into place, `meanwhile` runs, then rolecall goes on.
    pub fn pausing_before_rename(mut command: Command, meanwhile: impl FnOnce()) -> Run {
        let markers = tempfile::tempdir().unwrap();
        let marker = markers.path().join("paused");
        command
            .env("ROLECALL_TEST_PAUSE_BEFORE_RENAME", &marker)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().expect("start rolecall");
        while !marker.exists() {
            if started.elapsed() > Duration::from_secs(30)
                || matches!(child.try_wait(), Ok(Some(_)))
            {
                let _ = child.kill();
                let output = child.wait_with_output().unwrap();
                panic!(
                    "rolecall never came to the rename: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        meanwhile();
        std::fs::remove_file(&marker).unwrap();
        Run::finished(child.wait_with_output().expect("run command"), started)
    }

    pub fn success(self) -> Run {
        assert_eq!(
            self.status,
            Some(0),
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn failure(self, code: i32) -> Run {
        assert_eq!(
            self.status,
            Some(code),
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stdout.is_empty(),
            "a failure printed to stdout: {}",
            self.stdout
        );
        self
    }

    /// A non-zero exit that is expected to have written output (a child's, through exec).
    pub fn failure_allowing_output(self, code: i32) -> Run {
        assert_eq!(self.status, Some(code), "stderr: {}", self.stderr);
        self
    }

    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// The role session name rolecall defaults to here: the account name of this process's user.
pub fn expected_session_name() -> String {
    let out = Command::new("id").arg("-un").output().expect("run id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The variables the design says an assume of a profile target sets (ROLECALL_PREVIOUS aside,
/// which needs an earlier target), restated here so tests check the code against the design.
pub const DESIGN_VARIABLES: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CREDENTIAL_EXPIRATION",
    "ROLECALL_PROFILE",
    "ROLECALL_ROLE_ARN",
    "ROLECALL_EXPIRES",
];

/// Puts a `rolecall` first on PATH that appends each call's arguments to `log` and then runs
/// the real binary, to count the processes a shell hook starts. Returns that PATH.
pub fn logging_rolecall(world: &World, log: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = world.home().join("logging-bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("rolecall"),
        format!(
            "#!/bin/sh\necho \"$*\" >> {}\nexec {BIN} \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("rolecall"), std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

/// Python for a test `$BROWSER`: `target_of(argv1, log)` reads the private page rolecall gives
/// a browser (a `file://` URL), notes its path and the modes of the file and its directory in
/// `pages.log` beside `log`, checks that its script and its refresh agree, and returns where the
/// page sends the browser. A URL given straight is noted there as the finding it is and
/// returned, so a test fails on its checks rather than waiting on a login that cannot finish.
pub const READ_PAGE_PY: &str = r#"
import html, json, os, re, stat, sys, time, urllib.parse, urllib.request
def target_of(given, log):
    if not given.startswith('file:///'):
        with open(os.path.join(os.path.dirname(log), 'pages.log'), 'a') as pages:
            pages.write('a URL, not a page: %s\n' % given)
        return given
    path = urllib.parse.unquote(urllib.parse.urlparse(given).path)
    page = open(path).read()
    modes = (stat.S_IMODE(os.stat(path).st_mode), stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode))
    with open(os.path.join(os.path.dirname(log), 'pages.log'), 'a') as pages:
        pages.write('%s %o %o\n' % (path, modes[0], modes[1]))
    refresh = html.unescape(re.search(r'http-equiv="refresh" content="0;url=([^"]*)"', page).group(1))
    script = json.loads(re.search(r'location\.replace\((".*")\);', page).group(1))
    if refresh != script:
        sys.exit('the refresh and the script disagree')
    return refresh
"#;

/// A `$BROWSER` that opens what it is given as a person who approves would: it reads the
/// private page, and urllib follows where it sends it (a sign-in page's redirect to the
/// loopback callback), logging each target in `browser.log` of the world's HOME.
pub fn approving_browser(world: &World) -> PathBuf {
    page_browser(
        world,
        &world.home().join("browser.log"),
        true,
        Duration::ZERO,
    )
}

/// A `$BROWSER` that takes `startup` to start, then reads the private page it is given as a
/// browser would, appends where it sends the browser to `log`, one a line, and (with `follow`)
/// goes there. Returns the script's path.
pub fn page_browser(world: &World, log: &Path, follow: bool, startup: Duration) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = world.home().join(format!(
        "browser-{}",
        log.file_stem().unwrap().to_string_lossy()
    ));
    let body = r#"
time.sleep(STARTUP)
log = LOG
target = target_of(sys.argv[1], log)
with open(log, 'a') as out:
    out.write(target + '\n')
if FOLLOW:
    try:
        urllib.request.urlopen(target, timeout=10).read()
    except Exception as error:
        open(log, 'a').write('failed: %s\n' % error)
"#
    .replace("LOG", &format!("{:?}", log.display().to_string()))
    .replace("FOLLOW", if follow { "True" } else { "False" })
    .replace("STARTUP", &startup.as_secs_f64().to_string());
    std::fs::write(
        &script,
        format!("#!/usr/bin/env python3\n{READ_PAGE_PY}{body}"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// The variables the design says are never beside the keys: the AWS SDK for JavaScript v3 would
/// take the profile they name over the keys.
pub const NEVER_SET: [&str; 2] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"];

/// A `$BROWSER` that only notes where the page sends it (see `page_browser`).
pub fn logging_browser(world: &World, log: &Path) -> PathBuf {
    page_browser(world, log, false, Duration::ZERO)
}

/// The private pages test browsers were given (`pages.log` beside their logs in `dir`), each
/// checked to have been 0600 in a 0700 directory and to be gone now, with its directory.
pub fn assert_pages_private_and_removed(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("pages.log")).unwrap_or_default();
    for line in text.lines() {
        assert!(!line.starts_with("a URL, not a page"), "{line}");
        let mut words = line.rsplitn(3, ' ');
        let (dir_mode, file_mode, path) = (words.next(), words.next(), words.next().unwrap());
        assert_eq!((file_mode, dir_mode), (Some("600"), Some("700")), "{line}");
        let path = Path::new(path);
        assert!(
            !path.exists(),
            "the page {} was left behind",
            path.display()
        );
        assert!(
            !path.parent().unwrap().exists(),
            "its directory was left behind: {line}"
        );
    }
    text.lines().count()
}

/// Waits for `child` (a minute at most), reading every process's command line meanwhile, as
/// any local user can; returns its status and the command lines that held `needle`.
pub fn command_lines_while_running(
    mut child: Child,
    needle: &str,
) -> (std::process::ExitStatus, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, seen);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after a minute");
        }
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(line) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let line = String::from_utf8_lossy(&line).replace('\0', " ");
            if line.contains(needle) && !seen.contains(&line) {
                seen.push(line);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for `child`, killing it and failing the test after `limit`.
pub fn wait_at_most(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every variable the design says assume sets or clears.
pub const MANAGED_VARIABLES: [&str; 15] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "ROLECALL_PROFILE",
    "ROLECALL_ROLE_ARN",
    "ROLECALL_EXPIRES",
    "ROLECALL_SOURCE_PROFILE",
    "ROLECALL_PREVIOUS",
    "ROLECALL_SETTINGS",
];

/// A base profile and a one-hop role from it, `demo-admin`.
pub const ONE_HOP: &str = "[profile base]\nregion = eu-west-1\n\
[profile demo-admin]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n";

/// A base profile with long-term keys, in the region given.
pub const BASE_KEYS: &str = "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

/// An interactive shell in a detached tmux server of its own, for what only a terminal shows:
/// prompts, Tab completion, the picker.
pub struct Tmux {
    socket: String,
    env: Vec<(String, String)>,
}

impl Tmux {
    /// Starts `command` (a shell) in a 120x40 window inside `world`.
    pub fn start(world: &World, command: &str) -> Tmux {
        require_tool("tmux");
        let socket = format!("rolecall-test-{}-{}", std::process::id(), free_port());
        let tmux = Tmux {
            socket,
            env: world.environment(),
        };
        let mut start = world.command("tmux");
        start.args([
            "-L",
            &tmux.socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            command,
        ]);
        let status = start.status().expect("start tmux");
        assert!(status.success(), "tmux did not start");
        tmux
    }

    fn tmux(&self) -> Command {
        let mut command = Command::new("tmux");
        command
            .env_clear()
            .envs(self.env.clone())
            .args(["-L", &self.socket]);
        command
    }

    /// Types `keys` literally.
    pub fn type_text(&self, keys: &str) {
        let status = self
            .tmux()
            .args(["send-keys", "-l", keys])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Presses named keys: Enter, Tab, Escape, C-c, Down…
    pub fn press(&self, keys: &[&str]) {
        let status = self.tmux().arg("send-keys").args(keys).status().unwrap();
        assert!(status.success());
    }

    /// Types a line and presses Enter.
    pub fn line(&self, text: &str) {
        self.type_text(text);
        self.press(&["Enter"]);
    }

    pub fn screen(&self) -> String {
        let output = self
            .tmux()
            .args(["capture-pane", "-p", "-J"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits up to ten seconds for the screen to satisfy `test`; the screen then.
    pub fn wait_for(&self, what: &str, test: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let screen = self.screen();
            if test(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A tmux format (`#{pane_pid}`, `#{cursor_flag}`) expanded for the pane.
    pub fn display(&self, format: &str) -> String {
        let output = self
            .tmux()
            .args(["display-message", "-p", format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// The process IDs of everything running under the pane's shell, children first.
    pub fn descendants(&self) -> Vec<i32> {
        let shell: i32 = self.display("#{pane_pid}").parse().expect("pane pid");
        let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|entry| {
                let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                // The parent is the second field after the parenthesised command name.
                let ppid = stat
                    .rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                Some((pid, ppid))
            })
            .collect();
        let mut found = vec![shell];
        let mut index = 0;
        while index < found.len() {
            let parent = found[index];
            found.extend(
                parents
                    .iter()
                    .filter(|(_, p)| *p == parent)
                    .map(|(c, _)| *c),
            );
            index += 1;
        }
        found.remove(0);
        found
    }

    pub fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(text, |screen| screen.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}
