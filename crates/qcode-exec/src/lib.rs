//! Headless front end: text / json / stream-json output and exit codes
