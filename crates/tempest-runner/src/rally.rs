//! rally's JSON verification report (`rally verify report --type json`,
//! which docker-rally's `rally-verify-wrapper.sh` writes to
//! `rally-verify-report.json`) turned into a subunit v2 stream, so the run's
//! results go through the same summary, JUnit and HTML reports as any
//! stream.
//!
//! The report holds `verifications` (by uuid: `started_at`, `status`, …) and
//! `tests` (by test id, tags in brackets as Tempest names them: `name`,
//! `tags`, and `by_verification` — per uuid the `status` (`success`, `fail`,
//! `skip`, `xfail`, `uxsuccess`), `duration` in seconds, and `details`: the
//! traceback of a failure or the reason of a skip). A test's result is the
//! one of the last verification. The report keeps no start time per test, so
//! the stream lays the tests end to end from the verification's start, each
//! taking its duration.

use std::io::Write;

use serde_json::Value;

use crate::subunit::{FileChunk, Packet, Status, Timestamp, write_packet};

/// A rally report that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RallyReportError {
    /// Not JSON.
    #[error("rally's JSON report is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not a verification report.
    #[error(
        "rally's JSON report has no `{0}` object; was it written by `rally verify report --type json`?"
    )]
    Shape(&'static str),
    /// The stream could not be written.
    #[error("cannot write the subunit stream: {0}")]
    Write(#[from] std::io::Error),
}

/// Seconds since the epoch of rally's `%Y-%m-%dT%H:%M:%S` (UTC) time.
fn epoch_seconds(text: &str) -> Option<u32> {
    let (date, time) = text.split_once('T')?;
    let mut date = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let mut time = time.get(..8)?.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (time.next()?.ok()?, time.next()?.ok()?, time.next()?.ok()?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    u32::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// A duration in seconds, as rally writes it (a number or a string).
fn seconds(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::Number(number)) => number.as_f64().unwrap_or(0.0),
        Some(Value::String(text)) => text.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
    .max(0.0)
}

fn status_of(text: &str) -> Status {
    match text {
        "success" => Status::Success,
        "fail" => Status::Fail,
        "skip" => Status::Skip,
        "xfail" => Status::ExpectedFailure,
        "uxsuccess" => Status::UnexpectedSuccess,
        _ => Status::InProgress,
    }
}

/// Writes the results of rally's JSON `report` to `out` as subunit v2;
/// returns how many tests it held.
pub fn rally_report_to_subunit(
    report: &[u8],
    out: &mut impl Write,
) -> Result<usize, RallyReportError> {
    let report: Value = serde_json::from_slice(report)?;
    let verifications = report
        .get("verifications")
        .and_then(Value::as_object)
        .ok_or(RallyReportError::Shape("verifications"))?;
    let tests = report
        .get("tests")
        .and_then(Value::as_object)
        .ok_or(RallyReportError::Shape("tests"))?;
    let last = verifications.keys().next_back();
    let start = last
        .and_then(|uuid| verifications[uuid].get("started_at"))
        .and_then(Value::as_str)
        .and_then(epoch_seconds)
        .unwrap_or(0);
    let mut clock = f64::from(start);
    let stamp = |at: f64| Timestamp {
        seconds: at as u32,
        nanos: ((at.fract() * 1e6).round() as u32).min(999_999) * 1000,
    };
    let mut count = 0;
    for (id, test) in tests {
        let result = last
            .and_then(|uuid| test.get("by_verification")?.get(uuid))
            .or_else(|| {
                test.get("by_verification")?
                    .as_object()?
                    .values()
                    .next_back()
            });
        let Some(result) = result else { continue };
        let status = status_of(result.get("status").and_then(Value::as_str).unwrap_or(""));
        let tags: Vec<&str> = test
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let started = stamp(clock);
        clock += seconds(result.get("duration"));
        write_packet(
            out,
            &Packet {
                status: Status::InProgress,
                test_id: Some(id),
                timestamp: Some(started),
                tags: (!tags.is_empty()).then(|| tags.clone()),
                runnable: true,
                ..Packet::default()
            },
        )?;
        let details = result.get("details").and_then(Value::as_str);
        let file_name = if status == Status::Skip {
            "reason"
        } else {
            "traceback"
        };
        write_packet(
            out,
            &Packet {
                status,
                test_id: Some(id),
                timestamp: Some(stamp(clock)),
                tags: (!tags.is_empty()).then_some(tags),
                mime_type: details.map(|_| "text/plain;charset=utf8"),
                file: details.map(|text| FileChunk {
                    name: file_name,
                    content: text.as_bytes(),
                }),
                eof: details.is_some(),
                runnable: true,
                ..Packet::default()
            },
        )?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Outcome, ResultReader};

    #[test]
    fn rally_times_are_utc_epoch_seconds() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00"), Some(0));
        assert_eq!(epoch_seconds("2024-02-29T12:34:56"), Some(1_709_210_096));
        assert_eq!(epoch_seconds("not a time"), None);
    }

    #[test]
    fn a_report_becomes_one_result_per_test_of_the_last_verification() {
        let report = br#"{
          "verifications": {
            "v1": {"started_at": "2024-01-01T00:00:00", "status": "finished"},
            "v2": {"started_at": "2024-01-02T00:00:00", "status": "failed"}
          },
          "tests": {
            "tempest.api.a.T.test_ok[id-1,smoke]": {"name": "tempest.api.a.T.test_ok", "tags": ["id-1", "smoke"],
              "by_verification": {"v2": {"status": "success", "duration": "1.500"}}},
            "tempest.api.a.T.test_bad[id-2]": {"name": "tempest.api.a.T.test_bad", "tags": ["id-2"],
              "by_verification": {"v1": {"status": "success", "duration": 1},
                                  "v2": {"status": "fail", "duration": 2.25, "details": "Traceback: boom"}}},
            "tempest.api.a.T.test_skipped[id-3]": {"name": "tempest.api.a.T.test_skipped", "tags": [],
              "by_verification": {"v2": {"status": "skip", "duration": "0", "details": "no cinder"}}}
          }
        }"#;
        let mut stream = Vec::new();
        assert_eq!(rally_report_to_subunit(report, &mut stream).unwrap(), 3);
        let results: Vec<_> = ResultReader::new(stream.as_slice())
            .map(|result| {
                let result = result.unwrap();
                let details = result.details();
                (
                    result.id,
                    result.outcome,
                    (!details.is_empty()).then_some(details),
                    result
                        .start
                        .zip(result.end)
                        .and_then(|(a, b)| a.until(b))
                        .map(|d| d.as_millis()),
                )
            })
            .collect();
        assert_eq!(
            results,
            [
                (
                    "tempest.api.a.T.test_ok[id-1,smoke]".to_owned(),
                    Outcome::Success,
                    None,
                    Some(1500)
                ),
                (
                    "tempest.api.a.T.test_bad[id-2]".to_owned(),
                    Outcome::Failure,
                    Some("Traceback: boom".to_owned()),
                    Some(2250)
                ),
                (
                    "tempest.api.a.T.test_skipped[id-3]".to_owned(),
                    Outcome::Skip,
                    Some("no cinder".to_owned()),
                    Some(0)
                ),
            ]
        );
    }

    #[test]
    fn a_report_that_is_not_one_is_an_error() {
        let mut out = Vec::new();
        assert!(matches!(
            rally_report_to_subunit(b"{}", &mut out),
            Err(RallyReportError::Shape("verifications"))
        ));
        assert!(matches!(
            rally_report_to_subunit(b"<html>", &mut out),
            Err(RallyReportError::Json(_))
        ));
    }
}
