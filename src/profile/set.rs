//! The profiles of the config and credentials files as aws-config parsed them, looked up by
//! name, with the suggestions for a name that is not there.

use super::files;
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use aws_config::profile::{Profile, ProfileSet};

/// The parsed config and credentials files, merged the way every AWS SDK merges them.
pub struct Profiles {
    set: ProfileSet,
}

impl Profiles {
    /// Every profile of the files `env` names.
    pub fn load(env: &Env) -> Result<Profiles> {
        Self::from_files(&files::config_files(env)?)
    }

    pub fn from_set(set: ProfileSet) -> Profiles {
        Profiles { set }
    }

    pub fn from_files(files: &[files::ConfigFile]) -> Result<Profiles> {
        Ok(Profiles {
            set: files::parse_attributed(files)?,
        })
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.set.get_profile(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.set.profiles()
    }

    /// A usage failure for a profile name that does not exist, naming the nearest ones.
    pub fn unknown_profile(&self, name: &str, referrer: Option<&str>) -> Failure {
        let mut near: Vec<(f64, &str)> = self
            .names()
            .map(|n| (strsim::jaro_winkler(name, n), n))
            .filter(|(score, _)| *score > 0.8)
            .collect();
        near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let what = match referrer {
            Some(r) => format!(
                "profile `{}` names source_profile `{}`, which does not exist",
                printable(r),
                printable(name)
            ),
            None => format!("no profile named `{}`", printable(name)),
        };
        let hint = match near.as_slice() {
            [] => "; `rolecall profiles` lists them".to_string(),
            [(_, one)] => format!("; did you mean {}?", printable(one)),
            many => format!(
                "; did you mean one of: {}?",
                many.iter()
                    .take(3)
                    .map(|(_, n)| printable(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Failure::usage(what + &hint)
    }

    /// The region a profile names, else the nearest one down its source chain, else
    /// `[default]`'s.
    pub fn region_along(&self, chain: &[String]) -> Option<String> {
        chain
            .iter()
            .filter_map(|name| self.profile(name))
            .chain(self.profile("default"))
            .find_map(|p| non_empty(p.get("region")))
    }
}

/// A profile's setting, trimmed, when it has one that is not empty.
pub fn non_empty(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}
