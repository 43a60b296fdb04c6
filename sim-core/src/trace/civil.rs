//! Calendar dates and ISO-8601 UTC timestamps to Unix seconds (proleptic Gregorian, no leap
//! seconds, as Unix time counts them).

/// Days from 1970-01-01 to `year-month-day`, by H. Hinnant's `days_from_civil`
/// (<https://howardhinnant.github.io/date_algorithms.html>). `month` 1–12, `day` 1–31.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0')))
}

/// Parses `YYYYMMDD` (a PlanetLab day folder) into `(year, month, day)`.
pub(crate) fn parse_yyyymmdd(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 8 {
        return None;
    }
    let year = i64::from(digits(b.get(0..4)?)?);
    let month = digits(b.get(4..6)?)?;
    let day = digits(b.get(6..8)?)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some((year, month, day))
}

/// Unix seconds of 00:00:00 UTC on the `YYYYMMDD` date.
pub fn yyyymmdd_to_unix_secs(s: &str) -> Option<i64> {
    let (y, m, d) = parse_yyyymmdd(s)?;
    Some(days_from_civil(y, m, d) * 86_400)
}

/// Parses an ISO-8601 UTC timestamp, `YYYY-MM-DDTHH:MM:SSZ` (a space may replace `T`, and
/// `+00:00` may replace `Z`), into Unix seconds.
pub(crate) fn parse_iso8601_utc(s: &str) -> Result<i64, String> {
    let bad = || format!("not an ISO-8601 UTC timestamp like 2013-08-12T13:40:46Z: {s:?}");
    let b = s.trim().as_bytes();
    let (body, zone) = if let Some(body) = b.strip_suffix(b"Z") {
        (body, true)
    } else if let Some(body) = b.strip_suffix(b"+00:00") {
        (body, true)
    } else {
        (b, false)
    };
    if !zone || body.len() != 19 {
        return Err(bad());
    }
    let sep_ok = body.get(4) == Some(&b'-')
        && body.get(7) == Some(&b'-')
        && matches!(body.get(10), Some(b'T' | b' '))
        && body.get(13) == Some(&b':')
        && body.get(16) == Some(&b':');
    if !sep_ok {
        return Err(bad());
    }
    let field = |r: std::ops::Range<usize>| body.get(r).and_then(digits).ok_or_else(bad);
    let year = i64::from(field(0..4)?);
    let month = field(5..7)?;
    let day = field(8..10)?;
    let hour = field(11..13)?;
    let minute = field(14..16)?;
    let second = field(17..19)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(bad());
    }
    Ok(days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3_600
        + i64::from(minute) * 60
        + i64::from(second))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        // `date -u -d 2011-03-03 +%s` = 1299110400
        assert_eq!(yyyymmdd_to_unix_secs("20110303"), Some(1_299_110_400));
        assert_eq!(yyyymmdd_to_unix_secs("20110230"), None);
        assert_eq!(yyyymmdd_to_unix_secs("2011033"), None);
        assert_eq!(yyyymmdd_to_unix_secs("2011o303"), None);
        assert_eq!(yyyymmdd_to_unix_secs("20120229"), Some(1_330_473_600));
    }

    #[test]
    fn iso_timestamps() {
        // `date -u -d 2013-08-12T13:40:46Z +%s` = 1376314846
        assert_eq!(parse_iso8601_utc("2013-08-12T13:40:46Z"), Ok(1_376_314_846));
        assert_eq!(parse_iso8601_utc("2013-08-12 13:40:46+00:00"), Ok(1_376_314_846));
        for bad in [
            "",
            "2013-08-12T13:40:46",
            "2013-08-12T13:40:46+02:00",
            "2013-13-12T13:40:46Z",
            "2013-02-29T13:40:46Z",
            "2013-08-12T24:00:00Z",
            "2013-08-12T13:40Z",
            "2013/08/12T13:40:46Z",
            "２０13-08-12T13:40:46Z",
        ] {
            assert!(parse_iso8601_utc(bad).is_err(), "{bad:?}");
        }
    }
}
