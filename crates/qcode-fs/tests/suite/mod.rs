mod atomic;
mod lock;
