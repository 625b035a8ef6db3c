//! Frame scheduling: redraw requests are coalesced so the screen is drawn at most ~60 times a
//! second, and never when nothing changed. While an answer streams, frames that only show more
//! of it come at most every [`STREAM_FRAME`] (~30 a second): the text still moves smoothly, the
//! last delta is on screen within that time, and a fast stream costs half the frames. Input
//! (typing, keys) keeps the ~60 fps budget.

use std::time::{Duration, Instant};

/// Shortest time between two frames.
pub const MIN_FRAME: Duration = Duration::from_millis(16);

/// Shortest time between two frames that only show more of a streaming answer.
pub const STREAM_FRAME: Duration = Duration::from_millis(33);

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

    /// Asks for a frame that shows more of a streaming answer: at most every [`STREAM_FRAME`].
    pub fn request_streaming(&mut self, now: Instant) {
        self.request_spaced(now, STREAM_FRAME);
    }

    /// Asks for a frame at `at` (or as soon after it as allowed); the earliest request wins.
    pub fn request_at(&mut self, at: Instant) {
        self.request_spaced(at, MIN_FRAME);
    }

    fn request_spaced(&mut self, at: Instant, spacing: Duration) {
        let earliest = self.last_draw.map_or(at, |l| at.max(l + spacing));
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

    #[test]
    fn streamed_text_is_drawn_at_half_the_rate_but_input_is_not() {
        let t0 = Instant::now();
        let mut f = FrameScheduler::new();
        f.request_streaming(t0);
        assert_eq!(f.deadline(), Some(t0), "the first frame at once");
        f.drawn(t0);
        f.request_streaming(t0 + Duration::from_millis(1));
        assert_eq!(f.deadline(), Some(t0 + STREAM_FRAME));
        f.request(t0 + Duration::from_millis(2));
        assert_eq!(
            f.deadline(),
            Some(t0 + MIN_FRAME),
            "a key press comes sooner"
        );
        f.drawn(t0 + MIN_FRAME);
        let late = t0 + MIN_FRAME + STREAM_FRAME * 2;
        f.request_streaming(late);
        assert_eq!(f.deadline(), Some(late), "after a pause, at once");
    }
}
