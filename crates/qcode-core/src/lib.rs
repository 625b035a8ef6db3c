//! The engine: session, turn loop, context files, history, approvals
