//! The hook before each model request for external (MCP) tools: finish discovery (the first
//! request waits up to the discovery timeout for servers still starting) and show the
//! warnings not shown before, so the request offers the tools as they are now.

use qcode_protocol::Event;
use tokio_util::sync::CancellationToken;

use crate::engine::{EventTx, Session};

pub(crate) async fn discover(session: &Session, cancel: &CancellationToken, tx: &EventTx) {
    let Some(external) = session.deps.tools.external() else {
        return;
    };
    let warnings = tokio::select! {
        w = external.discover() => w,
        _ = cancel.cancelled() => return,
    };
    for message in warnings {
        tx.send(Event::Warning { message }).await;
    }
}
