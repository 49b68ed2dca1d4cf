//! How long to keep trying: exponential backoff with jitter, at least the delay the server
//! asked for, up to `--retry-max-elapsed`. Which failures are worth retrying is each sink's
//! call (it answers with a typed [`super::ExportOutcome`]); this module only times them.

use std::time::Duration;

/// Longest wait between two attempts, unless the server asks for longer.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How failed exports are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Whether to retry at all.
    pub enabled: bool,
    /// The first wait; it doubles after each attempt, up to 30s.
    pub initial_backoff: Duration,
    /// Give up on a payload after this long.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            enabled: true,
            initial_backoff: Duration::from_secs(1),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

/// The exponential backoff of one payload's attempts.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    /// Starts at the policy's initial wait.
    pub fn new(policy: &RetryPolicy) -> Self {
        Backoff {
            next: policy.initial_backoff,
        }
    }

    /// The wait before the next attempt: the current step with ±50% jitter (so that many
    /// workers failing together do not retry together), at least `at_least`.
    pub fn next_wait(&mut self, at_least: Duration) -> Duration {
        let jittered = self.next.mul_f64(0.5 + fastrand::f64());
        self.next = (self.next * 2).min(MAX_BACKOFF);
        jittered.max(at_least)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_delay_is_a_floor() {
        let mut backoff = Backoff::new(&RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            ..Default::default()
        });
        assert_eq!(
            backoff.next_wait(Duration::from_millis(2500)),
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_a_cap() {
        let mut backoff = Backoff::new(&RetryPolicy {
            initial_backoff: Duration::from_secs(1),
            ..Default::default()
        });
        let mut step = Duration::from_secs(1);
        for _ in 0..10 {
            let wait = backoff.next_wait(Duration::ZERO);
            assert!(
                wait >= step / 2 && wait <= step.mul_f64(1.5),
                "{wait:?} for {step:?}"
            );
            step = (step * 2).min(MAX_BACKOFF);
        }
    }
}
