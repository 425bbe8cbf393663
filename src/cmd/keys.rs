//! `rolecall keys add|import|list|remove|rotate|credential-process`: long-term access keys in the
//! OS keyring, the credentials file left with a `credential_process` line in their place.
//!
//! Order is what keeps keys safe: a key goes into the keyring, and is read back, before the
//! file loses it; the file is replaced in one rename under rolecall's lock; a failed write puts
//! the keyring back as it was.

use crate::cli::{KeysAddArgs, KeysCommand, KeysImportArgs, KeysProfileArgs, KeysRotateArgs};
use crate::engine::{CachePolicy, MfaInput, Request};
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::keys::vault::{backend_name, short_id, StoredKey, Vault};
use crate::keys::{check_access_key_id, check_secret, file, rotate};
use crate::profile::block::Rewrite;
use crate::profile::files::{self, ConfigFile};
use crate::profile::keyring_line::{self as line, check_profile_name, keyring_profile};
use crate::profile::{Overrides, Profiles};
use aws_runtime::env_config::file::EnvConfigFileKind;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

pub fn run(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Add(args) => add(args),
        KeysCommand::Import(args) => import(args),
        KeysCommand::List => list(),
        KeysCommand::Remove(args) => remove(args),
        KeysCommand::Rotate(args) => rotate(args),
        KeysCommand::CredentialProcess(args) => credential_process(args),
    }
}

fn credentials_path(env: &Env) -> Result<PathBuf> {
    files::credentials_path(env)
        .ok_or_else(|| Failure::usage("no home directory to find ~/.aws/credentials in; set HOME"))
}

/// The credentials file's text, read under the lock a `Rewrite` holds (empty when it does not
/// exist yet), with the bounds and refusals of every profile file read.
fn read_locked(path: &Path) -> Result<String> {
    Ok(files::read_text(path, "", false)?.unwrap_or_default())
}

/// Why `profile` cannot take a keyring key, from what the files say of it (both merged, as
/// every AWS tool reads them): a role profile, or one with another credential_process.
fn refusal_for(profiles: &Profiles, profile: &str) -> Option<String> {
    let found = profiles.profile(profile)?;
    let shown = printable(profile);
    if found.get("role_arn").is_some() {
        return Some(format!(
            "profile `{shown}` has role_arn: keys belong to the profile its chain starts from \
             (its source_profile)"
        ));
    }
    if found.get("sso_session").is_some() || found.get("sso_start_url").is_some() {
        return Some(format!(
            "profile `{shown}` is an SSO profile: its credentials come from IAM Identity Center"
        ));
    }
    match found.get("credential_process") {
        Some(command) if keyring_profile(command).as_deref() != Some(profile) => Some(format!(
            "profile `{shown}` already has a credential_process (`{}`); remove that line first \
             if its key should live in the keyring",
            printable(command)
        )),
        _ => None,
    }
}

fn add(args: KeysAddArgs) -> Result<()> {
    let profile = args.profile.as_str();
    check_profile_name(profile)?;
    let env = Env::Process;
    let path = credentials_path(&env)?;
    let profiles = Profiles::load(&env)?;
    if let Some(why) = refusal_for(&profiles, profile) {
        return Err(Failure::usage(why));
    }
    if profiles
        .profile(profile)
        .and_then(|p| p.get("aws_access_key_id"))
        .is_some()
    {
        return Err(Failure::usage(format!(
            "profile `{0}` has its keys in plaintext in the files; `rolecall keys import {0}` \
             moves them into the keyring",
            printable(profile)
        )));
    }
    let vault = Vault::open()?;
    if let Some(key) = vault.key(profile)? {
        return Err(Failure::usage(format!(
            "profile `{0}` already has key {1} in the keyring; `rolecall keys rotate {0}` \
             replaces it through IAM, or `rolecall keys remove {0}` first",
            printable(profile),
            short_id(&key.access_key_id)
        )));
    }
    let (access_key_id, secret_access_key) = if args.stdin {
        key_from_stdin()?
    } else {
        key_from_terminal()?
    };
    let key = StoredKey {
        access_key_id,
        secret_access_key,
        stored: crate::time::now(),
        created: None,
    };
    vault.put_key(profile, &key)?;
    let program = line::program_word(std::env::var_os("PATH").as_deref())?;
    let written = (|| {
        let rewrite = Rewrite::begin(&path)?;
        let text = read_locked(&path)?;
        let command = line::render(&program, profile);
        let new_text = file::line_removed(&text, profile);
        rewrite
            .commit(&file::line_added(&new_text, profile, &command))
            .map_err(Failure::local)
    })();
    if let Err(failure) = written {
        let _ = vault.remove_key(profile);
        return Err(failure);
    }
    eprintln!(
        "rolecall: stored key {} of `{}` in the {}; {} runs rolecall for it",
        short_id(&key.access_key_id),
        printable(profile),
        backend_name(),
        printable(&path.to_string_lossy())
    );
    Ok(())
}

fn key_from_terminal() -> Result<(String, String)> {
    use crate::terminal::{ask_hidden, Answer};
    let no_terminal =
        || Failure::usage("there is no terminal to ask for the key on; pass it with --stdin");
    let ask = |question: &str| match ask_hidden(question) {
        None => Err(no_terminal()),
        Some(Answer::GaveUp) => Err(Failure::interrupted()),
        Some(Answer::Given(text)) => Ok(text.trim().to_string()),
    };
    let access_key_id = ask("Access key ID: ")?;
    check_access_key_id(&access_key_id)?;
    let secret_access_key = ask("Secret access key: ")?;
    check_secret(&secret_access_key)?;
    Ok((access_key_id, secret_access_key))
}

fn key_from_stdin() -> Result<(String, String)> {
    let mut text = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut text)
        .map_err(|e| Failure::usage(format!("cannot read the key from standard input: {e}")))?;
    let mut lines = text.lines().map(str::trim);
    let access_key_id = lines.next().unwrap_or("").to_string();
    let secret_access_key = lines.next().unwrap_or("").to_string();
    if lines.any(|rest| !rest.is_empty()) {
        return Err(Failure::usage(
            "--stdin reads two lines, the access key ID and then the secret access key; there \
             was more",
        ));
    }
    check_access_key_id(&access_key_id)?;
    check_secret(&secret_access_key)?;
    Ok((access_key_id, secret_access_key))
}

/// A profile `import` takes, with the keys the credentials file gives it.
struct Importing {
    profile: String,
    access_key_id: String,
    secret_access_key: String,
    /// The keyring had no entry before (so a failed write removes it again).
    new_in_keyring: bool,
}

fn import(args: KeysImportArgs) -> Result<()> {
    let env = Env::Process;
    let path = credentials_path(&env)?;
    let shown_path = printable(&path.to_string_lossy());
    if let Some(profile) = &args.profile {
        check_profile_name(profile)?;
    }
    let profiles = Profiles::load(&env)?;
    let rewrite = Rewrite::begin(&path)?;
    let text = read_locked(&path)?;
    let in_file = files::parse(&[ConfigFile {
        kind: EnvConfigFileKind::Credentials,
        path: path.to_string_lossy().into_owned(),
        contents: text.clone(),
    }])
    .map(Profiles::from_set)
    .map_err(|e| Failure::usage(format!("{shown_path} does not parse: {e}")))?;
    let candidates: Vec<String> = match &args.profile {
        Some(profile) => vec![profile.clone()],
        None => in_file
            .names()
            .filter(|name| {
                in_file
                    .profile(name)
                    .is_some_and(|p| p.get("aws_access_key_id").is_some())
            })
            .map(String::from)
            .collect(),
    };
    let single = args.profile.is_some();
    let mut chosen: Vec<Importing> = Vec::new();
    let mut skipped = 0;
    let vault = Vault::open()?;
    for profile in candidates {
        let shown = printable(&profile);
        let refusal = (|| {
            check_profile_name(&profile).map_err(|f| f.message)?;
            let Some(section) = in_file.profile(&profile) else {
                return Err(format!("profile `{shown}` has no keys in {shown_path}"));
            };
            let (Some(id), Some(secret)) = (
                section.get("aws_access_key_id").filter(|v| !v.is_empty()),
                section
                    .get("aws_secret_access_key")
                    .filter(|v| !v.is_empty()),
            ) else {
                return Err(format!(
                    "profile `{shown}` has no keys in {shown_path} (it needs both \
                     aws_access_key_id and aws_secret_access_key)"
                ));
            };
            if section.get("aws_session_token").is_some() {
                return Err(format!(
                    "profile `{shown}` holds temporary credentials (it has aws_session_token); \
                     only an IAM user's long-term key belongs in the keyring"
                ));
            }
            if let Some(why) = refusal_for(&profiles, &profile) {
                return Err(why);
            }
            check_access_key_id(id).map_err(|f| format!("profile `{shown}`: {}", f.message))?;
            check_secret(secret).map_err(|f| format!("profile `{shown}`: {}", f.message))?;
            Ok((id.to_string(), secret.to_string()))
        })();
        let (access_key_id, secret_access_key) = match refusal {
            Ok(keys) => keys,
            Err(why) if single => return Err(Failure::usage(why)),
            Err(why) => {
                eprintln!("rolecall: skipped: {why}");
                skipped += 1;
                continue;
            }
        };
        let existing = vault.key(&profile)?;
        if let Some(key) = existing
            .as_ref()
            .filter(|k| k.access_key_id != access_key_id)
        {
            let why = format!(
                "the keyring already holds another key ({}) for `{shown}` than {shown_path} \
                 ({}); `rolecall keys remove {shown}` first if the file's is the right one",
                short_id(&key.access_key_id),
                short_id(&access_key_id)
            );
            if single {
                return Err(Failure::usage(why));
            }
            eprintln!("rolecall: skipped: {why}");
            skipped += 1;
            continue;
        }
        chosen.push(Importing {
            profile,
            access_key_id,
            secret_access_key,
            new_in_keyring: existing.is_none(),
        });
    }
    if chosen.is_empty() && skipped > 0 {
        return Err(Failure::usage(format!(
            "nothing was imported; {shown_path} is unchanged"
        )));
    }
    if chosen.is_empty() {
        eprintln!("rolecall: no profile in {shown_path} has keys; nothing to import");
        return Ok(());
    }
    let program = line::program_word(std::env::var_os("PATH").as_deref())?;
    let undo = |done: &[&Importing]| {
        for importing in done.iter().filter(|i| i.new_in_keyring) {
            let _ = vault.remove_key(&importing.profile);
        }
    };
    let mut stored: Vec<&Importing> = Vec::new();
    let mut new_text = text.clone();
    for importing in &chosen {
        let key = StoredKey {
            access_key_id: importing.access_key_id.clone(),
            secret_access_key: importing.secret_access_key.clone(),
            stored: crate::time::now(),
            created: None,
        };
        if let Err(failure) = vault.put_key(&importing.profile, &key) {
            undo(&stored);
            return Err(Failure {
                message: format!("{}\n  {shown_path} is unchanged", failure.message),
                ..failure
            });
        }
        stored.push(importing);
        let command = line::render(&program, &importing.profile);
        new_text = file::keys_replaced(&new_text, &importing.profile, &command);
    }
    if let Err(why) = rewrite.commit(&new_text) {
        undo(&stored);
        return Err(Failure::local(format!(
            "{why}; the keyring was put back as it was"
        )));
    }
    for importing in &chosen {
        eprintln!(
            "rolecall: moved key {} of `{}` into the {}",
            short_id(&importing.access_key_id),
            printable(&importing.profile),
            backend_name()
        );
    }
    eprintln!(
        "rolecall: {shown_path} now has a credential_process line in their place, so every AWS \
         tool still finds them"
    );
    if skipped > 0 {
        return Err(Failure::usage(format!(
            "{skipped} profile(s) were skipped, as said above"
        )));
    }
    Ok(())
}

fn list() -> Result<()> {
    let env = Env::Process;
    let vault = Vault::open()?;
    let profiles = Profiles::load(&env)?;
    let mut names: Vec<String> = vault.profiles()?.unwrap_or_default();
    let with_lines: Vec<String> = profiles
        .names()
        .filter_map(|name| keyring_profile(profiles.profile(name)?.get("credential_process")?))
        .collect();
    names.extend(with_lines.iter().cloned());
    names.sort();
    names.dedup();
    let now = crate::time::now();
    let mut rows: Vec<[String; 3]> = Vec::new();
    for name in &names {
        let (key, age) = match vault.key(name)? {
            Some(key) => (short_id(&key.access_key_id), age(now - key.since())),
            None => ("missing".to_string(), String::new()),
        };
        let mut note = String::new();
        if key == "missing" {
            note.push_str("a credential_process line names it, but the keyring has no key");
        } else if !with_lines.contains(name) {
            note.push_str("no profile's credential_process line uses it");
        }
        if let Some(pending) = vault.pending(name)? {
            note = format!(
                "rotation to {} unfinished: run `rolecall keys rotate {}`",
                short_id(&pending.new.access_key_id),
                printable(name)
            );
        }
        rows.push([printable(name), format!("{key:<5} {age:>4}"), note]);
    }
    if rows.is_empty() {
        eprintln!(
            "rolecall: the {} holds no keys of rolecall's; `rolecall keys import --all` moves \
             those of the credentials file there",
            backend_name()
        );
        return Ok(());
    }
    let width = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for [name, key, note] in rows {
        let line = format!("{name:<width$}  {key}  {note}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    super::emit(&out)
}

/// An age in the largest whole unit: `5m`, `3h`, `12d`.
fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn remove(args: KeysProfileArgs) -> Result<()> {
    let profile = args.profile.as_str();
    check_profile_name(profile)?;
    let env = Env::Process;
    let path = credentials_path(&env)?;
    let vault = Vault::open()?;
    let key = vault.key(profile)?;
    let rewrite = Rewrite::begin(&path)?;
    let text = read_locked(&path)?;
    let new_text = file::line_removed(&text, profile);
    if key.is_none() && new_text == text {
        return Err(Failure::usage(format!(
            "profile `{}` has no key in the keyring",
            printable(profile)
        )));
    }
    // The line goes first: a line without its key would break the profile for other tools,
    // a key without a line breaks nothing.
    if new_text != text {
        rewrite.commit(&new_text).map_err(Failure::local)?;
    }
    vault.remove_key(profile)?;
    if let Some(pending) = vault.pending(profile)? {
        vault.remove_pending(profile)?;
        eprintln!(
            "rolecall: an unfinished rotation's new key {} was forgotten too; if IAM still \
             has it, delete it: `aws iam delete-access-key --access-key-id {}`",
            short_id(&pending.new.access_key_id),
            printable(&pending.new.access_key_id)
        );
    }
    match key {
        Some(key) => eprintln!(
            "rolecall: removed key {} of `{}` from the {} and its line from {}; the key is \
             still active in IAM: if nothing else uses it, delete it there \
             (`aws iam delete-access-key --access-key-id {}`)",
            short_id(&key.access_key_id),
            printable(profile),
            backend_name(),
            printable(&path.to_string_lossy()),
            printable(&key.access_key_id)
        ),
        None => eprintln!(
            "rolecall: the keyring had no key for `{}`; removed its line from {}",
            printable(profile),
            printable(&path.to_string_lossy())
        ),
    }
    Ok(())
}

fn rotate(args: KeysRotateArgs) -> Result<()> {
    let profile = args.profile.as_str();
    check_profile_name(profile)?;
    let env = Env::Process;
    let profiles = Profiles::load(&env)?;
    let uses_keyring = profiles
        .profile(profile)
        .and_then(|p| p.get("credential_process"))
        .and_then(keyring_profile)
        .is_some_and(|entry| entry == profile);
    if !uses_keyring {
        return Err(Failure::usage(format!(
            "profile `{0}` does not take its key from the keyring (no `credential_process = \
             rolecall keys credential-process {0}` line); `rolecall keys import {0}` or \
             `rolecall keys add {0}` first",
            printable(profile)
        )));
    }
    let vault = Vault::open()?;
    let signer = || {
        let session = crate::engine::obtain(&Request {
            target: profile.to_string(),
            overrides: Overrides::default(),
            cache: CachePolicy {
                read: true,
                write: true,
            },
            mfa: MfaInput {
                code: args.mfa_token.clone(),
                may_ask: true,
            },
            env: &env,
        })?;
        Ok(rotate::Signer {
            credentials: session.credentials,
            region: session.region,
        })
    };
    rotate::rotate(&vault, profile, &signer)
}

fn credential_process(args: KeysProfileArgs) -> Result<()> {
    let profile = args.profile.as_str();
    check_profile_name(profile)?;
    if std::io::stdout().is_terminal() {
        return Err(Failure::usage(format!(
            "this prints the key of `{0}` for an AWS tool's credential_process, not for a \
             terminal; use the profile instead: `aws --profile {0} …` or `assume {0}`",
            printable(profile)
        )));
    }
    let vault = Vault::open()?;
    let key = vault.key(profile)?.ok_or_else(|| {
        Failure::usage(format!(
            "the {} has no key for profile `{1}`; `rolecall keys add {1}` stores one",
            backend_name(),
            printable(profile)
        ))
    })?;
    let document = serde_json::json!({
        "Version": 1,
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key,
    });
    super::emit(&(document.to_string() + "\n"))
}
