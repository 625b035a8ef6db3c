//! OpenAI-compatible streaming chat client: SSE to typed events, retries, errors
