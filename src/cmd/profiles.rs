//! `rolecall profiles`: the profile names, for people, completion and the picker.

use crate::cli::ProfilesArgs;
use crate::config::Config;
use crate::error::{printable, Result};

pub fn run(args: ProfilesArgs) -> Result<()> {
    let config = Config::load()?;
    let mut names: Vec<&str> = config.names().collect();
    names.sort_unstable();
    let mut output = String::new();
    for name in names {
        output.push_str(&printable(name));
        if args.long {
            let profile = config.profile(name).expect("listed by the same config");
            for key in ["role_arn", "rolecall_description"] {
                output.push('\t');
                output.push_str(&printable(profile.get(key).unwrap_or("")));
            }
        }
        output.push('\n');
    }
    super::emit(&output)
}
