//! Opt-out anonymous usage statistics: closed event schema, consent, OTLP export
