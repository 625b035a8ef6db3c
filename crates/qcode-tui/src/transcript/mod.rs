//! The conversation transcript: finished cells (user prompts, answers, reasoning summaries,
//! tool calls, subagent summaries, notices) rendered to lines for the terminal's scrollback and
//! for the Ctrl+T pager, plus the live state of the running turn (and of its subagents).

pub mod cell;
pub mod stream;
pub mod subagent;
pub mod tool;

pub use cell::{Cell, Detail, NoticeKind};
pub use stream::MarkdownStream;
pub use subagent::{SubagentBlock, SubagentEnd, SubagentSummary};
pub use tool::{ToolCell, ToolProgressLine, ToolState};
