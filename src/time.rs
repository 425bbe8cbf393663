//! Time as rolecall shows and stores it: Unix seconds inside, RFC 3339 UTC for other tools,
//! local wall-clock time and whole minutes for people.

use chrono::{DateTime, Local, SecondsFormat, TimeZone, Utc};

pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// `2026-11-29T17:42:00Z`, the form starship and the AWS SDKs read.
pub fn rfc3339(unix: i64) -> String {
    match Utc.timestamp_opt(unix, 0).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => String::new(),
    }
}

pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp())
}

/// `17:42` in the local time zone.
pub fn local_clock(unix: i64) -> String {
    match Local.timestamp_opt(unix, 0).single() {
        Some(t) => t.format("%H:%M").to_string(),
        None => rfc3339(unix),
    }
}

/// `59m`, `3h05m`, `45s`, or `expired` for none left.
pub fn format_duration(seconds: i64) -> String {
    if seconds <= 0 {
        return "expired".into();
    }
    if seconds < 60 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 60 {
        format!("{minutes}m")
    } else {
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    }
}

/// In how many seconds `format_duration` of a countdown now at `seconds` left shows other text:
/// each second under a minute, else when the next whole minute passes; `None` once expired.
pub fn next_change(seconds: i64) -> Option<i64> {
    match seconds {
        ..=0 => None,
        1..=59 => Some(1),
        _ => Some(seconds % 60 + 1),
    }
}

/// Parses `15m`, `1h`, `1h30m`, `90s` or bare seconds (`3600`) into seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<i64>() {
        return (seconds > 0).then_some(seconds);
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (digits.is_empty() && total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("1h"), Some(3600));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("3600"), Some(3600));
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration("15"), Some(15));
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("10m5"), None);
        assert_eq!(parse_duration("0"), None);
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(rfc3339(1_795_974_120), "2026-11-29T17:42:00Z");
        assert_eq!(parse_rfc3339("2026-11-29T17:42:00Z"), Some(1_795_974_120));
        assert_eq!(
            parse_rfc3339("2026-11-29T18:42:00+01:00"),
            Some(1_795_974_120)
        );
    }

    #[test]
    fn the_text_changes_when_next_change_says() {
        for left in 1..4000 {
            let change = next_change(left).unwrap();
            assert_eq!(
                format_duration(left),
                format_duration(left - change + 1),
                "{left}"
            );
            assert_ne!(
                format_duration(left),
                format_duration(left - change),
                "{left}"
            );
        }
        assert_eq!(next_change(0), None);
    }

    #[test]
    fn minutes() {
        assert_eq!(format_duration(3599), "59m");
        assert_eq!(format_duration(3600 * 3 + 300), "3h05m");
        assert_eq!(format_duration(0), "expired");
    }
}
