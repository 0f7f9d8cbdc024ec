//! The bounded-memory half of the property: the test binary's allocator counts, per thread,
//! the bytes live at once, so a case can be checked against a bound on its peak.
//!
//! Why an allocator and not the process's resident size: the test binary runs many tests in
//! parallel, so the process's memory says nothing about one parse; a thread's own count
//! does, since parsing and checking run on the calling thread. The count is a `const`
//! thread-local `Cell` (no allocation, no lock), so every other test in the binary pays a
//! few nanoseconds an allocation. While a case is measured, an allocation that would take
//! the thread past [`HARD_CAP`] fails: the binary aborts ("memory allocation of N bytes
//! failed") instead of taking the machine's memory, which the property's own, lower bound
//! would only have reported afterwards.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
};

/// The most one measured case may hold at once before its allocations fail outright.
pub const HARD_CAP: usize = 1 << 30;

#[global_allocator]
static COUNTING: Counting = Counting;

/// `System`, counting each thread's live bytes and their peak.
struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    /// The live bytes past which an allocation fails; `usize::MAX` unless measuring.
    static CAP: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Adds `grown` bytes to this thread's count, or refuses them past the cap.
fn grow(grown: usize) -> bool {
    LIVE.try_with(|live| {
        let now = live.get().saturating_add(grown);
        if now > CAP.with(Cell::get) {
            return false;
        }
        live.set(now);
        PEAK.with(|peak| peak.set(peak.get().max(now)));
        true
    })
    .unwrap_or(true)
}

/// Takes `shrunk` bytes off this thread's count (memory freed here but taken on another thread
/// floors at zero).
fn shrink(shrunk: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(shrunk)));
}

// SAFETY: every method forwards to `System` with the caller's own arguments; the counting
// around it never touches the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !grow(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        let pointer = unsafe { System.alloc(layout) };
        if pointer.is_null() {
            shrink(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !grow(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if pointer.is_null() {
            shrink(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from `System` with this `layout`.
        unsafe { System.dealloc(pointer, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() && !grow(new_size - layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: `pointer` came from `System` with this `layout`; the caller vouches for
        // `new_size`.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        match (moved.is_null(), new_size > layout.size()) {
            (true, true) => shrink(new_size - layout.size()),
            (false, false) => shrink(layout.size() - new_size),
            _ => {}
        }
        moved
    }
}

/// Runs `work` on this thread with its allocations capped at [`HARD_CAP`]; returns its value
/// and the most bytes it held at once beyond what the thread held before.
pub fn peak_of<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(before));
    CAP.with(|cap| cap.set(before.saturating_add(HARD_CAP)));
    let uncap = Uncap;
    let value = work();
    drop(uncap);
    (value, PEAK.with(Cell::get) - before)
}

/// Lifts the cap when a measured case ends, by returning or by panicking.
struct Uncap;

impl Drop for Uncap {
    fn drop(&mut self) {
        CAP.with(|cap| cap.set(usize::MAX));
    }
}

#[test]
fn a_case_s_peak_counts_what_it_held_at_once_not_what_it_allocated_in_all() {
    let ((), peak) = peak_of(|| {
        for _ in 0..10 {
            drop(std::hint::black_box(vec![0u8; 1 << 20]));
        }
    });
    assert!((1 << 20..2 << 20).contains(&peak), "peak {peak}");
    let (kept, peak) = peak_of(|| std::hint::black_box(vec![1u8; 8 << 20]));
    assert!(peak >= 8 << 20, "peak {peak}");
    drop(kept);
}
