//! Built-in tools, their JSON schemas, permission classes and workspace rules
