//! Frame scheduling: redraw requests are coalesced so the screen is drawn at most ~60 times a
//! second, and never when nothing changed.

use std::time::{Duration, Instant};

/// Shortest time between two frames.
pub const MIN_FRAME: Duration = Duration::from_millis(16);

#[derive(Debug, Default)]
pub struct FrameScheduler {
    last_draw: Option<Instant>,
    deadline: Option<Instant>,
}

impl FrameScheduler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for a frame as soon as allowed.
    pub fn request(&mut self, now: Instant) {
        self.request_at(now);
    }

    /// Asks for a frame at `at` (or as soon after it as allowed); the earliest request wins.
    pub fn request_at(&mut self, at: Instant) {
        let earliest = self.last_draw.map_or(at, |l| at.max(l + MIN_FRAME));
        self.deadline = Some(self.deadline.map_or(earliest, |d| d.min(earliest)));
    }

    /// When the next frame is due, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// True when a frame is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| d <= now)
    }

    /// Records that a frame was drawn.
    pub fn drawn(&mut self, now: Instant) {
        self.last_draw = Some(now);
        self.deadline = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesces_and_rate_limits() {
        let t0 = Instant::now();
        let mut f = FrameScheduler::new();
        assert_eq!(f.deadline(), None, "nothing changed, no frame");
        f.request(t0);
        f.request(t0 + Duration::from_millis(1));
        assert_eq!(f.deadline(), Some(t0));
        f.drawn(t0);
        f.request(t0 + Duration::from_millis(2));
        assert_eq!(
            f.deadline(),
            Some(t0 + MIN_FRAME),
            "at most one frame per 16ms"
        );
        assert!(!f.due(t0 + Duration::from_millis(5)));
        assert!(f.due(t0 + MIN_FRAME));
        f.request_at(t0 + Duration::from_millis(100));
        assert_eq!(f.deadline(), Some(t0 + MIN_FRAME), "earliest request wins");
    }
}
