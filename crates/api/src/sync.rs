//! Locking a mutex whose holder panicked: the data is still used (every critical section here
//! leaves it consistent), so one panic does not take the service down with it.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, poisoned or not.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
