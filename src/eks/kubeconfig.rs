//! The kubeconfig entries of `eks kubeconfig`: a cluster, a user whose `exec` runs `rolecall
//! eks token`, and a context joining them, named as `aws eks update-kubeconfig` names them (the
//! cluster's ARN; the context `--alias`). An entry of the same name is replaced where it is,
//! every other part of the file stays, and the context becomes current. The file is read and
//! replaced under the lock of `profile::block::Rewrite`, owner-only, in one swap; a file that
//! would not change is not written.

use crate::aws::eks::Cluster;
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::session::Credentials;
use serde_norway::{Mapping, Value};
use std::path::{Path, PathBuf};

/// The file kubectl reads first: the first of `$KUBECONFIG`, else `~/.kube/config`.
pub fn default_path(env: &Env) -> Result<PathBuf> {
    if let Some(list) = env.get_os("KUBECONFIG") {
        if let Some(first) = std::env::split_paths(&list).find(|p| !p.as_os_str().is_empty()) {
            return Ok(first);
        }
    }
    let home = env
        .home()
        .ok_or_else(|| Failure::usage("no home directory: name the file with --kubeconfig"))?;
    Ok(home.join(".kube").join("config"))
}

/// What one cluster's entries say.
pub struct Entry<'a> {
    pub cluster: &'a Cluster,
    /// The context's name; the cluster's ARN without one.
    pub alias: Option<&'a str>,
    /// The program kubectl runs for a token, and its arguments.
    pub command: &'a str,
    pub args: Vec<String>,
}

/// What `eks kubeconfig` asks for.
pub struct Update<'a> {
    pub path: &'a Path,
    /// One cluster's name; none: every cluster of the region.
    pub cluster: Option<&'a str>,
    pub alias: Option<&'a str>,
    pub region: &'a str,
    /// What DescribeCluster and ListClusters are signed with.
    pub credentials: &'a Credentials,
    /// `eks token`'s arguments before `--cluster`: the TARGET and its flags.
    pub target_args: Vec<String>,
}

/// Describes the clusters asked for and writes their entries, the user's `exec` running this
/// binary's `eks token` for each.
pub fn update(update: &Update) -> Result<Outcome> {
    let client = crate::aws::eks::Eks::new(update.region, update.credentials)?;
    let clusters = crate::aws::net::block_on(async {
        let names = match update.cluster {
            Some(name) => vec![name.to_string()],
            None => client.list().await?,
        };
        let mut clusters = Vec::new();
        for name in names {
            super::check_cluster_name(&name)?;
            clusters.push((client.describe(&name).await?, name));
        }
        Ok(clusters)
    })?;
    if clusters.is_empty() {
        return Ok(Outcome::NoClusters);
    }
    let command = std::env::current_exe()
        .map_err(|e| Failure::local(format!("cannot tell where rolecall is: {e}")))?;
    let command = command.to_str().ok_or_else(|| {
        Failure::local("rolecall's own path is not text; kubectl could not run it")
    })?;
    let entries: Vec<Entry> = clusters
        .iter()
        .map(|(cluster, name)| {
            let mut args: Vec<String> = vec!["eks".into(), "token".into()];
            args.extend(update.target_args.iter().cloned());
            args.extend([
                "--cluster".into(),
                name.clone(),
                "-r".into(),
                update.region.into(),
            ]);
            Entry {
                cluster,
                alias: update.alias,
                command,
                args,
            }
        })
        .collect();
    write(update.path, &entries)
}

/// What writing did.
pub enum Outcome {
    /// The region has no clusters: nothing was written.
    NoClusters,
    /// The file changed; the contexts written.
    Written { contexts: Vec<String> },
    /// It already said all this.
    Unchanged,
}

/// Checks that the file at `path` is a kubeconfig rolecall can rewrite (or is not there yet),
/// before anything is asked of AWS.
pub fn check(path: &Path) -> Result<()> {
    parse(path, &read(path)?).map(|_| ())
}

/// Puts `entries` into the file at `path`, the last one's context made current.
fn write(path: &Path, entries: &[Entry]) -> Result<Outcome> {
    let rewrite = crate::profile::block::Rewrite::begin(path)?.owner_only();
    let before = parse(path, &read(path)?)?;
    let mut after = before.clone();
    let mut contexts = Vec::new();
    for entry in entries {
        contexts.push(merge(&mut after, entry).map_err(|why| refused(path, &why))?);
    }
    if after == before {
        return Ok(Outcome::Unchanged);
    }
    let text = serde_norway::to_string(&Value::Mapping(after))
        .map_err(|e| Failure::local(format!("cannot write the kubeconfig: {e}")))?;
    rewrite.commit(&text).map_err(Failure::local)?;
    Ok(Outcome::Written { contexts })
}

fn read(path: &Path) -> Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Failure::usage(format!(
            "cannot read {}: {e}",
            printable(&path.to_string_lossy())
        ))),
    }
}

fn refused(path: &Path, why: &str) -> Failure {
    Failure::usage(format!(
        "{} is not a kubeconfig rolecall can change ({why}); nothing was written",
        printable(&path.to_string_lossy())
    ))
}

/// The file's top level: an empty file is a new kubeconfig, as the AWS CLI starts one.
fn parse(path: &Path, text: &str) -> Result<Mapping> {
    if text.trim().is_empty() {
        return Ok(new_kubeconfig());
    }
    match serde_norway::from_str::<Value>(text) {
        Ok(Value::Mapping(top)) => Ok(top),
        Ok(Value::Null) => Ok(new_kubeconfig()),
        Ok(_) => Err(refused(path, "its top level is not a mapping")),
        // The parser's message says where: "… at line 3 column 5".
        Err(e) => Err(refused(path, &printable(&e.to_string()))),
    }
}

fn new_kubeconfig() -> Mapping {
    let mut top = Mapping::new();
    top.insert("apiVersion".into(), "v1".into());
    top.insert("clusters".into(), Value::Sequence(vec![]));
    top.insert("contexts".into(), Value::Sequence(vec![]));
    top.insert("current-context".into(), "".into());
    top.insert("kind".into(), "Config".into());
    top.insert("preferences".into(), Value::Mapping(Mapping::new()));
    top.insert("users".into(), Value::Sequence(vec![]));
    top
}

/// Puts one cluster's three entries into `top`; the context's name.
fn merge(top: &mut Mapping, entry: &Entry) -> std::result::Result<String, String> {
    let arn = entry.cluster.arn.as_str();
    let context_name = entry.alias.unwrap_or(arn);
    let cluster = mapping([
        (
            "cluster",
            Value::Mapping(mapping([
                (
                    "certificate-authority-data",
                    entry.cluster.certificate_authority.as_str().into(),
                ),
                ("server", entry.cluster.endpoint.as_str().into()),
            ])),
        ),
        ("name", arn.into()),
    ]);
    let user = mapping([
        ("name", arn.into()),
        (
            "user",
            Value::Mapping(mapping([(
                "exec",
                Value::Mapping(mapping([
                    ("apiVersion", "client.authentication.k8s.io/v1beta1".into()),
                    (
                        "args",
                        Value::Sequence(entry.args.iter().map(|a| a.as_str().into()).collect()),
                    ),
                    ("command", entry.command.into()),
                    // kubectl lets the token command ask for an MFA code on a terminal.
                    ("interactiveMode", "IfAvailable".into()),
                ])),
            )])),
        ),
    ]);
    let context = mapping([
        (
            "context",
            Value::Mapping(mapping([("cluster", arn.into()), ("user", arn.into())])),
        ),
        ("name", context_name.into()),
    ]);
    put(top, "clusters", cluster)?;
    put(top, "users", user)?;
    put(top, "contexts", context)?;
    top.insert("current-context".into(), context_name.into());
    Ok(context_name.to_string())
}

fn mapping<const N: usize>(pairs: [(&str, Value); N]) -> Mapping {
    pairs
        .into_iter()
        .map(|(key, value)| (Value::from(key), value))
        .collect()
}

/// Replaces the entry of `key`'s list with the same name, else adds it at the end.
fn put(top: &mut Mapping, key: &str, entry: Mapping) -> std::result::Result<(), String> {
    let list = top
        .entry(key.into())
        .or_insert_with(|| Value::Sequence(vec![]));
    if list.is_null() {
        *list = Value::Sequence(vec![]);
    }
    let Value::Sequence(entries) = list else {
        return Err(format!("its {key} is not a list"));
    };
    let name = entry.get("name").cloned();
    let entry = Value::Mapping(entry);
    match entries.iter_mut().find(|e| e.get("name") == name.as_ref()) {
        Some(same) => *same = entry,
        None => entries.push(entry),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(name: &str) -> Cluster {
        Cluster {
            arn: format!("arn:aws:eks:eu-west-1:111111111111:cluster/{name}"),
            endpoint: format!("https://{name}.example"),
            certificate_authority: "Q0E=".into(),
        }
    }

    fn entry<'a>(cluster: &'a Cluster, alias: Option<&'a str>) -> Entry<'a> {
        Entry {
            cluster,
            alias,
            command: "/bin/rolecall",
            args: vec!["eks".into(), "token".into()],
        }
    }

    #[test]
    fn entries_replace_their_namesakes_and_leave_the_rest() {
        let mine = "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {server: https://o}\nusers: null\ncontexts: []\ncurrent-context: other\nextra: kept\n";
        let mut top = parse(Path::new("k"), mine).unwrap();
        let a = cluster("a");
        assert_eq!(merge(&mut top, &entry(&a, None)).unwrap(), a.arn);
        let once = top.clone();
        merge(&mut top, &entry(&a, None)).unwrap();
        assert_eq!(top, once);
        assert_eq!(merge(&mut top, &entry(&a, Some("short"))).unwrap(), "short");
        assert_eq!(top["clusters"].as_sequence().unwrap().len(), 2);
        assert_eq!(top["users"].as_sequence().unwrap().len(), 1);
        assert_eq!(top["contexts"].as_sequence().unwrap().len(), 2);
        assert_eq!(top["current-context"], "short");
        assert_eq!(top["extra"], "kept");
        assert_eq!(top["clusters"][0]["name"], "other");
    }

    #[test]
    fn a_kubeconfig_that_is_not_one_is_refused_saying_where() {
        let at = |text: &str| parse(Path::new("k"), text).unwrap_err().message;
        assert!(
            at("clusters: [\n").contains("line"),
            "{}",
            at("clusters: [\n")
        );
        assert!(at("- a\n").contains("not a mapping"));
        let mut top = parse(Path::new("k"), "clusters: {a: 1}\n").unwrap();
        let a = cluster("a");
        assert!(merge(&mut top, &entry(&a, None))
            .unwrap_err()
            .contains("clusters is not a list"));
        assert_eq!(parse(Path::new("k"), "").unwrap(), new_kubeconfig());
    }
}
