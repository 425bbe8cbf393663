//! The values STS would refuse, caught before any call so the person hears which setting is
//! wrong (exit 2) instead of a network round trip later.

use crate::error::{printable, Failure, Result};

/// A duration as a person writes it on the command line (`15m`, `1h30m`, `3600`), checked.
pub fn duration_flag(text: &str) -> Result<i64> {
    let seconds = crate::time::parse_duration(text).ok_or_else(|| {
        Failure::usage(format!(
            "`{}` is not a duration: use 15m, 1h, 1h30m or a number of seconds",
            printable(text)
        ))
    })?;
    check_duration(seconds, "-d")?;
    Ok(seconds)
}

/// STS accepts 15 minutes to 12 hours; asking for more or less fails there anyway, later.
pub fn check_duration(seconds: i64, what: &str) -> Result<()> {
    if (900..=43_200).contains(&seconds) {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "{what} asks for {}; STS allows 15m to 12h (and 1h for chained roles)",
            crate::time::format_duration(seconds)
        )))
    }
}

pub fn check_external_id(id: &str) -> Result<()> {
    let valid = (2..=1224).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/_-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(Failure::usage(
            "an external ID is 2 to 1224 of letters, digits and +=,.@:/_-",
        ))
    }
}

pub fn check_region(region: &str) -> Result<()> {
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "`{}` is not a region name (like eu-west-1)",
            printable(region)
        )))
    }
}

pub fn session_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)
}

pub fn check_session_name(name: &str) -> Result<()> {
    if (2..=64).contains(&name.len()) && name.bytes().all(session_name_byte) {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "`{}` is not a valid role session name: 2 to 64 of letters, digits and +=,.@_-",
            printable(name)
        )))
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME` with a 12-digit account and a name.
pub fn is_role_arn(target: &str) -> bool {
    let parts: Vec<&str> = target.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    *arn == "arn"
        && !partition.is_empty()
        && *service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_sts_would_refuse_is_refused_here() {
        assert!(duration_flag("15m").is_ok() && duration_flag("12h").is_ok());
        for bad in ["14m", "13h", "1x", "", "0"] {
            assert!(duration_flag(bad).is_err(), "{bad:?}");
        }
        assert!(check_external_id("ok+=,.@:/_-").is_ok());
        assert!(check_external_id("x").is_err() && check_external_id("no spaces").is_err());
        assert!(check_region("eu-west-1").is_ok() && check_region("EU").is_err());
        assert!(check_session_name("ana@example.com").is_ok());
        assert!(check_session_name("a").is_err() && check_session_name("a b").is_err());
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::111111111111:role/admin"));
        assert!(is_role_arn("arn:aws-cn:iam::111111111111:role/path/admin"));
        for bad in [
            "arn:aws:iam::11111111111:role/admin",
            "arn:aws:iam::111111111111:user/ana",
            "arn:aws:iam::111111111111:role/",
            "arn:aws:iam::111111111111:role/path/",
            "arn:aws:sts::111111111111:role/admin",
            "arn:aws:iam:eu-west-1:111111111111:role/admin",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
    }
}
