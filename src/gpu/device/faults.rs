//! Faults a test injects into a context's next GPU step (TESTING.md B3 F5/F6): an out-of-memory on
//! buffer creation, an invalid dispatch as a crate bug would make.

use std::sync::atomic::{AtomicU8, Ordering};

/// A fault a test injects into the next GPU step of a context.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// The next buffer creation fails as out-of-memory.
    OutOfMemory = 1,
    /// The next dispatch is invalid (over the workgroup limit), as a crate bug would be.
    InvalidDispatch = 2,
}

/// At most one pending fault (0: none).
#[derive(Debug, Default)]
pub(crate) struct FaultSlot(AtomicU8);

impl FaultSlot {
    pub(crate) fn inject(&self, fault: Fault) {
        self.0.store(fault as u8, Ordering::SeqCst);
    }

    /// Takes the pending fault if it is `fault`.
    pub(crate) fn take(&self, fault: Fault) -> bool {
        self.0
            .compare_exchange(fault as u8, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}
