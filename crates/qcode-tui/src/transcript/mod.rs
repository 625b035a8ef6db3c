//! The conversation transcript: finished cells (user prompts, answers, reasoning summaries,
//! tool calls, notices) rendered to lines for the terminal's scrollback and for the Ctrl+T
//! pager, plus the live state of the running turn.

pub mod cell;
pub mod stream;
pub mod tool;

pub use cell::{Cell, Detail, NoticeKind};
pub use stream::MarkdownStream;
pub use tool::{ToolCell, ToolProgressLine, ToolState};
