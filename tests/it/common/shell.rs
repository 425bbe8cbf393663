//! The one driver for "run this in bash, zsh, fish or nushell with the integration loaded". A
//! `Shell` says which shell, whether (and with which `rolecall init` flags) the integration is
//! loaded, and what comes before it; it then runs either non-interactively under strict options
//! (`run`), as an interactive shell reading lines on its standard input (`interactive`, not
//! nushell), or at a terminal of its own (`terminal`, through tmux).

use super::{require_tool, Run, Tmux, World};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The shells whose test bodies are POSIX or fish code. nushell ("nu"), the fourth shell the
/// integration supports, speaks a language of its own, so its tests are apart (tests/it/nu.rs).
pub const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

/// The nushells the README names, each run by the nushell tests: the pinned release on PATH
/// ("nu") and the oldest named one ("nu-oldest"), whose binary scripts/test installs apart and
/// names in `OLDEST_NU_VARIABLE`.
pub const NUSHELLS: [&str; 2] = ["nu", "nu-oldest"];

/// The variable naming the oldest nushell's binary.
pub const OLDEST_NU_VARIABLE: &str = "ROLECALL_TEST_OLDEST_NU";

/// The program a shell of `SHELLS` or `NUSHELLS` runs; a missing one fails the test.
pub fn shell_program(name: &str) -> PathBuf {
    if name != "nu-oldest" {
        return require_tool(name);
    }
    let program = std::env::var_os(OLDEST_NU_VARIABLE)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("{OLDEST_NU_VARIABLE} names no nushell: run scripts/test, which installs it")
        });
    assert!(
        program.is_file(),
        "{OLDEST_NU_VARIABLE} is {}, which is no file: run scripts/test, which installs it",
        program.display()
    );
    program
}

/// A shell of a world, and how the integration is loaded in it.
#[must_use]
pub struct Shell<'w> {
    world: &'w World,
    name: &'w str,
    /// The flags of `rolecall init`; `None` when the integration is not loaded.
    init: Option<String>,
    /// Lines run before the integration is loaded.
    before: String,
    compinit: bool,
    errexit: bool,
    user_config: bool,
    env: Vec<(String, String)>,
}

impl<'w> Shell<'w> {
    /// `name` (bash, zsh, fish, or nu or nu-oldest) in `world`, the integration loaded without flags; `run`
    /// uses `bash -eu`, `zsh --no-rcs -eu`, `fish --no-config` and `nu --no-config-file` (which
    /// stops at the first failing command of its own accord).
    pub fn new(world: &'w World, name: &'w str) -> Shell<'w> {
        Shell {
            world,
            name,
            init: Some(String::new()),
            before: String::new(),
            compinit: false,
            errexit: true,
            user_config: false,
            env: Vec::new(),
        }
    }

    /// Loads the integration with these `rolecall init` flags.
    pub fn init(mut self, flags: &str) -> Shell<'w> {
        self.init = Some(flags.to_string());
        self
    }

    /// Does not load the integration: for what the body evaluates or loads itself.
    pub fn bare(mut self) -> Shell<'w> {
        self.init = None;
        self
    }

    /// Lines to run before the integration is loaded (options, aliases, a prompt).
    pub fn before(mut self, lines: &str) -> Shell<'w> {
        self.before = format!("{lines}\n");
        self
    }

    /// zsh: loads the completion system first (`compinit`), as most zshrc files do. Nothing in
    /// bash or fish.
    pub fn compinit(mut self) -> Shell<'w> {
        self.compinit = true;
        self
    }

    /// `run` without `-e` in bash and zsh, for bodies that look at exit statuses themselves
    /// (nothing in fish or nushell, whose bodies use `or` and `try`).
    pub fn no_errexit(mut self) -> Shell<'w> {
        self.errexit = false;
        self
    }

    /// The shell reads its own configuration files: in `run`, bash and zsh without `--norc`,
    /// `--noprofile` or `--no-rcs`, fish without `--no-config` (under which universal
    /// variables live in memory only) and nu without `--no-config-file`; at a `terminal` or
    /// `interactive`, fish reads its other configuration besides the rc file (bash, zsh and nu
    /// read their rc files either way).
    pub fn user_config(mut self) -> Shell<'w> {
        self.user_config = true;
        self
    }

    /// An environment variable for the shell, in place of the world's value.
    pub fn env(mut self, name: &str, value: &str) -> Shell<'w> {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    fn is_nu(&self) -> bool {
        NUSHELLS.contains(&self.name)
    }

    /// What comes before `rest`: the lines given to `before`, compinit, the integration.
    fn script(&self, rest: &str) -> String {
        let mut script = self.before.clone();
        if self.compinit && self.name == "zsh" {
            script.push_str("autoload -Uz compinit; compinit -u -D\n");
        }
        if let Some(flags) = &self.init {
            if self.is_nu() {
                // nushell cannot evaluate text: `source` reads the file when the body is parsed.
                let file = self.nu_integration_file(flags);
                script.push_str(&format!("source r#'{}'#\n", file.display()));
                return script + rest;
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" {flags}")
            };
            script.push_str(&match self.name {
                "fish" => format!("rolecall init fish{flags} | source\n"),
                shell => format!("eval \"$(rolecall init {shell}{flags})\"\n"),
            });
        }
        script + rest
    }

    /// What `rolecall init nu FLAGS` prints, saved in the world's HOME: the file a nu body
    /// sources, as nushell's autoload directory holds it for a person.
    fn nu_integration_file(&self, flags: &str) -> PathBuf {
        let mut args = vec!["init", "nu"];
        args.extend(flags.split_whitespace());
        let text = self.world.run(&args).success().stdout;
        let name: String = flags
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let file = self.world.home().join(format!("rolecall-init{name}.nu"));
        std::fs::write(&file, text).unwrap();
        file
    }

    fn command(&self) -> Command {
        let mut command = self.world.command(shell_program(self.name));
        command.envs(self.env.iter().map(|(name, value)| (name, value)));
        command
    }

    /// A non-interactive shell running `body` after the integration, with `-c`.
    pub fn run(&self, body: &str) -> Run {
        let mut command = self.command();
        let errexit = if self.errexit { "-eu" } else { "-u" };
        let name = if self.is_nu() { "nu" } else { self.name };
        match (name, self.user_config) {
            ("bash", false) => command.args(["--norc", "--noprofile", errexit]),
            ("zsh", false) => command.args(["--no-rcs", errexit]),
            ("bash" | "zsh", true) => command.arg(errexit),
            ("fish", false) => command.arg("--no-config"),
            ("fish", true) => &mut command,
            ("nu", false) => command.arg("--no-config-file"),
            ("nu", true) => &mut command,
            (other, _) => panic!("no shell {other}"),
        };
        command.arg("-c").arg(self.script(body));
        Run::of(command)
    }

    /// Writes `rc` after the integration to the shell's rc file in the world's HOME: `.bashrc`,
    /// `.zshrc` (ZDOTDIR is HOME) or `.config/fish/config.fish`; the arguments that make the
    /// shell read it, and only it (fish reads its other configuration too with `user_config`).
    /// nushell's are two files, written by `nu_config_files`.
    fn rc_file(&self, rc: &str) -> Vec<String> {
        if self.is_nu() {
            self.nu_config_files(rc);
            return Vec::new();
        }
        let home = self.world.home();
        let (path, args) = match self.name {
            "bash" => {
                let path = home.join(".bashrc");
                let args = vec!["--rcfile".into(), path.display().to_string()];
                (path, args)
            }
            "zsh" => (home.join(".zshrc"), Vec::new()),
            "fish" => {
                let path = home.join(".config/fish/config.fish");
                let args = if self.user_config {
                    Vec::new()
                } else {
                    vec![
                        "--no-config".into(),
                        "--init-command".into(),
                        format!("source {}", path.display()),
                    ]
                };
                (path, args)
            }
            other => panic!("no shell {other}"),
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, self.script(rc)).unwrap();
        args
    }

    /// nushell's configuration as a person writes it: `config.nu` (the lines given to `before`,
    /// then the README's line that saves `rolecall init nu FLAGS` in nushell's vendor autoload
    /// directory) and `rc` in the user's autoload directory, which nushell reads after the
    /// vendor's: so `rc` comes after the integration, as in the other shells.
    fn nu_config_files(&self, rc: &str) {
        let config_dir = self.world.home().join(".config/nushell");
        std::fs::create_dir_all(config_dir.join("autoload")).unwrap();
        let mut config = self.before.clone();
        if let Some(flags) = &self.init {
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" {flags}")
            };
            config.push_str(&format!(
                "mkdir ($nu.data-dir | path join \"vendor/autoload\"); rolecall init nu{flags} | \
                 save -f ($nu.data-dir | path join \"vendor/autoload/rolecall.nu\")\n"
            ));
        }
        std::fs::write(config_dir.join("config.nu"), config).unwrap();
        std::fs::write(config_dir.join("autoload/rc.nu"), rc).unwrap();
    }

    /// An interactive shell (`-i`) that reads its rc file (the integration, then `rc`), then
    /// `lines` from its standard input: for what only an interactive shell does, such as running
    /// prompt hooks between commands. Prompts and errors arrive on stderr.
    pub fn interactive(&self, rc: &str, lines: &str) -> Run {
        assert!(
            !self.is_nu(),
            "nushell reads commands from a terminal: use `terminal`"
        );
        let mut command = self.command();
        command.args(self.rc_file(rc)).arg("-i");
        if self.name == "zsh" {
            command.env("ZDOTDIR", self.world.home());
        }
        Run::feeding(command, lines)
    }

    /// The shell at a terminal of its own (a detached tmux), after its rc file (the integration,
    /// then `rc`): for what only a terminal shows, such as prompts, Tab completion, the picker.
    pub fn terminal(&self, rc: &str) -> Tmux {
        let mut assignments: Vec<String> = self
            .env
            .iter()
            .map(|(name, value)| quote(&format!("{name}={value}")))
            .collect();
        if self.name == "zsh" {
            assignments.push(format!(
                "ZDOTDIR={}",
                quote(&self.world.home().display().to_string())
            ));
        }
        let mut line = Vec::new();
        if !assignments.is_empty() {
            line.push("env".to_string());
            line.extend(assignments);
        }
        line.push(quote(&shell_program(self.name).display().to_string()));
        line.extend(self.rc_file(rc).into_iter().map(|arg| quote(&arg)));
        // fish and nushell know a terminal when they are given one.
        if self.name != "fish" && !self.is_nu() {
            line.push("-i".into());
        }
        Tmux::start(self.world, &line.join(" "))
    }

    /// `assume ARGS` through the integration, from an environment where AWS_PROFILE and
    /// ROLECALL_PROFILE are `kept`: the environment before and after it, stderr (with
    /// `status=N` when the assume failed) and the time the assume took. In nushell the
    /// environment is the whole `$env` record as JSON (closures as their source), without
    /// `LAST_EXIT_CODE`, which a failed assume sets by design and `status=N` shows.
    pub fn around_assume(&self, args: &str) -> Around {
        // nushell 0.101 has neither flag, and writes closures as null.
        let as_json = match self.name {
            "nu-oldest" => "reject -i LAST_EXIT_CODE | to json --raw",
            _ => "reject --optional LAST_EXIT_CODE | to json --serialize --raw",
        };
        let body = match self.name {
            "nu" | "nu-oldest" => format!(
                "$env.AWS_PROFILE = 'kept'; $env.ROLECALL_PROFILE = 'kept'\n\
                 def environment [] {{ $env | {as_json} }}\n\
                 print (environment); print '--split--'\n\
                 print --stderr $\"start=(date now | into int)\"\n\
                 try {{ assume {args} }} catch {{ print --stderr $\"status=($env.LAST_EXIT_CODE)\" }}\n\
                 print --stderr $\"end=(date now | into int)\"\nprint --no-newline (environment)"
            ),
            "fish" => format!(
                "set -gx AWS_PROFILE kept; set -gx ROLECALL_PROFILE kept\n\
                 env -0; printf '\\n--split--\\n'\necho start=(date +%s%N) >&2\n\
                 assume {args}; or echo status=$status >&2\necho end=(date +%s%N) >&2\nenv -0; true"
            ),
            _ => format!(
                "export AWS_PROFILE=kept ROLECALL_PROFILE=kept\n\
                 env -0; printf '\\n--split--\\n'\necho \"start=$(date +%s%N)\" >&2\n\
                 assume {args} || echo \"status=$?\" >&2\necho \"end=$(date +%s%N)\" >&2\nenv -0; true"
            ),
        };
        let run = self.run(&body).success();
        let (before, after) = run.stdout.split_once("\n--split--\n").unwrap();
        let nanoseconds = |name: &str| -> u64 {
            run.stderr
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {}", run.stderr))
                .parse()
                .unwrap()
        };
        let elapsed = Duration::from_nanos(nanoseconds("end=") - nanoseconds("start="));
        Around {
            before: before.to_string(),
            after: after.to_string(),
            stderr: run.stderr.clone(),
            elapsed,
        }
    }
}

/// A word for the tmux command line, which a POSIX shell reads.
fn quote(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-=".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// What `Shell::around_assume` saw.
pub struct Around {
    pub before: String,
    pub after: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// The line that evaluates what `rolecall assume ARGS` prints, without the integration.
pub fn eval_assume(shell: &str, args: &str) -> String {
    match shell {
        "fish" => format!("rolecall assume {args} --shell fish | source"),
        _ => format!("eval \"$(rolecall assume {args} --shell {shell})\""),
    }
}

/// The variables in the output of `env -0`.
pub fn environment_of(text: &str) -> BTreeMap<String, String> {
    text.split('\0')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}
