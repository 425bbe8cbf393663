//! A real Linux Secret Service for one test: a D-Bus session bus of its own
//! (`dbus-run-session`) with gnome-keyring-daemon on it, its login keyring created and unlocked
//! with a known password, all of it under the test's temporary directory and ended, process
//! group and all, when the fixture drops.

use super::require_tool;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// The login keyring's password; the daemon reads it on standard input, as PAM would hand it.
const PASSWORD: &str = "rolecall-test-keyring";

/// The login collection, the one gnome-keyring makes the default when it creates it.
const LOGIN_COLLECTION: &str = "/org/freedesktop/secrets/collection/login";

/// Runs inside the session: starts the daemon, waits until it owns the Secret Service's name
/// (a request before that would have the bus start a second daemon, without our password),
/// reports the bus address, then holds the session open until its standard input closes, so the
/// session ends even if the test process dies without dropping the fixture.
const SESSION_SCRIPT: &str = r#"set -eu
printf '%s' "$ROLECALL_TEST_KEYRING_PASSWORD" |
  gnome-keyring-daemon --unlock --components=secrets >/dev/null
tries=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
  org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q 'boolean true'; do
  tries=$((tries + 1))
  [ "$tries" -lt 600 ] || { echo 'gnome-keyring-daemon never owned org.freedesktop.secrets' >&2; exit 1; }
  sleep 0.05
done
printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS"
exec cat >/dev/null
"#;

/// A session bus with only what `script` starts on it: `SESSION_SCRIPT` for a Secret Service,
/// or nothing for a bus on which no one answers.
pub struct Keyring {
    session: Child,
    /// Held so the session's `cat` waits; closing it ends the session.
    _hold: ChildStdin,
    pub bus_address: String,
    pub runtime_dir: PathBuf,
}

impl Keyring {
    /// gnome-keyring-daemon, unlocked, on a session bus of its own; its files under `dir`.
    pub fn start(dir: &Path) -> Keyring {
        for tool in [
            "dbus-run-session",
            "dbus-send",
            "gnome-keyring-daemon",
            "secret-tool",
        ] {
            require_tool(tool);
        }
        Keyring::start_session(dir, SESSION_SCRIPT, None)
    }

    /// A session bus on which nothing owns the Secret Service's name and nothing can be started
    /// to own it: the bus is configured with no service directories, so D-Bus activation (which
    /// would start gnome-keyring from /usr/share/dbus-1/services) has nothing to start.
    pub fn bus_without_secret_service(dir: &Path) -> Keyring {
        require_tool("dbus-run-session");
        let config = dir.join("bus-without-services.conf");
        std::fs::write(
            &config,
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n \
             \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig>\n\
             <type>session</type>\n<listen>unix:tmpdir=/tmp</listen>\n\
             <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
             <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>\n</busconfig>\n",
        )
        .unwrap();
        Keyring::start_session(
            dir,
            "printf '%s\\n' \"$DBUS_SESSION_BUS_ADDRESS\"\nexec cat >/dev/null\n",
            Some(&config),
        )
    }

    fn start_session(dir: &Path, script: &str, config: Option<&Path>) -> Keyring {
        let home = dir.join("keyring-home");
        let runtime_dir = dir.join("keyring-runtime");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&runtime_dir).unwrap();
        // gnome-keyring refuses a runtime directory others can read.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let errors = dir.join("keyring-session.log");
        let mut command = Command::new("dbus-run-session");
        if let Some(config) = config {
            command.arg(format!("--config-file={}", config.display()));
        }
        command
            .args(["--", "sh", "-c", script])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("LANG", "C.UTF-8")
            .env("ROLECALL_TEST_KEYRING_PASSWORD", PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&errors).unwrap())
            // A process group of its own: the bus, the daemon (which forks away from the
            // session's shell but stays in the group) and the shell end together.
            .process_group(0);
        let mut session = command.spawn().expect("start dbus-run-session");
        let hold = session.stdin.take().unwrap();
        let mut address = String::new();
        BufReader::new(session.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        if address.is_empty() {
            let _ = session.kill();
            let _ = session.wait();
            panic!(
                "the test's Secret Service did not start:\n{}",
                std::fs::read_to_string(&errors).unwrap_or_default()
            );
        }
        Keyring {
            session,
            _hold: hold,
            bus_address: address,
            runtime_dir,
        }
    }

    /// The variables a process needs to find this Secret Service.
    pub fn environment(&self) -> Vec<(String, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.bus_address.clone()),
            (
                "XDG_RUNTIME_DIR".into(),
                self.runtime_dir.display().to_string(),
            ),
        ]
    }

    fn tool(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LANG", "C.UTF-8")
            .envs(self.environment())
            .stdin(Stdio::null());
        command
    }

    fn secret_service_call(&self, object: &str, method: &str, args: &[&str]) -> String {
        let output = self
            .tool("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                object,
                method,
            ])
            .args(args)
            .output()
            .expect("run dbus-send");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{method} failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Locks the login collection, as the screen locker or `secret-tool lock` would; unlocking
    /// it again needs gnome-keyring's prompt, which has no display here.
    pub fn lock(&self) {
        self.secret_service_call(
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            &[&format!("array:objpath:{LOGIN_COLLECTION}")],
        );
        let locked = self.secret_service_call(
            LOGIN_COLLECTION,
            "org.freedesktop.DBus.Properties.Get",
            &["string:org.freedesktop.Secret.Collection", "string:Locked"],
        );
        assert!(
            locked.contains("boolean true"),
            "the login collection is not locked: {locked}"
        );
    }

    /// The secret stored for (service, user), as `secret-tool lookup` finds it; None when there
    /// is none.
    pub fn lookup(&self, service: &str, user: &str) -> Option<String> {
        let output = self
            .tool("secret-tool")
            .args(["lookup", "service", service, "username", user])
            .output()
            .expect("run secret-tool");
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The user names of every item stored under `service`.
    pub fn users(&self, service: &str) -> Vec<String> {
        let output = self
            .tool("secret-tool")
            .args(["search", "--all", "service", service])
            .output()
            .expect("run secret-tool");
        // secret-tool prints the attributes on stdout and the item headers on stderr; an empty
        // search is a failure with nothing printed.
        let mut users: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&output.stderr).lines())
            .filter_map(|line| line.strip_prefix("attribute.username = "))
            .map(str::to_string)
            .collect();
        users.sort();
        users
    }

    /// Stores a secret as another program could, so a test can plant what rolecall must cope
    /// with.
    pub fn store(&self, service: &str, user: &str, secret: &str) {
        let mut child = self
            .tool("secret-tool")
            .args(["store", "--label=planted by a test", "service", service])
            .args(["username", user])
            .stdin(Stdio::piped())
            .spawn()
            .expect("run secret-tool");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(secret.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "secret-tool store failed");
    }

    /// Deletes the item stored for (service, user).
    pub fn clear(&self, service: &str, user: &str) {
        let status = self
            .tool("secret-tool")
            .args(["clear", "service", service, "username", user])
            .status()
            .expect("run secret-tool");
        assert!(status.success(), "secret-tool clear failed");
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let group = self.session.id() as i32;
        // SIGTERM first: dbus-daemon then removes its socket from /tmp, which SIGKILL would
        // leave behind. SIGKILL after, for whatever in the group has not gone by then.
        // SAFETY: kill with the process group this fixture created (process_group(0) above).
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.session.try_wait() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.session.wait();
        if let Some(socket) = self
            .bus_address
            .strip_prefix("unix:path=")
            .and_then(|rest| rest.split(',').next())
        {
            let _ = std::fs::remove_file(socket);
        }
    }
}
