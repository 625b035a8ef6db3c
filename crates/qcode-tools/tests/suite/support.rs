//! A temporary workspace with a tool context, and helpers to prepare and run calls.

use std::path::{Path, PathBuf};

use qcode_protocol::ToolCall;
use qcode_tools::{PreparedCall, ToolContext, ToolError, ToolProgress, ToolRegistry, ToolResult};
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub struct Ws {
    pub dir: TempDir,
    /// A second temporary directory, outside the workspace.
    pub outside: TempDir,
    pub ctx: ToolContext,
    pub reg: ToolRegistry,
}

impl Ws {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(
            vec![dir.path().to_path_buf()],
            outside.path().join("memory/QWEN.md"),
            qcode_tools::LazyHttpClient::default_client(),
            outside.path().join("bg"),
        )
        .unwrap();
        Self {
            dir,
            outside,
            ctx,
            reg: ToolRegistry::builtin(),
        }
    }

    /// The canonical workspace root.
    pub fn root(&self) -> &Path {
        &self.ctx.workspace_roots[0]
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    pub async fn prepare_raw(
        &self,
        name: &str,
        arguments: &str,
    ) -> Result<PreparedCall, ToolError> {
        let call = ToolCall {
            id: "call_1".into(),
            name: name.into(),
            arguments: arguments.into(),
        };
        self.reg.prepare(&call, &self.ctx).await
    }

    pub async fn prepare(&self, name: &str, args: Value) -> Result<PreparedCall, ToolError> {
        self.prepare_raw(name, &args.to_string()).await
    }

    /// Prepares (must succeed) and executes a call.
    pub async fn run(&self, name: &str, args: Value) -> ToolResult {
        let call = self.prepare(name, args).await.unwrap();
        self.execute(call, CancellationToken::new()).await.0
    }

    /// Executes a prepared call, returning the result and the streamed progress chunks.
    pub async fn execute(
        &self,
        call: PreparedCall,
        cancel: CancellationToken,
    ) -> (ToolResult, Vec<String>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let result = call.execute(&self.ctx, cancel, &tx).await;
        drop(tx);
        let mut chunks = Vec::new();
        while let Some(ToolProgress::Output(c)) = rx.recv().await {
            chunks.push(c);
        }
        (result, chunks)
    }

    /// The message of a failed prepare.
    pub async fn prepare_err(&self, name: &str, args: Value) -> String {
        match self.prepare(name, args).await {
            Ok(call) => panic!("expected an error, got a prepared call: {}", call.summary()),
            Err(e) => e.to_string(),
        }
    }
}
