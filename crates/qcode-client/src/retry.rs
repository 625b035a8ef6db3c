//! Retry policy: exponential backoff with jitter, `Retry-After`, bounded attempts and time.

use std::time::{Duration, SystemTime};

use crate::ClientError;

/// How failed requests are retried (only while no output was produced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time (±20 % jitter).
    pub initial_delay: Duration,
    /// Longest single delay, also the cap for `Retry-After`.
    pub max_delay: Duration,
    /// No retry starts when it would end later than this after the first attempt began.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_millis(1500),
            max_delay: Duration::from_secs(30),
            max_total: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The jittered delay before retry number `retry` (1-based).
    fn backoff(&self, retry: u32) -> Duration {
        let exp = 2f64.powi(retry.saturating_sub(1).min(30) as i32);
        let jitter = 0.8 + rand::random::<f64>() * 0.4;
        let secs = self.initial_delay.as_secs_f64() * exp * jitter;
        Duration::from_secs_f64(secs.min(self.max_delay.as_secs_f64()))
    }
}

pub(crate) enum Decision {
    RetryAfter(Duration),
    GiveUp(ClientError),
}

/// Whether to retry after `attempt` (1-based) failed with `error`, `elapsed` since the start.
pub(crate) fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    elapsed: Duration,
    error: ClientError,
    retry_after: Option<Duration>,
) -> Decision {
    if !error.is_retryable() || attempt >= attempt_limit(policy, &error) {
        return Decision::GiveUp(error);
    }
    let remaining = policy.max_total.saturating_sub(elapsed);
    let delay = match retry_after {
        Some(wait) if wait > remaining => {
            return Decision::GiveUp(with_note(
                error,
                &format!(
                    "the provider asked to wait {} s before retrying, longer than the {} s left \
                     of the retry budget",
                    wait.as_secs(),
                    remaining.as_secs()
                ),
            ));
        }
        Some(wait) => wait.min(policy.max_delay),
        None => policy.backoff(attempt),
    };
    if delay > remaining {
        return Decision::GiveUp(error);
    }
    Decision::RetryAfter(delay)
}

/// Attempts allowed for this error: the policy's, or fewer for errors that rarely heal (a name
/// that did not resolve, and an empty answer, are tried twice at most).
pub(crate) fn attempt_limit(policy: &RetryPolicy, error: &ClientError) -> u32 {
    match error {
        ClientError::UnknownHost { .. } | ClientError::EmptyResponse { .. } => {
            policy.max_attempts.min(2)
        }
        _ => policy.max_attempts,
    }
}

/// Appends a note to the message of errors that carry one.
fn with_note(error: ClientError, note: &str) -> ClientError {
    match error {
        ClientError::RateLimited { message } => ClientError::RateLimited {
            message: format!("{message} ({note})"),
        },
        ClientError::Server { status, message } => ClientError::Server {
            status,
            message: format!("{message} ({note})"),
        },
        ClientError::BadRequest { status, message } => ClientError::BadRequest {
            status,
            message: format!("{message} ({note})"),
        },
        other => other,
    }
}

/// `Retry-After` as delta-seconds (fractions tolerated) or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A short reason for the UI: "rate limited (HTTP 429)".
pub(crate) fn reason(error: &ClientError) -> String {
    match error {
        ClientError::RateLimited { .. } => "rate limited (HTTP 429)".into(),
        ClientError::Server { status, .. } => format!("provider error (HTTP {status})"),
        ClientError::BadRequest { status, .. } => format!("provider error (HTTP {status})"),
        ClientError::Connect { host_port, .. } => format!("could not connect to {host_port}"),
        ClientError::UnknownHost { host, .. } => format!("cannot resolve {host}"),
        ClientError::Timeout { .. } => "the provider did not answer in time".into(),
        ClientError::Stream { .. } => "the connection broke before any output".into(),
        ClientError::EmptyResponse { .. } => "the server returned an empty response".into(),
        ClientError::Provider { code, .. } => match code {
            Some(code) => format!("provider error ({code})"),
            None => "provider error".into(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let policy = RetryPolicy::default();
        for _ in 0..100 {
            let first = policy.backoff(1).as_secs_f64();
            assert!((1.2..=1.8).contains(&first), "{first}");
            let third = policy.backoff(3).as_secs_f64();
            assert!((4.8..=7.2).contains(&third), "{third}");
            assert!(policy.backoff(10) <= policy.max_delay);
        }
    }

    #[test]
    fn decisions() {
        let policy = RetryPolicy::default();
        let rate = || ClientError::RateLimited {
            message: "m".into(),
        };
        assert!(matches!(
            decide(&policy, 1, Duration::ZERO, rate(), Some(Duration::from_secs(2))),
            Decision::RetryAfter(d) if d == Duration::from_secs(2)
        ));
        // Retry-After above max_delay is capped.
        assert!(matches!(
            decide(&policy, 1, Duration::ZERO, rate(), Some(Duration::from_secs(200))),
            Decision::RetryAfter(d) if d == policy.max_delay
        ));
        // ... but beyond the remaining budget it gives up with a note.
        match decide(
            &policy,
            1,
            Duration::from_secs(200),
            rate(),
            Some(Duration::from_secs(150)),
        ) {
            Decision::GiveUp(ClientError::RateLimited { message }) => {
                assert!(message.contains("asked to wait 150 s"), "{message}");
                assert!(message.contains("100 s left"), "{message}");
            }
            _ => panic!("expected give up"),
        }
        assert!(matches!(
            decide(&policy, 5, Duration::ZERO, rate(), None),
            Decision::GiveUp(ClientError::RateLimited { .. })
        ));
        assert!(matches!(
            decide(
                &policy,
                1,
                Duration::ZERO,
                ClientError::Quota {
                    message: "q".into()
                },
                None
            ),
            Decision::GiveUp(ClientError::Quota { .. })
        ));
    }
}
