//! One module per built-in tool: its definition (name, permission class, description and
//! parameters), `prepare` and `execute`.

pub(crate) mod edit;
pub(crate) mod glob;
pub(crate) mod grep;
pub(crate) mod list_directory;
pub(crate) mod memory;
pub(crate) mod read_file;
pub(crate) mod shell;
pub(crate) mod skill;
pub(crate) mod todo;
pub(crate) mod walk;
pub(crate) mod web_fetch;
pub(crate) mod write_file;

use crate::error::ToolError;
use crate::paths::ResolvedPath;

/// Resolves a path argument, turning a resolution problem into an error for the model.
pub(crate) fn resolve_arg(
    tool: &str,
    ctx: &crate::ToolContext,
    raw: &str,
) -> Result<ResolvedPath, ToolError> {
    crate::paths::resolve(ctx, raw).map_err(|m| ToolError::invalid(tool, m))
}
