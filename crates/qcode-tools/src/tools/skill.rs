//! `skill`: loads a skill's instructions (the body of its `SKILL.md`) and the list of its other
//! files. This crate does not know where skills live: the answer comes from the
//! [`crate::SkillSource`] in [`crate::ToolContext::skills`] (the binary implements it over the
//! extensions loader). Read-only: it returns text and changes nothing.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ToolError;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, typed};
use crate::schema::{Param, Presence, Ty};

/// Where the `skill` tool finds skills.
pub trait SkillSource: Send + Sync {
    /// The answer for the skill `name`: its body and the list of its other files, or why there
    /// is none (an unknown name, with the names that exist).
    fn answer(&self, name: &str) -> Result<String, String>;
}

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::Skill,
    name: "skill",
    kind: ToolKind::ReadOnly,
    description: "Loads a skill: its instructions (the body of its SKILL.md) and the list of \
        its other files, which you can then read with the normal file tools. The available \
        skills are listed in the system prompt; call this before doing a task a skill covers.",
    params: &[Param {
        name: "name",
        ty: Ty::Str,
        presence: Presence::Required,
        description: "The skill's name, as listed in the system prompt.",
    }],
};

#[derive(Debug, Deserialize)]
struct Args {
    name: String,
}

pub(crate) struct Plan {
    name: String,
    source: Option<Arc<dyn SkillSource>>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan").field("name", &self.name).finish()
    }
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &crate::ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let name = args.name.trim().to_string();
    if name.is_empty() {
        return Err(ToolError::invalid(DEF.name, "`name` must not be empty"));
    }
    Ok((
        Facts::simple(&DEF, format!("Skill: {name}")),
        Plan {
            name,
            source: ctx.skills.clone(),
        },
    ))
}

pub(crate) async fn execute(
    plan: Plan,
    cancel: &tokio_util::sync::CancellationToken,
) -> ToolResult {
    let Some(source) = plan.source else {
        return ToolResult::error(format!(
            "skill: no skills are available in this session (asked for `{}`)",
            plan.name
        ));
    };
    let name = plan.name;
    crate::registry::run_blocking(DEF.name, cancel, move || match source.answer(&name) {
        Ok(text) => ToolResult::success(text),
        Err(why) => ToolResult::error(format!("skill: {why}")),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One;
    impl SkillSource for One {
        fn answer(&self, name: &str) -> Result<String, String> {
            if name == "pdf" {
                Ok("Use pdftotext.".into())
            } else {
                Err(format!("no skill named `{name}`; available: pdf"))
            }
        }
    }

    fn ctx(source: Option<Arc<dyn SkillSource>>) -> crate::ToolContext {
        let dir = std::env::temp_dir();
        let mut ctx = crate::ToolContext::new(
            vec![dir.clone()],
            dir.join("m.md"),
            crate::LazyHttpClient::default_client(),
            dir,
        )
        .unwrap();
        ctx.skills = source;
        ctx
    }

    fn args(name: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(name.into()));
        m
    }

    #[tokio::test]
    async fn answers_known_names_and_explains_unknown_ones() {
        let cancel = tokio_util::sync::CancellationToken::new();
        let c = ctx(Some(Arc::new(One)));
        let (facts, plan) = prepare(args(" pdf "), &c).unwrap();
        assert_eq!(facts.summary, "Skill: pdf");
        let r = execute(plan, &cancel).await;
        assert_eq!(r.status, crate::ToolResultStatus::Success);
        assert_eq!(r.output, "Use pdftotext.");
        let (_, plan) = prepare(args("nope"), &c).unwrap();
        let r = execute(plan, &cancel).await;
        assert_eq!(r.status, crate::ToolResultStatus::Error);
        assert!(r.output.contains("available: pdf"), "{}", r.output);
        assert!(prepare(args("  "), &c).is_err());
        let (_, plan) = prepare(args("pdf"), &ctx(None)).unwrap();
        let r = execute(plan, &cancel).await;
        assert!(r.output.contains("no skills are available"), "{}", r.output);
    }
}
