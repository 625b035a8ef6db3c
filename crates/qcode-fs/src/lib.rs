//! File-system helpers shared by every qcode crate: replacing a file atomically
//! ([`write_atomic`]) and serialising read-modify-write cycles across processes
//! ([`FileLock`]).
//!
//! This is a leaf crate: it depends on no other qcode crate, so any crate may use it. It knows
//! nothing about settings, credentials or tools; callers choose the file mode and decide what
//! a failure means for them.

mod atomic;
mod lock;
mod private;

pub use atomic::{Mode, WriteError, resolve_symlinks, write_atomic};
pub use lock::{FileLock, LockError, lock_path_for};
pub use private::{create_private_dirs, write_private};
